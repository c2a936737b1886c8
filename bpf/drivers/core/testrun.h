/* Running a raw_tp program in the kernel with BPF_PROG_TEST_RUN (5.10+ for raw_tp): the program runs once, on the
 * calling CPU, with ctx->args[0] = arg0. raw_tp takes no repeat count, so programs that time something loop inside. */
#ifndef LAB_TESTRUN_H
#define LAB_TESTRUN_H
void raw_tp_run(int prog_fd, unsigned long long arg0);
#endif
