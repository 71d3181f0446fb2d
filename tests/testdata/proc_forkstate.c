/*
 * proc_forkstate.c — what a child gets at fork(2) is the parent's state at the fork:
 * between forks the parent changes its working directory, umask, descriptors (one
 * without FD_CLOEXEC, one with it, standard input closed), process group and
 * RLIMIT_NOFILE, and each child reports what it has (the first, its descriptors). Waits for any child find none
 * (ECHILD) once every child is reaped, with and without WNOHANG, and SIGCHLD comes only
 * for the program's own children.
 *
 * Only facts are printed. Each child writes its report to a pipe that the parent reads
 * after reaping it. Exit status: the number of failed checks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ename.h"

static int failures;
static volatile sig_atomic_t sigchlds;

static void check(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "yes" : "no");
	if (!ok)
		failures++;
}

static void on_chld(int sig)
{
	(void)sig;
	sigchlds++;
}

static void pause_ms(int ms)
{
	struct timespec ts = {0, ms * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* child runs report in a child, which writes one line into a pipe, and returns it. */
static void child(const char *what, void (*report)(char *, size_t))
{
	int p[2];
	if (pipe(p) != 0) {
		printf("pipe: %s\n", ename(errno));
		exit(100);
	}
	pid_t pid = fork();
	if (pid < 0) {
		printf("%s: fork: -1 %s\n", what, ename(errno));
		exit(100);
	}
	if (pid == 0) {
		char line[512];
		close(p[0]);
		report(line, sizeof line);
		if (write(p[1], line, strlen(line)) < 0)
			_exit(2);
		_exit(0);
	}
	close(p[1]);
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		printf("%s: the child did not exit 0\n", what);
		failures++;
	}
	char buf[512];
	ssize_t n = read(p[0], buf, sizeof buf - 1);
	close(p[0]);
	buf[n > 0 ? n : 0] = 0;
	printf("%s: %s\n", what, buf);
}

/* The child's descriptors are the parent's at the fork: nothing of golos's among them. */
static void report_plain(char *line, size_t n)
{
	int open_fds = 0;
	for (int fd = 0; fd < 1024; fd++)
		open_fds += fcntl(fd, F_GETFD) != -1;
	snprintf(line, n, "ran, with %d descriptors open, its next one %d", open_fds, open("/dev/null", O_RDONLY));
}

static char dir[] = "/tmp/proc_forkstate.XXXXXX";

static void report_cwd(char *line, size_t n)
{
	char cwd[256];
	mode_t old = umask(0);
	umask(old);
	if (getcwd(cwd, sizeof cwd) == NULL)
		snprintf(cwd, sizeof cwd, "(getcwd: %s)", ename(errno));
	snprintf(line, n, "in the new working directory: %s, umask %03o", strcmp(cwd, dir) == 0 ? "yes" : "no",
		 (unsigned)old);
}

static void report_fds(char *line, size_t n)
{
	int f40 = fcntl(40, F_GETFD), f41 = fcntl(41, F_GETFD);
	int in = fcntl(0, F_GETFD);
	int e0 = errno;
	char buf[16] = "";
	ssize_t r = pread(40, buf, 5, 0);
	snprintf(line, n, "fd 40 open without FD_CLOEXEC: %s (reads \"%.*s\"), fd 41 open with FD_CLOEXEC: %s, fd 0 closed: %s",
		 f40 == 0 ? "yes" : "no", (int)(r > 0 ? r : 0), buf, f41 == FD_CLOEXEC ? "yes" : "no",
		 in < 0 && e0 == EBADF ? "yes" : "no");
}

static pid_t parent_pgrp;

static void report_pgrp(char *line, size_t n)
{
	snprintf(line, n, "in the parent's process group: %s, its session: %s",
		 getpgrp() == parent_pgrp ? "yes" : "no", getsid(0) == getsid(getppid()) ? "yes" : "no");
}

static void report_limit(char *line, size_t n)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	snprintf(line, n, "RLIMIT_NOFILE soft %llu", (unsigned long long)rl.rlim_cur);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_chld;
	sigaction(SIGCHLD, &sa, NULL);

	child("first child", report_plain);

	if (mkdtemp(dir) == NULL || chdir(dir) != 0) {
		printf("mkdtemp/chdir: %s\n", ename(errno));
		return 100;
	}
	umask(027);
	child("after chdir and umask(027)", report_cwd);

	int fd = open("data.txt", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "hello", 5) != 5 || dup2(fd, 40) != 40 || dup3(fd, 41, O_CLOEXEC) != 41) {
		printf("open/dup: %s\n", ename(errno));
		return 100;
	}
	close(fd);
	int saved_in = dup(0);
	close(0);
	child("after opening fds 40, 41 and closing 0", report_fds);
	dup2(saved_in, 0);
	close(saved_in);
	close(40);
	close(41);

	parent_pgrp = getpgrp();
	child("before setpgid", report_pgrp);
	if (setpgid(0, 0) != 0)
		printf("setpgid(0, 0): %s\n", ename(errno));
	parent_pgrp = getpgrp();
	child("after setpgid(0, 0)", report_pgrp);

	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = 200;
	setrlimit(RLIMIT_NOFILE, &rl);
	child("after setrlimit(RLIMIT_NOFILE, 200)", report_limit);

	unlink("data.txt");
	if (chdir("/") != 0 || rmdir(dir) != 0)
		printf("rmdir: %s\n", ename(errno));

	/* Every child is reaped: a wait for any child finds none, at once. */
	errno = 0;
	pid_t r = waitpid(-1, NULL, WNOHANG);
	printf("waitpid(-1, WNOHANG) with no children: %d %s\n", r, ename(errno));
	errno = 0;
	r = wait(NULL);
	printf("wait() with no children: %d %s\n", r, ename(errno));
	siginfo_t si;
	errno = 0;
	r = waitid(P_ALL, 0, &si, WEXITED);
	printf("waitid(P_ALL) with no children: %d %s\n", r, ename(errno));
	pause_ms(100);
	check("SIGCHLDs came, no more than the 6 children", sigchlds >= 1 && sigchlds <= 6);
	printf("failures: %d\n", failures);
	return failures;
}
