/*
 * sig_info.c — what a SA_SIGINFO handler finds in its siginfo_t (sigaction(2)).
 *
 * Signals sent each way the program can send them to itself:
 *   raise()                    si_code SI_TKILL (libc uses tgkill)
 *   pthread_kill() to itself   SI_TKILL
 *   pthread_kill() to a thread SI_TKILL, handled in that thread
 *   tgkill() syscall           SI_TKILL
 *   kill(getpid())             SI_USER
 *   kill() from another thread SI_USER
 *   sigqueue() a real-time and a standard signal with a value: SI_QUEUE and si_value
 *   rt_sigqueueinfo() with a siginfo of the program's own (si_code SI_QUEUE, its own
 *   si_pid and si_uid, which Linux passes on as they are for a signal to the caller's
 *   own process)
 * Each prints si_signo, si_code by name, whether si_pid == getpid() and si_uid == getuid(),
 * and si_value where it has one.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile int got_signo, got_code, got_pid_ok, got_uid_ok, got_value, got_errno;
static volatile pid_t got_tid;
static volatile int handled;

static void handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_signo = si->si_signo;
	got_code = si->si_code;
	got_pid_ok = si->si_pid == getpid();
	got_uid_ok = si->si_uid == getuid();
	got_value = si->si_value.sival_int;
	got_errno = si->si_errno;
	got_tid = (pid_t)syscall(SYS_gettid);
	handled += sig == si->si_signo;
}

static const char *codename(int c)
{
	switch (c) {
	case SI_USER: return "SI_USER";
	case SI_QUEUE: return "SI_QUEUE";
	case SI_TKILL: return "SI_TKILL";
	case SI_KERNEL: return "SI_KERNEL";
	case SI_TIMER: return "SI_TIMER";
	}
	static char buf[32];
	snprintf(buf, sizeof buf, "%d", c);
	return buf;
}

static void reset(void)
{
	got_signo = got_code = got_pid_ok = got_uid_ok = got_value = got_errno = 0;
	got_tid = 0;
	handled = 0;
}

static const char *signame(int sig)
{
	static char buf[32];
	if (sig >= SIGRTMIN) /* glibc's SIGRTMIN is 34, musl's 35 */
		snprintf(buf, sizeof buf, "SIGRTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(buf, sizeof buf, "%d", sig);
	return buf;
}

static void show(const char *how, int with_value)
{
	printf("%s: handled %d time(s), si_signo %s, si_code %s, si_errno %d, si_pid == getpid(): %s, "
	       "si_uid == getuid(): %s",
	       how, handled, signame(got_signo), codename(got_code), got_errno, got_pid_ok ? "yes" : "no",
	       got_uid_ok ? "yes" : "no");
	if (with_value)
		printf(", si_value %d", got_value);
	printf("\n");
}

static volatile int stop;
static volatile pid_t waiter_tid;

static void *waiter(void *arg)
{
	(void)arg;
	waiter_tid = (pid_t)syscall(SYS_gettid);
	while (!stop) {
		struct timespec ts = {0, 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void *killer(void *arg)
{
	kill(getpid(), (int)(long)arg);
	return NULL;
}

static void wait_handled(void)
{
	for (int i = 0; i < 5000 && !handled; i++) {
		struct timespec ts = {0, 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

int main(void)
{
	int rt = SIGRTMIN + 4;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(rt, &sa, NULL);
	pid_t me = (pid_t)syscall(SYS_gettid);

	reset();
	raise(SIGUSR1);
	show("raise(SIGUSR1)", 0);

	reset();
	pthread_kill(pthread_self(), SIGUSR2);
	show("pthread_kill(pthread_self(), SIGUSR2)", 0);

	reset();
	syscall(SYS_tgkill, getpid(), me, SIGUSR1);
	show("tgkill(getpid(), gettid(), SIGUSR1)", 0);

	reset();
	kill(getpid(), SIGUSR1);
	show("kill(getpid(), SIGUSR1)", 0);

	reset();
	union sigval v = {.sival_int = 31337};
	sigqueue(getpid(), rt, v);
	show("sigqueue(getpid(), SIGRTMIN+4, 31337)", 1);

	reset();
	v.sival_int = -5;
	sigqueue(getpid(), SIGUSR2, v);
	show("sigqueue(getpid(), SIGUSR2, -5)", 1);

	reset();
	{
		siginfo_t si;
		memset(&si, 0, sizeof si);
		si.si_signo = SIGUSR1;
		si.si_code = SI_QUEUE;
		si.si_pid = getpid();
		si.si_uid = getuid();
		si.si_value.sival_int = 777;
		long r = syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &si);
		printf("rt_sigqueueinfo: %ld\n", r);
		show("rt_sigqueueinfo(getpid(), SIGUSR1, {SI_QUEUE, 777})", 1);
	}

	/* to and from other threads */
	{
		sigset_t s, old;
		sigemptyset(&s);
		sigaddset(&s, SIGUSR1);
		pthread_t th;
		pthread_create(&th, NULL, waiter, NULL);
		while (!waiter_tid) {
			struct timespec ts = {0, 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		reset();
		pthread_kill(th, SIGUSR1);
		wait_handled();
		show("pthread_kill(thread, SIGUSR1)", 0);
		printf("handled in that thread: %s\n", got_tid == waiter_tid ? "yes" : "no");
		stop = 1;
		pthread_join(th, NULL);

		reset();
		pthread_sigmask(SIG_BLOCK, &s, &old); /* the killer inherits the block: main takes it below */
		pthread_create(&th, NULL, killer, (void *)(long)SIGUSR1);
		pthread_join(th, NULL);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		show("kill(getpid(), SIGUSR1) from another thread", 0);
		printf("handled in the main thread: %s\n", got_tid == me ? "yes" : "no");
	}
	return 0;
}
