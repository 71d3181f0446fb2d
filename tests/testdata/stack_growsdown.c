/*
 * stack_growsdown.c — mprotect(2) with PROT_GROWSDOWN on the main stack, as glibc's
 * dlopen makes it for a library that needs an executable stack
 * (_dl_make_stack_executable): the change reaches down to the stack's start
 * (mm/mprotect.c, do_mprotect_pkey), so code copied into a buffer on the stack then runs.
 * Also: PROT_GROWSDOWN with PROT_GROWSUP, and PROT_GROWSDOWN on a mapping that does not
 * grow down (EINVAL).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "ename.h"

static void show(const char *what, int r)
{
	printf("%s: %s\n", what, r == 0 ? "0" : ename(errno));
}

/* perms prints the permissions of the /proc/self/maps line holding addr, and its name:
 * none for the stack's part below the change's end, split off the part that holds the
 * stack's start (fs/proc/task_mmu.c, vma_is_initial_stack). */
static void perms(const char *what, uintptr_t addr)
{
	char line[512], name[64];
	FILE *f = fopen("/proc/self/maps", "r");
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		char p[8];
		name[0] = 0;
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %63s", &lo, &hi, p, name) >= 3 && addr >= lo && addr < hi)
			printf("%s: %s %s\n", what, p, name[0] ? name : "(no name)");
	}
	fclose(f);
}

int main(void)
{
	static const unsigned char code[] = {0xb8, 42, 0, 0, 0, 0xc3}; /* mov $42, %eax; ret */
	/* 64 KiB: the code at its start is pages below the top of the stack, which holds its
	 * start (argc, argv and the strings), and the page above the code's is the buffer's
	 * too. */
	volatile unsigned char buf[65536];
	memcpy((void *)buf, code, sizeof code);
	uintptr_t page = (uintptr_t)buf & ~(uintptr_t)4095;
	show("PROT_GROWSDOWN|PROT_GROWSUP", mprotect((void *)page, 4096, PROT_READ | PROT_WRITE | PROT_GROWSDOWN | PROT_GROWSUP));
	void *anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	show("PROT_GROWSDOWN on an anonymous mapping", mprotect(anon, 4096, PROT_READ | PROT_GROWSDOWN));
	show("PROT_GROWSDOWN on the stack", mprotect((void *)page, 4096, PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN));
	perms("the buffer's page", page);
	int (*volatile fn)(void) = (int (*)(void))buf;
	printf("code on the stack returns %d\n", fn());
	perms("the page above it", page + 4096);
	return 0;
}
