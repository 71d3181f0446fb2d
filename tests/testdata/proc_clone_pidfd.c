// clone(2) with CLONE_PIDFD and with exit signals other than SIGCHLD ("clone children"
// for wait(2)): the pidfd, who gets which signal at the child's end, and which waits find
// the child. The last case is the check Go's runtime makes before it uses pidfds
// (syscall.checkClonePidfd): a vfork with CLONE_PIDFD and no exit signal, waited for with
// waitid(P_PIDFD, __WCLONE).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "ename.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x1000
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef __WCLONE
#define __WCLONE 0x80000000
#endif

static volatile sig_atomic_t chld, usr1;
static void on_chld(int s) { (void)s; chld++; }
static void on_usr1(int s) { (void)s; usr1++; }

static long raw_clone(unsigned long flags, int *ptid) {
	return syscall(SYS_clone, flags, 0, ptid, 0, 0);
}

// settle waits up to a second for the signals a child's end sends.
static void settle(int want_usr1) {
	for (int i = 0; i < 100 && usr1 < want_usr1; i++)
		usleep(10000);
	usleep(50000);
}

static const char *err(long r) { return r < 0 ? ename(errno) : "ok"; }

// vfork_pidfd is Go's probe: the child shares the stack until it exits at once.
static long vfork_pidfd(int *pidfd) {
	register long r10 __asm__("r10") = 0;
	register long r8 __asm__("r8") = 0;
	long ret;
	__asm__ volatile("syscall\n\t"
	                 "test %%rax, %%rax\n\t"
	                 "jnz 1f\n\t"
	                 "mov $231, %%eax\n\t" // exit_group(0), in the child
	                 "xor %%edi, %%edi\n\t"
	                 "syscall\n\t"
	                 "1:"
	                 : "=a"(ret)
	                 : "0"((long)SYS_clone), "D"((long)(CLONE_VFORK | CLONE_VM | CLONE_PIDFD)), "S"(0L),
	                   "d"(pidfd), "r"(r10), "r"(r8)
	                 : "rcx", "r11", "memory");
	return ret;
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGCHLD, on_chld);
	signal(SIGUSR1, on_usr1);

	// 1. CLONE_PIDFD with SIGCHLD.
	int pidfd = -1;
	long pid = raw_clone(CLONE_PIDFD | SIGCHLD, &pidfd);
	if (pid == 0)
		_exit(3);
	int fdflags = fcntl(pidfd, F_GETFD);
	struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
	int pr = poll(&pfd, 1, 5000);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	long wr = syscall(SYS_waitid, P_PIDFD, pidfd, &si, WEXITED, NULL);
	printf("CLONE_PIDFD|SIGCHLD: pidfd >= 3: %s, close-on-exec: %s, poll readable: %s, "
	       "waitid(P_PIDFD): %s, si_pid right: %s, si_status %d\n",
	       pidfd >= 3 ? "yes" : "no", fdflags >= 0 && (fdflags & FD_CLOEXEC) ? "yes" : "no",
	       pr == 1 && (pfd.revents & POLLIN) ? "yes" : "no", err(wr), si.si_pid == pid ? "yes" : "no",
	       si.si_status);
	close(pidfd);
	settle(0);
	printf("  SIGCHLD: %d\n", chld);

	// 2. No exit signal: no signal at its end, found only with __WCLONE.
	chld = 0;
	pidfd = -1;
	pid = raw_clone(CLONE_PIDFD, &pidfd);
	if (pid == 0)
		_exit(5);
	settle(0);
	int st = 0;
	long w0 = waitpid(pid, &st, WNOHANG);
	printf("exit signal 0: waitpid without __WCLONE: %ld %s\n", w0, err(w0));
	memset(&si, 0, sizeof si);
	wr = syscall(SYS_waitid, P_PIDFD, pidfd, &si, WEXITED | __WCLONE, NULL);
	printf("  waitid(P_PIDFD, __WCLONE): %s, si_status %d, SIGCHLD: %d\n", err(wr), si.si_status, chld);
	close(pidfd);

	// 3. SIGUSR1 as the exit signal.
	chld = 0;
	pid = raw_clone(SIGUSR1, NULL);
	if (pid == 0)
		_exit(6);
	settle(1);
	st = 0;
	long w1 = waitpid(pid, &st, 0);
	printf("exit signal SIGUSR1: SIGUSR1: %d, SIGCHLD: %d, waitpid without __WCLONE: %s\n", usr1, chld, err(w1));
	long w2 = waitpid(pid, &st, __WCLONE);
	printf("  waitpid(__WCLONE): pid right: %s, exit status %d\n", w2 == pid ? "yes" : "no",
	       WIFEXITED(st) ? WEXITSTATUS(st) : -1);

	// 4. Bad arguments.
	int tid = 0;
	long r = raw_clone(CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, &tid);
	if (r == 0)
		_exit(0);
	printf("CLONE_PIDFD|CLONE_PARENT_SETTID: %s\n", err(r));
	r = raw_clone(CLONE_PIDFD | SIGCHLD, (int *)8);
	if (r == 0)
		_exit(0);
	printf("CLONE_PIDFD to an unmapped address: %s\n", err(r));

	// 5. clone3 with its own pidfd field, and the parent's tid too.
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	} ca;
	memset(&ca, 0, sizeof ca);
	pidfd = -1;
	int ptid = 0;
	ca.flags = CLONE_PIDFD | CLONE_PARENT_SETTID;
	ca.pidfd = (uintptr_t)&pidfd;
	ca.parent_tid = (uintptr_t)&ptid;
	ca.exit_signal = SIGCHLD;
	pid = syscall(SYS_clone3, &ca, sizeof ca);
	if (pid == 0)
		_exit(9);
	memset(&si, 0, sizeof si);
	wr = syscall(SYS_waitid, P_PIDFD, pidfd, &si, WEXITED, NULL);
	printf("clone3 CLONE_PIDFD|CLONE_PARENT_SETTID: parent tid right: %s, waitid(P_PIDFD): %s, si_status %d\n",
	       ptid == pid ? "yes" : "no", err(wr), si.si_status);
	close(pidfd);

	// 6. Go's check.
	chld = 0;
	pidfd = -1;
	pid = vfork_pidfd(&pidfd);
	memset(&si, 0, sizeof si);
	wr = syscall(SYS_waitid, P_PIDFD, pidfd, &si, WEXITED | __WCLONE, NULL);
	const char *werr = err(wr);
	settle(0);
	printf("vfork|CLONE_VM|CLONE_PIDFD, no exit signal: pid > 0: %s, waitid(P_PIDFD, __WCLONE): %s, "
	       "si_code CLD_EXITED: %s, SIGCHLD: %d\n",
	       pid > 0 ? "yes" : "no", werr, si.si_code == CLD_EXITED ? "yes" : "no", chld);
	long w3 = wait(&st);
	printf("wait() with no children left: %s\n", err(w3));
	return 0;
}
