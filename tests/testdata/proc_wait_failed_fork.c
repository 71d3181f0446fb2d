// A thread that waits for any child (waitid(P_ALL), as a reaper thread does) while
// another thread forks: every child it reaps must be one that fork returned (or the
// first child, made before). Linux's failed fork leaves no child to reap (kernel/fork.c,
// copy_process frees the task before it is on the parent's list); under golos a fork
// that fails after its child's golos started must not hand that host child to the
// program's wait.
//
// It prints "ready" once it has its first child, forks ROUNDS times after a line on
// stdin (children that exist _exit at once), kills the first child, and says whether
// every pid the waiting thread reaped was a child it made. The test makes the forks fail
// under golos between "ready" and the line.
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { ROUNDS = 20 };

static pid_t first;
static pid_t made[ROUNDS + 1];
static int nmade;
static pid_t reaped[ROUNDS + 2];
static int nreaped;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *reaper(void *arg) {
	(void)arg;
	for (;;) {
		siginfo_t si;
		memset(&si, 0, sizeof si);
		if (waitid(P_ALL, 0, &si, WEXITED) != 0) {
			if (errno == EINTR)
				continue;
			break; // ECHILD: no child left
		}
		pthread_mutex_lock(&mu);
		if (nreaped < ROUNDS + 2)
			reaped[nreaped++] = si.si_pid;
		int done = si.si_pid == first;
		pthread_mutex_unlock(&mu);
		if (done)
			break;
	}
	return NULL;
}

int main(void) {
	first = fork();
	if (first < 0) {
		perror("fork");
		return 1;
	}
	if (first == 0) {
		pause();
		_exit(0);
	}
	pthread_t th;
	pthread_create(&th, NULL, reaper, NULL);
	printf("ready\n");
	fflush(stdout);
	char line[16];
	if (!fgets(line, sizeof line, stdin))
		return 1;
	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&mu);
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid > 0)
			made[nmade++] = pid;
		pthread_mutex_unlock(&mu);
	}
	kill(first, SIGKILL);
	pthread_join(th, NULL);
	int strangers = 0;
	for (int i = 0; i < nreaped; i++) {
		int known = reaped[i] == first;
		for (int j = 0; j < nmade; j++)
			known |= reaped[i] == made[j];
		if (!known) {
			strangers++;
			fprintf(stderr, "reaped pid %d, which no fork returned\n", reaped[i]);
		}
	}
	printf("the first child reaped: %s\n", nreaped > 0 && reaped[nreaped - 1] == first ? "yes" : "no");
	printf("children reaped that no fork returned: %d\n", strangers);
	return 0;
}
