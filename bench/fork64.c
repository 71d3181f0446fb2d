/* fork + exit + wait of a process with 64 MiB of dirtied private memory: malloc 64 MiB,
 * write every page, then N times fork a child that calls _exit(0) at once and waitpid
 * for it, checking that it exited with 0. After N/10 + 1 untimed rounds, reports the
 * time of one round in ms (the timed loop's time over N); then checks that the parent's
 * pages still hold what it wrote. Usage: fork64 [N] (default 50). */
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define MIB 64

static int round_trip(long i)
{
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork64: fork");
		return -1;
	}
	if (pid == 0)
		_exit(0);
	int status;
	if (waitpid(pid, &status, 0) != pid) {
		perror("fork64: waitpid");
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "fork64: child %ld: wait status %#x, want exit 0\n", i, status);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	long n = bench_arg(argc, argv, 50);
	size_t len = (size_t)MIB << 20, page = (size_t)sysconf(_SC_PAGESIZE);

	unsigned char *p = malloc(len);
	if (p == NULL) {
		perror("fork64: malloc");
		return 1;
	}
	for (size_t off = 0; off < len; off += page)
		p[off] = (unsigned char)(off / page) | 1;

	for (long i = 0; i < n / 10 + 1; i++)
		if (round_trip(i) != 0)
			return 1;
	double t0 = bench_now_ns();
	for (long i = 0; i < n; i++)
		if (round_trip(i) != 0)
			return 1;
	double t1 = bench_now_ns();

	for (size_t off = 0; off < len; off += page) {
		if (p[off] != ((unsigned char)(off / page) | 1)) {
			fprintf(stderr, "fork64: wrong byte at offset %zu\n", off);
			return 1;
		}
	}
	free(p);
	printf("ms=%.4f\n", (t1 - t0) / 1e6 / (double)n);
	return 0;
}
