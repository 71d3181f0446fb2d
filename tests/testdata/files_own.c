/*
 * files_own.c — the descriptors a program can touch are its own.
 *
 * For every descriptor from 3 to 1023 the program tries fstat, read, write, lseek, fcntl
 * and ioctl(FIONREAD) (raw syscalls), and prints how many answered anything but EBADF.
 * It has opened none: natively only descriptors it inherited answer, and under golos the
 * same ones, never the runtime's epoll and eventfd (or, with --root, the root's).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	int answered = 0;
	char buf[8];
	for (int fd = 3; fd < 1024; fd++) {
		struct stat st;
		int n = 0, ebadf = 0;
		ebadf += syscall(SYS_fstat, fd, &st) == -1 && errno == EBADF;
		ebadf += syscall(SYS_read, fd, buf, sizeof buf) == -1 && errno == EBADF;
		ebadf += syscall(SYS_write, fd, buf, 0) == -1 && errno == EBADF;
		ebadf += syscall(SYS_lseek, fd, 0, SEEK_CUR) == -1 && errno == EBADF;
		ebadf += syscall(SYS_fcntl, fd, F_GETFD) == -1 && errno == EBADF;
		ebadf += syscall(SYS_ioctl, fd, FIONREAD, &n) == -1 && errno == EBADF;
		if (ebadf != 6)
			answered++;
	}
	printf("descriptors 3..1023 that answered: %d\n", answered);
	return 0;
}
