/* A syscall golos passes straight through to the host: getppid via libc's syscall(3).
 * Usage: getppid [N [expected-ppid]]. The bench command passes the parent pid the
 * program must see (its own pid; 0 under gVisor, where the program is the sandbox's
 * first process), so a getppid that returns something plausible but wrong fails. */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv)
{
	long n = bench_iters(argc, argv);
	long want = argc > 2 ? atol(argv[2]) : (long)syscall(SYS_getppid);
	if (want < 0) {
		fprintf(stderr, "getppid: bad expected parent pid %ld\n", want);
		return 1;
	}

	/* Warm up untimed: first calls may take one-off costs (page faults, lazy setup). */
	for (long i = 0; i < n / 10 + 1; i++)
		syscall(SYS_getppid);

	long bad = 0, got = 0;
	double t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		got = syscall(SYS_getppid);
		bad += got != want;
	}
	double t1 = bench_now_ns();

	if (bad) {
		fprintf(stderr, "getppid: %ld of %ld calls returned a wrong pid (last %ld, want %ld)\n",
			bad, n, got, want);
		return 1;
	}
	bench_report(t0, t1, n);
	return 0;
}
