/*
 * exitcode.c — exit status.
 *
 * usage: exitcode STATUS HOW, HOW one of "exit" (exit(3)), "return" (return from main) or
 * "_exit" (_exit(2)). The program prints a line with printf and registers an atexit
 * handler that prints another; with "_exit" neither is flushed when stdout is a pipe or
 * file (stdio is fully buffered then), so stdout shows that difference too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void bye(void)
{
	printf("atexit handler ran\n");
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: exitcode STATUS exit|return|_exit\n");
		return 2;
	}
	int status = atoi(argv[1]);
	atexit(bye);
	printf("exitcode: status %d via %s\n", status, argv[2]);
	if (strcmp(argv[2], "exit") == 0)
		exit(status);
	if (strcmp(argv[2], "_exit") == 0)
		_exit(status);
	if (strcmp(argv[2], "return") == 0)
		return status;
	fprintf(stderr, "exitcode: unknown way %s\n", argv[2]);
	return 2;
}
