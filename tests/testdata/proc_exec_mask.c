/*
 * proc_exec_mask.c — what execve(2) keeps of a program's signals: it blocks SIGUSR1,
 * ignores SIGUSR2, handles SIGTERM, raises SIGUSR1 (left pending, blocked) and execs
 * itself with the argument "exec'd"; the new image reports what it finds: SIGUSR1 still
 * blocked and still pending, SIGUSR2 still ignored, SIGTERM back to SIG_DFL (a handler
 * cannot survive the exec), a signal not touched still SIG_DFL and unblocked (Linux keeps
 * the mask, ignored dispositions and pending signals; see execve(2) and signal(7)).
 *
 * The program execs itself through argv[0], which the test gives as an absolute path.
 * Exit status: the number of failed checks in the exec'd image (100 when execve failed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ename.h"

static void on_term(int sig) { (void)sig; }

static const char *disposition(int sig)
{
	struct sigaction sa;
	if (sigaction(sig, NULL, &sa) != 0)
		return "sigaction failed";
	if (sa.sa_handler == SIG_DFL)
		return "SIG_DFL";
	if (sa.sa_handler == SIG_IGN)
		return "SIG_IGN";
	return "a handler";
}

static int failures;

static void check(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "yes" : "no");
	if (!ok)
		failures++;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exec'd") == 0) {
		sigset_t mask, pending;
		sigprocmask(SIG_BLOCK, NULL, &mask);
		sigpending(&pending);
		printf("after execve:\n");
		check("SIGUSR1 still blocked", sigismember(&mask, SIGUSR1) == 1);
		check("SIGUSR1 still pending", sigismember(&pending, SIGUSR1) == 1);
		printf("SIGUSR2's disposition: %s\n", disposition(SIGUSR2));
		printf("SIGTERM's disposition (it had a handler): %s\n", disposition(SIGTERM));
		printf("SIGINT's disposition (never changed): %s\n", disposition(SIGINT));
		check("SIGUSR2 and SIGINT not blocked", !sigismember(&mask, SIGUSR2) && !sigismember(&mask, SIGINT));
		failures += strcmp(disposition(SIGUSR2), "SIG_IGN") != 0;
		failures += strcmp(disposition(SIGTERM), "SIG_DFL") != 0;
		failures += strcmp(disposition(SIGINT), "SIG_DFL") != 0;
		printf("failures: %d\n", failures);
		return failures;
	}

	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	signal(SIGUSR2, SIG_IGN);
	struct sigaction sa = {.sa_handler = on_term};
	sigaction(SIGTERM, &sa, NULL);
	raise(SIGUSR1);
	printf("before execve: SIGUSR1 blocked and pending, SIGUSR2 %s, SIGTERM %s\n", disposition(SIGUSR2),
	       disposition(SIGTERM));
	fflush(stdout);
	char *args[] = {argv[0], "exec'd", NULL};
	execv(argv[0], args);
	printf("execv %s: %s\n", argv[0], ename(errno));
	return 100;
}
