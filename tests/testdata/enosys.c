/*
 * enosys.c — syscalls golos does not implement.
 *
 * Calls io_uring_setup (x86-64 syscall 425, a real syscall golos does not implement) and
 * syscall 1000 (beyond every x86-64 syscall, so ENOSYS on Linux too) twice each, through
 * libc's raw syscall(), and prints each result as "name: ret errno-name". Under golos both
 * must fail with ENOSYS (never a silent success), and golos names each on stderr once.
 * Natively io_uring_setup may do anything (it is given no parameters, so it fails), but
 * syscall 1000 gives ENOSYS.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "ename.h"

#define NR_IO_URING_SETUP 425
#define NR_BEYOND 1000

static void call(const char *name, long nr)
{
	errno = 0;
	long r = syscall(nr, 0L, 0L, 0L, 0L, 0L, 0L);
	int e = errno;
	if (r == -1)
		printf("%s: -1 %s\n", name, ename(e));
	else
		printf("%s: %ld -\n", name, r);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < 2; i++) {
		call("io_uring_setup", NR_IO_URING_SETUP);
		call("syscall 1000", NR_BEYOND);
		syscall(SYS_getppid); /* something golos does implement, in between */
	}
	return 0;
}
