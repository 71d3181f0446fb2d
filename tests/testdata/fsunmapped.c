/*
 * fsunmapped.c — FS pointing at unmapped memory.
 *
 * The program sets the FS base to an address where nothing is mapped (JUNK_FS) with a raw
 * arch_prctl(ARCH_SET_FS) and keeps it there for about 1.5 seconds of raw syscalls
 * (getppid and clock_gettime), checking every 1,000 iterations with a raw ARCH_GET_FS that
 * the value is still the junk one. Meanwhile a kernel running the program (golos: its Go
 * runtime's GC and preemption) must neither use nor change that FS. Nothing of libc runs
 * while FS is junk: any FS-relative access would fault. Then it restores libc's FS, checks
 * once more and prints the outcome; exit status 0 iff the junk FS was kept throughout.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>

#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define JUNK_FS 0x10000UL /* canonical, page aligned, unmapped in an ordinary process */
#define RUN_NS 1500000000LL

#define INLINE static inline __attribute__((always_inline))

INLINE long raw1(long n, long a)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a) : "rcx", "r11", "memory");
	return r;
}

INLINE long raw3(long n, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}

INLINE long long mono_ns(void)
{
	struct timespec ts;
	if (raw3(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&ts, 0) != 0)
		return -1;
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct result {
	long set, restore, get_before_restore_ok, get_after_restore_ok;
	long checks, bad_checks, errors, iterations;
};

/* Runs with FS = JUNK_FS: no libc, no stack protector. */
__attribute__((noinline, no_stack_protector)) static void run(struct result *res)
{
	uint64_t libc_fs = 0, v = 0;
	if (raw3(SYS_arch_prctl, ARCH_GET_FS, (long)&libc_fs, 0) != 0) {
		res->set = -1;
		return;
	}
	res->set = raw3(SYS_arch_prctl, ARCH_SET_FS, JUNK_FS, 0);
	if (res->set != 0)
		return;
	long long start = mono_ns(), now = start;
	while (now >= 0 && now - start < RUN_NS) {
		if (raw1(SYS_getppid, 0) <= 0)
			res->errors++;
		now = mono_ns();
		if (now < 0)
			res->errors++;
		if (++res->iterations % 1000 == 0) {
			v = 0;
			res->checks++;
			if (raw3(SYS_arch_prctl, ARCH_GET_FS, (long)&v, 0) != 0 || v != JUNK_FS)
				res->bad_checks++;
		}
	}
	v = 0;
	res->get_before_restore_ok = raw3(SYS_arch_prctl, ARCH_GET_FS, (long)&v, 0) == 0 && v == JUNK_FS;
	res->restore = raw3(SYS_arch_prctl, ARCH_SET_FS, (long)libc_fs, 0);
	v = 0;
	res->get_after_restore_ok = raw3(SYS_arch_prctl, ARCH_GET_FS, (long)&v, 0) == 0 && v == libc_fs;
}

int main(void)
{
	struct result res = {0};
	printf("fsunmapped: FS = %#lx for %lld ms of raw syscalls\n", JUNK_FS, RUN_NS / 1000000);
	fflush(stdout);
	run(&res);
	if (res.set != 0) {
		printf("ARCH_SET_FS to junk failed: %ld\n", res.set);
		return 1;
	}
	printf("ran more than 1000 iterations: %s\n", res.iterations > 1000 ? "yes" : "no");
	printf("ARCH_GET_FS checks during the run that failed: %ld\n", res.bad_checks);
	printf("junk FS kept up to the restore: %s\n", res.get_before_restore_ok ? "yes" : "no");
	printf("restore: %ld, FS is libc's again: %s\n", res.restore,
	       res.get_after_restore_ok ? "yes" : "no");
	printf("syscall errors: %ld\n", res.errors);
	int ok = res.iterations > 1000 && res.bad_checks == 0 && res.get_before_restore_ok &&
		 res.restore == 0 && res.get_after_restore_ok && res.errors == 0;
	printf("%s\n", ok ? "PASS" : "FAIL");
	return ok ? 0 : 1;
}
