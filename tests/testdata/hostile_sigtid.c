/*
 * hostile_sigtid.c — signals its own process by a thread's id, looks for threads it does
 * not have by kill(2) on the ids next to its own, and queues signals to itself with
 * siginfo codes of the kernel's.
 *
 *   - kill(2) and rt_sigqueueinfo(2) given the tid of its second thread reach the process
 *     (Linux takes any tid for its process: kernel/signal.c, kill_proc_info);
 *   - kill(ID, 0) on the ids after its pid finds no other thread of its own (one whose
 *     /proc/ID/status names its pid as Tgid);
 *   - rt_sigqueueinfo(2) and rt_tgsigqueueinfo(2) to itself with si_code SI_KERNEL, 0
 *     (SI_USER), SEGV_MAPERR's 1 and SI_TKILL succeed, and the handler sees the code and
 *     the value given: Linux refuses those codes only for another process
 *     (do_rt_sigqueueinfo).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "ename.h"

static volatile int got, got_code, got_value;
static volatile int tid2, stop;

static void handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	got++;
	got_code = si->si_code;
	got_value = si->si_value.sival_int;
}

static void *second(void *arg)
{
	tid2 = syscall(SYS_gettid);
	while (!stop)
		usleep(1000);
	return arg;
}

/* tgid is the Tgid of /proc/ID/status, or -1 when it cannot be read. */
static int tgid(int id)
{
	char p[64], b[256];
	snprintf(p, sizeof p, "/proc/%d/status", id);
	FILE *f = fopen(p, "r");
	int tg = -1;
	if (!f)
		return -1;
	while (fgets(b, sizeof b, f))
		if (strncmp(b, "Tgid:", 5) == 0)
			tg = atoi(b + 5);
	fclose(f);
	return tg;
}

static void wait_got(int n)
{
	for (int i = 0; i < 1000 && got < n; i++)
		usleep(1000);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa = {.sa_sigaction = handler, .sa_flags = SA_SIGINFO};
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	pthread_t th;
	pthread_create(&th, NULL, second, NULL);
	while (!tid2)
		usleep(1000);
	int pid = getpid();

	int r = kill(tid2, SIGUSR1);
	wait_got(1);
	printf("kill(second thread's tid, SIGUSR1): %d, handled: %d, si_code SI_USER: %s\n", r, got,
	       got_code == SI_USER ? "yes" : "no");
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = SIGUSR1;
	si.si_code = SI_QUEUE;
	si.si_pid = pid;
	si.si_value.sival_int = 41;
	r = syscall(SYS_rt_sigqueueinfo, tid2, SIGUSR1, &si);
	wait_got(2);
	printf("rt_sigqueueinfo(second thread's tid, SI_QUEUE): %d, handled: %d, value %d\n", r, got, got_value);

	int others = 0;
	for (int id = pid + 1; id < pid + 400; id++) {
		if (id == tid2 || kill(id, 0) != 0)
			continue;
		if (tgid(id) == pid)
			others++;
	}
	printf("ids after the pid that kill(ID, 0) finds as threads of this process: %d\n", others);

	int codes[] = {SI_KERNEL, SI_USER, 1, SI_TKILL, SI_QUEUE};
	const char *names[] = {"SI_KERNEL", "SI_USER", "1 (SEGV_MAPERR)", "SI_TKILL", "SI_QUEUE"};
	for (int i = 0; i < 5; i++) {
		memset(&si, 0, sizeof si);
		si.si_signo = SIGUSR2;
		si.si_code = codes[i];
		si.si_pid = pid;
		si.si_value.sival_int = 100 + i;
		int before = got;
		errno = 0;
		r = syscall(SYS_rt_sigqueueinfo, pid, SIGUSR2, &si);
		int e = errno;
		wait_got(before + 1);
		printf("rt_sigqueueinfo(self, %s): %d %s, handled %s, si_code %s, value %d\n", names[i], r, r ? ename(e) : "",
		       got > before ? "yes" : "no", got_code == codes[i] ? "as given" : "other", got_value);
		before = got;
		si.si_value.sival_int = 200 + i;
		errno = 0;
		r = syscall(SYS_rt_tgsigqueueinfo, pid, pid, SIGUSR2, &si);
		e = errno;
		wait_got(before + 1);
		printf("rt_tgsigqueueinfo(self, %s): %d %s, handled %s, si_code %s, value %d\n", names[i], r, r ? ename(e) : "",
		       got > before ? "yes" : "no", got_code == codes[i] ? "as given" : "other", got_value);
	}
	stop = 1;
	pthread_join(th, NULL);
	printf("done\n");
	return 0;
}
