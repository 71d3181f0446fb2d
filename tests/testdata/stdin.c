/*
 * stdin.c — reading standard input to EOF.
 *
 * Reads fd 0 with read(2) in 64 KiB chunks until it returns 0 and prints the number of
 * bytes and lines and an FNV-1a hash of the data; a read error is printed with its errno.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static unsigned char buf[65536];

int main(void)
{
	uint64_t h = 0xcbf29ce484222325ULL, bytes = 0, lines = 0;
	for (;;) {
		ssize_t n = read(0, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			printf("read error: %s\n", strerror(errno));
			return 1;
		}
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			h = (h ^ buf[i]) * 0x100000001b3ULL;
			lines += buf[i] == '\n';
		}
		bytes += (uint64_t)n;
	}
	printf("bytes=%llu lines=%llu fnv1a=%016llx\n", (unsigned long long)bytes,
	       (unsigned long long)lines, (unsigned long long)h);
	return 0;
}
