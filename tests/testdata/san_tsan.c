/* san_tsan: a program built with gcc -fsanitize=thread: two threads increment a counter
 * without a lock, a data race ThreadSanitizer reports (exit status 66). */
#include <pthread.h>
#include <stdio.h>

static int counter;

static void *bump(void *arg)
{
	for (int i = 0; i < 1000; i++)
		counter++;
	return arg;
}

int main(void)
{
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, bump, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("counted %s\n", counter > 0 ? "something" : "nothing");
	return 0;
}
