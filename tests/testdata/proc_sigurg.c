/*
 * proc_sigurg.c — SIGURG between processes, as PostgreSQL's latches use it (latch.c:
 * SetLatch sends kill(owner, SIGURG); the owner waits in epoll_wait on a self-pipe its
 * SIGURG handler writes to). A parent and its child wake each other 50 times, each
 * waiting up to 2 s: the wake-ups must come from the signal, not from the timeout, and
 * the handler sees who sent it each time (si_code SI_USER, si_pid the other process).
 * Not one wait may time out.
 *
 * Each process has a self-pipe and an epoll instance of its own, as PostgreSQL's children
 * make theirs after the fork (latch.c, InitializeLatchSupport: "It's critical that child
 * processes create their own self-pipes"). Shared, they lose wake-ups natively too: a
 * signal that comes between the receiver's check of its flag and its epoll_wait runs the
 * handler before the call, the handler's byte wakes the other process, waiting in
 * epoll_wait on the same pipe, which reads it, and the receiver then waits for its
 * timeout. (Under golos a fork's child was slow enough in its first rounds for that to
 * happen in 8 runs of 1,200, 4 at a time; natively a 5 ms stall there does it.)
 * The parent blocks SIGURG across the fork so that no signal reaches the child before its
 * own pipe is there; the child takes one sent meanwhile when it unblocks it.
 * Exit status: the number of failed checks (100 when the program cannot set up).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ename.h"

#define ROUNDS 50

static int selfpipe[2];
static volatile sig_atomic_t sender, calls, strange;

/* onURG counts the calls, and the strange ones: not a kill(2) by the other process. */
static void onURG(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	calls++;
	strange += si->si_code != SI_USER || si->si_pid != sender;
	int e = errno;
	write(selfpipe[1], "x", 1);
	errno = e;
}

static int totalTimeouts;

/* selfPipe makes the process's self-pipe and the epoll instance that waits on it. */
static int selfPipe(void)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || pipe2(selfpipe, O_NONBLOCK | O_CLOEXEC) != 0 || epoll_ctl(ep, EPOLL_CTL_ADD, selfpipe[0], &ev) != 0)
		return -1;
	return ep;
}

/* waitFor waits until *flag == want, in epoll_wait on the self-pipe (2 s at most each
 * time, 10 ms once 5 waits have timed out: the signals do not come, and the run need not
 * last minutes to say so); it returns how many waits timed out. */
static int waitFor(int ep, volatile int *flag, int want)
{
	int timeouts = 0;
	while (*flag != want) {
		struct epoll_event ev;
		int n = epoll_wait(ep, &ev, 1, totalTimeouts >= 5 ? 10 : 2000);
		if (n == 0)
			timeouts++, totalTimeouts++;
		char b[64];
		while (read(selfpipe[0], b, sizeof b) > 0) {
		}
		if (timeouts > 3)
			break;
	}
	return timeouts;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	volatile int *shm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct sigaction sa = {.sa_sigaction = onURG, .sa_flags = SA_SIGINFO | SA_RESTART};
	sigset_t urg;
	sigemptyset(&urg);
	sigaddset(&urg, SIGURG);
	int ep = selfPipe();
	if (shm == MAP_FAILED || ep < 0 || sigaction(SIGURG, &sa, NULL) != 0 || sigprocmask(SIG_BLOCK, &urg, NULL) != 0) {
		printf("set up: %s\n", ename(errno));
		return 100;
	}
	pid_t parent = getpid();
	sender = parent;
	pid_t child = fork();
	if (child < 0) {
		printf("fork: %s\n", ename(errno));
		return 100;
	}
	sender = child; /* (the child sends nothing before the parent's first signal) */
	if (child == 0) {
		sender = parent;
		close(ep);
		close(selfpipe[0]);
		close(selfpipe[1]);
		ep = selfPipe();
		if (ep < 0 || sigprocmask(SIG_UNBLOCK, &urg, NULL) != 0)
			_exit(100);
		int timeouts = 0;
		for (int i = 1; i <= ROUNDS; i++) {
			timeouts += waitFor(ep, &shm[0], i);
			shm[1] = i;
			kill(parent, SIGURG);
		}
		shm[2] = timeouts;
		shm[3] = calls > 0 && strange == 0;
		_exit(0);
	}
	sigprocmask(SIG_UNBLOCK, &urg, NULL);
	int timeouts = 0;
	for (int i = 1; i <= ROUNDS; i++) {
		shm[0] = i;
		kill(child, SIGURG);
		timeouts += waitFor(ep, &shm[1], i);
	}
	int fromChild = calls > 0 && strange == 0;
	int st;
	waitpid(child, &st, 0);
	printf("rounds: %d\n", ROUNDS);
	printf("waits that timed out, of %d: %d\n", 2 * ROUNDS, timeouts + shm[2]);
	printf("parent's handler saw only SI_USER from the child: %s\n", fromChild ? "yes" : "no");
	printf("child's handler saw only SI_USER from the parent: %s\n", shm[3] ? "yes" : "no");
	int failures = timeouts + shm[2] != 0 || !fromChild || !shm[3] || !WIFEXITED(st);
	printf("failures: %d\n", failures);
	return failures;
}
