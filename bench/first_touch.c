/* First touch of fresh memory: mmap MiB of anonymous memory and write one byte per page,
 * so that every page is a first-touch fault. Reports the whole touch loop in ms, then
 * checks the bytes. Usage: first_touch [MiB] (default 1024). */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv)
{
	long mib = bench_arg(argc, argv, 1024);
	size_t len = (size_t)mib << 20, page = (size_t)sysconf(_SC_PAGESIZE);

	unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("first_touch: mmap");
		return 1;
	}
	double t0 = bench_now_ns();
	for (size_t off = 0; off < len; off += page)
		p[off] = (unsigned char)(off / page) | 1;
	double t1 = bench_now_ns();

	for (size_t off = 0; off < len; off += page) {
		if (p[off] != ((unsigned char)(off / page) | 1) || p[off + page - 1] != 0) {
			fprintf(stderr, "first_touch: wrong byte at offset %zu\n", off);
			return 1;
		}
	}
	if (munmap(p, len) != 0) {
		perror("first_touch: munmap");
		return 1;
	}
	bench_report_ms(t0, t1);
	return 0;
}
