/*
 * thr_sched.c — a new thread has its creator's nice value and scheduling policy (sched(7):
 * "a child created by fork(2) inherits its parent's scheduling policy and parameters";
 * pthread_create's threads likewise, and setpriority(2) acts on the calling thread
 * only). The main thread changes its own, each time starting a thread that reports
 * what it has: as the program starts, after setpriority(PRIO_PROCESS, 0, 7), after
 * SCHED_BATCH, after SCHED_IDLE, after SCHED_BATCH with SCHED_RESET_ON_FORK and nice 3.
 *
 * Exit status: 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The raw calls: musl's sched_setscheduler and sched_getscheduler fail with ENOSYS (POSIX
 * has them act on a process, Linux on a thread). */
static int setsched(int policy)
{
	struct sched_param zero = {0};
	return syscall(SYS_sched_setscheduler, 0, policy, &zero);
}

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

static void *report(void *what)
{
	errno = 0;
	int nice = getpriority(PRIO_PROCESS, 0);
	int policy = syscall(SYS_sched_getscheduler, 0);
	printf("%s: the new thread's nice %d, policy %d%s\n", (const char *)what, nice,
	       policy & ~SCHED_RESET_ON_FORK, policy & SCHED_RESET_ON_FORK ? " (reset on fork)" : "");
	return NULL;
}

static void thread(const char *what)
{
	pthread_t t;
	if (pthread_create(&t, NULL, report, (void *)what) != 0) {
		printf("%s: pthread_create failed\n", what);
		return;
	}
	pthread_join(t, NULL);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	thread("at the start");
	printf("setpriority 7: %s\n", setpriority(PRIO_PROCESS, 0, 7) == 0 ? "ok" : strerror(errno));
	thread("nice 7");
	printf("SCHED_BATCH: %s\n", setsched(SCHED_BATCH) == 0 ? "ok" : strerror(errno));
	thread("SCHED_BATCH");
	printf("SCHED_IDLE: %s\n", setsched(SCHED_IDLE) == 0 ? "ok" : strerror(errno));
	thread("SCHED_IDLE");
	printf("SCHED_BATCH reset on fork: %s\n",
	       setsched(SCHED_BATCH | SCHED_RESET_ON_FORK) == 0 ? "ok" : strerror(errno));
	setpriority(PRIO_PROCESS, 0, 3); /* may not lower it without privilege: either way alike */
	thread("SCHED_BATCH reset on fork");
	return 0;
}
