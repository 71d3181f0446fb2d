/* Shared helpers for the golos-bench loop workloads. Each loop program takes the
 * iteration count N from argv[1], checks its own results, and prints exactly one line
 * "ns_per_call=<float>" on success; on any failure it prints to stderr and exits
 * non-zero, so that a broken run never passes for a fast one. */
#ifndef GOLOS_BENCH_H
#define GOLOS_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define DEFAULT_ITERS 200000L

static long bench_iters(int argc, char **argv)
{
	if (argc < 2)
		return DEFAULT_ITERS;
	char *end;
	long n = strtol(argv[1], &end, 10);
	if (*end != '\0' || n <= 0) {
		fprintf(stderr, "bad iteration count %s\n", argv[1]);
		exit(2);
	}
	return n;
}

/* glibc serves CLOCK_MONOTONIC from the vDSO, so reading the clock makes no syscall
 * and does not disturb the loop being measured. */
static double bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void bench_report(double t0, double t1, long n)
{
	printf("ns_per_call=%.1f\n", (t1 - t0) / (double)n);
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
