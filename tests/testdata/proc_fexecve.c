/*
 * proc_fexecve.c — a program given to execve by descriptor (execveat(2), fexecve(3)),
 * each in a forked child whose exit status the parent prints:
 *   - fexecve of /bin/sh opened with O_CLOEXEC (Python's os.open default: the
 *     descriptor is gone once the new program runs, so it must be opened before);
 *   - execveat(AT_EMPTY_PATH) of /bin/sh opened with O_PATH;
 *   - execveat of "sh" relative to a descriptor of /bin;
 *   - execve of /proc/self/fd/N (fexecve's fallback without execveat) with O_CLOEXEC;
 *   - execveat(AT_EMPTY_PATH) of a descriptor that is not open (EBADF) and of a
 *     directory's (EACCES), in the parent: a failed execve returns.
 * The shell prints $0, so the name the new program sees shows too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ename.h"

extern char **environ;

static char *const shargv[] = {"sh", "-c", "echo \"  ran: $0 $1\"", "fexecve", "ok", NULL};

static void report(const char *what, pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid) {
		printf("%s: waitpid: %s\n", what, ename(errno));
		return;
	}
	if (WIFEXITED(st))
		printf("%s: child exited %d\n", what, WEXITSTATUS(st));
	else
		printf("%s: child killed by signal %d\n", what, WTERMSIG(st));
}

static long execveat_(int dirfd, const char *path, int flags)
{
	return syscall(SYS_execveat, dirfd, path, shargv, environ, flags);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0); /* each line out before the next child runs */
	int fd = open("/bin/sh", O_RDONLY | O_CLOEXEC);
	pid_t pid = fork();
	if (pid == 0) {
		fexecve(fd, shargv, environ);
		printf("  fexecve: %s\n", ename(errno));
		_exit(99);
	}
	report("fexecve, O_CLOEXEC", pid);
	close(fd);

	fd = open("/bin/sh", O_PATH | O_CLOEXEC);
	pid = fork();
	if (pid == 0) {
		execveat_(fd, "", AT_EMPTY_PATH);
		printf("  execveat: %s\n", ename(errno));
		_exit(99);
	}
	report("execveat AT_EMPTY_PATH, O_PATH", pid);
	close(fd);

	int dir = open("/bin", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	pid = fork();
	if (pid == 0) {
		execveat_(dir, "sh", 0);
		printf("  execveat: %s\n", ename(errno));
		_exit(99);
	}
	report("execveat relative to /bin", pid);

	fd = open("/bin/sh", O_RDONLY | O_CLOEXEC);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	pid = fork();
	if (pid == 0) {
		execve(path, shargv, environ);
		printf("  execve: %s\n", ename(errno));
		_exit(99);
	}
	report("execve /proc/self/fd/N, O_CLOEXEC", pid);
	close(fd);

	errno = 0;
	execveat_(1000, "", AT_EMPTY_PATH);
	printf("execveat of a descriptor that is not open: %s\n", ename(errno));
	errno = 0;
	execveat_(dir, "", AT_EMPTY_PATH);
	printf("execveat of a directory: %s\n", ename(errno));
	return 0;
}
