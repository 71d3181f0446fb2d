/*
 * arch_cpuid.c — arch_prctl(2)'s CPUID faulting and extended-state options
 * (arch/x86/kernel/process.c, do_arch_prctl_common): ARCH_GET_CPUID (1: CPUID runs),
 * ARCH_SET_CPUID 1, ARCH_GET_XCOMP_SUPP and ARCH_GET_XCOMP_PERM (a mask written to
 * memory; EFAULT for a bad pointer), ARCH_REQ_XCOMP_PERM for a state the CPU may lack
 * (AMX's tile data, 18). With "disable": ARCH_SET_CPUID 0, then ARCH_GET_CPUID and a
 * CPUID instruction (which faults natively, where the CPU can).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ename.h"

static void show(const char *what, long r)
{
	if (r < 0)
		printf("%s: -1 %s\n", what, ename(errno));
	else
		printf("%s: %ld\n", what, r);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	uint64_t supp = 0, perm = 0;
	if (argc > 1 && strcmp(argv[1], "disable") == 0) {
		show("ARCH_SET_CPUID 0", syscall(SYS_arch_prctl, 0x1012, 0));
		show("ARCH_GET_CPUID", syscall(SYS_arch_prctl, 0x1011, 0));
		unsigned a = 0, b, c = 0, d;
		__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
		printf("cpuid ran\n");
		return 0;
	}
	show("ARCH_GET_CPUID", syscall(SYS_arch_prctl, 0x1011, 0));
	show("ARCH_SET_CPUID 1", syscall(SYS_arch_prctl, 0x1012, 1));
	show("ARCH_GET_CPUID", syscall(SYS_arch_prctl, 0x1011, 0));
	show("ARCH_GET_XCOMP_SUPP", syscall(SYS_arch_prctl, 0x1021, &supp));
	show("ARCH_GET_XCOMP_PERM", syscall(SYS_arch_prctl, 0x1022, &perm));
	printf("supported %#llx, permitted %#llx\n", (unsigned long long)supp, (unsigned long long)perm);
	show("ARCH_GET_XCOMP_SUPP to a bad pointer", syscall(SYS_arch_prctl, 0x1021, (void *)8));
	show("ARCH_REQ_XCOMP_PERM 18", syscall(SYS_arch_prctl, 0x1023, 18));
	show("ARCH_GET_XCOMP_PERM", syscall(SYS_arch_prctl, 0x1022, &perm));
	printf("permitted %#llx\n", (unsigned long long)perm);
	show("an unknown option", syscall(SYS_arch_prctl, 0x9999, 0));
	return 0;
}
