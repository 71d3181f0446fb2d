/*
 * sig_ucontext.c — handlers that change the interrupted context through their ucontext_t.
 *
 * Small assembly functions fault at known labels:
 *   - ud2 (SIGILL): the handler checks REG_RIP and si_addr are the ud2, sets REG_RIP past
 *     it and REG_RAX to 77, so the function returns 77.
 *   - a load through a null pointer (SIGSEGV): REG_RIP to the label after the load,
 *     REG_RAX to 0x1234.
 *   - int3 (SIGTRAP): REG_RIP is already past it; the handler only counts.
 *   - an integer division by zero (SIGFPE, FPE_INTDIV): REG_RIP past the div, REG_RAX -1.
 *   - ud2 in a function returning a double: the handler writes 2.5 into xmm0 of the saved
 *     floating-point state (uc_mcontext.fpregs), which must be what the function returns.
 *   - a handler that changes a callee-saved register (REG_RBX) that the function returns.
 * Each case runs 3 times; the program prints what each saw and returned.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

__asm__(".text\n"
	".globl ud2_func\n.type ud2_func,@function\n"
	"ud2_func:\n"
	"	mov $1, %eax\n"
	".globl ud2_at\nud2_at:\n"
	"	ud2\n"
	".globl ud2_after\nud2_after:\n"
	"	ret\n"
	".size ud2_func, .-ud2_func\n"

	".globl load_func\n.type load_func,@function\n"
	"load_func:\n"
	"	xor %eax, %eax\n"
	".globl load_at\nload_at:\n"
	"	mov (%rax), %rax\n"
	".globl load_after\nload_after:\n"
	"	ret\n"
	".size load_func, .-load_func\n"

	".globl int3_func\n.type int3_func,@function\n"
	"int3_func:\n"
	"	mov $5, %eax\n"
	"	int3\n"
	".globl int3_after\nint3_after:\n"
	"	add $1, %eax\n"
	"	ret\n"
	".size int3_func, .-int3_func\n"

	".globl div_func\n.type div_func,@function\n"
	"div_func:\n"
	"	mov $100, %eax\n"
	"	xor %edx, %edx\n"
	"	xor %ecx, %ecx\n"
	".globl div_at\ndiv_at:\n"
	"	div %ecx\n"
	".globl div_after\ndiv_after:\n"
	"	ret\n"
	".size div_func, .-div_func\n"

	".globl xmm_func\n.type xmm_func,@function\n"
	"xmm_func:\n"
	"	xorpd %xmm0, %xmm0\n"
	".globl xmm_at\nxmm_at:\n"
	"	ud2\n"
	".globl xmm_after\nxmm_after:\n"
	"	ret\n"
	".size xmm_func, .-xmm_func\n"

	".globl rbx_func\n.type rbx_func,@function\n"
	"rbx_func:\n"
	"	push %rbx\n"
	"	mov $3, %ebx\n"
	".globl rbx_at\nrbx_at:\n"
	"	ud2\n"
	"	mov %rbx, %rax\n"
	"	pop %rbx\n"
	"	ret\n"
	".size rbx_func, .-rbx_func\n");

long ud2_func(void);
long load_func(void);
long int3_func(void);
long div_func(void);
double xmm_func(void);
long rbx_func(void);
extern char ud2_at[], ud2_after[], load_at[], load_after[], int3_after[], div_at[], div_after[],
	xmm_at[], xmm_after[], rbx_at[];

struct seen {
	int signo, code, rip_ok, addr_ok;
};
static volatile struct seen seen;

static void handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	uintptr_t rip = (uintptr_t)g[REG_RIP];
	seen.signo = sig;
	seen.code = si->si_code;
	seen.rip_ok = 0;
	seen.addr_ok = 0;
	switch (sig) {
	case SIGILL:
		if (rip == (uintptr_t)ud2_at) {
			seen.rip_ok = 1;
			seen.addr_ok = (uintptr_t)si->si_addr == (uintptr_t)ud2_at;
			g[REG_RIP] = (greg_t)(uintptr_t)ud2_after;
			g[REG_RAX] = 77;
		} else if (rip == (uintptr_t)xmm_at) {
			seen.rip_ok = 1;
			seen.addr_ok = (uintptr_t)si->si_addr == (uintptr_t)xmm_at;
			double d = 2.5;
			uint64_t bits;
			memcpy(&bits, &d, sizeof bits);
			uc->uc_mcontext.fpregs->_xmm[0].element[0] = (uint32_t)bits;
			uc->uc_mcontext.fpregs->_xmm[0].element[1] = (uint32_t)(bits >> 32);
			g[REG_RIP] = (greg_t)(uintptr_t)xmm_after;
		} else if (rip == (uintptr_t)rbx_at) {
			seen.rip_ok = 1;
			seen.addr_ok = (uintptr_t)si->si_addr == (uintptr_t)rbx_at && g[REG_RBX] == 3;
			g[REG_RBX] = 0xabcdef;
			g[REG_RIP] += 2; /* ud2 is 2 bytes */
		}
		break;
	case SIGSEGV:
		seen.rip_ok = rip == (uintptr_t)load_at;
		seen.addr_ok = si->si_addr == NULL;
		g[REG_RIP] = (greg_t)(uintptr_t)load_after;
		g[REG_RAX] = 0x1234;
		break;
	case SIGTRAP:
		seen.rip_ok = rip == (uintptr_t)int3_after;
		seen.addr_ok = 1;
		break;
	case SIGFPE:
		seen.rip_ok = rip == (uintptr_t)div_at;
		seen.addr_ok = (uintptr_t)si->si_addr == (uintptr_t)div_at;
		g[REG_RIP] = (greg_t)(uintptr_t)div_after;
		g[REG_RAX] = -1;
		break;
	}
}

static const char *codename(int sig, int code)
{
	if (sig == SIGILL && code == ILL_ILLOPN)
		return "ILL_ILLOPN";
	if (sig == SIGSEGV && code == SEGV_MAPERR)
		return "SEGV_MAPERR";
	if (sig == SIGFPE && code == FPE_INTDIV)
		return "FPE_INTDIV";
	if (code == SI_KERNEL)
		return "SI_KERNEL";
	static char buf[32];
	snprintf(buf, sizeof buf, "%d", code);
	return buf;
}

static void show(const char *what, int round, long got)
{
	printf("%s, round %d: returned %ld; handler saw signal %d, si_code %s, rip at the "
	       "instruction: %s, si_addr/registers right: %s\n",
	       what, round, got, seen.signo, codename(seen.signo, seen.code), seen.rip_ok ? "yes" : "no",
	       seen.addr_ok ? "yes" : "no");
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	int sigs[] = {SIGILL, SIGSEGV, SIGTRAP, SIGFPE};
	for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);

	for (int r = 1; r <= 3; r++) {
		memset((void *)&seen, 0, sizeof seen);
		show("ud2, rip moved past it, rax set", r, ud2_func());
		memset((void *)&seen, 0, sizeof seen);
		show("null load, rip moved past it, rax set", r, load_func());
		memset((void *)&seen, 0, sizeof seen);
		show("int3, handler returns", r, int3_func());
		memset((void *)&seen, 0, sizeof seen);
		show("divide by zero, rip moved past it, rax set", r, div_func());
		memset((void *)&seen, 0, sizeof seen);
		double d = xmm_func();
		printf("ud2, xmm0 set in the saved fpregs, round %d: returned %.2f; rip at the instruction: %s\n",
		       r, d, seen.rip_ok ? "yes" : "no");
		memset((void *)&seen, 0, sizeof seen);
		show("ud2, rbx changed in the saved registers", r, rbx_func());
	}
	return 0;
}
