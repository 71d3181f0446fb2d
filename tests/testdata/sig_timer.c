/*
 * sig_timer.c — timers that deliver signals.
 *
 * 1. alarm(1): one SIGALRM, which ends pause() with EINTR; alarm(5) then alarm(0) returns 5.
 * 2. setitimer(ITIMER_REAL) one-shot (one SIGALRM) and periodic every 50 ms (the handler
 *    counts 5 and disarms it); getitimer then reads zero.
 * 3. setitimer(ITIMER_VIRTUAL) and ITIMER_PROF: SIGVTALRM and SIGPROF after CPU time spent
 *    in a busy loop (3 each).
 * 4. timer_create(CLOCK_MONOTONIC) with SIGEV_SIGNAL (a real-time signal and a value):
 *    5 signals with si_code SI_TIMER and the value; then timer_delete.
 * 5. timer_create with SIGEV_THREAD: the notification function runs in another thread
 *    (3 times).
 * Waits are bounded (5 s each), so a missing signal shows as a count, not a hang.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int failures;

static void yesno(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "yes" : "no");
	if (!ok)
		failures++;
}

static volatile int alrm, vtalrm, prof, periodic;

static void on_alrm(int sig)
{
	(void)sig;
	alrm++;
}

static void on_periodic(int sig)
{
	(void)sig;
	if (periodic < 5 && ++periodic == 5) {
		struct itimerval off = {{0, 0}, {0, 0}};
		setitimer(ITIMER_REAL, &off, NULL);
	}
}

static void on_vtalrm(int sig)
{
	(void)sig;
	if (vtalrm < 3)
		vtalrm++;
}

static void on_prof(int sig)
{
	(void)sig;
	if (prof < 3)
		prof++;
}

static volatile int rt_count, rt_code_ok, rt_value_ok;

static void on_rt(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (rt_count >= 5)
		return;
	rt_count++;
	rt_code_ok += si->si_code == SI_TIMER;
	rt_value_ok += si->si_value.sival_int == 42;
}

static void set_handler(int sig, void (*fn)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* wait_for sleeps (1 ms at a time) until *v reaches n or 5 s have passed. */
static void wait_for(volatile int *v, int n)
{
	double end = now() + 5;
	while (*v < n && now() < end) {
		struct timespec ts = {0, 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

static volatile unsigned long spin_counter;

/* spin_for spins (no syscalls but the clock) until *v reaches n or 5 s have passed. */
static void spin_for(volatile int *v, int n)
{
	double end = now() + 5;
	while (*v < n && now() < end)
		for (int i = 0; i < 100000; i++)
			spin_counter++;
}

static volatile int thread_notifications;
static volatile pthread_t notify_thread;
static volatile int notify_value_ok = 1;

static void notify(union sigval v)
{
	if (v.sival_int != 99)
		notify_value_ok = 0;
	notify_thread = pthread_self();
	__atomic_add_fetch(&thread_notifications, 1, __ATOMIC_SEQ_CST);
}

int main(void)
{
	/* 1. */
	set_handler(SIGALRM, on_alrm);
	alarm(1);
	int r = pause();
	int e = errno;
	while (alrm == 0) /* in case pause() returned for another reason */
		pause();
	yesno("alarm(1): pause() returned -1 EINTR", r == -1 && e == EINTR);
	printf("alarm(1): SIGALRM delivered %d time(s)\n", alrm);
	alarm(5);
	printf("alarm(5) then alarm(0) returns %u\n", alarm(0));

	/* 2. */
	alrm = 0;
	struct itimerval once = {{0, 0}, {0, 100 * 1000}};
	yesno("setitimer ITIMER_REAL one-shot 100 ms", setitimer(ITIMER_REAL, &once, NULL) == 0);
	wait_for(&alrm, 1);
	struct timespec ts = {0, 200 * 1000 * 1000};
	nanosleep(&ts, NULL);
	printf("one-shot ITIMER_REAL: SIGALRM delivered %d time(s)\n", alrm);

	set_handler(SIGALRM, on_periodic);
	struct itimerval every = {{0, 50 * 1000}, {0, 50 * 1000}};
	yesno("setitimer ITIMER_REAL every 50 ms", setitimer(ITIMER_REAL, &every, NULL) == 0);
	wait_for(&periodic, 5);
	printf("periodic ITIMER_REAL: %d SIGALRMs counted, the handler disarmed it\n", periodic);
	struct itimerval cur;
	yesno("getitimer ITIMER_REAL reads zero afterwards",
	      getitimer(ITIMER_REAL, &cur) == 0 && cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0 &&
		      cur.it_interval.tv_sec == 0 && cur.it_interval.tv_usec == 0);

	/* 3. */
	set_handler(SIGVTALRM, on_vtalrm);
	struct itimerval cpu = {{0, 10 * 1000}, {0, 10 * 1000}};
	yesno("setitimer ITIMER_VIRTUAL every 10 ms of CPU", setitimer(ITIMER_VIRTUAL, &cpu, NULL) == 0);
	spin_for(&vtalrm, 3);
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_VIRTUAL, &off, NULL);
	printf("ITIMER_VIRTUAL: %d SIGVTALRMs counted\n", vtalrm);

	set_handler(SIGPROF, on_prof);
	yesno("setitimer ITIMER_PROF every 10 ms of CPU", setitimer(ITIMER_PROF, &cpu, NULL) == 0);
	spin_for(&prof, 3);
	setitimer(ITIMER_PROF, &off, NULL);
	printf("ITIMER_PROF: %d SIGPROFs counted\n", prof);

	/* 4. */
	{
		int sig = SIGRTMIN + 1;
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = on_rt;
		sa.sa_flags = SA_SIGINFO;
		sigemptyset(&sa.sa_mask);
		sigaction(sig, &sa, NULL);
		struct sigevent sev;
		memset(&sev, 0, sizeof sev);
		sev.sigev_notify = SIGEV_SIGNAL;
		sev.sigev_signo = sig;
		sev.sigev_value.sival_int = 42;
		timer_t tid;
		r = timer_create(CLOCK_MONOTONIC, &sev, &tid);
		e = errno;
		printf("timer_create SIGEV_SIGNAL: %s\n", r == 0 ? "ok" : strerror(e));
		if (r == 0) {
			struct itimerspec its = {{0, 20 * 1000 * 1000}, {0, 20 * 1000 * 1000}};
			yesno("timer_settime every 20 ms", timer_settime(tid, 0, &its, NULL) == 0);
			wait_for(&rt_count, 5);
			yesno("timer_delete", timer_delete(tid) == 0);
		} else {
			failures++;
		}
		printf("timer signals: %d counted, with SI_TIMER: %d, with the value 42: %d\n", rt_count,
		       rt_code_ok, rt_value_ok);
	}

	/* 5. */
	{
		struct sigevent sev;
		memset(&sev, 0, sizeof sev);
		sev.sigev_notify = SIGEV_THREAD;
		sev.sigev_notify_function = notify;
		sev.sigev_value.sival_int = 99;
		timer_t tid;
		r = timer_create(CLOCK_MONOTONIC, &sev, &tid);
		e = errno;
		printf("timer_create SIGEV_THREAD: %s\n", r == 0 ? "ok" : strerror(e));
		if (r == 0) {
			struct itimerspec its = {{0, 20 * 1000 * 1000}, {0, 20 * 1000 * 1000}};
			yesno("timer_settime every 20 ms", timer_settime(tid, 0, &its, NULL) == 0);
			wait_for(&thread_notifications, 3);
			yesno("timer_delete", timer_delete(tid) == 0);
			yesno("SIGEV_THREAD: at least 3 notifications", thread_notifications >= 3);
			yesno("SIGEV_THREAD: in another thread, with the value",
			      !pthread_equal(notify_thread, pthread_self()) && notify_value_ok);
		} else {
			failures++;
		}
	}

	printf("failures: %d\n", failures);
	return failures != 0;
}
