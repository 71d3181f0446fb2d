/*
 * stack_mremap.c — mremap(2) on the main stack. Linux's stack has nothing above it, so
 * growing it (or its top page) in place with mremap succeeds (mm/mremap.c, vma_expandable:
 * the pages after the region must be free), and the region that holds the stack pointer
 * the program started with keeps the name [stack] in /proc/self/maps (fs/proc/task_mmu.c,
 * vma_is_initial_stack: mm->start_stack, /proc/self/stat's startstack). golos kept a page
 * without access above the stack, and mremap failed with ENOMEM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ename.h"

static unsigned long lo, hi;
static int lines;

/* find reads the [stack] line (and counts them). */
static void find(void)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	lines = 0;
	while (fgets(line, sizeof line, f))
		if (strstr(line, " [stack]\n")) {
			sscanf(line, "%lx-%lx", &lo, &hi);
			lines++;
		}
	fclose(f);
}

/* startstack is field 28 of /proc/self/stat (proc_pid_stat(5)). */
static unsigned long startstack(void)
{
	char buf[2048];
	FILE *f = fopen("/proc/self/stat", "r");
	if (!fgets(buf, sizeof buf, f))
		buf[0] = 0;
	fclose(f);
	char *p = strrchr(buf, ')');
	for (int field = 2; p && field < 28; field++)
		p = strchr(p + 1, ' ');
	return p ? strtoul(p + 1, NULL, 10) : 0;
}

static void show(const char *what, void *r, unsigned long want)
{
	if (r == MAP_FAILED)
		printf("%s: %s\n", what, ename(errno));
	else
		printf("%s: %s\n", what, (unsigned long)r == want ? "in place" : "moved");
}

int main(int argc, char **argv)
{
	find();
	unsigned long top = hi, start = startstack();
	printf("[stack] lines: %d, holds the start's stack pointer: %s, which is argc's: %s\n", lines,
	       start >= lo && start < hi ? "yes" : "no", start == (unsigned long)argv - 8 ? "yes" : "no");

	void *r = mremap((void *)lo, hi - lo, hi - lo + 4096, 0);
	show("grow the stack by a page", r, lo);
	find();
	printf("[stack] now ends a page higher: %s\n", hi == top + 4096 ? "yes" : "no");
	if (r != MAP_FAILED)
		*(volatile char *)top = 1; /* the new page is there */
	show("grow its top page by a page", mremap((void *)top, 4096, 8192, 0), top);
	find();
	printf("[stack] now ends two pages higher: %s (%d line)\n", hi == top + 8192 ? "yes" : "no", lines);
	show("shrink it back", mremap((void *)lo, hi - lo, top - lo, 0), lo);
	find();
	printf("[stack] ends where it did: %s\n", hi == top ? "yes" : "no");
	return 0;
}
