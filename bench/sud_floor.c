/* The floor of golos's interception path: a bare Syscall User Dispatch round trip.
 * Each getppid in the loop traps to a SIGSYS handler that emulates it (by making the
 * real getppid itself) and returns. golos cannot do a trapped syscall faster than this,
 * so the bench command shows golos's getppid as a multiple of this number. Run natively
 * only: under golos, golos would trap this program's own prctl and syscalls.
 *
 * Selector handling (Documentation/admin-guide/syscall-user-dispatch.rst): the kernel
 * does not touch the selector on SIGSYS, so the handler runs with it at BLOCK; and on
 * x86-64 no vDSO sigreturn is exempt (the kernel only exempts the 32-bit vDSO's), while
 * glibc's sa_restorer (__restore_rt) lives in libc. So the handler sets ALLOW and leaves
 * it there, which lets both its own getppid and the restorer's rt_sigreturn through, and
 * the main loop sets BLOCK right before each syscall it wants trapped.
 *
 * Usage: sud_floor [N [expected-ppid]]. */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "bench.h"

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#endif
#ifndef PR_SYS_DISPATCH_OFF
#define PR_SYS_DISPATCH_OFF 0
#endif
#ifndef PR_SYS_DISPATCH_ON
#define PR_SYS_DISPATCH_ON 1
#endif
#ifndef SYSCALL_DISPATCH_FILTER_ALLOW
#define SYSCALL_DISPATCH_FILTER_ALLOW 0
#define SYSCALL_DISPATCH_FILTER_BLOCK 1
#endif
#ifndef SYS_USER_DISPATCH
#define SYS_USER_DISPATCH 2 /* si_code of a dispatched syscall */
#endif

static volatile char selector = SYSCALL_DISPATCH_FILTER_ALLOW;
static volatile long trapped, strange;

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;

	(void)sig;
	selector = SYSCALL_DISPATCH_FILTER_ALLOW;
	if (si->si_code != SYS_USER_DISPATCH || si->si_syscall != SYS_getppid) {
		strange++;
		uc->uc_mcontext.gregs[REG_RAX] = -38; /* -ENOSYS */
		return;
	}
	trapped++;
	uc->uc_mcontext.gregs[REG_RAX] = raw_syscall2(SYS_getppid, 0, 0);
}

/* One trapped getppid: BLOCK, then the raw syscall instruction. The volatile store and
 * the asm's memory clobber keep the two in this order. */
static inline long trapped_getppid(void)
{
	selector = SYSCALL_DISPATCH_FILTER_BLOCK;
	return raw_syscall2(SYS_getppid, 0, 0);
}

int main(int argc, char **argv)
{
	long n = bench_iters(argc, argv);
	long want = argc > 2 ? atol(argv[2]) : raw_syscall2(SYS_getppid, 0, 0);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) != 0) {
		perror("sud_floor: sigaction");
		return 1;
	}
	/* No allowed region (offset 0, length 0): the selector alone decides. */
	if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0, 0, &selector) != 0) {
		perror("sud_floor: prctl(PR_SET_SYSCALL_USER_DISPATCH)");
		return 1;
	}

	for (long i = 0; i < n / 10 + 1; i++)
		trapped_getppid();

	long bad = 0, got = 0, before = trapped;
	double t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		got = trapped_getppid();
		bad += got != want;
	}
	double t1 = bench_now_ns();
	long traps = trapped - before;

	/* The selector is ALLOW here (the last handler left it so); switch dispatch off
	 * before printing so stdio's write is an ordinary syscall. */
	selector = SYSCALL_DISPATCH_FILTER_ALLOW;
	if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0) != 0) {
		perror("sud_floor: prctl(PR_SYS_DISPATCH_OFF)");
		return 1;
	}
	/* traps == n proves every timed call really went through SIGSYS; otherwise this
	 * would be measuring plain syscalls. */
	if (bad || traps != n || strange) {
		fprintf(stderr,
			"sud_floor: %ld wrong results (last %ld, want %ld), %ld of %ld calls trapped, "
			"%ld unexpected SIGSYS\n",
			bad, got, want, traps, n, strange);
		return 1;
	}
	bench_report(t0, t1, n);
	return 0;
}
