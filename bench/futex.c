/* Futex ping-pong between two threads: the main thread sets a shared word to 1 and wakes
 * the other, which waits for 1, sets it back to 0 and wakes the main thread. Both block
 * in FUTEX_WAIT (private) whenever the word is not yet theirs, so each round trip is two
 * wake-ups. Reports ns per round trip. Usage: futex [N]. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

static _Atomic int word;
static long rounds;

static void wait_while(int v)
{
	while (atomic_load(&word) == v)
		syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void set_and_wake(int v)
{
	atomic_store(&word, v);
	syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *pong(void *arg)
{
	(void)arg;
	for (long i = 0; i < rounds; i++) {
		wait_while(0);
		set_and_wake(0);
	}
	return NULL;
}

static void ping(long n)
{
	for (long i = 0; i < n; i++) {
		set_and_wake(1);
		wait_while(1);
	}
}

int main(int argc, char **argv)
{
	long n = bench_arg(argc, argv, 20000), warm = n / 10 + 1;
	pthread_t t;

	rounds = warm + n;
	if (pthread_create(&t, NULL, pong, NULL) != 0) {
		fprintf(stderr, "futex: pthread_create failed\n");
		return 1;
	}
	ping(warm);
	double t0 = bench_now_ns();
	ping(n);
	double t1 = bench_now_ns();
	if (pthread_join(t, NULL) != 0 || atomic_load(&word) != 0) {
		fprintf(stderr, "futex: ping-pong ended out of step\n");
		return 1;
	}
	bench_report(t0, t1, n);
	return 0;
}
