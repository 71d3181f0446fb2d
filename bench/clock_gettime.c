/* clock_gettime(CLOCK_MONOTONIC) through libc, which reads the clock in the vDSO without
 * a syscall when the process has one (AT_SYSINFO_EHDR). Under an interceptor that gives
 * the program no vDSO, every call becomes a trapped syscall. Each result must not go
 * backwards. Usage: clock_gettime [N]. */
#include "bench.h"

int main(int argc, char **argv)
{
	long n = bench_iters(argc, argv);
	struct timespec ts, prev = {0, 0};
	long bad = 0;

	for (long i = 0; i < n / 10 + 1; i++)
		clock_gettime(CLOCK_MONOTONIC, &ts);

	double t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		bad += clock_gettime(CLOCK_MONOTONIC, &ts) != 0;
		bad += ts.tv_sec < prev.tv_sec || (ts.tv_sec == prev.tv_sec && ts.tv_nsec < prev.tv_nsec);
		prev = ts;
	}
	double t1 = bench_now_ns();

	if (bad) {
		fprintf(stderr, "clock_gettime: %ld failed or backward readings\n", bad);
		return 1;
	}
	bench_report(t0, t1, n);
	return 0;
}
