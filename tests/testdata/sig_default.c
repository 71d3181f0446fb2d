/*
 * sig_default.c — default actions and SIG_IGN (signal(7), "Standard signals").
 *
 * usage: sig_default MODE, one of
 *   term        raise(SIGTERM): killed, status 143
 *   term-thread another thread sends kill(getpid(), SIGTERM) while main waits in
 *               pthread_join: the whole process is killed, status 143
 *   ignore      SIGUSR1 set to SIG_IGN and raised, sent with kill() and to another thread:
 *               nothing happens; a blocked SIG_IGN signal stays pending (Linux keeps
 *               blocked signals: the disposition may change before they are unblocked),
 *               and setting SIG_IGN discards a pending one; exit 0
 *   child       SIGCHLD, SIGURG and SIGWINCH, whose default action is to ignore them,
 *               raised: nothing happens; exit 0
 *   resethand   a SA_RESETHAND handler for SIGUSR1 runs once; sigaction then reads SIG_DFL;
 *               the second SIGUSR1 kills: status 138
 *   pipe        a write to a pipe without readers: SIGPIPE kills, status 141; with SIGPIPE
 *               ignored first (pipe-ign) the write fails with EPIPE; exit 0
 *   quit        raise(SIGQUIT): killed (core dump action), status 131
 *   usr2-thread SIGUSR2 with its default action sent to a thread with pthread_kill: the
 *               whole process is killed, status 140
 * Each mode prints (and flushes) what it did before the signal that kills it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void say(const char *s)
{
	printf("%s\n", s);
	fflush(stdout);
}

static int failures;

static void yesno(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "yes" : "no");
	if (!ok)
		failures++;
}

static volatile int usr1_count;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_count++;
}

static int is_pending(int sig)
{
	sigset_t s;
	sigpending(&s);
	return sigismember(&s, sig);
}

static void *send_term(void *arg)
{
	(void)arg;
	struct timespec ts = {0, 50 * 1000 * 1000};
	nanosleep(&ts, NULL);
	kill(getpid(), SIGTERM);
	nanosleep(&ts, NULL);
	return NULL;
}

static void *sleep_long(void *arg)
{
	(void)arg;
	for (int i = 0; i < 50; i++) {
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: sig_default MODE\n");
		return 2;
	}
	const char *mode = argv[1];
	alarm(10);

	if (strcmp(mode, "term") == 0) {
		say("raising SIGTERM");
		raise(SIGTERM);
		say("still alive after SIGTERM");
		return 1;
	}
	if (strcmp(mode, "term-thread") == 0) {
		pthread_t th;
		say("a thread sends SIGTERM to the process");
		pthread_create(&th, NULL, send_term, NULL);
		pthread_join(th, NULL);
		say("still alive after SIGTERM");
		return 1;
	}
	if (strcmp(mode, "ignore") == 0) {
		signal(SIGUSR1, SIG_IGN);
		raise(SIGUSR1);
		kill(getpid(), SIGUSR1);
		pthread_t th;
		pthread_create(&th, NULL, sleep_long, NULL);
		pthread_kill(th, SIGUSR1);
		yesno("SIGUSR1 ignored: raise, kill and pthread_kill did nothing", 1);
		pthread_cancel(th);
		pthread_join(th, NULL);
		yesno("ignored SIGUSR1 not pending", !is_pending(SIGUSR1));

		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGUSR1);
		sigprocmask(SIG_BLOCK, &s, NULL);
		raise(SIGUSR1);
		yesno("blocked and ignored SIGUSR1 raised: pending", is_pending(SIGUSR1));
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_usr1;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR1, &sa, NULL);
		sigprocmask(SIG_UNBLOCK, &s, NULL);
		printf("handler installed, then unblocked: handler ran %d time(s)\n", usr1_count);
		if (usr1_count != 1)
			failures++;

		sigprocmask(SIG_BLOCK, &s, NULL);
		raise(SIGUSR1);
		yesno("blocked SIGUSR1 with a handler raised: pending", is_pending(SIGUSR1));
		signal(SIGUSR1, SIG_IGN);
		yesno("SIG_IGN set while pending: discarded", !is_pending(SIGUSR1));
		sigprocmask(SIG_UNBLOCK, &s, NULL);
		printf("handler count after unblocking: %d\n", usr1_count);
		printf("failures: %d\n", failures);
		return failures != 0;
	}
	if (strcmp(mode, "child") == 0) {
		raise(SIGCHLD);
		raise(SIGURG);
		raise(SIGWINCH);
		kill(getpid(), SIGCHLD);
		say("SIGCHLD, SIGURG, SIGWINCH with default action: still alive");
		return 0;
	}
	if (strcmp(mode, "resethand") == 0) {
		struct sigaction sa, cur;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_usr1;
		sa.sa_flags = SA_RESETHAND;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR1, &sa, NULL);
		raise(SIGUSR1);
		printf("SA_RESETHAND handler ran %d time(s)\n", usr1_count);
		sigaction(SIGUSR1, NULL, &cur);
		printf("disposition afterwards: %s\n", cur.sa_handler == SIG_DFL ? "SIG_DFL" : "not SIG_DFL");
		say("raising SIGUSR1 again");
		raise(SIGUSR1);
		say("still alive after the second SIGUSR1");
		return 1;
	}
	if (strcmp(mode, "pipe") == 0 || strcmp(mode, "pipe-ign") == 0) {
		int p[2];
		if (pipe(p) != 0) {
			perror("pipe");
			return 2;
		}
		close(p[0]);
		if (strcmp(mode, "pipe-ign") == 0)
			signal(SIGPIPE, SIG_IGN);
		say("writing to a pipe without readers");
		ssize_t n = write(p[1], "x", 1);
		printf("write returned %zd (%s)\n", n, n < 0 && errno == EPIPE ? "EPIPE" : "?");
		return strcmp(mode, "pipe-ign") == 0 ? 0 : 1;
	}
	if (strcmp(mode, "quit") == 0) {
		say("raising SIGQUIT");
		raise(SIGQUIT);
		say("still alive after SIGQUIT");
		return 1;
	}
	if (strcmp(mode, "usr2-thread") == 0) {
		pthread_t th;
		pthread_create(&th, NULL, sleep_long, NULL);
		say("sending SIGUSR2 to a thread");
		pthread_kill(th, SIGUSR2);
		pthread_join(th, NULL);
		say("still alive after SIGUSR2");
		return 1;
	}
	fprintf(stderr, "sig_default: unknown mode %s\n", mode);
	return 2;
}
