/*
 * proc_fdlist_fork.c — another process's listing of /proc/PID/fd shows only the
 * descriptors PID's program has, also while PID forks: a watcher child lists its
 * parent's fd directory over and over, and looks up each entry (as ls -l does), while
 * the parent forks short-lived children one after the other. The parent opens nothing
 * meanwhile, so no listing may show a descriptor numbered FROM or above that it did not
 * have at the start. Under golos a fork opens descriptors of golos's own, high, for a
 * moment (a socket to the child's golos, its start-up log, copies of the program's),
 * which the listing must leave out, as it does golos's lasting ones, and the pipe the
 * Go runtime's ForkExec opens at the lowest free numbers for the same moment, and any
 * other descriptor golos opens low for a moment.
 *
 * Exit status: 0 when the watcher saw nothing new.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXFD 64
#define FROM 64 /* above the numbers a fork of golos's takes for the Go runtime */

/* lowWhat is what the first low descriptor the parent never opened led to. */
static char lowWhat[256];

/* list fills fds with the numbers in dir's listing and returns how many (at most
 * MAXFD), and counts in *unstat the entries a lookup right after says are not there. */
static int list(const char *dir, int *fds, int *unstat)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	char path[512];
	struct stat st;

	if (!d) {
		perror(dir);
		exit(2);
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (lstat(path, &st) != 0 && atoi(e->d_name) >= FROM)
			(*unstat)++;
		if (n < MAXFD)
			fds[n++] = atoi(e->d_name);
	}
	closedir(d);
	return n;
}

static int has(const int *fds, int n, int fd)
{
	for (int i = 0; i < n; i++)
		if (fds[i] == fd)
			return 1;
	return 0;
}

int main(void)
{
	char dir[64];
	int go[2];

	snprintf(dir, sizeof dir, "/proc/%d/fd", (int)getpid());
	if (pipe(go) != 0) {
		perror("pipe");
		return 2;
	}
	pid_t watcher = fork();
	if (watcher < 0) {
		perror("fork");
		return 2;
	}
	if (watcher == 0) {
		int first[MAXFD], now[MAXFD], unstat = 0, extra = -1, low = -1, rounds = 0;
		char c;
		close(go[1]);
		/* Once the parent has closed the pipe's end it does not use (and keeps the
		 * other to the end), its descriptors stay as they are. */
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		int n0 = list(dir, first, &unstat);
		struct timespec start, t;
		clock_gettime(CLOCK_MONOTONIC, &start);
		do {
			int n = list(dir, now, &unstat);
			for (int i = 0; i < n; i++) {
				if (!has(first, n0, now[i]) && now[i] >= FROM && extra < 0)
					extra = now[i];
				if (!has(first, n0, now[i]) && now[i] < FROM && low < 0) {
					char path[512];
					snprintf(path, sizeof path, "%s/%d", dir, now[i]);
					ssize_t m = readlink(path, lowWhat, sizeof lowWhat - 1);
					lowWhat[m > 0 ? m : 0] = 0;
					low = now[i];
				}
			}
			rounds++;
			clock_gettime(CLOCK_MONOTONIC, &t);
		} while ((t.tv_sec - start.tv_sec) * 1000 + (t.tv_nsec - start.tv_nsec) / 1000000 < 1500);
		printf("watcher: listings made: %s\n", rounds > 10 ? "many" : "few");
		printf("watcher: a high descriptor the parent never opened was listed: %s\n", extra >= 0 ? "yes" : "no");
		if (extra >= 0)
			printf("watcher: (descriptor %d)\n", extra);
		printf("watcher: high entries listed that a lookup then did not find: %d\n", unstat);
		printf("watcher: a low descriptor the parent never opened was listed: %s\n", low >= 0 ? "yes" : "no");
		if (low >= 0)
			printf("watcher: (descriptor %d: %s)\n", low, lowWhat);
		fflush(stdout);
		_exit(extra >= 0 || unstat != 0 || low >= 0);
	}
	close(go[0]);
	if (write(go[1], "x", 1) != 1) {
		perror("write");
		return 2;
	}
	int forks = 0, status;
	for (;;) {
		pid_t k = fork();
		if (k < 0) {
			perror("fork");
			return 2;
		}
		if (k == 0)
			_exit(0);
		waitpid(k, NULL, 0);
		forks++;
		if (waitpid(watcher, &status, WNOHANG) == watcher)
			break;
	}
	printf("parent: forked while watched: %s\n", forks > 10 ? "many times" : "a few times");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}
