/*
 * hostile_sigpending.c — queues signals to itself under a small RLIMIT_SIGPENDING, as
 * Linux counts and refuses them (kernel/signal.c, __send_signal_locked and
 * sig_get_ucounts): every queued siginfo counts against the limit; a real-time signal
 * that finds the queue full is refused with EAGAIN when sent with a code other than
 * SI_USER (sigqueue(3), tgkill(2), rt_tgsigqueueinfo(2)), and kept without its siginfo when sent by kill(2)
 * (SI_USER); a standard signal is never refused: sent by kill(2) it passes the limit,
 * sent with a negative code (sigqueue, tgkill) it loses its siginfo (the handler sees
 * SI_USER and no value).
 *
 * Then, with the limit at 0, a signal to a thread that spins without a syscall must still
 * reach it; and a forked child keeps the limit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "ename.h"

static struct {
	int sig, code, value;
} got[64];
static volatile int ngot;

static void handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (ngot < 64) {
		got[ngot].sig = sig;
		got[ngot].code = si->si_code;
		got[ngot].value = si->si_code == SI_QUEUE ? si->si_value.sival_int : -1;
		ngot++;
	}
}

static const char *code_name(int c)
{
	switch (c) {
	case SI_USER: return "SI_USER";
	case SI_QUEUE: return "SI_QUEUE";
	case SI_TKILL: return "SI_TKILL";
	}
	return "other";
}

static const char *sig_name(int s)
{
	static char b[16];
	if (s == SIGUSR1)
		return "SIGUSR1";
	if (s == SIGUSR2)
		return "SIGUSR2";
	snprintf(b, sizeof b, "SIGRTMIN+%d", s - SIGRTMIN);
	return b;
}

static void set_limit(rlim_t n)
{
	struct rlimit rl;
	getrlimit(RLIMIT_SIGPENDING, &rl);
	rl.rlim_cur = n;
	if (setrlimit(RLIMIT_SIGPENDING, &rl) != 0)
		printf("setrlimit(RLIMIT_SIGPENDING, %lu): %s\n", (unsigned long)n, ename(errno));
}

static int queue(int sig, int value)
{
	union sigval v = {.sival_int = value};
	errno = 0;
	return sigqueue(getpid(), sig, v) == 0 ? 0 : errno;
}

static volatile int spin_got, spin_stop, spin_started;

static void spin_handler(int sig)
{
	(void)sig;
	spin_got = 1;
}

static void *spinner(void *arg)
{
	spin_started = 1;
	while (!spin_got && !spin_stop)
		; /* no syscall: only a kick gets it out */
	return arg;
}

/* limits_line is the soft limit /proc/self/limits shows for "Max pending signals". */
static void limits_line(void)
{
	FILE *f = fopen("/proc/self/limits", "r");
	char b[256];
	while (f && fgets(b, sizeof b, f))
		if (strncmp(b, "Max pending signals", 19) == 0) {
			char *p = b + 19;
			while (*p == ' ')
				p++;
			printf("/proc/self/limits soft: %ld\n", strtol(p, NULL, 10));
		}
	if (f)
		fclose(f);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* A user of its own: Linux counts the signals pending for all of a user's
	   processes against the limit (kernel/signal.c, __sigqueue_alloc: the user's
	   ucounts), and other processes of root's, the tests' own among them, would
	   change the counts below. */
	if (geteuid() == 0) {
		uid_t uid = 200000 + getpid() % 100000;
		if (setgroups(0, NULL) != 0 || setgid(uid) != 0 || setuid(uid) != 0) {
			perror("setuid");
			return 1;
		}
	}
	struct sigaction sa = {.sa_sigaction = handler, .sa_flags = SA_SIGINFO};
	int sigs[] = {SIGUSR1, SIGUSR2, SIGRTMIN, SIGRTMIN + 1, SIGRTMIN + 2};
	sigset_t set;
	sigemptyset(&set);
	for (int i = 0; i < 5; i++) {
		sigaction(sigs[i], &sa, NULL);
		sigaddset(&set, sigs[i]);
	}
	sigprocmask(SIG_BLOCK, &set, NULL);

	set_limit(4);
	struct rlimit rl;
	getrlimit(RLIMIT_SIGPENDING, &rl);
	printf("RLIMIT_SIGPENDING soft: %lu\n", (unsigned long)rl.rlim_cur);
	limits_line();

	/* 1: kill's SIGUSR2 (SI_USER, a standard signal: passes the limit, counts). */
	printf("kill SIGUSR2: %d\n", kill(getpid(), SIGUSR2));
	/* 2: sigqueue of SIGRTMIN until the queue is full: 3 fit beside SIGUSR2. */
	int ok = 0, again = 0, other = 0;
	for (int i = 0; i < 10; i++) {
		int e = queue(SIGRTMIN, i);
		if (e == 0)
			ok++;
		else if (e == EAGAIN)
			again++;
		else
			other++;
	}
	printf("sigqueue SIGRTMIN x10: %d queued, %d EAGAIN, %d other\n", ok, again, other);
	/* 3: over the limit, a standard signal by sigqueue is sent without its siginfo. */
	int e = queue(SIGUSR1, 77);
	printf("sigqueue SIGUSR1 over the limit: %s\n", e ? ename(e) : "0");
	/* 4: kill of a real-time signal over the limit: sent, without its siginfo. */
	int k1 = kill(getpid(), SIGRTMIN + 1), k2 = kill(getpid(), SIGRTMIN + 1);
	printf("kill SIGRTMIN+1 twice over the limit: %d %d\n", k1, k2);
	/* 5: tgkill (SI_TKILL) and rt_tgsigqueueinfo of a real-time signal: EAGAIN. */
	errno = 0;
	int r = syscall(SYS_tgkill, getpid(), (int)syscall(SYS_gettid), SIGRTMIN + 2);
	printf("tgkill SIGRTMIN+2 over the limit: %d %s\n", r, r ? ename(errno) : "");
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = SIGRTMIN + 2;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_value.sival_int = 5;
	errno = 0;
	r = syscall(SYS_rt_tgsigqueueinfo, getpid(), (int)syscall(SYS_gettid), SIGRTMIN + 2, &si);
	printf("rt_tgsigqueueinfo SIGRTMIN+2 over the limit: %d %s\n", r, r ? ename(errno) : "");
	sigset_t pend;
	sigpending(&pend);
	printf("pending: SIGUSR1 %d SIGUSR2 %d SIGRTMIN %d SIGRTMIN+1 %d SIGRTMIN+2 %d\n", sigismember(&pend, SIGUSR1),
	       sigismember(&pend, SIGUSR2), sigismember(&pend, SIGRTMIN), sigismember(&pend, SIGRTMIN + 1),
	       sigismember(&pend, SIGRTMIN + 2));

	sigprocmask(SIG_UNBLOCK, &set, NULL);
	for (int i = 0; i < ngot; i++)
		printf("handled %s %s value %d\n", sig_name(got[i].sig), code_name(got[i].code), got[i].value);
	/* 6: the queue is empty again. */
	sigprocmask(SIG_BLOCK, &set, NULL);
	ok = 0;
	for (int i = 0; i < 4; i++)
		ok += queue(SIGRTMIN, 100 + i) == 0;
	e = queue(SIGRTMIN, 104);
	printf("after delivery: %d queued, the fifth: %s\n", ok, e ? ename(e) : "0");
	ngot = 0;
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	printf("handled %d\n", ngot);

	/* 7: each POSIX timer holds a signal's room from its creation to its deletion
	 * (kernel/time/posix-timers.c, alloc_posix_timer). */
	timer_t tm[8];
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2};
	int made = 0;
	e = 0;
	while (made < 8) {
		if (timer_create(CLOCK_MONOTONIC, &ev, &tm[made]) != 0) {
			e = errno;
			break;
		}
		made++;
	}
	printf("timers under a limit of 4: %d, the next: %s\n", made, e ? ename(e) : "0");
	while (made > 0)
		timer_delete(tm[--made]);
	printf("after timer_delete, sigqueue: %s\n", queue(SIGRTMIN, 7) ? "refused" : "0");

	/* 8: a forked child keeps the limit. */
	pid_t pid = fork();
	if (pid == 0) {
		getrlimit(RLIMIT_SIGPENDING, &rl);
		sigprocmask(SIG_BLOCK, &set, NULL);
		set_limit(2);
		ok = 0;
		for (int i = 0; i < 3; i++)
			ok += queue(SIGRTMIN, i) == 0;
		printf("child: limit was %lu, %d of 3 queued under 2\n", (unsigned long)rl.rlim_cur, ok);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);

	/* 9: at 0, a signal to a thread that spins in its code still reaches it. */
	set_limit(0);
	signal(SIGUSR1, spin_handler);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	pthread_t th;
	pthread_create(&th, NULL, spinner, NULL);
	while (!spin_started)
		usleep(1000);
	r = pthread_kill(th, SIGUSR1);
	for (int i = 0; i < 2000 && !spin_got; i++)
		usleep(1000);
	spin_stop = 1;
	pthread_join(th, NULL);
	printf("limit 0: pthread_kill %d, the spinning thread took it: %s\n", r, spin_got ? "yes" : "no");
	printf("done\n");
	return 0;
}
