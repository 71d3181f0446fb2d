/*
 * thr_omp.c — OpenMP (gcc -fopenmp, libgomp): a thread pool of 4, its barriers and futex
 * waits.
 *
 * 1. A parallel for with reduction(+:sum) over 1..10,000,000 on 4 threads.
 * 2. A parallel region: the team has 4 threads, numbered 0 to 3, each with its own
 *    threadprivate copy of a variable.
 * 3. 2,000 small parallel regions in a row (the pool is reused: workers sleep and are woken
 *    between regions), with a dynamic schedule, a critical section, atomics and explicit
 *    barriers.
 * 4. Tasks: a recursive Fibonacci with #pragma omp task.
 * Built only with glibc (libgomp is a glibc library), statically and dynamically.
 */
#include <omp.h>
#include <stdio.h>

static int tp = -1;
#pragma omp threadprivate(tp)

static long fib(int n)
{
	if (n < 2)
		return n;
	long a, b;
	if (n < 15)
		return fib(n - 1) + fib(n - 2);
#pragma omp task shared(a)
	a = fib(n - 1);
#pragma omp task shared(b)
	b = fib(n - 2);
#pragma omp taskwait
	return a + b;
}

int main(void)
{
	omp_set_dynamic(0);
	omp_set_num_threads(4);

	/* 1. */
	long long sum = 0;
#pragma omp parallel for reduction(+ : sum) num_threads(4) schedule(static)
	for (long i = 1; i <= 10000000; i++)
		sum += i;
	printf("reduction sum 1..10000000: %lld\n", sum);

	/* 2. */
	int team = 0, seen = 0, tp_ok = 0;
#pragma omp parallel num_threads(4)
	{
		int me = omp_get_thread_num();
		tp = me * 10;
#pragma omp barrier
#pragma omp critical
		{
			seen |= 1 << me;
			tp_ok += tp == me * 10;
		}
#pragma omp single
		team = omp_get_num_threads();
	}
	printf("team size: %d, thread numbers seen: %s, threadprivate copies kept: %d\n", team,
	       seen == 0xf ? "0 1 2 3" : "wrong", tp_ok);

	/* 3. */
	long long crit = 0, atom = 0, dyn = 0, regions = 0;
	for (int r = 0; r < 2000; r++) {
#pragma omp parallel num_threads(4)
		{
#pragma omp for schedule(dynamic, 3) reduction(+ : dyn)
			for (int i = 0; i < 64; i++)
				dyn += i;
#pragma omp critical
			crit++;
#pragma omp barrier
#pragma omp atomic
			atom += 2;
#pragma omp master
			regions++;
		}
	}
	printf("2000 regions: dynamic-schedule sum %lld, critical %lld, atomic %lld, master %lld\n", dyn,
	       crit, atom, regions);

	/* 4. */
	long f = 0;
#pragma omp parallel num_threads(4)
#pragma omp single
	f = fib(27);
	printf("fib(27) with tasks: %ld\n", f);

	int ok = sum == 50000005000000LL && team == 4 && seen == 0xf && tp_ok == 4 &&
		 dyn == 2000LL * 2016 && crit == 8000 && atom == 16000 && regions == 2000 && f == 196418;
	printf("%s\n", ok ? "PASS" : "FAIL");
	return !ok;
}
