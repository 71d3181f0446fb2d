/*
 * sig_pselwake.c — no lost wake-ups for a child's SIGCHLD during a wait whose own mask
 * unblocks it, as make(1) waits for its jobs: the main thread blocks SIGCHLD with
 * sigprocmask(2), has a handler for it, and waits in pselect6 (pselect(2)), ppoll(2) or
 * epoll_pwait(2) with a mask that lets SIGCHLD through and nothing else to wait for.
 * Each child's exit must end the call with EINTR (signal(7); fs/select.c,
 * set_user_sigmask: the call's mask replaces the thread's for the wait), or, if the child
 * ended before the call, the pending SIGCHLD ends it at once; either way the handler runs
 * (SIGCHLD is a standard signal: once per EINTR, never outside the wait, where it is
 * blocked). The main thread then reaps what has ended with waitpid(WNOHANG) and waits
 * again until it has seen every child.
 *
 * The children are forked either by the main thread or by a second thread (which blocks
 * SIGCHLD too: the main thread's wait is the only place the signal can be taken, while
 * the kernel may hand the process-directed signal to any thread), rounds of 4 children
 * that exit after a random delay of up to 2 ms. A wait that has not ended 3 s after the
 * last child was forked lost a wake-up: the program says which and exits 3.
 *
 * Usage: sig_pselwake [rounds per case, default 50]
 * Exit status: 0, or 3 for a lost wake-up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { PSELECT, PPOLL, EPOLL_PWAIT, NCALLS };
static const char *const callName[NCALLS] = {"pselect6", "ppoll", "epoll_pwait"};

#define PER_ROUND 4

static volatile sig_atomic_t handled;
static int failures;
static int ep;

static void on_chld(int sig)
{
	(void)sig;
	handled++;
}

/* The children of the round being waited for, as forked and as reaped. */
static pid_t forked[PER_ROUND], reaped[PER_ROUND * 2];
static int nforked, nreaped;

static void fork_one(void)
{
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		struct timespec d = {0, (rand() % 2000) * 1000L};
		nanosleep(&d, NULL);
		_exit(0);
	}
	forked[nforked++] = pid;
}

static void *forker(void *arg)
{
	int n = *(int *)arg;
	for (int i = 0; i < n; i++)
		fork_one();
	return NULL;
}

/* wait_once waits with call, with a mask that unblocks SIGCHLD and a 3 s limit: -1
 * EINTR when a SIGCHLD came, 0 when the limit passed. */
static int wait_once(int call, const sigset_t *open)
{
	switch (call) {
	case PSELECT: {
		struct timespec ts = {3, 0};
		return pselect(0, NULL, NULL, NULL, &ts, open);
	}
	case PPOLL: {
		struct timespec ts = {3, 0};
		return ppoll(NULL, 0, &ts, open);
	}
	default: {
		struct epoll_event ev;
		return epoll_pwait(ep, &ev, 1, 3000, open);
	}
	}
}

/* run_case forks rounds*PER_ROUND children (from a second thread if threaded) and waits
 * for them all; it returns 0, or 3 if a wait lost its wake-up. */
static int run_case(int call, int threaded, int rounds)
{
	sigset_t open;
	sigprocmask(SIG_SETMASK, NULL, &open);
	sigdelset(&open, SIGCHLD);
	int seen = 0, eintr = 0, total = rounds * PER_ROUND;
	handled = 0;
	for (int r = 0; r < rounds; r++) {
		pthread_t th;
		int n = PER_ROUND;
		nforked = nreaped = 0;
		if (threaded) {
			if (pthread_create(&th, NULL, forker, &n) != 0) {
				fprintf(stderr, "pthread_create failed\n");
				exit(1);
			}
		} else {
			forker(&n);
		}
		int want = seen + PER_ROUND;
		while (seen < want) {
			int ret = wait_once(call, &open);
			int err = errno;
			if (ret == 0) {
				printf("%s, children forked by the %s thread: lost wake-up: the wait "
				       "timed out with %d of %d children seen\n",
				       callName[call], threaded ? "second" : "main", seen, total);
				fflush(stdout);
				return 3;
			}
			if (ret != -1 || err != EINTR) {
				printf("%s: returned %d (%s), not EINTR\n", callName[call], ret, strerror(err));
				exit(1);
			}
			eintr++;
			pid_t pid;
			int st;
			while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
				if (nreaped < PER_ROUND * 2)
					reaped[nreaped++] = pid;
				seen++;
			}
		}
		if (threaded)
			pthread_join(th, NULL);
		/* Every child reaped is one of the round's, reaped once. */
		for (int i = 0; i < nreaped; i++) {
			int found = 0;
			for (int j = 0; j < nforked; j++)
				found += forked[j] == reaped[i];
			for (int j = 0; j < i; j++)
				found += reaped[j] == reaped[i] ? 10 : 0;
			if (found != 1) {
				printf("%s, children forked by the %s thread: waitpid returned %d, "
				       "%s\n",
				       callName[call], threaded ? "second" : "main", reaped[i],
				       found == 0 ? "not a child forked" : "a second time");
				failures++;
			}
		}
	}
	printf("%s, children forked by the %s thread: %d of %d seen, the handler ran once "
	       "for each EINTR: %s\n",
	       callName[call], threaded ? "second" : "main", seen, total,
	       eintr > 0 && handled == eintr ? "yes" : "no");
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 50;
	srand(getpid());
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_chld;
	sigaction(SIGCHLD, &sa, NULL);
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	ep = epoll_create1(0);
	if (ep < 0) {
		perror("epoll_create1");
		return 1;
	}
	for (int call = 0; call < NCALLS; call++)
		for (int threaded = 0; threaded <= 1; threaded++)
			if (run_case(call, threaded, rounds) != 0)
				return 3;
	return failures != 0;
}
