/*
 * sig_pmask.c — the signal mask of ppoll(2), pselect6 (pselect(2)), epoll_pwait(2),
 * and epoll_pwait2(2) replaces the thread's for the call, atomically
 * (signal(7); fs/select.c and fs/eventpoll.c, set_user_sigmask and
 * restore_saved_sigmask_unless):
 *   - a signal the thread blocks but the call's mask does not interrupts the call (EINTR)
 *     and its handler runs, with the call's mask in force, after which the thread's own
 *     mask is back;
 *   - a signal the thread does not block but the call's mask does neither interrupts the
 *     call (it times out: 0) nor runs its handler during it; it runs right after;
 *   - one already pending and blocked, unblocked by the call's mask, ends the call at
 *     once with EINTR.
 * The signals come from a helper thread (which blocks every signal) with kill(2), so they
 * are the process's and the main thread is the only one that can take them.
 *
 * Exit status: the number of failed checks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ename.h"

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

static int failures;
static volatile sig_atomic_t handled1, handled2, usr2_blocked_in_handler;
static int cmd[2], dummy[2], ep;

static void check(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "yes" : "no");
	if (!ok)
		failures++;
}

static void on_usr1(int sig)
{
	(void)sig;
	sigset_t cur;
	sigprocmask(SIG_SETMASK, NULL, &cur);
	usr2_blocked_in_handler = sigismember(&cur, SIGUSR2);
	handled1++;
}

static void on_usr2(int sig)
{
	(void)sig;
	handled2++;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The helper thread: for each signal number written to cmd, it waits 50 ms and sends
 * the signal to the process. */
static void *helper(void *arg)
{
	(void)arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	int sig;
	while (read(cmd[0], &sig, sizeof sig) == sizeof sig) {
		nanosleep(&(struct timespec){0, 50000000}, NULL);
		kill(getpid(), sig);
	}
	return NULL;
}

static void send_later(int sig)
{
	if (write(cmd[1], &sig, sizeof sig) != sizeof sig)
		_exit(100);
}

/* waitcall makes the call named by which on a descriptor that never becomes ready,
 * waiting up to ms with mask as the call's signal mask. */
static long waitcall(const char *which, int ms, const sigset_t *mask)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	if (!strcmp(which, "ppoll")) {
		struct pollfd pf = {dummy[0], POLLIN, 0};
		return syscall(SYS_ppoll, &pf, 1, &ts, mask, 8);
	}
	if (!strcmp(which, "pselect6")) {
		fd_set rd;
		FD_ZERO(&rd);
		FD_SET(dummy[0], &rd);
		struct {
			const sigset_t *ss;
			size_t len;
		} data = {mask, 8};
		return syscall(SYS_pselect6, dummy[0] + 1, &rd, NULL, NULL, &ts, &data);
	}
	struct epoll_event ev;
	if (!strcmp(which, "epoll_pwait"))
		return syscall(SYS_epoll_pwait, ep, &ev, 1, ms, mask, 8);
	return syscall(SYS_epoll_pwait2, ep, &ev, 1, &ts, mask, 8);
}

static int blocked(int sig)
{
	sigset_t cur;
	sigprocmask(SIG_SETMASK, NULL, &cur);
	return sigismember(&cur, sig);
}

static void run(const char *which)
{
	char what[200];
	sigset_t usr1, callmask;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigemptyset(&callmask);
	sigaddset(&callmask, SIGUSR2);

	/* (a) SIGUSR1 blocked by the thread, not by the call. */
	sigprocmask(SIG_SETMASK, &usr1, NULL);
	handled1 = handled2 = usr2_blocked_in_handler = 0;
	send_later(SIGUSR1);
	double t0 = now();
	long r = waitcall(which, 5000, &callmask);
	int e = errno;
	double took = now() - t0;
	printf("%s, a signal only the call's mask lets through: %ld %s\n", which, r, r < 0 ? ename(e) : "");
	snprintf(what, sizeof what, "%s: it ended the call early", which);
	check(what, took < 2.5);
	snprintf(what, sizeof what, "%s: its handler ran once", which);
	check(what, handled1 == 1);
	snprintf(what, sizeof what, "%s: the handler ran with the call's mask (SIGUSR2 blocked)", which);
	check(what, usr2_blocked_in_handler);
	snprintf(what, sizeof what, "%s: the thread's mask is back (SIGUSR1 blocked, SIGUSR2 not)", which);
	check(what, blocked(SIGUSR1) && !blocked(SIGUSR2));

	/* (b) SIGUSR2 not blocked by the thread, blocked by the call. */
	sigprocmask(SIG_SETMASK, &usr1, NULL);
	handled1 = handled2 = 0;
	send_later(SIGUSR2);
	t0 = now();
	r = waitcall(which, 400, &callmask);
	e = errno;
	took = now() - t0;
	int during = handled2;
	printf("%s, a signal the call's mask blocks: %ld %s\n", which, r, r < 0 ? ename(e) : "");
	snprintf(what, sizeof what, "%s: the call waited its whole time", which);
	check(what, took > 0.35);
	snprintf(what, sizeof what, "%s: the handler ran after the call, once", which);
	check(what, handled2 == 1 && during == 1);

	/* (c) SIGUSR1 pending and blocked before the call, which unblocks it. */
	sigprocmask(SIG_SETMASK, &usr1, NULL);
	handled1 = 0;
	kill(getpid(), SIGUSR1);
	snprintf(what, sizeof what, "%s: SIGUSR1 is pending before the call", which);
	check(what, handled1 == 0);
	t0 = now();
	r = waitcall(which, 5000, &callmask);
	e = errno;
	took = now() - t0;
	printf("%s, a pending signal the call's mask unblocks: %ld %s\n", which, r, r < 0 ? ename(e) : "");
	snprintf(what, sizeof what, "%s: it ended the call at once, running the handler", which);
	check(what, took < 2.5 && handled1 == 1);
	check("the thread's mask is back", blocked(SIGUSR1) && !blocked(SIGUSR2));

	/* Bad masks. */
	sigprocmask(SIG_SETMASK, &usr1, NULL);
	if (!strcmp(which, "ppoll")) {
		struct pollfd pf = {dummy[0], POLLIN, 0};
		r = syscall(SYS_ppoll, &pf, 1, &(struct timespec){0, 0}, (void *)8, 8);
		printf("ppoll with a wild mask: %ld %s\n", r, r < 0 ? ename(errno) : "");
		r = syscall(SYS_ppoll, &pf, 1, &(struct timespec){0, 0}, &callmask, 4);
		printf("ppoll with a mask size of 4: %ld %s\n", r, r < 0 ? ename(errno) : "");
	}
	if (!strcmp(which, "epoll_pwait")) {
		struct epoll_event ev;
		r = syscall(SYS_epoll_pwait, ep, &ev, 1, 0, (void *)8, 8);
		printf("epoll_pwait with a wild mask: %ld %s\n", r, r < 0 ? ename(errno) : "");
		r = syscall(SYS_epoll_pwait, ep, &ev, 1, 0, &callmask, 16);
		printf("epoll_pwait with a mask size of 16: %ld %s\n", r, r < 0 ? ename(errno) : "");
	}
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa = {.sa_handler = on_usr1};
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	if (pipe(cmd) || pipe(dummy))
		return 100;
	ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN};
	epoll_ctl(ep, EPOLL_CTL_ADD, dummy[0], &ev);
	pthread_t th;
	pthread_create(&th, NULL, helper, NULL);
	run("ppoll");
	run("pselect6");
	run("epoll_pwait");
	run("epoll_pwait2");
	printf("failures: %d\n", failures);
	return failures;
}
