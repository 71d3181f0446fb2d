/*
 * int80.c — syscalls of the 32-bit ABI made by a 64-bit program with int $0x80: i386's
 * getpid (20), and i386's write (4) of a buffer below 4 GiB (its address fits EBX's
 * 32 bits), whose x86-64 numbers are writev and stat. It prints each result and whether
 * RCX, RDI and R11 kept their values (the int $0x80 path leaves every register but RAX).
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* int80 makes syscall nr with EBX = b, ECX = *rcx, EDX = d. */
static long int80(long nr, long b, long d, long *rcx, long *rdi, long *r11)
{
	long ret;
	__asm__ volatile("mov %[r11], %%r11\n\tint $0x80\n\tmov %%r11, %[r11]"
			 : "=a"(ret), "+c"(*rcx), "+D"(*rdi), [r11] "+m"(*r11)
			 : "a"(nr), "b"(b), "d"(d)
			 : "memory", "r11");
	return ret;
}

int main(void)
{
	long rcx = 0x1111, rdi = 0x3333, r11 = 0x2222;
	long r = int80(20, 0, 0, &rcx, &rdi, &r11);
	printf("i386 getpid: %s\n", r == getpid() ? "the pid" : r == -38 ? "-ENOSYS" : "something else");
	printf("registers kept: %s\n", rcx == 0x1111 && rdi == 0x3333 && r11 == 0x2222 ? "yes" : "no");
	fflush(stdout);
	char *low = mmap((void *)0x10000000, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (low == MAP_FAILED) {
		perror("mmap below 4 GiB");
		return 1;
	}
	strcpy(low, "written by i386 write\n");
	rcx = (long)low;
	r = int80(4, 1, 22, &rcx, &rdi, &r11);
	printf("i386 write: %ld\n", r);
	return 0;
}
