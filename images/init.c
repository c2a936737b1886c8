/*
 * bpf-lab guest init: PID 1 inside the initramfs, built static on the host (lab/vm/initramfs.ts).
 *
 * Loads the boot modules, mounts the host root (read-only, enforced by the host's virtiofsd --readonly), gives it
 * writable scratch space and kernel filesystems, then runs the agent under the host's node or (exec mode) the one
 * command the host asked for, and powers off when that process ends.
 *
 * A compiled init rather than a shell script: under TCG every fork+exec of busybox costs 10-15 ms, and the script
 * this replaces started about 60 processes per boot (0.7 s of a 2.3 s boot to `exec -- true`). It starts one.
 * What a boot is told (paths, the command's argv) arrives as files under /lab (lab/vm/boot-config.ts), so no value
 * is ever parsed by a shell.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#define NEWROOT "/newroot"
#define GUEST_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static void say(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(1, buf, n) < 0) { /* no console: nothing to tell */ }
}

static __attribute__((noreturn)) void power_off(void)
{
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static __attribute__((noreturn)) void fatal(const char *what, const char *detail)
{
	say("lab-init: FATAL: %s%s%s", what, detail ? ": " : "", detail ? detail : "");
	power_off();
}

/* a stage mark with the guest's uptime, so the console shows where a boot spends its time */
static void mark(const char *fmt, ...)
{
	char up[32] = "?", msg[512];
	va_list ap;
	int fd = open("/proc/uptime", O_RDONLY);

	if (fd >= 0) {
		ssize_t n = read(fd, up, sizeof(up) - 1);

		up[n > 0 ? n : 0] = 0;
		up[strcspn(up, " \n")] = 0;
		close(fd);
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say("lab-init: [%s] %s", up, msg);
}

/* a whole file (NUL-terminated; it holds no NUL itself) or NULL when it cannot be read */
static char *slurp(const char *path)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0 || !buf) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (cap - len < 2) {
			char *more = realloc(buf, cap *= 2);

			if (!more)
				fatal("out of memory reading", path);
			buf = more;
		}
	}
	close(fd);
	buf[len] = 0;
	return buf;
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void mkdirs(const char *path)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		mkdir(p, 0755);
		*s = '/';
	}
	mkdir(p, 0755);
}

enum need { REQUIRED, WARN, OPTIONAL };

static void mnt(const char *src, const char *target, const char *type, unsigned long flags, const char *data, enum need need)
{
	char what[256];

	if (mount(src, target, type, flags, data) == 0 || (errno == EBUSY && need != REQUIRED))
		return;
	snprintf(what, sizeof(what), "cannot mount %s on %s", type, target);
	if (need == REQUIRED)
		fatal(what, strerror(errno));
	if (need == WARN)
		say("lab-init: %s: %s", what, strerror(errno));
}

static void load_modules(void)
{
	char *order = slurp("/modules/boot.order");

	for (char *line = order ? strtok(order, "\n") : NULL; line; line = strtok(NULL, "\n")) {
		char path[512];
		int fd;

		if (!*line)
			continue;
		snprintf(path, sizeof(path), "/modules/%s", line);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST))
			say("lab-init: insmod %s failed: %s", line, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	free(order);
}

static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out = in < 0 ? -1 : open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t n = 0;

	while (out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n) {
			n = -1;
			break;
		}
	if (in < 0 || out < 0 || n < 0)
		say("lab-init: cannot copy %s to %s: %s", from, to, strerror(errno));
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
}

static void copy_dir_files(const char *from, const char *to)
{
	DIR *d = opendir(from);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char src[512], dst[512];

		if (e->d_type != DT_REG)
			continue;
		snprintf(src, sizeof(src), "%s/%s", from, e->d_name);
		snprintf(dst, sizeof(dst), "%s/%s", to, e->d_name);
		copy_file(src, dst);
	}
	if (d)
		closedir(d);
}

/* ifconfig lo 127.0.0.1 up */
static void loopback_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (ioctl(s, SIOCSIFADDR, &ifr) != 0 || ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
		goto out;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	ioctl(s, SIOCSIFFLAGS, &ifr);
out:
	close(s);
}

static void mount_newroot(void)
{
	mkdirs(NEWROOT);
	mnt("hostroot", NEWROOT, "virtiofs", MS_RDONLY, NULL, REQUIRED);
	mnt("tmpfs", NEWROOT "/run", "tmpfs", 0, "mode=0755", REQUIRED);
	mnt("proc", NEWROOT "/proc", "proc", 0, NULL, WARN);
	mnt("sysfs", NEWROOT "/sys", "sysfs", 0, NULL, WARN);
	mnt("devtmpfs", NEWROOT "/dev", "devtmpfs", 0, NULL, WARN);
	mkdirs(NEWROOT "/dev/pts");
	mkdirs(NEWROOT "/dev/shm");
	mnt("devpts", NEWROOT "/dev/pts", "devpts", 0, NULL, WARN);
	mnt("tmpfs", NEWROOT "/dev/shm", "tmpfs", 0, NULL, WARN);
	mnt("bpf", NEWROOT "/sys/fs/bpf", "bpf", 0, NULL, WARN);
	mnt("debugfs", NEWROOT "/sys/kernel/debug", "debugfs", 0, NULL, OPTIONAL);
	mnt("tracefs", NEWROOT "/sys/kernel/tracing", "tracefs", 0, NULL, OPTIONAL);
	mnt("cgroup2", NEWROOT "/sys/fs/cgroup", "cgroup2", 0, NULL, OPTIONAL);
	mkdirs(NEWROOT "/run/lab/tmp");
	mkdirs(NEWROOT "/run/lab/modules");
	mkdirs(NEWROOT "/run/netns");
	if (is_dir("/modules/extra"))
		copy_dir_files("/modules/extra", NEWROOT "/run/lab/modules");
	if (access("/lab/features.json", R_OK) == 0)
		copy_file("/lab/features.json", NEWROOT "/run/lab/features.json");
}

/* the /dev node of the virtio-serial port with this name, or NULL */
static char *port(const char *name)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	struct dirent *e;
	char *found = NULL;

	while (d && !found && (e = readdir(d))) {
		char path[512], *n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", e->d_name);
		n = slurp(path);
		if (n && strcspn(n, "\n") == strlen(name) && !strncmp(n, name, strlen(name)) && asprintf(&found, "/dev/%s", e->d_name) < 0)
			found = NULL;
		free(n);
	}
	if (d)
		closedir(d);
	return found;
}

/* exec mode: argv from /lab/exec/argv/0000, 0001, ... (zero-padded, so name order is argv order) */
static char **exec_argv(void)
{
	struct dirent **names;
	int n = scandir("/lab/exec/argv", &names, NULL, alphasort), argc = 0;
	char **argv = calloc(n > 0 ? n + 1 : 1, sizeof(char *));

	for (int i = 0; i < n; i++) {
		char path[512];

		if (names[i]->d_name[0] != '.') {
			snprintf(path, sizeof(path), "/lab/exec/argv/%s", names[i]->d_name);
			if (!(argv[argc++] = slurp(path)))
				fatal("cannot read an argument of the command", path);
		}
		free(names[i]);
	}
	if (n > 0)
		free(names);
	if (!argc)
		fatal("exec mode without a command", NULL);
	return argv;
}

/* the child side: into the host root, its working directory, then the program; 127/126 as a shell would */
static __attribute__((noreturn)) void enter_and_exec(const char *cwd, char **argv)
{
	if (chroot(NEWROOT) != 0 || chdir("/") != 0) {
		dprintf(2, "lab-init: cannot enter the host root: %s\n", strerror(errno));
		_exit(126);
	}
	if (chdir(cwd) != 0) {
		dprintf(2, "lab-init: cannot change to %s: %s\n", cwd, strerror(errno));
		_exit(2);
	}
	setenv("PWD", cwd, 1); /* as the shell's cd did */
	execvp(argv[0], argv);
	dprintf(2, "%s: %s\n", argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* wait for `pid` (PID 1 also reaps whatever else ends meanwhile); its status as a shell reports it */
static int wait_for(pid_t pid)
{
	int status;
	pid_t r;

	while ((r = waitpid(-1, &status, 0)) != pid)
		if (r < 0 && errno != EINTR)
			return 255;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* virtio_console names its ports from a work item after the device is probed: look again for up to 2 s */
static char *port_waiting(const char *name)
{
	for (int i = 0; i < 200; i++) {
		char *p = port(name);

		if (p)
			return p;
		usleep(10000);
	}
	return NULL;
}

static int run_command(const char *cwd)
{
	char **argv = exec_argv();
	char *out = port_waiting("lab.stdout"), *err = port_waiting("lab.stderr"), *status = port_waiting("lab.status");
	char line[16];
	int code, fd;
	pid_t pid;

	if (!out || !err || !status)
		fatal("exec ports missing", NULL);
	mark("exec");
	pid = fork();
	if (pid == 0) {
		/* O_CLOEXEC: the command gets these as 0, 1 and 2 only (dup2 clears the flag there) */
		int in = open("/dev/null", O_RDONLY | O_CLOEXEC), o = open(out, O_WRONLY | O_CLOEXEC), e = open(err, O_WRONLY | O_CLOEXEC);

		if (in < 0 || o < 0 || e < 0)
			_exit(126);
		dup2(in, 0);
		dup2(o, 1);
		dup2(e, 2);
		enter_and_exec(cwd, argv);
	}
	code = pid < 0 ? 126 : wait_for(pid);
	fd = open(status, O_WRONLY);
	snprintf(line, sizeof(line), "%d\n", code);
	if (fd < 0 || write(fd, line, strlen(line)) < 0)
		say("lab-init: cannot write the exit status: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	return code;
}

static char *config(const char *name)
{
	char path[64];
	char *v;

	snprintf(path, sizeof(path), "/lab/%s", name);
	v = slurp(path);
	if (!v)
		fatal("no boot configuration (/lab) in the initramfs; missing", path);
	return v;
}

int main(void)
{
	char *cmdline, *node, *agent, *cwd, *build;
	char cmd[4096];

	mnt("proc", "/proc", "proc", 0, NULL, WARN);
	mnt("sysfs", "/sys", "sysfs", 0, NULL, WARN);
	mnt("devtmpfs", "/dev", "devtmpfs", 0, NULL, WARN);
	/* accelerator probe boot: reaching this line is all the host wants to know */
	cmdline = slurp("/proc/cmdline");
	snprintf(cmd, sizeof(cmd), " %s ", cmdline ? cmdline : "");
	for (char *nl = strchr(cmd, '\n'); nl; nl = strchr(nl, '\n'))
		*nl = ' ';
	if (strstr(cmd, " lab.probe=1 ")) {
		say("lab-init: probe ok");
		power_off();
	}
	mark("init");
	load_modules();
	mark("modules loaded");
	mount_newroot();
	loopback_up();

	node = config("node");
	agent = config("agent");
	cwd = config("cwd");
	build = config("build");
	setenv("LAB_NODE", node, 1);
	setenv("LAB_AGENT", agent, 1);
	setenv("LAB_CWD", cwd, 1);
	setenv("LAB_BUILD", build, 1);
	setenv("HOME", "/run/lab", 1);
	setenv("TMPDIR", "/run/lab/tmp", 1);
	setenv("PATH", GUEST_PATH, 1);
	setenv("LAB_GUEST", "1", 1);

	if (is_dir("/lab/exec/argv")) {
		run_command(cwd);
		mark("command exited; powering off");
	} else {
		char *argv[] = { node, agent, NULL };
		pid_t pid;
		int code;

		mark("starting agent");
		pid = fork();
		if (pid == 0)
			enter_and_exec(cwd, argv);
		code = pid < 0 ? 126 : wait_for(pid);
		mark("agent exited with %d; powering off", code);
	}
	power_off();
}
