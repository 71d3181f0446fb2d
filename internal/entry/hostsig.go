package entry

import (
	"golang.org/x/sys/unix"

	"golos/internal/abi"
)

// HostAction is a signal's disposition on the host, as SetHostDefault found it.
type HostAction struct{ act abi.Sigaction }

// SetHostDefault sets sig's disposition on the host to SIG_DFL and returns the one it
// had, for RestoreHost: golos then ends or stops by sig itself, as the application's
// default action calls for (signal(7)). It is a raw rt_sigaction(2): the Go runtime,
// which keeps its own idea of its handlers, is not asked (it would refuse SIGSEGV and
// the like, and put its handler back).
func SetHostDefault(sig unix.Signal) (HostAction, error) {
	var old abi.Sigaction
	err := rtSigaction(sig, &abi.Sigaction{}, &old)
	return HostAction{old}, err
}

// RestoreHost puts back a disposition SetHostDefault replaced.
func RestoreHost(sig unix.Signal, a HostAction) error {
	return rtSigaction(sig, &a.act, nil)
}

// UnblockHost unblocks sig on the calling thread on the host (rt_sigprocmask(2)).
func UnblockHost(sig unix.Signal) {
	var set unix.Sigset_t
	set.Val[(sig-1)/64] |= 1 << ((sig - 1) % 64)
	unix.PthreadSigmask(unix.SIG_UNBLOCK, &set, nil)
}

// FromProcessesForwarded reports whether sig, sent to golos's process by a process
// (kill(2), tgkill(2), sigqueue(3): si_code <= 0), reaches the application through the
// forwarder, as a signal from outside: the forwarded signals (Forwarded), and SIGSYS and
// the fault signals, whose handlers tell a trap or a fault (si_code > 0) from a signal
// sent by someone. The rest never reach it that way: SIGKILL and SIGSTOP act on golos's
// process on the host, KickSignal is a kick, SIGURG and SIGPIPE are the Go runtime's.
func FromProcessesForwarded(sig unix.Signal) bool {
	switch sig {
	case unix.SIGSYS, unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGILL, unix.SIGTRAP:
		return true
	}
	return Forwarded(sig)
}
