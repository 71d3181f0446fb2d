/*
 * read_sites.c — many small read(2)s through the C library's wrapper, from one thread and
 * then, with a second thread alive, from that thread.
 *
 * glibc's read wrapper is a syscall site of several instructions ("cmpb $0x0,
 * single_threaded(%rip); je cancellable; xor %eax,%eax; syscall"), which golos rewrites as
 * a whole; once the process has two threads the wrapper takes its branch to the
 * cancellable path instead. The program writes a file of known bytes (argv[1]), reads it
 * back one byte per call in each phase and prints the sums, which must be those of the
 * bytes. With a second argument "one", it stops after the first phase.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define SIZE 20000

static const char *path;

static long sum_by_bytes(void)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		perror("open");
		exit(2);
	}
	long sum = 0, n = 0;
	unsigned char c;
	while (read(fd, &c, 1) == 1) {
		sum += c;
		n++;
	}
	close(fd);
	return n == SIZE ? sum : -n;
}

static void *reader(void *arg)
{
	*(long *)arg = sum_by_bytes();
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	path = argv[1];
	FILE *f = fopen(path, "w");
	long want = 0;
	for (int i = 0; i < SIZE; i++) {
		unsigned char c = (unsigned char)(i * 7 + 3);
		fputc(c, f);
		want += c;
	}
	fclose(f);
	printf("expected sum: %ld\n", want);
	printf("one thread: %ld\n", sum_by_bytes());
	if (argc > 2)
		return 0;
	long got = 0;
	pthread_t t;
	if (pthread_create(&t, NULL, reader, &got) != 0 || pthread_join(t, NULL) != 0) {
		perror("pthread");
		return 2;
	}
	printf("second thread: %ld\n", got);
	return 0;
}
