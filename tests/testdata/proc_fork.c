/*
 * proc_fork.c — fork(2) and the wait family: a child's exit status (WIFEXITED,
 * WEXITSTATUS, only the low 8 bits of _exit's value), a child killed by a signal
 * (WIFSIGNALED, WTERMSIG), getppid() in the child, the child's own pid, wait on a process
 * that is not a child (ECHILD), waitpid(WNOHANG) on a running child (0), waitid with
 * WNOWAIT, SIGCHLD with its siginfo, the parent's descriptors shared with the child,
 * and a child stopped and continued (WUNTRACED, WCONTINUED).
 *
 * Only facts are printed, never a pid (pids differ between runs). Whatever the parent and
 * a child both print comes in a fixed order: the parent waits for the child (or reads
 * from it through a pipe) before it prints. stdout is line-buffered so that nothing
 * buffered is copied into a child. Exit status: the number of failed checks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ename.h"

static int failures;

static void check(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "yes" : "no");
	if (!ok)
		failures++;
}

/* xfork forks or ends the program: there is nothing to test without a child. */
static pid_t xfork(const char *what)
{
	pid_t pid = fork();
	if (pid < 0) {
		printf("%s: fork failed: -1 %s\n", what, ename(errno));
		exit(100);
	}
	return pid;
}

static void describe(const char *what, int st)
{
	if (WIFEXITED(st))
		printf("%s: WIFEXITED, WEXITSTATUS %d\n", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("%s: WIFSIGNALED, WTERMSIG %d\n", what, WTERMSIG(st));
	else if (WIFSTOPPED(st))
		printf("%s: WIFSTOPPED, WSTOPSIG %d\n", what, WSTOPSIG(st));
	else if (WIFCONTINUED(st))
		printf("%s: WIFCONTINUED\n", what);
	else
		printf("%s: unknown status %#x\n", what, st);
}

/* reap waits for pid and describes how it ended. */
static void reap(const char *what, pid_t pid)
{
	int st = 0;
	pid_t r = waitpid(pid, &st, 0);
	if (r != pid) {
		printf("%s: waitpid returned %s\n", what, r < 0 ? ename(errno) : "another pid");
		failures++;
		return;
	}
	describe(what, st);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	pid_t me = getpid();

	/* A child that prints and exits 42; the parent prints only after waiting. */
	pid_t pid = xfork("exit 42");
	if (pid == 0) {
		printf("child: fork returned 0 in the child\n");
		printf("child: getppid() == the parent's getpid(): %s\n", getppid() == me ? "yes" : "no");
		printf("child: getpid() differs from the parent's: %s\n", getpid() != me ? "yes" : "no");
		fflush(stdout);
		_exit(42);
	}
	reap("child that called _exit(42)", pid);
	check("parent: fork returned a positive pid", pid > 0);

	/* Only the low 8 bits of the status reach the parent. */
	pid = xfork("exit 0x1ff");
	if (pid == 0)
		_exit(0x1ff);
	reap("child that called _exit(0x1ff)", pid);

	/* exit() flushes the child's copy of stdio buffers and runs its atexit handlers. */
	pid = xfork("exit(3)");
	if (pid == 0) {
		setvbuf(stdout, NULL, _IOFBF, 4096);
		printf("child: written to a fully buffered stdout, flushed by exit()\n");
		exit(3);
	}
	reap("child that called exit(3)", pid);

	/* Children killed by signals. */
	pid = xfork("SIGKILL");
	if (pid == 0) {
		raise(SIGKILL);
		_exit(1);
	}
	reap("child that raised SIGKILL", pid);
	pid = xfork("SIGTERM");
	if (pid == 0) {
		kill(getpid(), SIGTERM);
		_exit(1);
	}
	reap("child that sent itself SIGTERM", pid);
	pid = xfork("SIGSEGV");
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		volatile int *volatile bad = NULL;
		*bad = 1;
		_exit(1);
	}
	reap("child that wrote through a null pointer", pid);
	pid = xfork("killed by parent");
	if (pid == 0) {
		for (;;)
			pause();
	}
	kill(pid, SIGUSR1);
	reap("child that the parent sent SIGUSR1", pid);

	/* Waiting for what is not a child. */
	int st;
	errno = 0;
	pid_t r = waitpid(1, &st, 0);
	printf("waitpid(1) (not a child): %d %s\n", r, ename(errno));
	errno = 0;
	r = waitpid(getppid(), &st, 0);
	printf("waitpid(getppid()) (not a child): %d %s\n", r, ename(errno));
	errno = 0;
	r = wait(&st);
	printf("wait() with no children: %d %s\n", r, ename(errno));
	errno = 0;
	r = waitpid(-1, &st, WNOHANG);
	printf("waitpid(-1, WNOHANG) with no children: %d %s\n", r, ename(errno));

	/* WNOHANG on a child that is still running: it waits for the parent's pipe to close. */
	int fds[2];
	if (pipe(fds) != 0) {
		perror("pipe");
		return 100;
	}
	pid = xfork("WNOHANG");
	if (pid == 0) {
		char c;
		close(fds[1]);
		ssize_t n = read(fds[0], &c, 1);
		_exit(n == 0 ? 7 : 8);
	}
	close(fds[0]);
	r = waitpid(pid, &st, WNOHANG);
	printf("waitpid(WNOHANG) on a running child: %d\n", r);
	close(fds[1]);
	reap("that child, after the parent closed the pipe (0 bytes read)", pid);

	/* waitid with WNOWAIT leaves the child waitable. */
	pid = xfork("waitid");
	if (pid == 0)
		_exit(9);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	int w = waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
	printf("waitid(WEXITED|WNOWAIT): returned %d, si_signo SIGCHLD: %s, si_code CLD_EXITED: %s, si_status %d, "
	       "si_pid right: %s\n",
	       w, si.si_signo == SIGCHLD ? "yes" : "no", si.si_code == CLD_EXITED ? "yes" : "no", si.si_status,
	       si.si_pid == pid ? "yes" : "no");
	reap("after WNOWAIT, the same child", pid);

	/* SIGCHLD, taken with sigwaitinfo. */
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	pid = xfork("SIGCHLD");
	if (pid == 0)
		_exit(5);
	memset(&si, 0, sizeof si);
	int sig = sigwaitinfo(&chld, &si);
	printf("SIGCHLD for a child's exit: signal %d, si_code CLD_EXITED: %s, si_status %d, si_pid right: %s\n", sig,
	       si.si_code == CLD_EXITED ? "yes" : "no", si.si_status, si.si_pid == pid ? "yes" : "no");
	reap("that child", pid);
	sigprocmask(SIG_UNBLOCK, &chld, NULL);

	/* The child inherits the parent's descriptors: it writes into the parent's pipe. */
	if (pipe(fds) != 0) {
		perror("pipe");
		return 100;
	}
	pid = xfork("pipe");
	if (pid == 0) {
		close(fds[0]);
		const char msg[] = "through the inherited pipe";
		ssize_t n = write(fds[1], msg, sizeof msg - 1);
		_exit(n == sizeof msg - 1 ? 0 : 1);
	}
	close(fds[1]);
	char buf[100];
	size_t got = 0;
	ssize_t n;
	while ((n = read(fds[0], buf + got, sizeof buf - 1 - got)) > 0)
		got += n;
	buf[got] = 0;
	close(fds[0]);
	printf("parent read from its child: \"%s\"\n", buf);
	reap("the writer", pid);

	/* Process groups: the child starts in the parent's and can make its own. */
	pid = xfork("pgrp");
	if (pid == 0) {
		int same = getpgrp() == getpgid(me);
		int own = setpgid(0, 0) == 0 && getpgrp() == getpid();
		_exit((same ? 1 : 0) | (own ? 2 : 0));
	}
	waitpid(pid, &st, 0);
	printf("child in the parent's process group: %s, setpgid(0, 0) gave it its own: %s\n",
	       WIFEXITED(st) && (WEXITSTATUS(st) & 1) ? "yes" : "no", WIFEXITED(st) && (WEXITSTATUS(st) & 2) ? "yes" : "no");

	/* A child stopped and continued (job control). Once continued, it waits for the pipe
	 * to close, so that it is still alive when the parent looks for WCONTINUED. */
	if (pipe(fds) != 0) {
		perror("pipe");
		return 100;
	}
	pid = xfork("stop");
	if (pid == 0) {
		close(fds[1]);
		raise(SIGSTOP);
		char c;
		_exit(read(fds[0], &c, 1) == 0 ? 11 : 12);
	}
	close(fds[0]);
	r = waitpid(pid, &st, WUNTRACED);
	describe("child that raised SIGSTOP, waitpid(WUNTRACED)", r == pid ? st : -1);
	kill(pid, SIGCONT);
	r = waitpid(pid, &st, WCONTINUED);
	describe("after SIGCONT, waitpid(WCONTINUED)", r == pid ? st : -1);
	close(fds[1]);
	reap("then, the pipe closed", pid);

	printf("failures: %d\n", failures);
	return failures;
}
