/*
 * proc_forkwait.c — a tree of processes that wait: the program forks argv[1] workers,
 * each of which forks argv[2] children that wait for a gate (a pipe's write end) to
 * close; once every worker has said it is done, the gate closes and each worker reaps
 * its children, the program its workers. It prints how many children the workers made
 * and whether all were reaped. Under golos each process is a golos of its own, whose
 * program has one thread: TestProcGolosThreads counts the OS threads each one's runtime
 * starts.
 * Exit status: the number of failed checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3)
		return 1;
	int workers = atoi(argv[1]), children = atoi(argv[2]);
	int gate[2], done[2];
	if (pipe(gate) != 0 || pipe(done) != 0)
		return 1;
	for (int w = 0; w < workers; w++) {
		pid_t k = fork();
		if (k < 0)
			return 1;
		if (k > 0)
			continue;
		close(gate[1]);
		close(done[0]);
		int made = 0;
		for (int c = 0; c < children; c++) {
			pid_t g = fork();
			if (g == 0) {
				char b;
				close(done[1]);
				read(gate[0], &b, 1);
				_exit(0);
			}
			made += g > 0;
		}
		unsigned char m = made;
		write(done[1], &m, 1);
		char b;
		read(gate[0], &b, 1);
		int reaped = 0;
		while (wait(NULL) > 0)
			reaped++;
		_exit(reaped == made ? 0 : 1);
	}
	close(gate[0]);
	close(done[1]);
	int made = 0;
	unsigned char m;
	for (int w = 0; w < workers; w++)
		if (read(done[0], &m, 1) == 1)
			made += m;
	close(gate[1]);
	int st, failed = 0;
	while (wait(&st) > 0)
		failed += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	printf("children made: %d\nworkers that reaped all: %s\n", made, failed ? "no" : "yes");
	return failed;
}
