/*
 * sig_step.c — a program that single-steps itself: it sets TF, the trap flag, with popf
 * and counts the SIGTRAPs (si_code TRAP_TRACE) its handler gets, one after each of its
 * instructions (Intel SDM vol. 3, 18.3.1.4; Linux: exc_debug_user, and rt_sigreturn
 * keeps TF, FIX_EFLAGS). Stepped: plain instructions, a raw syscall, a signal handler run
 * meanwhile (Linux clears TF for it), and a libc syscall wrapper called again and again
 * (a site a kernel in the process may rewrite). Each trap's address must be the
 * program's own code (a file-backed executable mapping), never a kernel's in between.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define TF (1ul << 8)
#define MAXIPS 4096

static volatile int traps, badcode;
static volatile uint64_t ips[MAXIPS];
static volatile int usr1, usr1_tf;

static void on_trap(int sig, siginfo_t *si, void *uc)
{
	uint64_t ip = ((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
	if (si->si_code != 2 /* TRAP_TRACE */ || (uint64_t)si->si_addr != ip)
		badcode++;
	if (traps < MAXIPS)
		ips[traps] = ip;
	traps++;
}

static void on_usr1(int sig)
{
	uint64_t f;
	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	usr1++;
	usr1_tf = !!(f & TF);
}

#define STEP_ON() __asm__ volatile("pushfq; orq $0x100, (%%rsp); popfq" ::: "memory", "cc")
#define STEP_OFF() __asm__ volatile("pushfq; andq $~0x100, (%%rsp); popfq" ::: "memory", "cc")

/* Whether every recorded trap address lies in a file-backed executable mapping. */
static int own_code(int n)
{
	char line[512];
	int ok = 1;
	for (int i = 0; i < n && i < MAXIPS; i++) {
		FILE *f = fopen("/proc/self/maps", "r");
		int found = 0;
		while (f && fgets(line, sizeof line, f)) {
			unsigned long lo, hi;
			char perms[8];
			int off = 0;
			if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &lo, &hi, perms, &off) < 3)
				continue;
			if (ips[i] >= lo && ips[i] < hi && perms[2] == 'x' && line[off] == '/')
				found = 1;
		}
		if (f)
			fclose(f);
		if (!found) {
			printf("  trap %d at %#lx: not the program's code\n", i, (unsigned long)ips[i]);
			ok = 0;
		}
	}
	return ok;
}

static void report(const char *what)
{
	int n = traps;
	printf("%s: %d traps, si_code and si_addr right: %s, in the program's code: %s\n", what, n,
	       badcode ? "no" : "yes", own_code(n) ? "yes" : "no");
	traps = badcode = 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGTRAP, &sa, NULL);
	signal(SIGUSR1, on_usr1);
	getppid(); /* bound before it is stepped */

	STEP_ON();
	__asm__ volatile("nop; nop; nop");
	STEP_OFF();
	report("three nops");

	long r;
	STEP_ON();
	__asm__ volatile("syscall" : "=a"(r) : "a"(SYS_getppid) : "rcx", "r11", "memory");
	STEP_OFF();
	report("raw syscall");

	long pid = getpid();
	STEP_ON();
	__asm__ volatile("syscall" : "=a"(r) : "a"(SYS_kill), "D"(pid), "S"(SIGUSR1) : "rcx", "r11", "memory");
	__asm__ volatile("nop; nop");
	STEP_OFF();
	printf("SIGUSR1 handled %d time(s), with TF %d\n", usr1, usr1_tf);
	report("signal meanwhile");

	for (int round = 0; round < 6; round++) {
		for (int i = 0; i < 3; i++)
			getppid();
		STEP_ON();
		getppid();
		STEP_OFF();
		char what[32];
		snprintf(what, sizeof what, "libc getppid, round %d", round);
		report(what);
	}
	return 0;
}
