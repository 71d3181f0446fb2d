/*
 * proc_reaper.c — prctl(2)'s process-tree controls, one per run:
 *
 *   proc_reaper subreaper: the top process makes itself a child subreaper
 *     (PR_SET_CHILD_SUBREAPER); its child forks a grandchild and exits at once; the
 *     grandchild waits (at most 10 s) until getppid() is no longer the child's pid and
 *     reports through an inherited pipe whether its new parent is the top process, then
 *     exits 7. The top process reaps the child, reads the report, and must then reap the
 *     grandchild itself (waitpid(-1): status 7), after which it has no child left.
 *
 *   proc_reaper pdeathsig: the top process forks a child, which forks a grandchild. The
 *     grandchild asks for SIGTERM when its parent dies (PR_SET_PDEATHSIG), with a handler
 *     that writes a line into a pipe the top process reads, and tells the child (through
 *     another pipe) that it is ready; the child then exits. The top process reaps the
 *     child and reads the grandchild's lines to the end of the pipe (at most 10 s: an
 *     alarm in the grandchild reports that no signal came).
 *
 * Only facts are printed, never a pid. Exit status: the number of failed checks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ename.h"

static int failures;

static void check(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "yes" : "no");
	if (!ok)
		failures++;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* say writes s to fd whole, or ends the process (async-signal-safe). */
static void say(int fd, const char *s)
{
	size_t n = strlen(s);
	if (write(fd, s, n) != (ssize_t)n)
		_exit(101);
}

/* readAll reads fd to its end into buf (NUL-terminated). */
static void readAll(int fd, char *buf, size_t size)
{
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	buf[len] = 0;
}

static pid_t xfork(void)
{
	pid_t pid = fork();
	if (pid < 0) {
		printf("fork: -1 %s\n", ename(errno));
		exit(100);
	}
	return pid;
}

static int subreaper(void)
{
	pid_t top = getpid();
	int r = prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	check("top: prctl(PR_SET_CHILD_SUBREAPER, 1) returned 0", r == 0);
	int on = -1;
	r = prctl(PR_GET_CHILD_SUBREAPER, &on, 0, 0, 0);
	check("top: PR_GET_CHILD_SUBREAPER says 1", r == 0 && on == 1);
	int fds[2];
	if (pipe(fds) != 0) {
		perror("pipe");
		return 100;
	}
	pid_t child = xfork();
	if (child == 0) {
		pid_t me = getpid();
		close(fds[0]);
		pid_t gc = fork();
		if (gc < 0)
			_exit(100);
		if (gc > 0)
			_exit(0);
		int waited = 0;
		while (getppid() == me && waited < 10000) {
			sleep_ms(10);
			waited += 10;
		}
		pid_t pp = getppid();
		char line[256];
		snprintf(line, sizeof line, "grandchild: reparented (getppid() changed): %s\n", pp != me ? "yes" : "no");
		say(fds[1], line);
		snprintf(line, sizeof line, "grandchild: its new parent is the top process (the subreaper): %s\n",
			 pp == top ? "yes" : "no");
		say(fds[1], line);
		_exit(7);
	}
	close(fds[1]);
	int st = 0;
	pid_t w = waitpid(child, &st, 0);
	check("top: the child exited 0 right after its fork", w == child && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	char buf[1024];
	readAll(fds[0], buf, sizeof buf);
	fputs(buf, stdout);
	check("top: the grandchild's report came", strstr(buf, "(the subreaper): yes") != NULL);

	/* The grandchild is the top process's child now: it reaps it. */
	st = 0;
	errno = 0;
	w = waitpid(-1, &st, 0);
	if (w < 0)
		printf("top: waitpid(-1) for the grandchild: -1 %s\n", ename(errno));
	check("top: waitpid(-1) reaped the grandchild (not the child), exit status 7",
	      w > 0 && w != child && WIFEXITED(st) && WEXITSTATUS(st) == 7);
	errno = 0;
	w = waitpid(-1, &st, WNOHANG);
	printf("top: then waitpid(-1, WNOHANG): %d %s\n", w, ename(errno));
	return 0;
}

static int deathPipe = -1;

static void onTerm(int sig)
{
	say(deathPipe, sig == SIGTERM ? "grandchild: SIGTERM came when its parent died\n"
				      : "grandchild: an unexpected signal came\n");
	_exit(0);
}

static void onAlarm(int sig)
{
	(void)sig;
	say(deathPipe, "grandchild: no signal came within 10 s of its parent's death\n");
	_exit(1);
}

static int pdeathsig(void)
{
	int fds[2], ready[2];
	if (pipe(fds) != 0 || pipe(ready) != 0) {
		perror("pipe");
		return 100;
	}
	pid_t child = xfork();
	if (child == 0) {
		pid_t me = getpid();
		close(fds[0]);
		pid_t gc = fork();
		if (gc < 0)
			_exit(100);
		if (gc > 0) {
			/* The child: it waits until the grandchild is ready, then dies. */
			char c;
			close(ready[1]);
			close(fds[1]);
			ssize_t n = read(ready[0], &c, 1);
			_exit(n == 1 ? 0 : 1);
		}
		close(ready[0]);
		deathPipe = fds[1];
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = onTerm;
		sigaction(SIGTERM, &sa, NULL);
		sa.sa_handler = onAlarm;
		sigaction(SIGALRM, &sa, NULL);
		if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) != 0) {
			say(deathPipe, "grandchild: prctl(PR_SET_PDEATHSIG) failed\n");
			_exit(1);
		}
		int sig = 0;
		prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0);
		char line[256];
		snprintf(line, sizeof line, "grandchild: PR_GET_PDEATHSIG says %d\n", sig);
		say(deathPipe, line);
		if (getppid() != me) {
			say(deathPipe, "grandchild: its parent was gone before prctl\n");
			_exit(1);
		}
		alarm(10);
		say(ready[1], "r");
		for (;;)
			pause();
	}
	close(fds[1]);
	close(ready[0]);
	close(ready[1]);
	int st = 0;
	pid_t w = waitpid(child, &st, 0);
	check("top: the child exited 0 once the grandchild was ready", w == child && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	char buf[1024];
	readAll(fds[0], buf, sizeof buf);
	fputs(buf, stdout);
	check("top: the grandchild got its SIGTERM", strstr(buf, "SIGTERM came") != NULL);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "subreaper") == 0)
		subreaper();
	else if (argc == 2 && strcmp(argv[1], "pdeathsig") == 0)
		pdeathsig();
	else {
		fprintf(stderr, "usage: proc_reaper subreaper|pdeathsig\n");
		return 2;
	}
	printf("failures: %d\n", failures);
	return failures;
}
