/*
 * sig_exec_keep.c — what execve(2) keeps of the signals (execve(2), signal(7)): the signal
 * mask is preserved, ignored signals stay ignored, handled ones go back to SIG_DFL.
 *
 * usage: sig_exec_keep (run by its path: it execs argv[0])
 * It blocks SIGUSR1 and SIGRTMIN+3, ignores SIGUSR2 and SIGCHLD, handles SIGTERM, then
 * execs itself with the argument "after"; the new program prints what it finds.
 *
 * usage: sig_exec_keep exec PROGRAM ARGS...
 * blocks SIGUSR1, ignores SIGHUP, SIGINT, SIGTERM, SIGPIPE and SIGCHLD, and execs PROGRAM
 * (golos run sig_exec_keep inherited, say: what golos's own start keeps for the program);
 * with the argument "inherited" it prints what it finds of those, raises the first three,
 * writes into a pipe with no reader (EPIPE, no death) and checks that an ended child is
 * reaped by the kernel (wait(2) fails with ECHILD).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;

static void yesno(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "yes" : "no");
	if (!ok)
		failures++;
}

static void on_term(int sig)
{
	(void)sig;
}

static int handler_is(int sig, void (*h)(int))
{
	struct sigaction sa;
	sigaction(sig, 0, &sa);
	return sa.sa_handler == h;
}

static int after(void)
{
	sigset_t m, p;
	sigprocmask(SIG_BLOCK, 0, &m);
	yesno("SIGUSR1 blocked", sigismember(&m, SIGUSR1));
	yesno("SIGRTMIN+3 blocked", sigismember(&m, SIGRTMIN + 3));
	yesno("SIGUSR2 not blocked", !sigismember(&m, SIGUSR2));
	yesno("SIGUSR2 ignored", handler_is(SIGUSR2, SIG_IGN));
	yesno("SIGCHLD ignored", handler_is(SIGCHLD, SIG_IGN));
	yesno("SIGTERM, handled before, back to SIG_DFL", handler_is(SIGTERM, SIG_DFL));
	yesno("SIGINT SIG_DFL", handler_is(SIGINT, SIG_DFL));
	raise(SIGUSR2);
	yesno("raised SIGUSR2 ignored: still alive", 1);
	raise(SIGUSR1);
	sigpending(&p);
	yesno("raised SIGUSR1 pending (blocked)", sigismember(&p, SIGUSR1));
	printf("failures: %d\n", failures);
	return failures != 0;
}

static int inherited(void)
{
	sigset_t m;
	sigprocmask(SIG_BLOCK, 0, &m);
	yesno("SIGUSR1 blocked", sigismember(&m, SIGUSR1));
	yesno("SIGHUP ignored", handler_is(SIGHUP, SIG_IGN));
	yesno("SIGINT ignored", handler_is(SIGINT, SIG_IGN));
	yesno("SIGTERM ignored", handler_is(SIGTERM, SIG_IGN));
	yesno("SIGPIPE ignored", handler_is(SIGPIPE, SIG_IGN));
	yesno("SIGCHLD ignored", handler_is(SIGCHLD, SIG_IGN));
	raise(SIGHUP);
	raise(SIGINT);
	raise(SIGTERM);
	yesno("raised SIGHUP, SIGINT and SIGTERM: still alive", 1);
	int fds[2];
	if (pipe(fds) == 0) {
		close(fds[0]);
		errno = 0;
		yesno("write to a pipe without a reader: EPIPE, still alive", write(fds[1], "x", 1) == -1 && errno == EPIPE);
		close(fds[1]);
	}
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	errno = 0;
	yesno("wait() for an ended child: ECHILD (reaped by the kernel)", pid > 0 && wait(NULL) == -1 && errno == ECHILD);
	printf("failures: %d\n", failures);
	return failures != 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "after") == 0)
		return after();
	if (argc == 2 && strcmp(argv[1], "inherited") == 0)
		return inherited();
	if (argc > 2 && strcmp(argv[1], "exec") == 0) {
		sigset_t m;
		sigemptyset(&m);
		sigaddset(&m, SIGUSR1);
		sigprocmask(SIG_BLOCK, &m, 0);
		signal(SIGHUP, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		signal(SIGCHLD, SIG_IGN);
		execv(argv[2], argv + 2);
		perror("execv");
		return 2;
	}
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigaddset(&m, SIGRTMIN + 3);
	sigprocmask(SIG_BLOCK, &m, 0);
	signal(SIGUSR2, SIG_IGN);
	signal(SIGCHLD, SIG_IGN);
	signal(SIGTERM, on_term);
	printf("blocked SIGUSR1 and SIGRTMIN+3, ignored SIGUSR2 and SIGCHLD, handled SIGTERM: exec\n");
	fflush(stdout);
	char *args[] = {argv[0], "after", 0};
	execv(argv[0], args);
	perror("execv");
	return 2;
}
