/*
 * thr_join.c — thread exit, join and detach, and many threads created and gone.
 *
 * 1. Threads end by returning a value, by pthread_exit() from a nested call, and by
 *    pthread_exit() in the thread function; pthread_join() gets each value.
 * 2. 10 detached threads (detached at creation and by pthread_detach()) meet the main
 *    thread at a barrier.
 * 3. 1,000 threads created and joined in batches of 100 alive at once.
 * 4. A churn of 2,000 create/join pairs, one thread at a time.
 * 5. At the end the program reads the Threads: field of /proc/self/status and prints only
 *    whether it is below 50 (natively it is 1; under golos it counts golos's own threads,
 *    so a thread leaked per application thread shows). The number goes to stderr.
 * The exit status is 0 when every check passed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;

static void check(const char *what, long long got, long long want)
{
	printf("%s: %lld (%s)\n", what, got, got == want ? "ok" : "WRONG");
	if (got != want)
		failures++;
}

static void *by_return(void *arg) { return (void *)((long)arg * 2); }

__attribute__((noinline)) static void exit_deep(long v) { pthread_exit((void *)(v + 1000)); }
__attribute__((noinline)) static void exit_mid(long v) { exit_deep(v); }

static void *by_nested_exit(void *arg)
{
	exit_mid((long)arg);
	return NULL; /* not reached */
}

static void *by_exit(void *arg) { pthread_exit((void *)((long)arg + 7)); }

static pthread_barrier_t detach_barrier;
static int detached_ran;

static void *detached(void *arg)
{
	(void)arg;
	__atomic_add_fetch(&detached_ran, 1, __ATOMIC_SEQ_CST);
	pthread_barrier_wait(&detach_barrier);
	return NULL;
}

static void *ident(void *arg) { return arg; }

static const char *errname(int e)
{
	switch (e) {
	case 0: return "0";
	case EAGAIN: return "EAGAIN";
	case EINVAL: return "EINVAL";
	}
	return strerror(e);
}

/* threadsNow returns the Threads: field of /proc/self/status, or -1. */
static int threads_now(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	char line[256];
	int n = -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

static pthread_attr_t small_stack;

int main(void)
{
	pthread_attr_init(&small_stack);
	pthread_attr_setstacksize(&small_stack, 128 * 1024);

	/* 1. exit values */
	{
		void *(*fns[3])(void *) = {by_return, by_nested_exit, by_exit};
		const char *names[3] = {"return", "pthread_exit from a nested call", "pthread_exit"};
		long want[3] = {2 * 21, 21 + 1000, 21 + 7};
		for (int i = 0; i < 3; i++) {
			pthread_t th;
			void *ret = NULL;
			int e = pthread_create(&th, NULL, fns[i], (void *)21L);
			if (e == 0)
				e = pthread_join(th, &ret);
			char what[128];
			snprintf(what, sizeof what, "value of a thread ended by %s (join: %s)", names[i], errname(e));
			check(what, (long)ret, want[i]);
		}
	}

	/* 2. detached threads and a barrier */
	{
		pthread_barrier_init(&detach_barrier, NULL, 11);
		pthread_attr_t a;
		pthread_attr_init(&a);
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		pthread_t th[10];
		for (int i = 0; i < 10; i++) {
			if (i < 5) {
				pthread_create(&th[i], &a, detached, NULL);
			} else {
				pthread_create(&th[i], NULL, detached, NULL);
				pthread_detach(th[i]);
			}
		}
		pthread_attr_destroy(&a);
		pthread_barrier_wait(&detach_barrier);
		check("detached threads at the barrier", __atomic_load_n(&detached_ran, __ATOMIC_SEQ_CST), 10);
	}

	/* 3. 1,000 threads in batches of 100 */
	{
		long sum = 0, created = 0, joined = 0;
		for (int batch = 0; batch < 10; batch++) {
			pthread_t th[100];
			int n = 0;
			for (int i = 0; i < 100; i++) {
				long v = batch * 100 + i + 1;
				if (pthread_create(&th[n], &small_stack, ident, (void *)v) == 0)
					n++;
			}
			created += n;
			for (int i = 0; i < n; i++) {
				void *ret;
				if (pthread_join(th[i], &ret) == 0) {
					joined++;
					sum += (long)ret;
				}
			}
		}
		check("batch threads created", created, 1000);
		check("batch threads joined", joined, 1000);
		check("batch threads sum of values", sum, 1000L * 1001 / 2);
	}

	/* 4. churn */
	{
		long ok = 0;
		for (long i = 0; i < 2000; i++) {
			pthread_t th;
			void *ret;
			if (pthread_create(&th, &small_stack, ident, (void *)(i ^ 0x5a5a)) == 0 &&
			    pthread_join(th, &ret) == 0 && (long)ret == (i ^ 0x5a5a))
				ok++;
		}
		check("churn create/join pairs", ok, 2000);
	}

	/* 5. nothing left behind */
	int n = threads_now();
	fprintf(stderr, "thr_join: Threads: %d in /proc/self/status\n", n);
	printf("threads bounded: %s\n", n > 0 && n < 50 ? "yes" : "no");

	printf("failures: %d\n", failures);
	return failures != 0;
}
