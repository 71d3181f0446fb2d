// /proc/self/mem: the program's own memory reads and writes through it (a read-only page
// too: the file ignores page protections), an address nothing is mapped at is EIO, and a
// read that runs past a mapping's end stops there. golos's own memory must look unmapped
// through it: golos's image (linked at 0x7e0000001000) and the Go runtime's heap arena
// (0xc000000000) are places nothing is mapped at natively.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>
#include "ename.h"

static const char rodata[] = "read-only text";
static char data[64] = "program data";

static void res(const char *what, ssize_t r) {
	if (r < 0)
		printf("%s: %s\n", what, ename(errno));
	else
		printf("%s: %zd\n", what, r);
}

int main(void) {
	int fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("open");
		return 1;
	}
	char buf[8192];
	res("pread data", pread(fd, buf, 12, (off_t)data));
	printf("  read: %.12s\n", buf);
	res("pwrite data", pwrite(fd, "PROGRAM", 7, (off_t)data));
	printf("  data now: %s\n", data);
	res("pwrite read-only page", pwrite(fd, "READ", 4, (off_t)rodata));
	printf("  rodata now: %s\n", rodata);

	char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(two, 'x', 8192);
	munmap(two + 4096, 4096);
	res("pread across a mapping's end", pread(fd, buf, 8192, (off_t)two));
	res("pread of the unmapped page", pread(fd, buf, 16, (off_t)(two + 4096)));

	unsigned long golos[] = {0x7e0000001000UL, 0x7e0000101000UL, 0xc000000000UL};
	for (int i = 0; i < 3; i++) {
		char what[80];
		off_t at = (off_t)golos[i];
		snprintf(what, sizeof what, "pread %#lx", golos[i]);
		res(what, pread(fd, buf, 64, at));
		snprintf(what, sizeof what, "pwrite %#lx", golos[i]);
		memset(buf, 0xcc, 64);
		res(what, pwrite(fd, buf, 64, at));
		struct iovec v[2] = {{buf, 32}, {buf + 32, 32}};
		snprintf(what, sizeof what, "preadv %#lx", golos[i]);
		res(what, preadv(fd, v, 2, at));
		snprintf(what, sizeof what, "pwritev %#lx", golos[i]);
		res(what, pwritev(fd, v, 2, at));
		snprintf(what, sizeof what, "lseek+read %#lx", golos[i]);
		lseek(fd, at, SEEK_SET);
		res(what, read(fd, buf, 64));
		snprintf(what, sizeof what, "lseek+writev %#lx", golos[i]);
		lseek(fd, at, SEEK_SET);
		res(what, writev(fd, v, 2));
		printf("  position after: %s\n", lseek(fd, 0, SEEK_CUR) == at ? "unchanged" : "moved");
	}
	// A write that starts in the program's memory and runs into unmapped memory.
	lseek(fd, (off_t)(two + 4096 - 16), SEEK_SET);
	memset(buf, 'y', 64);
	res("write across a mapping's end", write(fd, buf, 64));
	printf("  position after: +%ld\n", (long)(lseek(fd, 0, SEEK_CUR) - (off_t)(two + 4096 - 16)));
	res("pread at a negative offset", pread(fd, buf, 8, -4096));
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 100);
	res("pwrite 0xc000000000 through a dup", pwrite(dup, buf, 8, (off_t)0xc000000000UL));
	printf("still running\n");
	return 0;
}
