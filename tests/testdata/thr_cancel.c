/*
 * thr_cancel.c — pthread_cancel, which libc carries out with a signal of its own
 * (glibc's and musl's SIGCANCEL, a real-time signal) sent with tgkill.
 *
 * 1. A thread blocked in read() on an empty pipe is cancelled (deferred cancellation at a
 *    cancellation point); its cleanup handler runs and pthread_join() gets
 *    PTHREAD_CANCELED.
 * 2. A thread looping on nanosleep() (a cancellation point) is cancelled.
 * 3. A thread with asynchronous cancellation spinning in a loop that makes no syscall is
 *    cancelled: the signal must reach a thread that never enters the kernel.
 * 4. A thread with cancellation disabled gets a request, carries on, and is cancelled at
 *    pthread_testcancel() once it enables cancellation again.
 * A 10 s alarm ends the program (status 142) if a cancellation never lands; each step is
 * named on stderr (unbuffered) as it starts, to show where.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int failures;
static volatile int cleanups[4];
static volatile int started[4];

static void cleanup(void *arg) { cleanups[(long)arg]++; }

static void *in_read(void *arg)
{
	int fd = (int)(long)arg;
	char c;
	pthread_cleanup_push(cleanup, (void *)0);
	started[0] = 1;
	for (;;)
		read(fd, &c, 1);
	pthread_cleanup_pop(0);
	return NULL;
}

static void *in_sleep(void *arg)
{
	(void)arg;
	pthread_cleanup_push(cleanup, (void *)1);
	started[1] = 1;
	for (;;) {
		struct timespec ts = {0, 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	pthread_cleanup_pop(0);
	return NULL;
}

static volatile unsigned long spins;

static void *in_spin(void *arg)
{
	(void)arg;
	pthread_cleanup_push(cleanup, (void *)2);
	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
	started[2] = 1;
	for (;;)
		spins++;
	pthread_cleanup_pop(0);
	return NULL;
}

static volatile int requested;
static volatile int carried_on;

static void *disabled(void *arg)
{
	(void)arg;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_cleanup_push(cleanup, (void *)3);
	started[3] = 1;
	while (!requested) {
		struct timespec ts = {0, 1000 * 1000};
		nanosleep(&ts, NULL); /* a cancellation point, but cancellation is disabled */
	}
	carried_on = 1;
	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	pthread_testcancel();
	carried_on = 2; /* not reached */
	pthread_cleanup_pop(0);
	return NULL;
}

static void step(const char *what) { fprintf(stderr, "thr_cancel: %s\n", what); }

static void wait_started(int i)
{
	while (!started[i]) {
		struct timespec ts = {0, 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	struct timespec ts = {0, 50 * 1000 * 1000}; /* let it get into its loop */
	nanosleep(&ts, NULL);
}

static void report(const char *what, pthread_t th, int i)
{
	void *ret = NULL;
	int e = pthread_join(th, &ret);
	int ok = e == 0 && ret == PTHREAD_CANCELED && cleanups[i] == 1;
	printf("%s: join %s, PTHREAD_CANCELED %s, cleanup handler ran %d time(s)\n", what,
	       e == 0 ? "ok" : strerror(e), ret == PTHREAD_CANCELED ? "yes" : "no", cleanups[i]);
	if (!ok)
		failures++;
}

int main(void)
{
	alarm(10);
	pthread_t th;

	int p[2];
	if (pipe(p) != 0) {
		perror("pipe");
		return 1;
	}
	step("cancel in read()");
	pthread_create(&th, NULL, in_read, (void *)(long)p[0]);
	wait_started(0);
	pthread_cancel(th);
	report("cancelled in read()", th, 0);

	step("cancel in nanosleep()");
	pthread_create(&th, NULL, in_sleep, NULL);
	wait_started(1);
	pthread_cancel(th);
	report("cancelled in nanosleep()", th, 1);

	step("asynchronous cancel");
	pthread_create(&th, NULL, in_spin, NULL);
	wait_started(2);
	pthread_cancel(th);
	report("cancelled asynchronously in a loop without syscalls", th, 2);
	printf("the loop ran: %s\n", spins > 0 ? "yes" : "no");

	step("cancel while disabled");
	pthread_create(&th, NULL, disabled, NULL);
	wait_started(3);
	pthread_cancel(th);
	requested = 1;
	report("cancelled at pthread_testcancel() after enabling", th, 3);
	printf("carried on while disabled: %s\n", carried_on == 1 ? "yes" : "no");
	if (carried_on != 1)
		failures++;

	step("done");
	printf("failures: %d\n", failures);
	return failures != 0;
}
