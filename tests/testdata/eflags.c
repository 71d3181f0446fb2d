/*
 * eflags.c — odd flags a program may leave set while it makes syscalls, faults and takes
 * signals: AC (alignment checking: an unaligned access then raises SIGBUS) and DF (string
 * instructions run backwards). Linux keeps both across a syscall and keeps AC in a signal
 * handler (it clears DF there, as the psABI wants at a function's entry); a kernel that
 * runs its own code in the program's CPU context must not inherit them.
 *
 * While a flag is set the program touches no libc function that may make unaligned
 * accesses: raw syscall instructions, glibc's one-instruction getppid wrapper, a page fault
 * on aligned stores, and signals sent with raw kill. It prints what it saw.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define AC (1ul << 18)
#define DF (1ul << 10)

static inline uint64_t flags(void)
{
	uint64_t f;
	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

static inline void setflags(uint64_t set)
{
	__asm__ volatile("pushfq; orq %0, (%%rsp); popfq" : : "r"(set) : "memory", "cc");
}

static inline void clearflags(uint64_t clr)
{
	__asm__ volatile("pushfq; andq %0, (%%rsp); popfq" : : "r"(~clr) : "memory", "cc");
}

static inline long raw2(long n, long a, long b)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return r;
}

static volatile uint64_t handler_flags;
static volatile int handled;

static void on_usr1(int sig)
{
	(void)sig;
	handler_flags = flags();
	handled++;
}

/* Runs with the given flags set; returns the number of times they were lost. */
static long with_flags(uint64_t set, char *page, long pid)
{
	long lost = 0;
	setflags(set);
	for (int i = 0; i < 2000; i++) {
		raw2(SYS_getppid, 0, 0);
		lost += (flags() & set) != set;
	}
	for (int i = 0; i < 16; i++) {
		((volatile uint64_t *)(page + (i << 12)))[0] = i; /* a fresh page each time */
		lost += (flags() & set) != set;
	}
	for (int i = 0; i < 50; i++) {
		raw2(SYS_kill, pid, SIGUSR1);
		lost += (flags() & set) != set;
	}
	clearflags(set);
	return lost;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	long pid = getpid();
	const struct {
		const char *name;
		uint64_t set;
	} cases[] = {{"AC", AC}, {"DF", DF}, {"AC+DF", AC | DF}};
	for (unsigned c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		char *page = mmap(NULL, 16 << 12, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		handled = 0;
		long lost = with_flags(cases[c].set, page, pid);
		/* glibc's getppid (a site golos may rewrite) with AC set */
		setflags(cases[c].set & AC);
		for (int i = 0; i < 2000; i++)
			getppid();
		lost += (flags() & (cases[c].set & AC)) != (cases[c].set & AC);
		clearflags(AC);
		munmap(page, 16 << 12);
		printf("%s: lost %ld times; handler ran %d times, saw AC=%d DF=%d\n", cases[c].name, lost,
		       handled, (handler_flags & AC) != 0, (handler_flags & DF) != 0);
	}
	return 0;
}
