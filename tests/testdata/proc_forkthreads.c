/*
 * proc_forkthreads.c — fork(2) in a program with threads: the parent has 4 more threads
 * (two spinning without syscalls, two sleeping) when it forks; the child has only the
 * thread that forked (/proc/self/task has 1 entry, gettid() == getpid()), can malloc,
 * start a thread and join it, take a mutex that the other threads use (held across the
 * fork by an atfork handler) and exit; the parent's threads are all still running.
 * pthread_atfork handlers run in POSIX's order (prepare handlers in reverse order of
 * registration, parent and child handlers in order of registration). Then the same from
 * a thread other than the main one: in the child, that thread is the only one,
 * pthread_self() is the same and gettid() == getpid().
 *
 * The handlers record what ran instead of printing (the parent's and the child's would
 * race); each process prints its record once the order is fixed: the child before it
 * exits, the parent after waiting. Exit status: the number of failed checks.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ename.h"

static int failures;
static char ran[128];
static volatile int stop;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static volatile unsigned long spins[2];

static void check(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "yes" : "no");
	if (!ok)
		failures++;
}

static void note(const char *s)
{
	strcat(ran, ran[0] ? " " : "");
	strcat(ran, s);
}
static void prepare1(void) { note("prepare1"); }
static void prepare2(void) { note("prepare2"); }
static void parent1(void) { note("parent1"); }
static void parent2(void) { note("parent2"); }
static void child1(void) { note("child1"); }
static void child2(void) { note("child2"); }

/* The mutex is held across the fork, as a program must for the child to use it. */
static void lock_mu(void) { pthread_mutex_lock(&mu); }
static void unlock_mu(void) { pthread_mutex_unlock(&mu); }

static void *spinner(void *arg)
{
	long i = (long)arg;
	while (!stop) {
		spins[i]++;
		if ((spins[i] & 0xfffff) == 0) {
			pthread_mutex_lock(&mu);
			pthread_mutex_unlock(&mu);
		}
	}
	return NULL;
}

static void *sleeper(void *arg)
{
	(void)arg;
	while (!stop) {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&mu);
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

static void *answer(void *arg) { return (void *)((long)arg + 1); }

static int tasks(void)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] >= '0' && e->d_name[0] <= '9';
	closedir(d);
	return n;
}

/* in_child is what the child checks, then it exits with its failure count. */
static void in_child(const char *who, pthread_t forker)
{
	printf("%s: atfork handlers that ran: %s\n", who, ran);
	printf("%s: threads in /proc/self/task: %d\n", who, tasks());
	check("  gettid() == getpid()", syscall(SYS_gettid) == getpid());
	check("  pthread_self() is the forking thread's", pthread_equal(pthread_self(), forker));
	char *p = malloc(1 << 20);
	check("  malloc(1 MiB) works", p != NULL && memset(p, 7, 1 << 20) == p);
	free(p);
	check("  the mutex the other threads used can be taken",
	      pthread_mutex_lock(&mu) == 0 && pthread_mutex_unlock(&mu) == 0);
	pthread_t t;
	void *v = NULL;
	int err = pthread_create(&t, NULL, answer, (void *)41);
	check("  pthread_create works", err == 0);
	if (err == 0)
		check("  pthread_join gives the thread's value (42)", pthread_join(t, &v) == 0 && (long)v == 42);
	fflush(stdout);
	exit(failures);
}

static void in_parent(const char *who, pid_t pid, int want_tasks)
{
	int st = 0;
	pid_t r = waitpid(pid, &st, 0);
	printf("%s: child exit status: %s %d\n", who, r == pid && WIFEXITED(st) ? "exited" : "not exited",
	       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	if (r != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		failures++;
	printf("%s: atfork handlers that ran: %s\n", who, ran);
	/* A thread that was joined may be listed for a moment longer: look again for 2 s. */
	int n = tasks();
	for (int i = 0; i < 200 && n != want_tasks; i++) {
		usleep(10000);
		n = tasks();
	}
	printf("%s: threads in /proc/self/task: %d (want %d)\n", who, n, want_tasks);
	if (n != want_tasks)
		failures++;
}

struct forker_result {
	pid_t pid;
	pthread_t self;
};

static void *fork_from_thread(void *arg)
{
	struct forker_result *fr = arg;
	fr->self = pthread_self();
	ran[0] = 0;
	pid_t pid = fork();
	if (pid == 0)
		in_child("child of a thread", fr->self);
	fr->pid = pid;
	if (pid < 0)
		printf("fork in a thread failed: -1 %s\n", ename(errno));
	return NULL;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	pthread_atfork(lock_mu, unlock_mu, unlock_mu);
	pthread_atfork(prepare1, parent1, child1);
	pthread_atfork(prepare2, parent2, child2);

	pthread_t th[4];
	for (long i = 0; i < 4; i++)
		if (pthread_create(&th[i], NULL, i < 2 ? spinner : sleeper, (void *)i) != 0) {
			printf("pthread_create failed\n");
			return 100;
		}
	while (spins[0] == 0 || spins[1] == 0)
		sched_yield();

	pthread_t main_self = pthread_self();
	pid_t pid = fork();
	if (pid < 0) {
		printf("fork failed: -1 %s\n", ename(errno));
		return 100;
	}
	if (pid == 0)
		in_child("child", main_self);
	in_parent("parent", pid, 5);

	struct forker_result fr = {0};
	pthread_t t;
	pthread_create(&t, NULL, fork_from_thread, &fr);
	pthread_join(t, NULL);
	if (fr.pid < 0)
		return 100;
	in_parent("parent of the thread's child", fr.pid, 5);

	unsigned long before[2] = {spins[0], spins[1]};
	while (spins[0] == before[0] || spins[1] == before[1])
		sched_yield();
	check("parent: its spinning threads still run", 1);
	stop = 1;
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	printf("failures: %d\n", failures);
	return failures;
}
