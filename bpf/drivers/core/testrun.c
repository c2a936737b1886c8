/* See testrun.h. */
#include "../common.h"
#include "testrun.h"
#include <bpf/bpf.h>

void raw_tp_run(int prog_fd, unsigned long long arg0)
{
	__u64 args[1] = { arg0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = args, .ctx_size_in = sizeof(args));
	int err = bpf_prog_test_run_opts(prog_fd, &o);
	if (err) die("BPF_PROG_TEST_RUN (raw_tp)", err);
}
