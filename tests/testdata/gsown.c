/*
 * gsown.c — the program owns GS.
 *
 * Linux gives every program arch_prctl(ARCH_SET_GS), whether or not the CPU has FSGSBASE
 * (the kernel writes the MSR), and keeps a thread's GS base across syscalls, page faults,
 * signal handlers (which run with the interrupted GS) and clone (a new thread starts
 * with its creator's GS base). golos keeps its own data on GS, so it must switch it on
 * every crossing. Each phase below reads %gs:8 — a value only the block GS points at
 * holds — after every event, and counts mismatches:
 *
 *   syscalls   raw syscall instructions and libc's own wrappers (sites golos may rewrite)
 *   faults     first touches of fresh pages
 *   handler    a handler run by raise(), and a SIGSEGV handler left by siglongjmp
 *   threads    four threads inherit the creator's GS, set their own, make syscalls
 *   busy       a thread spinning in user code while another sends it 200 signals
 *   spin       ("spin" argument) the main thread spins in user code for a second, while
 *              the test sends the process signals from outside (SIGURG: ignored by the
 *              program, taken by golos's Go runtime on whatever thread it lands)
 *
 * It prints one line per phase and exits 0 iff nothing was wrong.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ARCH_SET_GS 0x1001
#define ARCH_GET_GS 0x1004

static inline long raw2(long n, long a, long b)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return r;
}

static inline uint64_t gs8(void)
{
	uint64_t v;
	__asm__ volatile("movq %%gs:8, %0" : "=r"(v));
	return v;
}

/* Each block's word 1 holds a value unique to it. */
struct block {
	uint64_t w[8];
};

static struct block mainblock = {{0, 0x6d61696e00000001ull}};

static long set_gs(struct block *b) { return raw2(SYS_arch_prctl, ARCH_SET_GS, (long)b); }

static uint64_t get_gs(void)
{
	uint64_t v = 0;
	raw2(SYS_arch_prctl, ARCH_GET_GS, (long)&v);
	return v;
}

static volatile uint64_t handler_saw;
static void on_usr1(int sig)
{
	(void)sig;
	handler_saw = gs8();
}

static sigjmp_buf segv_jump;
static volatile uint64_t segv_saw;
static void on_segv(int sig)
{
	(void)sig;
	segv_saw = gs8();
	siglongjmp(segv_jump, 1);
}

struct worker {
	pthread_t th;
	struct block blk;
	uint64_t inherited;
	long bad;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	w->inherited = gs8();
	if (set_gs(&w->blk) != 0) {
		w->bad = 1000000;
		return NULL;
	}
	for (int i = 0; i < 5000; i++) {
		if (i & 1)
			raw2(SYS_getppid, 0, 0);
		else
			getppid();
		w->bad += gs8() != w->blk.w[1];
		if (i % 1000 == 0)
			sched_yield();
	}
	w->bad += get_gs() != (uint64_t)&w->blk;
	return NULL;
}

static volatile int busy_signals, busy_stop, busy_ready;
static volatile long busy_bad;
static struct block busyblock = {{0, 0x6275737900000003ull}};

static void on_usr2(int sig)
{
	(void)sig;
	busy_bad += gs8() != busyblock.w[1];
	busy_signals++;
}

static void *busy_main(void *arg)
{
	(void)arg;
	set_gs(&busyblock);
	busy_ready = 1;
	long bad = 0;
	while (!busy_stop)
		bad += gs8() != busyblock.w[1];
	busy_bad += bad;
	return NULL;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long bad, total = 0;
	const uint64_t want = mainblock.w[1];

	if (set_gs(&mainblock) != 0) {
		printf("arch_prctl(ARCH_SET_GS) failed\n");
		return 1;
	}
	printf("ARCH_GET_GS gives the block: %s\n", get_gs() == (uint64_t)&mainblock ? "yes" : "no");
	// 1<<56 is past the user address space with 4-level paging and with 5-level (LA57)
	// alike; 1<<47 is past it only with 4-level paging: with 5-level paging Linux takes it
	// (TASK_SIZE_MAX, arch/x86/include/asm/page_64.h), so the line says which the machine
	// did, and golos must do the same. GS is put back before anything reads it.
	printf("a non-canonical base is refused: %s\n",
	       raw2(SYS_arch_prctl, ARCH_SET_GS, (long)(1ull << 56)) < 0 ? "yes" : "no");
	int above47 = raw2(SYS_arch_prctl, ARCH_SET_GS, (long)(1ull << 47)) == 0;
	if (above47)
		set_gs(&mainblock);
	printf("a base above 47 bits (5-level paging only): %s\n", above47 ? "taken" : "refused");
	total += get_gs() != (uint64_t)&mainblock;

	bad = 0;
	for (int i = 0; i < 20000; i++) {
		raw2(SYS_getppid, 0, 0);
		bad += gs8() != want;
		getppid();
		bad += gs8() != want;
		syscall(SYS_getppid);
		bad += gs8() != want;
	}
	printf("syscalls: %ld mismatches\n", bad);
	total += bad;

	bad = 0;
	char *p = mmap(NULL, 256 << 12, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; i < 256; i++) {
		p[i << 12] = (char)i;
		bad += gs8() != want;
	}
	munmap(p, 256 << 12);
	printf("faults: %ld mismatches\n", bad);
	total += bad;

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	bad = (handler_saw != want) + (gs8() != want);
	sa.sa_handler = on_segv;
	sigaction(SIGSEGV, &sa, NULL);
	char *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sigsetjmp(segv_jump, 1) == 0)
		*(volatile char *)none = 1;
	bad += (segv_saw != want) + (gs8() != want);
	printf("handlers: %ld mismatches\n", bad);
	total += bad;

	struct worker w[4];
	memset(w, 0, sizeof w);
	for (int i = 0; i < 4; i++) {
		w[i].blk.w[1] = 0x7468726400000100ull + i;
		pthread_create(&w[i].th, NULL, worker_main, &w[i]);
	}
	bad = 0;
	long inherited = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(w[i].th, NULL);
		bad += w[i].bad;
		inherited += w[i].inherited == want;
	}
	bad += gs8() != want;
	printf("threads: %ld mismatches, %ld of 4 inherited the creator's GS\n", bad, inherited);
	total += bad + (4 - inherited);

	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	pthread_t busy;
	pthread_create(&busy, NULL, busy_main, NULL);
	while (!busy_ready)
		sched_yield();
	for (int i = 0; i < 200; i++) {
		int before = busy_signals;
		pthread_kill(busy, SIGUSR2);
		for (double t0 = now(); busy_signals == before && now() - t0 < 5;)
			sched_yield();
	}
	busy_stop = 1;
	pthread_join(busy, NULL);
	printf("busy: %d signals taken, %ld mismatches\n", busy_signals, busy_bad);
	total += busy_bad + (busy_signals != 200);

	if (argc > 1 && strcmp(argv[1], "spin") == 0) {
		bad = 0;
		for (double t0 = now(); now() - t0 < 1;)
			for (int i = 0; i < 100000; i++)
				bad += gs8() != want;
		printf("spin: %ld mismatches\n", bad);
		total += bad;
	}

	total += gs8() != want;
	printf("%s\n", total == 0 ? "PASS" : "FAIL");
	return total != 0;
}
