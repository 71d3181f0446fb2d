/*
 * fsown.c — the program owns FS.
 *
 * The program points the FS base at a block of its own with arch_prctl(ARCH_SET_FS) made
 * through a raw `syscall` instruction. While FS is switched it calls nothing in libc (libc
 * finds its own thread data through FS): it makes 100,000 raw getppid syscalls while
 * first-touching fresh pages of a region it mapped with a raw mmap (dropped again with a
 * raw madvise(MADV_DONTNEED) whenever every page has been touched, so each touch is a
 * fresh page fault), and reads %fs:0, %fs:8 and %fs:0x28 after every syscall and every
 * touch, counting values that are not its own. Then it restores libc's FS (saved with a
 * raw ARCH_GET_FS), prints the counts and exits 0 iff nothing was wrong.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ITERATIONS 100000
#define REGION_PAGES 2048 /* 8 MiB */
#define PAGE 4096

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

INLINE long raw6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long r;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return r;
}

INLINE uint64_t fs_at0(void)
{
	uint64_t v;
	__asm__ volatile("movq %%fs:0, %0" : "=r"(v));
	return v;
}

INLINE uint64_t fs_at8(void)
{
	uint64_t v;
	__asm__ volatile("movq %%fs:8, %0" : "=r"(v));
	return v;
}

INLINE uint64_t fs_at28(void)
{
	uint64_t v;
	__asm__ volatile("movq %%fs:0x28, %0" : "=r"(v));
	return v;
}

/* The program's own thread block: a self pointer at 0 like a TCB, a magic word at 8 and a
 * word at 0x28 where a stack-protector canary would live. */
struct block {
	struct block *self;
	uint64_t magic;
	uint64_t pad[3];
	uint64_t canary;
	uint64_t spare[58];
};
static struct block own __attribute__((aligned(64)));

#define MAGIC 0x676f6c6f73465321ULL
#define CANARY 0x00c0ffee12345600ULL

struct result {
	long set_fs, get_fs_ok, restore;
	long mismatches, not_fresh, syscall_errors, touches;
};

INLINE long check(void)
{
	long bad = 0;
	bad += fs_at0() != (uint64_t)&own;
	bad += fs_at8() != MAGIC;
	bad += fs_at28() != CANARY;
	return bad;
}

/* Runs with FS pointing at `own`: no libc, no stack protector (it would read %fs:0x28). */
__attribute__((noinline, no_stack_protector)) static void run(struct result *res)
{
	uint64_t libc_fs = 0;
	if (raw3(SYS_arch_prctl, ARCH_GET_FS, (long)&libc_fs, 0) != 0) {
		res->set_fs = -1;
		return;
	}
	long m = raw6(SYS_mmap, 0, (long)REGION_PAGES * PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m < 0 && m > -4096) {
		res->set_fs = -2;
		return;
	}
	volatile uint64_t *region = (volatile uint64_t *)m;

	res->set_fs = raw3(SYS_arch_prctl, ARCH_SET_FS, (long)&own, 0);
	if (res->set_fs != 0)
		return;
	uint64_t now = 0;
	res->get_fs_ok = raw3(SYS_arch_prctl, ARCH_GET_FS, (long)&now, 0) == 0 && now == (uint64_t)&own;

	long page = 0;
	for (long i = 0; i < ITERATIONS; i++) {
		long ppid = raw1(SYS_getppid, 0);
		if (ppid <= 0)
			res->syscall_errors++;
		res->mismatches += check();

		volatile uint64_t *p = region + page * (PAGE / sizeof(uint64_t)) + (i % 512);
		if (*p != 0) /* first touch of a fresh page: reads zero */
			res->not_fresh++;
		*p = (uint64_t)i + 1;
		res->touches++;
		res->mismatches += check();
		if (++page == REGION_PAGES) {
			page = 0;
			if (raw3(SYS_madvise, m, (long)REGION_PAGES * PAGE, MADV_DONTNEED) != 0)
				res->syscall_errors++;
			res->mismatches += check();
		}
	}
	res->restore = raw3(SYS_arch_prctl, ARCH_SET_FS, (long)libc_fs, 0);
	raw3(SYS_munmap, m, (long)REGION_PAGES * PAGE, 0);
}

int main(void)
{
	struct result res = {0};
	own.self = &own;
	own.magic = MAGIC;
	own.canary = CANARY;
	printf("fsown: %d raw syscalls with FS on the program's own block\n", ITERATIONS);
	fflush(stdout);
	run(&res);
	if (res.set_fs != 0) {
		printf("setup failed: %ld\n", res.set_fs);
		return 1;
	}
	printf("ARCH_GET_FS returned own block: %s\n", res.get_fs_ok ? "yes" : "no");
	printf("restore libc FS: %ld\n", res.restore);
	printf("page touches: %ld, not fresh: %ld\n", res.touches, res.not_fresh);
	printf("syscall errors: %ld\n", res.syscall_errors);
	printf("fs mismatches: %ld\n", res.mismatches);
	int ok = res.get_fs_ok && res.restore == 0 && res.mismatches == 0 && res.not_fresh == 0 &&
		 res.syscall_errors == 0;
	printf("%s\n", ok ? "PASS" : "FAIL");
	return ok ? 0 : 1;
}
