/*
 * sig_chldflags.c — what SIGCHLD's action tells the kernel about children (sigaction(2),
 * wait(2) NOTES; kernel/signal.c, do_notify_parent and do_notify_parent_cldstop):
 *
 *   ignored: with SIGCHLD set to SIG_IGN an ended child is reaped at once: no zombie is
 *     left (its /proc/PID/stat is gone), waitpid for it fails with ECHILD, and a blocking
 *     wait(2) while a child runs waits for it to end and then fails with ECHILD.
 *   nocldwait: the same with SA_NOCLDWAIT and SIG_DFL, and with SA_NOCLDWAIT and a
 *     handler, which still runs for the end (Linux sends the SIGCHLD).
 *   nocldstop: with SA_NOCLDSTOP no SIGCHLD comes for a child's stop or continue, one
 *     comes for its end; without it, one for each.
 *   exec: SIGCHLD ignored survives execve(2) (the program runs itself again): the new
 *     image's ended child leaves no zombie either.
 *   default: back to SIG_DFL, a child is a zombie until waited for, with its status.
 *
 * Only facts are printed, never a pid. Exit status: the number of failed checks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;
static volatile sig_atomic_t caught;

static void check(const char *what, int ok) {
	printf("%s: %s\n", what, ok ? "yes" : "no");
	if (!ok)
		failures++;
}

static void onchld(int sig) {
	(void)sig;
	caught++;
}

static void nap(int ms) {
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* gone reports whether pid's /proc entry has vanished within 2 s: reaped, not a zombie. */
static int gone(pid_t pid) {
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 200; i++) {
		if (access(path, F_OK) != 0)
			return 1;
		nap(10);
	}
	return 0;
}

static void setact(void (*h)(int), int flags) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
}

static pid_t child(int ms, int code) {
	pid_t pid = fork();
	if (pid == 0) {
		nap(ms);
		_exit(code);
	}
	return pid;
}

/* autoreaped checks the children of the current action: no zombie, ECHILD. */
static void autoreaped(const char *how) {
	char what[160];
	int st;
	pid_t pid = child(0, 3);
	snprintf(what, sizeof what, "%s: the ended child left no zombie", how);
	check(what, gone(pid));
	errno = 0;
	snprintf(what, sizeof what, "%s: waitpid for it fails with ECHILD", how);
	check(what, waitpid(pid, &st, 0) == -1 && errno == ECHILD);
	child(200, 4);
	errno = 0;
	snprintf(what, sizeof what, "%s: wait() while a child runs ends with ECHILD", how);
	check(what, wait(&st) == -1 && errno == ECHILD);
}

int main(int argc, char **argv) {
	int st;
	if (argc > 1 && strcmp(argv[1], "exec") == 0) {
		struct sigaction old;
		sigaction(SIGCHLD, NULL, &old);
		check("exec: SIGCHLD is still ignored after execve", old.sa_handler == SIG_IGN);
		autoreaped("exec");
		return failures;
	}
	setvbuf(stdout, NULL, _IONBF, 0);

	setact(SIG_IGN, 0);
	autoreaped("ignored");

	setact(SIG_DFL, SA_NOCLDWAIT);
	autoreaped("nocldwait");

	caught = 0;
	setact(onchld, SA_NOCLDWAIT);
	autoreaped("nocldwait with a handler");
	nap(50);
	check("nocldwait with a handler: the handler ran for the ends", caught >= 1);

	for (int flags = SA_NOCLDSTOP; flags >= 0; flags -= SA_NOCLDSTOP) {
		const char *how = flags ? "nocldstop" : "without nocldstop";
		char what[160];
		setact(onchld, flags);
		caught = 0;
		pid_t pid = fork();
		if (pid == 0) {
			raise(SIGSTOP);
			nap(300); /* the continue's SIGCHLD, if any, comes apart from the end's */
			_exit(5);
		}
		waitpid(pid, &st, WUNTRACED);
		nap(100);
		int stopped = caught;
		kill(pid, SIGCONT);
		waitpid(pid, &st, WCONTINUED);
		nap(100);
		int continued = caught - stopped;
		waitpid(pid, &st, 0);
		nap(100);
		int ended = caught - stopped - continued;
		snprintf(what, sizeof what, "%s: SIGCHLDs for the stop, the continue, the end: %d %d %d", how,
		         stopped, continued, ended);
		check(what, flags ? stopped == 0 && continued == 0 && ended == 1 : stopped == 1 && continued == 1 && ended == 1);
		check(flags ? "nocldstop: the child's exit status is 5" : "without nocldstop: the child's exit status is 5",
		      WIFEXITED(st) && WEXITSTATUS(st) == 5);
	}

	setact(SIG_DFL, 0);
	pid_t pid = child(0, 6);
	nap(200);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	check("default: the ended child is a zombie until waited for", access(path, F_OK) == 0);
	check("default: waitpid reaps it with status 6",
	      waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 6);

	setact(SIG_IGN, 0);
	pid = fork();
	if (pid == 0) {
		execl("/proc/self/exe", argv[0], "exec", (char *)NULL);
		_exit(127);
	}
	/* The child execs with SIGCHLD ignored; this process ignores it too, so it reaps
	 * nothing: the child's report comes through its stdout, its end through ECHILD. */
	errno = 0;
	check("top: wait() for the exec'd child ends with ECHILD", wait(&st) == -1 && errno == ECHILD);
	printf("failures: %d\n", failures);
	return failures;
}
