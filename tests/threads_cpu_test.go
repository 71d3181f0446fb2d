package tests

import "testing"

// TestThreadsAffinity: a new thread has its creator's CPU affinity mask, whether the
// creator is held to one CPU or may use all of them, and may widen its own mask at once
// (thr_affinity.c). golos starts a thread on an OS thread of its own, made ahead with the
// mask golos started with, and on its creator's CPU (internal/kernel/threadcpu.go).
func TestThreadsAffinity(t *testing.T) {
	forFlavours(t, "thr_affinity", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0,
			"creator on its first CPU: threads with their creator's mask: yes; widened to all: yes\n",
			"creator on its last CPU: threads with their creator's mask: yes; widened to all: yes\n",
			"creator on all its CPUs: threads with their creator's mask: yes; widened to all: yes\n",
			"failures: 0\n")
	})
}

// TestThreadsSched: a new thread has its creator's nice value and scheduling policy
// (thr_sched.c), where golos's spare OS threads have golos's own
// (internal/kernel/threadsched_unsafe.go).
func TestThreadsSched(t *testing.T) {
	forFlavours(t, "thr_sched", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "nice 7: the new thread's nice 7, policy 0\n",
			"SCHED_BATCH: the new thread's nice 7, policy 3\n", "SCHED_IDLE: the new thread's nice 7, policy 5\n",
			"SCHED_BATCH reset on fork: the new thread's nice 3, policy 3\n")
	})
}
