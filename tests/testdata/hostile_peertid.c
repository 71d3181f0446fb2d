/*
 * hostile_peertid.c — looks for threads of a child that the child does not have.
 *
 * The child starts a second thread and says "child PID TID" on stdout. The parent then
 * reads ids from stdin (the test gives every thread the host shows in the child's
 * process, /proc/PID/task) and, for each that is neither of the child's two threads, asks
 * whether kill(2), tgkill(2), tkill(2), rt_sigqueueinfo(2), rt_tgsigqueueinfo(2) (all
 * with signal 0) and pidfd_open(2) with PIDFD_THREAD find it. Natively the child has no
 * other thread: nothing is asked. Under golos each such id is a thread of the child's
 * golos, which must be no task for the program (ESRCH), as its own golos's are
 * (hostile_sigtid.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

static int ctl[2];
static volatile int tid2;

static void *second(void *arg)
{
	char c;
	tid2 = syscall(SYS_gettid);
	read(ctl[0], &c, 1); /* until the parent closes its end */
	return arg;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pipe(ctl) != 0)
		return 1;
	pid_t child = fork();
	if (child == 0) {
		close(ctl[1]);
		pthread_t th;
		pthread_create(&th, NULL, second, NULL);
		while (!tid2)
			usleep(1000);
		printf("child %d %d\n", getpid(), tid2);
		pthread_join(th, NULL);
		_exit(0);
	}
	close(ctl[0]);
	/* The ids the test gives once it has read the child's line: the first negative. */
	int ids[4096], n = 0, t2 = 0;
	while (n < 4096 && scanf("%d", &ids[n]) == 1) {
		if (ids[n] < 0) { /* the test's first number: minus the child's second thread */
			t2 = -ids[n];
			continue;
		}
		n++;
	}
	int tried = 0, found[6] = {0};
	for (int i = 0; i < n; i++) {
		int id = ids[i];
		if (id == child || id == t2)
			continue;
		tried++;
		siginfo_t si;
		memset(&si, 0, sizeof si);
		si.si_code = SI_QUEUE;
		si.si_pid = getpid();
		long r[6];
		r[0] = kill(id, 0);
		r[1] = syscall(SYS_tgkill, child, id, 0);
		r[2] = syscall(SYS_tkill, id, 0);
		r[3] = syscall(SYS_rt_sigqueueinfo, id, 0, &si);
		r[4] = syscall(SYS_rt_tgsigqueueinfo, child, id, 0, &si);
		r[5] = syscall(SYS_pidfd_open, id, PIDFD_THREAD);
		if (r[5] >= 0)
			close(r[5]);
		for (int k = 0; k < 6; k++)
			found[k] += r[k] >= 0;
	}
	printf("ids of the child's other threads tried: %s\n", tried ? "some" : "none");
	printf("found by kill %d, tgkill %d, tkill %d, rt_sigqueueinfo %d, rt_tgsigqueueinfo %d, pidfd_open %d\n",
	       found[0], found[1], found[2], found[3], found[4], found[5]);
	/* Its own threads are found. */
	printf("the child's threads: kill %d, tgkill %d\n", kill(t2, 0), (int)syscall(SYS_tgkill, child, t2, 0));
	close(ctl[1]);
	int st;
	waitpid(child, &st, 0);
	printf("child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}
