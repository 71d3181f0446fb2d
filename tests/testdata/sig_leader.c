/*
 * sig_leader.c — a signal sent to the process goes to the main thread when it can take
 * it (Linux's complete_signal tries the thread group leader first). The main thread waits
 * in pause(2) while three workers also wait in pause(2); a fourth sends SIGUSR1 to the
 * process. Natively the main thread runs the handler and its pause returns; a kernel that
 * hands the signal to a worker leaves the main thread waiting (the alarm ends the run).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_t main_thread;
static volatile int in_main, handled;
static volatile int waiting;

static void on_usr1(int sig)
{
	(void)sig;
	in_main = pthread_equal(pthread_self(), main_thread);
	handled++;
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "the main thread's pause did not return within 5 s\n";
	write(1, msg, sizeof msg - 1);
	_exit(1);
}

static void *waiter(void *arg)
{
	(void)arg;
	__sync_fetch_and_add(&waiting, 1);
	for (;;)
		pause();
	return NULL;
}

static void *sender(void *arg)
{
	(void)arg;
	while (waiting < 3)
		usleep(1000);
	usleep(100000); /* let the main thread and the workers reach pause */
	kill(getpid(), SIGUSR1);
	return NULL;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	main_thread = pthread_self();
	pthread_t t;
	for (int i = 0; i < 3; i++)
		pthread_create(&t, NULL, waiter, NULL);
	pthread_create(&t, NULL, sender, NULL);
	alarm(5);
	pause();
	printf("main thread woke: handler ran %d time(s), in the main thread: %s\n", handled,
	       in_main ? "yes" : "no");
	return 0;
}
