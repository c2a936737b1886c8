/* The kernel function behind a syscall, as /proc/kallsyms names it (x86_64 syscall wrappers since 4.17:
 * __x64_sys_NAME; older or non-wrapped kernels: __se_sys_NAME / sys_NAME). Falls back to __x64_sys_NAME. */
#ifndef LAB_SYSCALL_FUNC_H
#define LAB_SYSCALL_FUNC_H
#include <stdio.h>
#include <string.h>

static inline const char *syscall_func(const char *name)
{
	static char found[256];
	char cands[4][128];
	snprintf(cands[0], sizeof(cands[0]), "__x64_sys_%s", name);
	snprintf(cands[1], sizeof(cands[1]), "__se_sys_%s", name);
	snprintf(cands[2], sizeof(cands[2]), "__do_sys_%s", name);
	snprintf(cands[3], sizeof(cands[3]), "sys_%s", name);
	int best = 4;
	FILE *f = fopen("/proc/kallsyms", "r");
	if (f) {
		char line[512], sym[256], type;
		unsigned long long addr;
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%llx %c %255s", &addr, &type, sym) != 3) continue;
			for (int i = 0; i < best; i++)
				if (strcmp(sym, cands[i]) == 0) { best = i; break; }
		}
		fclose(f);
	}
	snprintf(found, sizeof(found), "%s", cands[best < 4 ? best : 0]);
	return found;
}
#endif
