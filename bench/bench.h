/* Shared helpers for the golos-bench workloads that time themselves. Each one takes its
 * size (an iteration count, MiB, threads) from argv[1], checks its own results, and
 * prints exactly one line: "ns_per_call=<float>" or "ms=<float>". On any failure it
 * prints to stderr and exits non-zero, so that a broken run never passes for a fast one. */
#ifndef GOLOS_BENCH_H
#define GOLOS_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define DEFAULT_ITERS 200000L

/* argv[1] as a positive count, or def when absent. */
static inline long bench_arg(int argc, char **argv, long def)
{
	if (argc < 2)
		return def;
	char *end;
	long n = strtol(argv[1], &end, 10);
	if (*end != '\0' || n <= 0) {
		fprintf(stderr, "bad count %s\n", argv[1]);
		exit(2);
	}
	return n;
}

static inline long bench_iters(int argc, char **argv)
{
	return bench_arg(argc, argv, DEFAULT_ITERS);
}

/* glibc serves CLOCK_MONOTONIC from the vDSO, so reading the clock makes no syscall
 * and does not disturb the loop being measured. */
static inline double bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline void bench_report(double t0, double t1, long n)
{
	printf("ns_per_call=%.1f\n", (t1 - t0) / (double)n);
}

static inline void bench_report_ms(double t0, double t1)
{
	printf("ms=%.3f\n", (t1 - t0) / 1e6);
}

/* A raw syscall instruction, so that libc's wrappers (and any caching they do) are not
 * part of what is measured. */
static inline long raw_syscall2(long nr, long a1, long a2)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2)
			 : "rcx", "r11", "memory");
	return ret;
}

#endif
