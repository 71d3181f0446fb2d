/*
 * sig_ttou_kick.c — a process of a background group that blocks SIGTTOU may write to its
 * terminal although TOSTOP is set (termios(3), TOSTOP; drivers/tty/tty_jobctrl.c,
 * __tty_check_change: a blocked or ignored SIGTTOU lets the write through), also after a
 * signal came while it ran its own code (under golos, a signal that interrupts the
 * program's code takes its thread back to golos, which must leave SIGTTOU blocked on the
 * host as the program has it).
 *
 * The program makes a pseudo-terminal, a session that has it as controlling terminal with
 * TOSTOP set, and in that session a background process group whose process blocks
 * SIGTTOU, takes a SIGALRM while it spins, then writes to the terminal. It prints what
 * became of the write: "written", or the signal that stopped the process, or that
 * nothing happened within 10 s.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t alarms;

static void on_alrm(int sig)
{
	(void)sig;
	alarms++;
}

/* background writes to s, the session's terminal, from a process group of its own */
static void background(int s)
{
	if (setpgid(0, 0) != 0)
		_exit(10);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTTOU);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGALRM, on_alrm);
	struct itimerval it = {{0, 0}, {0, 20000}};
	setitimer(ITIMER_REAL, &it, NULL);
	while (!alarms)
		; /* the signal comes while the program's own code runs */
	_exit(write(s, "x", 1) == 1 ? 0 : 11);
}

/* session makes a session with the terminal slave as its controlling terminal and runs
 * background in it; it reports the outcome and exits 0 when the write was made. */
static void session(const char *slave)
{
	if (setsid() < 0)
		_exit(20);
	int s = open(slave, O_RDWR); /* a session leader's first terminal: its controlling one */
	if (s < 0)
		_exit(21);
	struct termios tio;
	if (tcgetattr(s, &tio) != 0)
		_exit(22);
	tio.c_lflag |= TOSTOP;
	if (tcsetattr(s, TCSANOW, &tio) != 0)
		_exit(23);
	pid_t b = fork();
	if (b < 0)
		_exit(24);
	if (b == 0)
		background(s);
	int st = 0;
	for (int i = 0; i < 1000; i++) {
		pid_t w = waitpid(b, &st, WUNTRACED | WNOHANG);
		if (w == b && WIFSTOPPED(st)) {
			printf("stopped by signal %d\n", WSTOPSIG(st));
			kill(b, SIGKILL);
			waitpid(b, &st, 0);
			exit(1);
		}
		if (w == b) {
			if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
				printf("written\n");
			else
				printf("failed: status %#x\n", st);
			exit(WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1);
		}
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	printf("no outcome within 10 s\n");
	kill(b, SIGKILL);
	waitpid(b, &st, 0);
	exit(1);
}

int main(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0) {
		perror("posix_openpt");
		return 2;
	}
	const char *slave = ptsname(m);
	fflush(stdout);
	pid_t a = fork();
	if (a < 0) {
		perror("fork");
		return 2;
	}
	if (a == 0)
		session(slave);
	int st;
	waitpid(a, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 3;
}
