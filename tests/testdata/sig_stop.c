/*
 * sig_stop.c — job control: stop signals and SIGCONT (signal(7)).
 *
 * usage: sig_stop MODE, one of
 *   raise-tstp  raise(SIGTSTP) with its default action: the process stops until SIGCONT;
 *               then "resumed", and the SIGCONT handler runs (SIGCONT is blocked until
 *               then, so that the order of the lines is fixed); then it reads stdin to
 *               its end before it exits, so that the parent sees it continued first
 *   raise-stop  the same with raise(SIGSTOP)
 *   wait        prints "ready" and waits in sigsuspend until SIGCONT's handler has run: the
 *               test stops it from outside (SIGTSTP or SIGSTOP) and continues it
 *   pause       SIGCONT left to its default action: prints "ready" and waits in pause(2),
 *               which a stop and SIGCONT do not end (Linux restarts it: no handler ran),
 *               until SIGUSR1's handler runs
 *   nostop      stop signals that must not stop: SIGTSTP ignored, SIGTSTP handled, a
 *               blocked SIGTSTP discarded by a SIGCONT sent after it, a blocked SIGCONT
 *               discarded by a SIGTTIN sent after it (kernel/signal.c, prepare_signal)
 * The stopping modes need a parent that waits with WUNTRACED and sends SIGCONT, and a
 * process group that is not orphaned (else SIGTSTP's default action stops nothing).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t conts, tstps;

static void on_cont(int sig)
{
	(void)sig;
	conts++;
}

static volatile sig_atomic_t usr1s;

static void on_usr1(int sig)
{
	(void)sig;
	usr1s++;
}

static void on_tstp(int sig)
{
	(void)sig;
	tstps++;
}

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

static int is_pending(int sig)
{
	sigset_t s;
	sigpending(&s);
	return sigismember(&s, sig);
}

/* Handles SIGCONT and blocks it; returns the mask without it, for sigsuspend. */
static sigset_t catch_cont(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_cont;
	sigaction(SIGCONT, &sa, 0);
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGCONT);
	sigprocmask(SIG_BLOCK, &block, &old);
	return old;
}

static void wait_cont(sigset_t old)
{
	while (!conts)
		sigsuspend(&old);
	printf("SIGCONT handler ran %d time(s)\n", (int)conts);
}

static int nostop(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGTSTP, &sa, 0);
	raise(SIGTSTP);
	say("SIGTSTP ignored: not stopped");

	sa.sa_handler = on_tstp;
	sigaction(SIGTSTP, &sa, 0);
	raise(SIGTSTP);
	printf("SIGTSTP handled: handler ran %d time(s), not stopped\n", (int)tstps);

	sa.sa_handler = SIG_DFL;
	sigaction(SIGTSTP, &sa, 0);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTSTP);
	sigprocmask(SIG_BLOCK, &set, 0);
	raise(SIGTSTP);
	yesno("blocked SIGTSTP pending", is_pending(SIGTSTP));
	raise(SIGCONT);
	yesno("SIGCONT discarded the pending SIGTSTP", !is_pending(SIGTSTP));
	sigprocmask(SIG_UNBLOCK, &set, 0);
	say("SIGTSTP unblocked: not stopped");

	sa.sa_handler = on_cont;
	sigaction(SIGCONT, &sa, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGCONT);
	sigaddset(&set, SIGTTIN);
	sigprocmask(SIG_BLOCK, &set, 0);
	raise(SIGCONT);
	yesno("blocked SIGCONT pending", is_pending(SIGCONT));
	sa.sa_handler = on_tstp;
	sigaction(SIGTTIN, &sa, 0);
	raise(SIGTTIN);
	yesno("SIGTTIN discarded the pending SIGCONT", !is_pending(SIGCONT));
	sigprocmask(SIG_UNBLOCK, &set, 0);
	printf("unblocked: SIGCONT handler ran %d time(s), SIGTTIN handler %d time(s)\n",
	       (int)conts, (int)tstps - 1);
	printf("failures: %d\n", failures);
	return failures != 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: sig_stop raise-tstp|raise-stop|wait|pause|nostop\n");
		return 2;
	}
	const char *mode = argv[1];
	if (strcmp(mode, "nostop") == 0)
		return nostop();
	if (strcmp(mode, "pause") == 0) {
		signal(SIGUSR1, on_usr1);
		say("ready");
		int r = pause();
		printf("pause returned %d after the SIGUSR1 handler ran %d time(s)\n", r, (int)usr1s);
		fflush(stdout);
		char buf[64];
		while (read(0, buf, sizeof buf) > 0)
			;
		return 0;
	}
	sigset_t old = catch_cont();
	if (strcmp(mode, "raise-tstp") == 0 || strcmp(mode, "raise-stop") == 0) {
		int sig = mode[6] == 't' ? SIGTSTP : SIGSTOP;
		printf("stopping with %s\n", sig == SIGTSTP ? "SIGTSTP" : "SIGSTOP");
		fflush(stdout);
		raise(sig);
		say("resumed");
	} else if (strcmp(mode, "wait") == 0) {
		say("ready");
	} else {
		fprintf(stderr, "sig_stop: unknown mode %s\n", mode);
		return 2;
	}
	wait_cont(old);
	/* Until stdin ends: the parent has seen it continued by then, not exited. */
	fflush(stdout);
	char buf[64];
	while (read(0, buf, sizeof buf) > 0)
		;
	return 0;
}
