/*
 * thr_robust.c — a robust mutex whose owner thread exits while holding it: the next
 * lock gets EOWNERDEAD (pthread_mutexattr_setrobust(3)), three times in a row, so that
 * threads that run on OS threads golos reuses are covered too.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
static pthread_mutex_t m;
static void *locker(void *a){ (void)a; pthread_mutex_lock(&m); return NULL; } /* exits holding it */
int main(){ pthread_mutexattr_t at; pthread_mutexattr_init(&at); pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
 pthread_mutex_init(&m,&at); for(int i=0;i<3;i++){ pthread_t t; pthread_create(&t,0,locker,0); pthread_join(t,0);
 int r=pthread_mutex_lock(&m); printf("round %d: lock after the owner died: %s\n", i, r==EOWNERDEAD?"EOWNERDEAD":strerror(r));
 if(r==EOWNERDEAD){pthread_mutex_consistent(&m);} pthread_mutex_unlock(&m);} return 0;}
