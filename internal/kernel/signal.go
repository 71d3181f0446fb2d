package kernel

import (
	"encoding/binary"
	"sync"

	"golang.org/x/sys/unix"
)

// signalState is the application's view of signals: its dispositions, recorded here and
// never installed on the host (golos's own handlers stay in place).
type signalState struct {
	mu      sync.Mutex
	actions [65]sigaction // by signal number, 1…64
}

// sigaction is Linux's struct sigaction for rt_sigaction(2) (kernel layout).
type sigaction struct {
	handler, flags, restorer, mask uint64
}

const (
	sigDfl = 0
	sigIgn = 1
)

func (a *sigaction) encode() []byte {
	b := make([]byte, 32)
	binary.LittleEndian.PutUint64(b[0:], a.handler)
	binary.LittleEndian.PutUint64(b[8:], a.flags)
	binary.LittleEndian.PutUint64(b[16:], a.restorer)
	binary.LittleEndian.PutUint64(b[24:], a.mask)
	return b
}

func decodeSigaction(b []byte) sigaction {
	return sigaction{
		handler:  binary.LittleEndian.Uint64(b[0:]),
		flags:    binary.LittleEndian.Uint64(b[8:]),
		restorer: binary.LittleEndian.Uint64(b[16:]),
		mask:     binary.LittleEndian.Uint64(b[24:]),
	}
}

// sigBit is sig's bit in a sigset_t.
func sigBit(sig uint64) uint64 { return 1 << (sig - 1) }

// cannotCatch is SIGKILL and SIGSTOP, whose dispositions and mask bits are fixed.
const cannotCatch = 1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1)

// rt_sigaction(2): the disposition is recorded, with Linux's checks (signal(7)).
func sysRtSigaction(t *Thread) int64 {
	sig, actAddr, oldAddr, setSize := t.arg(0), t.arg(1), t.arg(2), t.arg(3)
	if setSize != 8 {
		return -int64(unix.EINVAL)
	}
	if sig < 1 || sig > 64 || (actAddr != 0 && sigBit(sig)&cannotCatch != 0) {
		return -int64(unix.EINVAL)
	}
	var act sigaction
	if actAddr != 0 {
		buf := make([]byte, 32)
		if e := copyIn(actAddr, buf); e != 0 {
			return -int64(e)
		}
		act = decodeSigaction(buf)
		act.mask &^= cannotCatch
	}
	s := &t.p.sig
	s.mu.Lock()
	old := s.actions[sig]
	if actAddr != 0 {
		s.actions[sig] = act
	}
	s.mu.Unlock()
	if oldAddr != 0 {
		if e := copyOut(oldAddr, old.encode()); e != 0 {
			return -int64(e)
		}
	}
	return 0
}

// rt_sigprocmask(2): the thread's mask is recorded; SIGKILL and SIGSTOP stay unblocked.
func sysRtSigprocmask(t *Thread) int64 {
	how, setAddr, oldAddr, setSize := t.arg(0), t.arg(1), t.arg(2), t.arg(3)
	if setSize != 8 {
		return -int64(unix.EINVAL)
	}
	old := t.sigmask
	if setAddr != 0 {
		var buf [8]byte
		if e := copyIn(setAddr, buf[:]); e != 0 {
			return -int64(e)
		}
		set := binary.LittleEndian.Uint64(buf[:])
		switch how {
		case unix.SIG_BLOCK:
			t.sigmask |= set
		case unix.SIG_UNBLOCK:
			t.sigmask &^= set
		case unix.SIG_SETMASK:
			t.sigmask = set
		default:
			return -int64(unix.EINVAL)
		}
		t.sigmask &^= cannotCatch
	}
	if oldAddr != 0 {
		var buf [8]byte
		binary.LittleEndian.PutUint64(buf[:], old)
		if e := copyOut(oldAddr, buf[:]); e != 0 {
			return -int64(e)
		}
	}
	return 0
}
