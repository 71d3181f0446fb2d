package entry

import "golang.org/x/sys/unix"

// UnblockKick unblocks KickSignal on the calling thread. The kernel blocks it while
// kickTramp runs (Install: a burst of kicks must not nest on the signal stack), and
// rt_sigreturn unblocks it again, except when the handler leaves for the goroutine through
// trapToGo, which never returns through its frame: Switch then returns with ReasonSignal,
// and the goroutine calls this before the thread runs application code again. Until then
// the thread is in golos, where a kick has nothing to do (the goroutine looks at Pending
// before entering the application).
func UnblockKick() {
	var set unix.Sigset_t
	set.Val[0] = 1 << (KickSignal - 1)
	unix.PthreadSigmask(unix.SIG_UNBLOCK, &set, nil)
}
