/*
 * hostile_freeze.c — asks to freeze and thaw a filesystem (FIFREEZE, FITHAW: root-only
 * ioctls, which a container without CAP_SYS_ADMIN gets EPERM for, fs/ioctl.c), on a memfd
 * (tmpfs, which cannot be frozen: EOPNOTSUPP for root, so the call is harmless natively)
 * and on a descriptor that is not open (EBADF first). With a file given (argv[1], in a
 * read-only part of a root under golos) and another (argv[2]), it opens the first for
 * writing and clones the second into it read-only (FICLONE).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "ename.h"

/* linux/fs.h's, which musl's headers lack. */
#define X_FIFREEZE _IOWR('X', 119, int)
#define X_FITHAW _IOWR('X', 120, int)
#define X_FICLONE _IOW(0x94, 9, int)

static void show(const char *what, long r)
{
	printf("%s: %s\n", what, r < 0 ? ename(errno) : "0");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int m = memfd_create("freeze", MFD_CLOEXEC);
	errno = 0;
	show("FIFREEZE on a memfd", ioctl(m, X_FIFREEZE, 0));
	errno = 0;
	show("FITHAW on a memfd", ioctl(m, X_FITHAW, 0));
	errno = 0;
	show("FIFREEZE on a descriptor not open", ioctl(900, X_FIFREEZE, 0));
	if (argc > 2) {
		int ro = open(argv[1], O_RDONLY | O_CLOEXEC), src = open(argv[2], O_RDONLY | O_CLOEXEC);
		errno = 0;
		show("FICLONE into the read-only part's file opened read-only", ioctl(ro, X_FICLONE, src));
		errno = 0;
		int w = open(argv[1], O_RDWR | O_CLOEXEC);
		show("open the read-only part's file for writing", w);
	}
	printf("done\n");
	return 0;
}
