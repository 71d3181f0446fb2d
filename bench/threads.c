/* Thread create + join, one after the other: N times pthread_create a thread that
 * returns its argument plus one, then pthread_join it and check the value. Reports the
 * whole loop in ms. Usage: threads [N] (default 1000). */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "bench.h"

static void *child(void *arg)
{
	return (void *)((uintptr_t)arg + 1);
}

int main(int argc, char **argv)
{
	long n = bench_arg(argc, argv, 1000);

	double t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		pthread_t t;
		void *ret;
		int err = pthread_create(&t, NULL, child, (void *)(uintptr_t)i);
		if (err == 0)
			err = pthread_join(t, &ret);
		if (err != 0 || (uintptr_t)ret != (uintptr_t)i + 1) {
			fprintf(stderr, "threads: thread %ld: %s\n", i, err ? strerror(err) : "wrong result");
			return 1;
		}
	}
	double t1 = bench_now_ns();
	bench_report_ms(t0, t1);
	return 0;
}
