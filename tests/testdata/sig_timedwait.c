/*
 * sig_timedwait.c — waits with a time limit are not interrupted by signals the program
 * does not take: while each call waits 800 ms, 20 children end one after another (every
 * 40 ms from the start), each sending SIGCHLD, whose action is the default (ignore).
 * Linux does not interrupt the calls (signal(7)): each one waits its whole time and
 * returns its timeout result, never EINTR, and never much later than its limit — a call
 * made again with its whole limit after the last SIGCHLD would end after 1.56 s. Each
 * call is made twice (under golos the later ones may come from a rewritten site):
 * nanosleep, clock_nanosleep, poll, ppoll, select, pselect6, epoll_wait, epoll_pwait,
 * epoll_pwait2 and futex(FUTEX_WAIT).
 *
 * Exit status: the number of failed checks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ename.h"

#define FUTEX_WAIT_PRIVATE 128 /* FUTEX_WAIT | FUTEX_PRIVATE_FLAG (linux/futex.h, which musl lacks) */

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

#define LIMIT_MS 800

static int failures;
static int fds[2], ep;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void children(void)
{
	for (int i = 0; i < 20; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			usleep(40000 * i);
			_exit(0);
		}
		if (pid < 0) {
			printf("fork: %s\n", ename(errno));
			_exit(100);
		}
	}
}

static long call(const char *which)
{
	struct timespec ts = {0, LIMIT_MS * 1000000L};
	struct pollfd pf = {fds[0], POLLIN, 0};
	struct epoll_event ev;
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(fds[0], &rd);
	if (!strcmp(which, "nanosleep"))
		return syscall(SYS_nanosleep, &ts, NULL);
	if (!strcmp(which, "clock_nanosleep"))
		return syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, NULL);
	if (!strcmp(which, "poll"))
		return syscall(SYS_poll, &pf, 1, LIMIT_MS);
	if (!strcmp(which, "ppoll"))
		return syscall(SYS_ppoll, &pf, 1, &ts, NULL, 8);
	if (!strcmp(which, "select")) {
		struct timeval tv = {0, LIMIT_MS * 1000};
		return syscall(SYS_select, fds[0] + 1, &rd, NULL, NULL, &tv);
	}
	if (!strcmp(which, "pselect6"))
		return syscall(SYS_pselect6, fds[0] + 1, &rd, NULL, NULL, &ts, NULL);
	if (!strcmp(which, "epoll_wait"))
		return syscall(SYS_epoll_wait, ep, &ev, 1, LIMIT_MS);
	if (!strcmp(which, "epoll_pwait"))
		return syscall(SYS_epoll_pwait, ep, &ev, 1, LIMIT_MS, NULL, 8);
	if (!strcmp(which, "epoll_pwait2"))
		return syscall(SYS_epoll_pwait2, ep, &ev, 1, &ts, NULL, 8);
	static int word;
	return syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pipe(fds))
		return 100;
	ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN};
	epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev);
	const char *calls[] = {"nanosleep", "clock_nanosleep", "poll", "ppoll", "select", "pselect6",
			       "epoll_wait", "epoll_pwait", "epoll_pwait2", "futex"};
	for (size_t c = 0; c < sizeof calls / sizeof *calls; c++) {
		int early = 0, late = 0;
		for (int k = 0; k < 2; k++) {
			children();
			double t0 = now();
			long r = call(calls[c]);
			int e = errno;
			double took = now() - t0;
			while (waitpid(-1, NULL, 0) > 0)
				;
			printf("%s: %ld %s\n", calls[c], r, r < 0 ? ename(e) : "");
			failures += r < 0 && e == EINTR;
			early += took < LIMIT_MS / 1000.0 - 0.005;
			/* The whole limit again ends at 1.56 s or later; a loaded machine's scheduling
			 * delays (0.35 s seen) stay below the slack. */
			late += took > 1.4;
			if (took > LIMIT_MS / 1000.0 + 0.1)
				fprintf(stderr, "%s took %.3f s\n", calls[c], took);
		}
		printf("%s: never ended early: %s\n", calls[c], early ? "no" : "yes");
		printf("%s: never waited its limit again: %s\n", calls[c], late ? "no" : "yes");
		failures += early + late;
	}
	printf("failures: %d\n", failures);
	return failures;
}
