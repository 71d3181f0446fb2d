/*
 * sig_pipe_write.c — a signal that interrupts a write to a full pipe must be handled before
 * the write returns (signal(7)): the program writes 2 MiB to a pipe nobody reads while an
 * interval timer's SIGALRM (no SA_RESTART) only notes that it came; after each short or
 * interrupted write the program looks at the note, drains the pipe and arms the timer
 * again, as CPython's buffered writer does. If the handler ran only after the program
 * looked, the next write blocks for good: no timer is armed any more.
 *
 * On a loaded machine the timer may also go off before the write it is meant for has
 * started (the program waited more than its 5 ms to run again after arming it), natively
 * too: the handler then arms it again instead of noting it, so that the program does not
 * hang on its own account. A handler that runs once a write has started, as golos must
 * make it run for a signal that interrupted the write, notes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t tripped, writing;

static void arm(void)
{
	struct itimerval it = {{0, 0}, {0, 5000}};
	setitimer(ITIMER_REAL, &it, NULL);
}

static void on_alarm(int sig)
{
	(void)sig;
	if (!writing) {
		arm(); /* before the write: the write needs a signal of its own */
		return;
	}
	tripped = 1;
}

int main(void)
{
	int p[2];
	if (pipe(p) != 0)
		return 1;
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm; /* no SA_RESTART */
	sigaction(SIGALRM, &sa, NULL);
	size_t total = 2 << 20, off = 0;
	char *data = malloc(total);
	memset(data, 'x', total);
	static char buf[1 << 16];
	int rounds = 0;
	arm();
	while (off < total) {
		writing = 1;
		ssize_t n = write(p[1], data + off, total - off);
		writing = 0;
		if (n < 0 && errno != EINTR) {
			perror("write");
			return 1;
		}
		if (n > 0)
			off += n;
		if (tripped) {
			tripped = 0;
			rounds++;
			while (read(p[0], buf, sizeof buf) > 0)
				;
			arm();
		}
	}
	writing = 1; /* a last signal does not arm the timer again */
	struct itimerval off_timer = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off_timer, NULL);
	printf("wrote %zu bytes, drained after signals: %s\n", off, rounds > 0 ? "yes" : "no");
	return 0;
}
