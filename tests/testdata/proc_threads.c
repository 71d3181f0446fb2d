/*
 * proc_threads.c — what /proc says about the program's threads while four of them (the
 * main one and three it started) are alive: the numbered entries of /proc/self/task and
 * /proc/<pid>/task (each one a thread of the program: its tid), and the Threads line of
 * /proc/self/status, /proc/<pid>/status and /proc/thread-self/status (proc(5)).
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_barrier_t started, done;
static int tids[4];

static void *worker(void *arg)
{
	tids[(long)arg] = (int)syscall(SYS_gettid);
	pthread_barrier_wait(&started);
	pthread_barrier_wait(&done);
	return NULL;
}

static void list(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		printf("%s: cannot open\n", dir);
		return;
	}
	int n = 0, ours = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		n++;
		for (int i = 0; i < 4; i++)
			ours += atoi(e->d_name) == tids[i];
	}
	closedir(d);
	printf("%s: %d entries, %d of them the program's threads\n", strncmp(dir, "/proc/self", 10) ? "/proc/PID/task" : dir,
	       n, ours);
}

static void threads(const char *path, const char *label)
{
	FILE *f = fopen(path, "r");
	char line[256];
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "Threads:", 8) == 0)
			printf("%s %s", label, line);
	if (f)
		fclose(f);
}

int main(void)
{
	pthread_barrier_init(&started, NULL, 4);
	pthread_barrier_init(&done, NULL, 4);
	tids[0] = (int)syscall(SYS_gettid);
	pthread_t t[3];
	for (long i = 1; i <= 3; i++)
		pthread_create(&t[i - 1], NULL, worker, (void *)i);
	pthread_barrier_wait(&started);
	char path[64];
	list("/proc/self/task");
	snprintf(path, sizeof path, "/proc/%d/task", getpid());
	list(path);
	threads("/proc/self/status", "/proc/self/status");
	snprintf(path, sizeof path, "/proc/%d/status", getpid());
	threads(path, "/proc/PID/status");
	threads("/proc/thread-self/status", "/proc/thread-self/status");
	pthread_barrier_wait(&done);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	return 0;
}
