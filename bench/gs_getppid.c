/* getppid from a thread that has set its own GS base with arch_prctl(ARCH_SET_GS), as
 * Wine and some runtimes do. Linux keeps a thread's GS across its syscalls on any CPU;
 * golos keeps its own per-thread data on GS, so it must put its GS in place on every
 * crossing and the program's back on the way out: with wrgsbase where the CPU has
 * FSGSBASE, with arch_prctl (two more syscalls a crossing) where it does not or with
 * golos --no-fsgsbase. While a thread of the process has its own GS, golos's rewritten
 * sites do not make the call from its entry code: each call traps through Syscall User
 * Dispatch, so the figure is a trapped syscall plus the GS switches.
 *
 * Each call goes through libc's syscall(3), as in getppid.c, and is checked: the pid
 * it returns, and %gs:8, a word only the program's block holds. At the end ARCH_GET_GS
 * must still give the block.
 * Usage: gs_getppid [N [expected-ppid]]. */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

#define ARCH_SET_GS 0x1001
#define ARCH_GET_GS 0x1004
#define MAGIC 0x67735f6765747070ull /* "gs_getpp" */

static uint64_t block[8] = {0, MAGIC};

static inline uint64_t gs8(void)
{
	uint64_t v;
	__asm__ volatile("movq %%gs:8, %0" : "=r"(v));
	return v;
}

int main(int argc, char **argv)
{
	long n = bench_iters(argc, argv);
	long want = argc > 2 ? atol(argv[2]) : (long)syscall(SYS_getppid);
	if (want < 0) {
		fprintf(stderr, "gs_getppid: bad expected parent pid %ld\n", want);
		return 1;
	}
	block[0] = (uint64_t)block;
	if (raw_syscall2(SYS_arch_prctl, ARCH_SET_GS, (long)block) != 0 || gs8() != MAGIC) {
		fprintf(stderr, "gs_getppid: arch_prctl(ARCH_SET_GS) failed\n");
		return 1;
	}

	for (long i = 0; i < n / 10 + 1; i++)
		syscall(SYS_getppid);

	long bad = 0, badgs = 0, got = 0;
	double t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		got = syscall(SYS_getppid);
		bad += got != want;
		badgs += gs8() != MAGIC;
	}
	double t1 = bench_now_ns();

	uint64_t gs = 0;
	raw_syscall2(SYS_arch_prctl, ARCH_GET_GS, (long)&gs);
	if (bad || badgs || gs != (uint64_t)block) {
		fprintf(stderr,
			"gs_getppid: %ld of %ld calls returned a wrong pid (last %ld, want %ld), "
			"%ld saw another GS; ARCH_GET_GS %#lx, want %p\n",
			bad, n, got, want, badgs, (unsigned long)gs, (void *)block);
		return 1;
	}
	bench_report(t0, t1, n);
	return 0;
}
