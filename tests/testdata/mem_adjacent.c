/*
 * mem_adjacent.c — a syscall that writes just below a fresh mapping, into the page before
 * it: natively that page is not mapped (mmap places new mappings top-down below the
 * others, and the main stack has its guard gap), so getrandom fails with EFAULT. Under
 * golos the program's stack once lay right there, and the write landed in the live stack.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/random.h>

int main(void)
{
	int failures = 0;
	for (int i = 0; i < 8; i++) {
		char *p = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("mmap");
			return 100;
		}
		long r = getrandom(p - 4096, 4096, 0);
		printf("mapping %d: getrandom into the page below it: %s\n", i, r < 0 && errno == EFAULT ? "EFAULT" : "written");
		failures += !(r < 0 && errno == EFAULT);
	}
	return failures;
}
