/* A SIGURG that another process sends to a program blocked in read(2) on a pipe, with a
 * handler installed with SA_RESTART: the handler runs while the read blocks (the read
 * is then resumed), as signal(7) says. The sender, a fork's child, waits for the
 * handler's byte on a second pipe before it lets the read return. 20 rounds. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int notify[2];

static void on_urg(int sig)
{
	(void)sig;
	char c = 'h';
	if (write(notify[1], &c, 1) != 1)
		_exit(3);
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_urg;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGURG, &sa, NULL);
	int ran = 0, rounds = 20;
	for (int r = 0; r < rounds; r++) {
		int release[2];
		if (pipe(release) || pipe(notify))
			return 2;
		pid_t parent = getpid();
		pid_t child = fork();
		if (child == 0) {
			close(release[0]);
			close(notify[1]);
			usleep(30000); /* the parent is in read(2) by now */
			kill(parent, SIGURG);
			struct pollfd p = {.fd = notify[0], .events = POLLIN};
			char c = poll(&p, 1, 2000) == 1 ? 'y' : 'n';
			if (write(release[1], &c, 1) != 1)
				_exit(2);
			_exit(0);
		}
		close(release[1]);
		char c = 0;
		if (read(release[0], &c, 1) != 1) /* blocks until the child lets it go */
			return 2;
		ran += c == 'y';
		waitpid(child, NULL, 0);
		close(release[0]);
		close(notify[0]);
		close(notify[1]);
	}
	printf("rounds whose handler ran while read blocked: %d of %d\n", ran, rounds);
	return ran == rounds ? 0 : 1;
}
