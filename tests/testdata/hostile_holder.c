/*
 * hostile_holder.c — goes after the processes golos makes for a fork that the program
 * never made (a lazy fork's memory holder, named golos-holder), and pretends to be one.
 * With 64 MiB of its own memory touched, it forks a child that waits; says "child PID";
 * reads from stdin the ids the harness found on the host for processes of the tree that
 * are no process of the program's (none natively); tries each with kill(2) 0,
 * tgkill(2) 0, pidfd_open(2), process_vm_readv(2) and an open of /proc/ID/stat, sends it
 * SIGKILL, then lets the child read its memory and reports how it ended. Then a second
 * child names itself golos-holder (prctl PR_SET_NAME): it must stay listed in /proc and
 * be a process for kill(2), and stay listed once it has ended and is not reaped yet.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ename.h"

#define SIZE (64 << 20)

/* res is a call's result: "0", or its errno's name (e, errno right after it). */
static const char *res(long r, int e)
{
	return r < 0 ? ename(e) : "0";
}

/* listed_pid reports whether a listing of /proc has pid. */
static int listed_pid(pid_t pid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int listed = 0;
	while (d && (e = readdir(d)))
		if (atoi(e->d_name) == pid)
			listed = 1;
	if (d)
		closedir(d);
	return listed;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	char *m = malloc(SIZE);
	for (long i = 0; i < SIZE; i += 4096)
		m[i] = 1;
	int go[2];
	if (pipe(go) < 0)
		return 1;
	pid_t c = fork();
	if (c == 0) {
		char x;
		read(go[0], &x, 1);
		long sum = 0;
		for (long i = 0; i < SIZE; i += 4096)
			sum += m[i];
		_exit(sum == SIZE / 4096 ? 3 : 4);
	}
	printf("child %d\n", c);
	int tried = 0, found = 0;
	int id;
	while (scanf("%d", &id) == 1) {
		tried++;
		char path[64], buf[16];
		snprintf(path, sizeof path, "/proc/%d/stat", id);
		struct iovec l = {buf, sizeof buf}, r = {m, sizeof buf};
		long k = kill(id, 0);
		int ke = errno;
		long tg = syscall(SYS_tgkill, id, id, 0);
		int tge = errno;
		long pf = syscall(SYS_pidfd_open, id, 0);
		int pfe = errno;
		long vm = process_vm_readv(id, &l, 1, &r, 1, 0);
		int vme = errno;
		int st = open(path, O_RDONLY);
		int ste = errno;
		if (k == 0 || tg == 0 || pf >= 0 || vm >= 0 || st >= 0)
			found++;
		printf("kill 0: %s, tgkill 0: %s, pidfd_open: %s, process_vm_readv: %s, /proc/ID/stat: %s\n",
		       res(k, ke), res(tg, tge), res(pf, pfe), res(vm, vme), res(st, ste));
		kill(id, SIGKILL);
	}
	printf("ids tried: %s; found: %d\n", tried ? "some" : "none", found);
	write(go[1], "x", 1);
	int ws;
	waitpid(c, &ws, 0);
	printf("child: %s %d\n", WIFEXITED(ws) ? "exit" : "signal", WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws));

	int named[2];
	if (pipe(named) < 0)
		return 1;
	c = fork();
	if (c == 0) {
		prctl(PR_SET_NAME, "golos-holder");
		write(named[1], "x", 1);
		pause();
		_exit(0);
	}
	char x;
	read(named[0], &x, 1);
	int listed = listed_pid(c);
	long k = kill(c, 0);
	printf("a child named golos-holder: listed %s, kill 0: %s\n", listed ? "yes" : "no", res(k, errno));
	/* Ended and not yet reaped: a zombie, still listed. */
	kill(c, SIGKILL);
	siginfo_t si;
	waitid(P_PID, c, &si, WEXITED | WNOWAIT);
	printf("the same ended, not reaped: listed %s\n", listed_pid(c) ? "yes" : "no");
	waitpid(c, &ws, 0);
	return 0;
}
