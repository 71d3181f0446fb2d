/*
 * sig_altstack.c — handlers on an alternate signal stack (sigaltstack(2)).
 *
 * 1. Main thread: a SA_ONSTACK handler for SIGUSR1 checks that a local variable of its own
 *    lies within the alternate stack, that sigaltstack(NULL, &old) reports SS_ONSTACK
 *    there (and not outside a handler), and that changing the alternate stack while on it
 *    fails with EPERM. From inside, it raises SIGUSR2 (also SA_ONSTACK), whose handler
 *    must run on the same stack, below the first handler's frame.
 * 2. A handler without SA_ONSTACK runs on the normal stack even though an alternate stack
 *    is set.
 * 3. SS_AUTODISARM: inside the handler the alternate stack reads as disabled
 *    (SS_DISABLE), and afterwards it is set again.
 * 4. A thread with a small stack of its own and an alternate stack overflows its stack by
 *    recursion; the SIGSEGV handler runs on the alternate stack and siglongjmps out.
 * 5. sigaltstack() refuses a stack smaller than MINSIGSTKSZ (ENOMEM) and unknown flags
 *    (EINVAL).
 * 0. Before any of that, no alternate stack is set: sigaltstack(NULL, &old) reports
 *    SS_DISABLE with a NULL stack and size 0 on the main thread and on a new thread
 *    (kernel/signal.c, sas_ss_flags: SS_DISABLE when the size is 0). The Go runtime of a
 *    cgo program takes any other answer for a stack C set up and keeps it, so its signal
 *    handlers ran on no stack of their own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31) /* Linux 4.7, <linux/signal.h> */
#endif

#define ALT_SIZE (64 * 1024)

static int failures;

static void yesno(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "yes" : "no");
	if (!ok)
		failures++;
}

static char *alt; /* the main thread's alternate stack */

static int within(const void *p, const char *base, size_t size)
{
	return (uintptr_t)p >= (uintptr_t)base && (uintptr_t)p < (uintptr_t)base + size;
}

struct obs {
	int ran, on_alt, ss_onstack, eperm, ss_disable;
	uintptr_t local;
};
static volatile struct obs usr1, usr2, plain, autodis;

static void on_usr2(int sig)
{
	volatile int local = sig;
	stack_t old;
	usr2.ran++;
	usr2.local = (uintptr_t)&local;
	usr2.on_alt = within((void *)&local, alt, ALT_SIZE);
	usr2.ss_onstack = sigaltstack(NULL, &old) == 0 && (old.ss_flags & SS_ONSTACK);
}

static void on_usr1(int sig)
{
	volatile int local = sig;
	stack_t old, ns;
	usr1.ran++;
	usr1.local = (uintptr_t)&local;
	usr1.on_alt = within((void *)&local, alt, ALT_SIZE);
	usr1.ss_onstack = sigaltstack(NULL, &old) == 0 && (old.ss_flags & SS_ONSTACK) &&
			  old.ss_sp == alt && old.ss_size == ALT_SIZE;
	ns.ss_sp = malloc(ALT_SIZE);
	ns.ss_size = ALT_SIZE;
	ns.ss_flags = 0;
	usr1.eperm = sigaltstack(&ns, NULL) == -1 && errno == EPERM;
	free(ns.ss_sp);
	raise(SIGUSR2);
}

static void on_plain(int sig)
{
	volatile int local = sig;
	stack_t old;
	plain.ran++;
	plain.on_alt = within((void *)&local, alt, ALT_SIZE);
	plain.ss_onstack = sigaltstack(NULL, &old) == 0 && (old.ss_flags & SS_ONSTACK);
}

static void on_autodisarm(int sig)
{
	volatile int local = sig;
	stack_t old;
	autodis.ran++;
	autodis.on_alt = within((void *)&local, alt, ALT_SIZE);
	autodis.ss_disable = sigaltstack(NULL, &old) == 0 && old.ss_flags == SS_DISABLE;
}

static void set_handler(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* 4. stack overflow in a thread */
static __thread sigjmp_buf overflow_jmp;
static __thread char *thread_alt;
static volatile int overflow_on_alt, overflow_signo, overflow_handled;

static void on_overflow(int sig, siginfo_t *si, void *uc)
{
	volatile int local = 0;
	(void)si;
	(void)uc;
	overflow_signo = sig;
	overflow_on_alt = within((void *)&local, thread_alt, ALT_SIZE);
	overflow_handled++;
	siglongjmp(overflow_jmp, 1);
}

static volatile long depth_reached;
static volatile long depth_limit = 1L << 40; /* never reached: the stack ends first */

__attribute__((noinline)) static long recurse(long n)
{
	volatile char pad[512];
	pad[0] = (char)n;
	depth_reached = n;
	if (n > depth_limit)
		return 0;
	return recurse(n + 1) + pad[0];
}

static void *overflow_thread(void *arg)
{
	(void)arg;
	thread_alt = mmap(NULL, ALT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	stack_t ss = {.ss_sp = thread_alt, .ss_size = ALT_SIZE, .ss_flags = 0};
	if (sigaltstack(&ss, NULL) != 0)
		return (void *)1;
	if (sigsetjmp(overflow_jmp, 1) == 0) {
		recurse(0);
		return (void *)2;
	}
	return (void *)0;
}


static int disabled(const stack_t *s)
{
	return s->ss_flags == SS_DISABLE && s->ss_sp == NULL && s->ss_size == 0;
}

static void *fresh_thread(void *arg)
{
	(void)arg;
	stack_t old;
	return (void *)(intptr_t)(sigaltstack(NULL, &old) == 0 && disabled(&old));
}

int main(void)
{
	stack_t old;

	/* 0. */
	yesno("no alternate stack yet: main thread reads SS_DISABLE", sigaltstack(NULL, &old) == 0 && disabled(&old));
	pthread_t th;
	void *th_ok = NULL;
	yesno("no alternate stack yet: a new thread reads SS_DISABLE",
	      pthread_create(&th, NULL, fresh_thread, NULL) == 0 && pthread_join(th, &th_ok) == 0 && th_ok != NULL);

	/* 1. */
	alt = malloc(ALT_SIZE);
	stack_t ss = {.ss_sp = alt, .ss_size = ALT_SIZE, .ss_flags = 0};
	yesno("sigaltstack set", sigaltstack(&ss, NULL) == 0);
	yesno("outside a handler: SS_ONSTACK clear",
	      sigaltstack(NULL, &old) == 0 && !(old.ss_flags & SS_ONSTACK) && old.ss_sp == alt);
	set_handler(SIGUSR1, on_usr1, SA_ONSTACK);
	set_handler(SIGUSR2, on_usr2, SA_ONSTACK);
	raise(SIGUSR1);
	yesno("SIGUSR1 handler ran once", usr1.ran == 1);
	yesno("SIGUSR1 handler's local on the alternate stack", usr1.on_alt);
	yesno("SIGUSR1 handler: sigaltstack reports SS_ONSTACK, same stack", usr1.ss_onstack);
	yesno("SIGUSR1 handler: changing the stack while on it fails with EPERM", usr1.eperm);
	yesno("nested SIGUSR2 handler ran once", usr2.ran == 1);
	yesno("nested SIGUSR2 handler on the alternate stack", usr2.on_alt);
	yesno("nested SIGUSR2 handler below the SIGUSR1 frame", usr2.local < usr1.local);
	yesno("nested SIGUSR2 handler: SS_ONSTACK", usr2.ss_onstack);
	yesno("after the handlers: SS_ONSTACK clear",
	      sigaltstack(NULL, &old) == 0 && !(old.ss_flags & SS_ONSTACK));

	/* 2. */
	set_handler(SIGUSR1, on_plain, 0);
	raise(SIGUSR1);
	yesno("handler without SA_ONSTACK ran", plain.ran == 1);
	yesno("handler without SA_ONSTACK on the normal stack", !plain.on_alt && !plain.ss_onstack);

	/* 3. */
	ss.ss_flags = SS_AUTODISARM;
	int r = sigaltstack(&ss, NULL);
	yesno("SS_AUTODISARM accepted", r == 0);
	if (r == 0) {
		set_handler(SIGUSR1, on_autodisarm, SA_ONSTACK);
		raise(SIGUSR1);
		yesno("SS_AUTODISARM handler ran on the alternate stack", autodis.ran == 1 && autodis.on_alt);
		yesno("SS_AUTODISARM: inside the handler the stack reads as SS_DISABLE", autodis.ss_disable);
		yesno("SS_AUTODISARM: after the handler the stack is set again",
		      sigaltstack(NULL, &old) == 0 && old.ss_sp == alt && old.ss_size == ALT_SIZE &&
			      (old.ss_flags & ~SS_AUTODISARM) == 0);
	}

	/* 4. */
	{
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = on_overflow;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGSEGV, &sa, NULL);
		pthread_attr_t a;
		pthread_attr_init(&a);
		pthread_attr_setstacksize(&a, 256 * 1024);
		pthread_t th;
		void *ret;
		pthread_create(&th, &a, overflow_thread, NULL);
		pthread_join(th, &ret);
		yesno("stack overflow in a thread: SIGSEGV handled once", ret == 0 && overflow_handled == 1 &&
										  overflow_signo == SIGSEGV);
		yesno("stack overflow: handler on the thread's alternate stack", overflow_on_alt);
		yesno("stack overflow: the recursion went deep", depth_reached > 100);
	}

	/* 5. */
	{
		stack_t small = {.ss_sp = alt, .ss_size = 512, .ss_flags = 0};
		r = sigaltstack(&small, NULL);
		yesno("stack smaller than MINSIGSTKSZ refused with ENOMEM", r == -1 && errno == ENOMEM);
		stack_t bad = {.ss_sp = alt, .ss_size = ALT_SIZE, .ss_flags = 0x10};
		r = sigaltstack(&bad, NULL);
		yesno("unknown ss_flags refused with EINVAL", r == -1 && errno == EINVAL);
		stack_t off = {.ss_flags = SS_DISABLE};
		yesno("SS_DISABLE accepted", sigaltstack(&off, NULL) == 0);
		yesno("then the stack reads as SS_DISABLE", sigaltstack(NULL, &old) == 0 && old.ss_flags == SS_DISABLE);
	}

	printf("failures: %d\n", failures);
	return failures != 0;
}
