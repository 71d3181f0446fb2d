/*
 * hostile_procfd.c — looks for descriptors and threads it does not have through every
 * directory /proc gives a thread: /proc/TID/ for a thread that leads no thread group
 * (which Linux finds though /proc does not list it, fs/proc/base.c: proc_pid_lookup), and
 * /proc/PID/task/TID/ of another process.
 *
 * It opens no descriptor but the two of a pipe (those it inherits, found open at the
 * start, count as its own), starts a second
 * thread, and forks a child that waits. Then it counts:
 *   - the tids near its own that /proc shows as threads of its process (Tgid: its pid),
 *     besides its main thread: natively the second thread alone;
 *   - the descriptors it never opened that /proc/TID/fd/N of its second thread, or
 *     /proc/CHILD/fd/N, /proc/CHILD/task/CHILD/fd/N or /proc/TID/fd/N of a thread of the
 *     child, shows (readlink, or an open of fdinfo/N): natively none;
 *   - the entries of the listings of those fd directories that it never opened;
 *   - the threads of the child near its pid, besides the child itself: natively none.
 * And it compares the exe and cwd links of /proc/TID of its second thread with its own.
 * Run in a root with /proc grafted in (golos run --root DIR --volume /proc:/proc), it
 * must give the same answers.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define SCAN 600 /* tids looked at after a process's pid */

static int known[64], nknown; /* the descriptors the program has: inherited, or opened */

static int is_known(int fd)
{
	if (fd <= 2)
		return 1;
	for (int i = 0; i < nknown; i++)
		if (known[i] == fd)
			return 1;
	return 0;
}

/* tgid is the Tgid of /proc/T/status, or -1 when it cannot be read. */
static int tgid(int t)
{
	char p[64], buf[4096];
	snprintf(p, sizeof p, "/proc/%d/status", t);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	char *s = strstr(buf, "\nTgid:");
	return s ? atoi(s + 6) : -1;
}

/* threads_of lists in tids (at most max) the threads of process pid near it, pid left out. */
static int threads_of(int pid, int *tids, int max)
{
	int n = 0;
	for (int t = pid + 1; t < pid + SCAN && n < max; t++)
		if (tgid(t) == pid)
			tids[n++] = t;
	return n;
}

/* top is where the scans stop: the soft RLIMIT_NOFILE, or 4200, above the top of the
 * descriptor tables golos grows for its own (4096), to keep the scans short. */
static int top(void)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	return rl.rlim_cur > 4200 ? 4200 : (int)rl.rlim_cur;
}

/* unknown_in counts the descriptors the program never opened that directory dir (a fd
 * directory) shows: by readlink, open and fdinfo of each number, and in its listing. */
static void unknown_in(const char *what, const char *dir)
{
	int shown = 0, listed = 0, n = top();
	char p[256], buf[512];
	for (int fd = 3; fd < n; fd++) {
		if (is_known(fd))
			continue;
		snprintf(p, sizeof p, "%s/fd/%d", dir, fd);
		int got = readlink(p, buf, sizeof buf) >= 0;
		snprintf(p, sizeof p, "%s/fdinfo/%d", dir, fd);
		int o = open(p, O_RDONLY | O_CLOEXEC);
		if (o >= 0) {
			got = 1;
			close(o);
		}
		shown += got;
	}
	snprintf(p, sizeof p, "%s/fd", dir);
	DIR *d = opendir(p);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.' && !is_known(atoi(e->d_name)) && atoi(e->d_name) != dirfd(d))
				listed++;
		closedir(d);
	}
	printf("%s: descriptors never opened shown %d, listed %d%s\n", what, shown, listed, d ? "" : " (no listing)");
}

static volatile int stop;
static int second_tid;

static void *second(void *arg)
{
	(void)arg;
	second_tid = syscall(SYS_gettid);
	while (!stop)
		usleep(1000);
	return NULL;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int fd = 3, n = top(); fd < n && nknown < 60; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			known[nknown++] = fd;
	int ready[2];
	if (pipe(ready) != 0)
		return 1;
	known[nknown++] = ready[0];
	known[nknown++] = ready[1];
	int pid = getpid();

	pthread_t th;
	pthread_create(&th, NULL, second, NULL);
	while (!second_tid)
		usleep(1000);

	int tids[SCAN];
	int n = threads_of(pid, tids, SCAN), second_seen = 0;
	for (int i = 0; i < n; i++)
		second_seen += tids[i] == second_tid;
	printf("threads of this process shown as /proc/TID besides the main one: %d, the second thread among them: %s\n",
	       n, second_seen ? "yes" : "no");
	char dir[64];
	snprintf(dir, sizeof dir, "/proc/%d", second_tid);
	unknown_in("/proc/TID of the second thread", dir);
	snprintf(dir, sizeof dir, "/proc/%d/task/%d", pid, second_tid);
	unknown_in("/proc/PID/task/TID of the second thread", dir);
	{
		char buf[64], want[64];
		snprintf(dir, sizeof dir, "/proc/%d/exe", second_tid);
		ssize_t k = readlink(dir, buf, sizeof buf - 1);
		buf[k > 0 ? k : 0] = 0;
		k = readlink("/proc/self/exe", want, sizeof want - 1);
		want[k > 0 ? k : 0] = 0;
		printf("/proc/TID/exe of the second thread is /proc/self/exe: %s\n", strcmp(buf, want) == 0 ? "yes" : "no");
		snprintf(dir, sizeof dir, "/proc/%d/cwd", second_tid);
		k = readlink(dir, buf, sizeof buf - 1);
		buf[k > 0 ? k : 0] = 0;
		k = readlink("/proc/self/cwd", want, sizeof want - 1);
		want[k > 0 ? k : 0] = 0;
		printf("/proc/TID/cwd of the second thread is /proc/self/cwd: %s\n", strcmp(buf, want) == 0 ? "yes" : "no");
	}

	pid_t c = fork();
	if (c == 0) {
		char x = 1;
		write(ready[1], &x, 1);
		pause();
		_exit(0);
	}
	char x;
	read(ready[0], &x, 1);
	usleep(100000);
	n = threads_of(c, tids, SCAN);
	printf("threads of the child shown as /proc/TID besides its main one: %d\n", n);
	snprintf(dir, sizeof dir, "/proc/%d", c);
	unknown_in("/proc/CHILD", dir);
	snprintf(dir, sizeof dir, "/proc/%d/task/%d", c, c);
	unknown_in("/proc/CHILD/task/CHILD", dir);
	int shown = 0;
	for (int i = 0; i < n; i++) {
		char p[64];
		snprintf(p, sizeof p, "/proc/%d/fd", tids[i]);
		DIR *d = opendir(p);
		if (d) {
			shown++;
			closedir(d);
		}
	}
	printf("fd directories of the child's other threads as /proc/TID: %d\n", shown);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	stop = 1;
	pthread_join(th, NULL);
	printf("done\n");
	return 0;
}
