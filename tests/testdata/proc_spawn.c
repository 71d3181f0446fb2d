/*
 * proc_spawn.c — the ways libc starts other programs: posix_spawnp of "echo hi" found on
 * PATH, its stdout redirected by file actions to a pipe the parent reads; posix_spawn of
 * sh with its own environment; posix_spawn of a missing file (ENOENT from posix_spawn
 * itself); system() with an exit status; popen() for reading and for writing; vfork()
 * then execve of /bin/true; vfork() then execve of a missing file, the child's
 * _exit(127) seen by the parent and its errno seen through the memory vfork shares.
 *
 * stdout is line-buffered, so that nothing buffered is copied into a child, and the
 * parent waits for each child before printing. Exit status: the number of failed checks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ename.h"

extern char **environ;
static int failures;

static const char *status(int st)
{
	static char buf[64];
	if (st == -1)
		snprintf(buf, sizeof buf, "-1 %s", ename(errno));
	else if (WIFEXITED(st))
		snprintf(buf, sizeof buf, "exited %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, sizeof buf, "killed by signal %d", WTERMSIG(st));
	else
		snprintf(buf, sizeof buf, "status %#x", st);
	return buf;
}

static int reap(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

/* readall reads fd to its end into buf (NUL-terminated) and closes it. */
static void readall(int fd, char *buf, size_t size)
{
	size_t got = 0;
	ssize_t n;
	while (got < size - 1 && (n = read(fd, buf + got, size - 1 - got)) > 0)
		got += n;
	buf[got] = 0;
	close(fd);
}

static void expect(const char *what, int ok)
{
	if (!ok) {
		printf("  (%s: wrong)\n", what);
		failures++;
	}
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* A PATH with a directory that is not there first: posix_spawnp searches on. */
	setenv("PATH", "/nonexistent-golos-test:/usr/bin:/bin", 1);

	/* posix_spawnp with file actions: stdout to a pipe. */
	int fds[2];
	if (pipe(fds) != 0) {
		perror("pipe");
		return 100;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	posix_spawn_file_actions_addclose(&fa, fds[1]);
	pid_t pid;
	char *echo_argv[] = {"echo", "hi", NULL};
	int err = posix_spawnp(&pid, "echo", &fa, NULL, echo_argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	char buf[256];
	if (err != 0) {
		printf("posix_spawnp echo hi: %s\n", ename(err));
		failures++;
		close(fds[0]);
	} else {
		readall(fds[0], buf, sizeof buf);
		size_t len = strlen(buf);
		int nl = len > 0 && buf[len - 1] == '\n';
		if (nl)
			buf[len - 1] = 0;
		int st = reap(pid);
		printf("posix_spawnp echo hi, stdout through a pipe: read \"%s\" and a newline: %s, child %s\n", buf,
		       nl ? "yes" : "no", status(st));
		expect("echo's output", strcmp(buf, "hi") == 0);
	}

	/* posix_spawn with an environment of its own and an exit status. */
	char *sh_argv[] = {"sh", "-c", "echo \"FOO is $FOO\"; exit 5", NULL};
	char *sh_env[] = {"FOO=from the environment", "PATH=/usr/bin:/bin", NULL};
	err = posix_spawn(&pid, "/bin/sh", NULL, NULL, sh_argv, sh_env);
	if (err != 0) {
		printf("posix_spawn /bin/sh: %s\n", ename(err));
		failures++;
	} else {
		int st = reap(pid);
		printf("posix_spawn /bin/sh -c ...; exit 5: child %s\n", status(st));
		expect("exit 5", st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 5);
	}

	/* posix_spawn of a missing file: the error comes back from posix_spawn. */
	char *missing_argv[] = {"missing", NULL};
	err = posix_spawn(&pid, "/nonexistent-golos-test/missing", NULL, NULL, missing_argv, environ);
	printf("posix_spawn of a missing file: %s\n", err ? ename(err) : "succeeded");
	if (err == 0)
		printf("  that child: %s\n", status(reap(pid)));
	expect("ENOENT", err == ENOENT);

	/* system() */
	int st = system("echo via system; exit 3");
	printf("system(\"echo via system; exit 3\"): %s\n", status(st));
	expect("exit 3", st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 3);

	/* popen() for reading and for writing */
	FILE *f = popen("echo via popen", "r");
	if (!f) {
		printf("popen(\"echo via popen\", \"r\"): %s\n", ename(errno));
		failures++;
	} else {
		char line[128] = "";
		if (!fgets(line, sizeof line, f))
			line[0] = 0;
		line[strcspn(line, "\n")] = 0;
		st = pclose(f);
		printf("popen(\"echo via popen\", \"r\"): read \"%s\", pclose: %s\n", line, status(st));
		expect("popen's line", strcmp(line, "via popen") == 0);
	}
	f = popen("tr a-z A-Z; exit 4", "w");
	if (!f) {
		printf("popen(\"tr a-z A-Z; exit 4\", \"w\"): %s\n", ename(errno));
		failures++;
	} else {
		fputs("written to popen\n", f);
		st = pclose(f);
		printf("popen(\"tr a-z A-Z; exit 4\", \"w\"): pclose: %s\n", status(st));
		expect("exit 4", st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 4);
	}

	/* vfork() and execve */
	char *true_argv[] = {"true", NULL};
	pid = vfork();
	if (pid == 0) {
		execve("/bin/true", true_argv, environ);
		_exit(127);
	}
	if (pid < 0) {
		printf("vfork: %s\n", ename(errno));
		return 100;
	}
	st = reap(pid);
	printf("vfork + execve /bin/true: child %s\n", status(st));
	expect("exit 0", st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	volatile int child_errno = 0;
	pid = vfork();
	if (pid == 0) {
		execve("/nonexistent-golos-test/missing", missing_argv, environ);
		child_errno = errno;
		_exit(127);
	}
	if (pid < 0) {
		printf("vfork: %s\n", ename(errno));
		return 100;
	}
	st = reap(pid);
	printf("vfork + execve of a missing file: child %s, its errno (seen through vfork's shared memory) %s\n",
	       status(st), ename(child_errno));
	expect("exit 127 and ENOENT", st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 127 && child_errno == ENOENT);

	/* A vfork child that writes to stdout through the shared descriptor, then exits. */
	pid = vfork();
	if (pid == 0) {
		const char msg[] = "written by a vfork child\n";
		ssize_t n = write(1, msg, sizeof msg - 1);
		_exit(n == sizeof msg - 1 ? 0 : 1);
	}
	st = reap(pid);
	printf("that vfork child: %s\n", status(st));

	printf("failures: %d\n", failures);
	return failures;
}
