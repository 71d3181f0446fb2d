/* arch_prctl(ARCH_SET_FS), the call golos virtualises: set FS to the value it already
 * has, through a raw syscall instruction so that libc is not involved. Afterwards FS must
 * still be right, checked both through ARCH_GET_FS and through the TLS itself. */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <sys/syscall.h>

#include "bench.h"

int main(int argc, char **argv)
{
	long n = bench_iters(argc, argv);
	unsigned long fs = 0, after = 0, self;

	if (raw_syscall2(SYS_arch_prctl, ARCH_GET_FS, (long)&fs) != 0 || fs == 0) {
		fprintf(stderr, "arch_prctl: ARCH_GET_FS failed\n");
		return 1;
	}

	for (long i = 0; i < n / 10 + 1; i++)
		raw_syscall2(SYS_arch_prctl, ARCH_SET_FS, fs);

	long bad = 0, ret = 0;
	double t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		ret = raw_syscall2(SYS_arch_prctl, ARCH_SET_FS, fs);
		bad += ret != 0;
	}
	double t1 = bench_now_ns();

	/* glibc's TCB starts with a pointer to itself, so %fs:0 == FS base iff FS is intact. */
	__asm__ volatile("mov %%fs:0, %0" : "=r"(self));
	if (raw_syscall2(SYS_arch_prctl, ARCH_GET_FS, (long)&after) != 0 || after != fs ||
	    self != fs || bad) {
		fprintf(stderr,
			"arch_prctl: %ld failed calls (last %ld); FS %#lx -> %#lx, %%fs:0 = %#lx\n",
			bad, ret, fs, after, self);
		return 1;
	}
	bench_report(t0, t1, n);
	return 0;
}
