/*
 * unix_bindrace.c — bind(2) of unix sockets at /tmp/d/sN while another thread keeps
 * swapping /tmp/d (a directory) with /tmp/l, a symlink to OUTSIDE (renameat2(2)
 * RENAME_EXCHANGE): unix_bindrace OUTSIDE N [fork]; with "fork" a child process swaps
 * instead of a thread. Each bound socket listens. In a root, the
 * symlink's target is looked up inside it, so no socket may be made, or listen, in the
 * host's OUTSIDE. It prints whether any bind succeeded.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

static atomic_int stop;

static void *swapper(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop))
		syscall(SYS_renameat2, AT_FDCWD, "/tmp/d", AT_FDCWD, "/tmp/l", 2 /* RENAME_EXCHANGE */);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	int n = atoi(argv[2]);
	mkdir("/tmp/d", 0755);
	symlink(argv[1], "/tmp/l");
	pthread_t th;
	pid_t child = -1;
	if (argc > 3 && strcmp(argv[3], "fork") == 0) {
		child = fork();
		if (child == 0) {
			swapper(NULL);
			_exit(0);
		}
	} else {
		pthread_create(&th, NULL, swapper, NULL);
	}
	int bound = 0;
	for (int i = 0; i < n; i++) {
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		snprintf(a.sun_path, sizeof a.sun_path, "/tmp/d/s%d", i);
		if (bind(s, (struct sockaddr *)&a, sizeof a) == 0 && listen(s, 8) == 0)
			bound++;
		else
			close(s);
	}
	atomic_store(&stop, 1);
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	} else {
		pthread_join(th, NULL);
	}
	printf("done, %s\n", bound > 0 ? "some bound" : "none bound");
	return 0;
}
