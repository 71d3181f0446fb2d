/*
 * proc_status_sigs.c — /proc/self/status shows the program's signals (proc(5)): SIGPIPE
 * ignored, SIGUSR1 caught, SIGUSR2 blocked and pending for the thread, SIGTERM blocked
 * and pending for the process; then, after execve of grep (CPython's subprocess tests
 * read it so), what the new program keeps (execve(2)): the ignored and blocked signals,
 * the pending ones, and no handler.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void on_usr1(int sig) { (void)sig; }

static void show(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "SigPnd:", 7) || !strncmp(line, "ShdPnd:", 7) || !strncmp(line, "SigBlk:", 7) ||
		    !strncmp(line, "SigIgn:", 7) || !strncmp(line, "SigCgt:", 7))
			fputs(line, stdout);
	if (f)
		fclose(f);
}

int main(void)
{
	printf("at start:\n");
	show();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR1, on_usr1);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	syscall(SYS_tgkill, getpid(), gettid(), SIGUSR2);
	kill(getpid(), SIGTERM);
	printf("set:\n");
	show();
	printf("after execve of grep:\n");
	fflush(stdout);
	execl("/bin/grep", "grep", "-E", "^(SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt):", "/proc/self/status", (char *)NULL);
	perror("execl /bin/grep");
	return 1;
}
