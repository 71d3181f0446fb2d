/*
 * process_vm_self.c — process_vm_readv(2) and process_vm_writev(2) on the caller's own
 * process (by its pid and by a thread's id): whole transfers, a transfer that stops
 * before a remote element with an unmapped page (partial transfers are by element), a
 * first remote element unmapped (EFAULT), at 0x7e0000001000 too (where golos's code lies
 * under golos, unmapped natively), and the checks: flags (EINVAL), more than IOV_MAX
 * elements (EINVAL), pid 0 (ESRCH).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ename.h"

static void show(const char *what, ssize_t r)
{
	if (r < 0)
		printf("%s: -1 %s\n", what, ename(errno));
	else
		printf("%s: %zd\n", what, r);
}

static pid_t tid;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *thread(void *arg)
{
	tid = gettid();
	pthread_mutex_lock(&mu); /* until main is done with the tid */
	pthread_mutex_unlock(&mu);
	return arg;
}

int main(void)
{
	char src[16] = "hello, world", dst[16] = {0};
	char *gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(gone, 4096);
	pid_t pid = getpid();
	struct iovec local = {dst, 12}, remote[2] = {{src, 5}, {gone, 7}};

	show("readv", process_vm_readv(pid, &local, 1, remote, 1, 0));
	printf("read: %.5s\n", dst);
	struct iovec w = {"HELLO", 5};
	struct iovec to = {src, 5};
	show("writev", process_vm_writev(pid, &w, 1, &to, 1, 0));
	printf("src now: %s\n", src);
	show("readv, second remote element unmapped", process_vm_readv(pid, &local, 1, remote, 2, 0));
	show("readv, first remote element unmapped", process_vm_readv(pid, &local, 1, remote + 1, 1, 0));
	struct iovec golos = {(void *)0x7e0000001000, 8};
	show("readv from 0x7e0000001000", process_vm_readv(pid, &local, 1, &golos, 1, 0));
	show("writev to 0x7e0000001000", process_vm_writev(pid, &w, 1, &golos, 1, 0));
	show("readv with flags 1", process_vm_readv(pid, &local, 1, remote, 1, 1));
	static struct iovec many[1025];
	for (int i = 0; i < 1025; i++)
		many[i] = (struct iovec){src, 1};
	show("readv of 1025 remote elements", process_vm_readv(pid, &local, 1, many, 1025, 0));
	show("readv of 1024 remote elements", process_vm_readv(pid, &local, 1, many, 1024, 0));
	show("readv from pid 0", process_vm_readv(0, &local, 1, remote, 1, 0));

	pthread_t th;
	pthread_mutex_lock(&mu);
	pthread_create(&th, NULL, thread, NULL);
	while (__atomic_load_n(&tid, __ATOMIC_SEQ_CST) == 0)
		usleep(1000);
	memset(dst, 0, sizeof dst);
	show("readv by a thread's id", process_vm_readv(tid, &local, 1, remote, 1, 0));
	printf("read: %.5s\n", dst);
	pthread_mutex_unlock(&mu);
	pthread_join(th, NULL);
	return 0;
}
