/*
 * exit0.c — a 32-bit (i386) static executable without libc, for the bad-input tests:
 * golos must refuse it (exit status 125) rather than try to run it. Built with
 * gcc -m32 -nostdlib -static; it exits 0 through int $0x80 when run natively.
 */
void _start(void)
{
	__asm__ volatile("movl $1, %eax\n\t" /* SYS_exit (i386) */
			 "xorl %ebx, %ebx\n\t"
			 "int $0x80");
}
