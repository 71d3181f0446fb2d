/*
 * notes_stderr.c — a program that points its descriptor 2 elsewhere, as a shell's 2>file
 * or coreutils' closing of stderr at exit do, while golos has notes to print.
 *
 * It sends its stderr to the file argv[1], makes getppid three times, calls syscall 1000
 * (ENOSYS on Linux, named by golos), writes one line to its stderr, then closes it and
 * exits. golos's own notes (the ENOSYS note, --stats at exit) belong on the stderr golos
 * was started with, never in the program's file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || dup2(fd, 2) != 2) {
		perror("redirect stderr");
		return 2;
	}
	close(fd);
	for (int i = 0; i < 3; i++)
		syscall(SYS_getppid);
	long r = syscall(1000);
	printf("syscall 1000: %ld %s\n", r, errno == ENOSYS ? "ENOSYS" : "other");
	fprintf(stderr, "the program's own stderr\n");
	fflush(stdout);
	close(2);
	return 0;
}
