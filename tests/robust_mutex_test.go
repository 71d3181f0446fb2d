package tests

import "testing"

// TestThreadsRobustMutex: a thread that exits holding a robust mutex leaves it to the
// next locker with EOWNERDEAD, as Linux's exit_robust_list() does — golos walks the list
// itself when it keeps the thread's OS thread for the next application thread.
func TestThreadsRobustMutex(t *testing.T) {
	forFlavours(t, "thr_robust", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "round 2: lock after the owner died: EOWNERDEAD\n")
	})
}
