/*
 * nofile_low.c — a program that lowers its own RLIMIT_NOFILE (to the argument) and then
 * opens /dev/null until it fails: natively the first descriptor at or above the limit is
 * refused with EMFILE, so with a limit of 3 not one open succeeds. A kernel that keeps
 * descriptors of its own above that limit must not hand their room to the program.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "ename.h"

int main(int argc, char **argv)
{
	struct rlimit r = {strtoul(argv[1], NULL, 10), strtoul(argv[1], NULL, 10)};
	if (setrlimit(RLIMIT_NOFILE, &r) != 0) {
		printf("setrlimit: %s\n", ename(errno));
		return 1;
	}
	int n = 0, last = -1;
	for (;;) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd < 0) {
			printf("limit %s: opened %d, last descriptor %d, then %s\n", argv[1], n, last, ename(errno));
			return 0;
		}
		n++;
		last = fd;
	}
}
