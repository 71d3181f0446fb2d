package entry

import "golang.org/x/sys/unix"

// afterKickMask holds KickSignal and the signals hostSigTramp handles: the kernel blocks
// each while its handler runs (neither has SA_NODEFER, see install), and both handlers may
// leave for the goroutine through trapToGo, which never returns through the frame whose
// rt_sigreturn would unblock it.
var afterKickMask = func() (set unix.Sigset_t) {
	for sig := unix.Signal(1); sig <= 64; sig++ {
		if sig == KickSignal || Forwarded(sig) {
			set.Val[(sig-1)/64] |= 1 << ((sig - 1) % 64)
		}
	}
	return set
}()

// UnblockKick unblocks KickSignal and the forwarded host signals on the calling thread
// after Switch returned with ReasonSignal, before the thread runs application code again.
// A burst of kicks must not nest on the slot's signal stack (Install), so the kick handler
// runs with KickSignal blocked; rt_sigreturn unblocks it again, except when the handler
// leaves through trapToGo. Until the goroutine calls this, the thread is in golos, where a
// kick has nothing to do (the goroutine looks at Pending before entering the
// application), and a host signal goes to another thread or waits.
//
// SIGTTIN and SIGTTOU stay blocked where the program blocks them: that is mirrored on
// the host (BlockTTYSignals), and neither can have been the signal handled meanwhile.
func UnblockKick(ctx *Context) {
	set := afterKickMask
	set.Val[0] &^= ctx.ttyBlocked
	unix.PthreadSigmask(unix.SIG_UNBLOCK, &set, nil)
}
