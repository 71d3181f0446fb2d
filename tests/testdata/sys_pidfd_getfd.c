/*
 * sys_pidfd_getfd — pidfd_getfd(2) on the program's own process: a close-on-exec
 * duplicate sharing the file's offset; Linux's errors (EINVAL for flags, EBADF for a
 * descriptor that is not open or not a pidfd, ESRCH for a reaped child). A living child's
 * descriptor, which natively root may take, is on lines starting "child:", which differ
 * under golos (EPERM, as in a container without CAP_SYS_PTRACE).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "ename.h"

#define NR_pidfd_open 434
#define NR_pidfd_getfd 438

static void show(const char *name, long r)
{
	if (r == -1)
		printf("%s: -1 %s\n", name, ename(errno));
	else
		printf("%s: ok\n", name);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int fd = open("getfd_file", O_RDWR | O_CREAT | O_TRUNC, 0644);
	write(fd, "0123456789", 10);
	lseek(fd, 2, SEEK_SET);
	int pidfd = syscall(NR_pidfd_open, getpid(), 0);
	long n = syscall(NR_pidfd_getfd, pidfd, fd, 0);
	show("pidfd_getfd self", n);
	printf("cloexec %d\n", fcntl(n, F_GETFD) & FD_CLOEXEC);
	char b[4] = {0};
	read(n, b, 3);
	printf("read through the copy: %s, offset of the original %ld\n", b, (long)lseek(fd, 0, SEEK_CUR));
	show("flags 1", syscall(NR_pidfd_getfd, pidfd, fd, 1));
	show("target not open", syscall(NR_pidfd_getfd, pidfd, 999, 0));
	show("target -1", syscall(NR_pidfd_getfd, pidfd, -1, 0));
	show("pidfd a file", syscall(NR_pidfd_getfd, fd, fd, 0));
	show("pidfd not open", syscall(NR_pidfd_getfd, 999, fd, 0));

	pid_t c = fork();
	if (c == 0)
		_exit(0);
	int cfd = syscall(NR_pidfd_open, c, 0);
	waitpid(c, NULL, 0);
	show("reaped child", syscall(NR_pidfd_getfd, cfd, 0, 0));

	int p[2];
	pipe(p);
	c = fork();
	if (c == 0) {
		char x;
		close(p[1]);
		read(p[0], &x, 1);
		_exit(0);
	}
	cfd = syscall(NR_pidfd_open, c, 0);
	show("child: living child", syscall(NR_pidfd_getfd, cfd, 0, 0));
	close(p[1]);
	waitpid(c, NULL, 0);
	unlink("getfd_file");
	return 0;
}
