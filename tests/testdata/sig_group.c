/*
 * sig_group.c — signals to a process group the caller belongs to, and signals to other
 * processes (kill(2), tkill(2)).
 *
 * usage: sig_group MODE, one of
 *   self    makes itself a process group of its own (setpgid(0, 0)), then sends itself
 *           signals through its group: kill(0, …) and kill(-getpgrp(), …), among them
 *           SIGURG, SIGPIPE, SIGSYS and SIGSEGV (which golos's process uses or traps
 *           itself); each handler must run once, before kill returns, with SI_USER and
 *           the caller's pid; tkill(2) and kill(2) to its parent (signal 0) succeed
 *   helper  a member of a group: prints "ready", waits for SIGUSR1, SIGUSR2 and SIGURG,
 *           prints how they came, exits
 *   send    a member of the helper's group: kill(0, SIGUSR1), kill(-getpgrp(), SIGUSR2),
 *           kill(0, SIGURG); its own handlers must run once each
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile sig_atomic_t count[65], code[65], frompid[65];

static void on_sig(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	count[sig]++;
	code[sig] = si->si_code;
	frompid[sig] = si->si_pid;
}

static void catch(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sig;
	sa.sa_flags = SA_SIGINFO;
	sigaction(sig, &sa, 0);
}

static int failures;

static void check(const char *what, int sig)
{
	int ok = count[sig] == 1 && code[sig] == SI_USER && frompid[sig] == getpid();
	printf("%s: handled %d time(s) before kill returned, si_code %s, si_pid == getpid(): %s\n",
	       what, (int)count[sig], code[sig] == SI_USER ? "SI_USER" : "other",
	       frompid[sig] == getpid() ? "yes" : "no");
	if (!ok)
		failures++;
	count[sig] = 0;
}

static int self(void)
{
	if (setpgid(0, 0) != 0) {
		perror("setpgid");
		return 2;
	}
	static const struct {
		const char *name;
		int sig, by_pgrp;
	} sigs[] = {
		{"SIGUSR1", SIGUSR1, 0}, {"SIGUSR2", SIGUSR2, 1}, {"SIGTERM", SIGTERM, 0},
		{"SIGURG", SIGURG, 0},   {"SIGPIPE", SIGPIPE, 1}, {"SIGSYS", SIGSYS, 0},
		{"SIGSEGV", SIGSEGV, 0}, {"SIGCHLD", SIGCHLD, 1},
	};
	for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		catch(sigs[i].sig);
		int r = kill(sigs[i].by_pgrp ? -getpgrp() : 0, sigs[i].sig);
		char what[64];
		snprintf(what, sizeof what, "kill(%s, %s) = %d", sigs[i].by_pgrp ? "-pgrp" : "0",
			 sigs[i].name, r);
		check(what, sigs[i].sig);
	}
	int rt = SIGRTMIN + 1;
	catch(rt);
	kill(0, rt);
	check("kill(0, SIGRTMIN+1)", rt);
	printf("kill(0, 0) = %d\n", kill(0, 0));
	printf("kill(getppid(), 0) = %d\n", kill(getppid(), 0));
	printf("tkill(getppid(), 0) = %ld\n", syscall(SYS_tkill, getppid(), 0));
	printf("failures: %d\n", failures);
	return failures != 0;
}

static int helper(void)
{
	catch(SIGUSR1);
	catch(SIGUSR2);
	catch(SIGURG);
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGURG);
	sigprocmask(SIG_BLOCK, &block, &old);
	printf("ready\n");
	fflush(stdout);
	while (!count[SIGUSR1] || !count[SIGUSR2] || !count[SIGURG])
		sigsuspend(&old);
	int sender = frompid[SIGUSR1];
	printf("helper: SIGUSR1 %d, SIGUSR2 %d, SIGURG %d time(s), all SI_USER from one process: %s\n",
	       (int)count[SIGUSR1], (int)count[SIGUSR2], (int)count[SIGURG],
	       code[SIGUSR1] == SI_USER && code[SIGUSR2] == SI_USER && code[SIGURG] == SI_USER &&
			       frompid[SIGUSR2] == sender && frompid[SIGURG] == sender
		       ? "yes"
		       : "no");
	printf("sender %d\n", sender);
	return 0;
}

static int send(void)
{
	catch(SIGUSR1);
	catch(SIGUSR2);
	catch(SIGURG);
	printf("pid %d\n", getpid());
	check("kill(0, SIGUSR1)", (kill(0, SIGUSR1), SIGUSR1));
	check("kill(-pgrp, SIGUSR2)", (kill(-getpgrp(), SIGUSR2), SIGUSR2));
	check("kill(0, SIGURG)", (kill(0, SIGURG), SIGURG));
	printf("failures: %d\n", failures);
	return failures != 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "self") == 0)
		return self();
	if (argc == 2 && strcmp(argv[1], "helper") == 0)
		return helper();
	if (argc == 2 && strcmp(argv[1], "send") == 0)
		return send();
	fprintf(stderr, "usage: sig_group self|helper|send\n");
	return 2;
}
