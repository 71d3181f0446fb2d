/*
 * sig_segv.c — SIGSEGV handlers that read thread-local storage and siglongjmp out.
 *
 * In the main thread and then in a second thread, 10 rounds each: set a __thread marker,
 * sigsetjmp, fault (a load from an unmapped low address, or a store to a PROT_NONE page),
 * and let the SA_SIGINFO handler record the marker it reads through its own TLS, si_signo,
 * si_code and whether si_addr is the address touched, then siglongjmp back. After each
 * round the program checks that SIGSEGV is unblocked again (sigsetjmp(…, 1) saved the
 * mask) and that the stack and TLS are intact. The exit status is 0 when all is right.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ROUNDS 10

static __thread int tls_marker;
static __thread sigjmp_buf tls_jmp; /* each thread jumps back to its own buffer */
static __thread volatile uintptr_t tls_expected_addr;

struct seen {
	int marker, signo, code, addr_ok;
};
static __thread struct seen tls_seen;

static void handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	tls_seen.marker = tls_marker;
	tls_seen.signo = si->si_signo;
	tls_seen.code = si->si_code;
	tls_seen.addr_ok = (uintptr_t)si->si_addr == tls_expected_addr && sig == SIGSEGV;
	siglongjmp(tls_jmp, 1);
}

static const char *codename(int c)
{
	switch (c) {
	case SEGV_MAPERR: return "SEGV_MAPERR";
	case SEGV_ACCERR: return "SEGV_ACCERR";
	}
	return "other";
}

static char *noaccess; /* one PROT_NONE page */

static int run(const char *who)
{
	int bad = 0;
	for (int i = 0; i < ROUNDS; i++) {
		volatile int canary = 0x5eed0000 + i;
		tls_marker = 1000 * (who[0] == 'm' ? 1 : 2) + i;
		memset(&tls_seen, 0, sizeof tls_seen);
		int use_prot_none = i % 2;
		if (sigsetjmp(tls_jmp, 1) == 0) {
			if (use_prot_none) {
				tls_expected_addr = (uintptr_t)(noaccess + 8 * i);
				*(volatile char *)tls_expected_addr = 1;
			} else {
				tls_expected_addr = 0x100 + 16 * i;
				(void)*(volatile int *)tls_expected_addr;
			}
			printf("%s round %d: no fault\n", who, i);
			bad++;
			continue;
		}
		sigset_t now;
		sigprocmask(SIG_BLOCK, NULL, &now);
		int ok = tls_seen.marker == tls_marker && tls_seen.signo == SIGSEGV && tls_seen.addr_ok &&
			 tls_seen.code == (use_prot_none ? SEGV_ACCERR : SEGV_MAPERR) &&
			 !sigismember(&now, SIGSEGV) && canary == 0x5eed0000 + i;
		printf("%s round %d: handler read tls marker %d, si_signo %d, si_code %s, si_addr %s, "
		       "SIGSEGV unblocked after siglongjmp: %s%s\n",
		       who, i, tls_seen.marker, tls_seen.signo, codename(tls_seen.code),
		       tls_seen.addr_ok ? "right" : "WRONG", sigismember(&now, SIGSEGV) ? "no" : "yes",
		       ok ? "" : " (WRONG)");
		bad += !ok;
	}
	return bad;
}

static void *thread_main(void *arg)
{
	(void)arg;
	return (void *)(long)run("thread");
}

int main(void)
{
	noaccess = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (noaccess == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);

	int bad = run("main");
	pthread_t th;
	void *ret;
	pthread_create(&th, NULL, thread_main, NULL);
	pthread_join(th, &ret);
	bad += (int)(long)ret;
	bad += run("main again");
	printf("failures: %d\n", bad);
	return bad != 0;
}
