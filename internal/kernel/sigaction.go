package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"golos/internal/entry"
)

// Dispositions: rt_sigaction(2), the default actions, and the alternate signal stack
// (sigaltstack(2)).

// defaultAction of a signal whose disposition is SIG_DFL (signal(7)).
type defaultAction int

const (
	actTerminate defaultAction = iota
	actIgnore
	actStop
	actContinue
)

func defaultActionOf(sig int) defaultAction {
	switch unix.Signal(sig) {
	case unix.SIGCHLD, unix.SIGURG, unix.SIGWINCH:
		return actIgnore
	case unix.SIGCONT:
		return actContinue
	case unix.SIGSTOP, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU:
		return actStop
	}
	return actTerminate
}

// ignored reports whether sending sig would be discarded at once: its disposition is
// SIG_IGN, or SIG_DFL with a default action of ignoring it. Caller holds s.mu.
func (s *signalState) ignored(sig int) bool {
	h := s.actions[sig].handler
	return h == sigIgn || h == sigDfl && (defaultActionOf(sig) == actIgnore || defaultActionOf(sig) == actContinue)
}

func (a *sigaction) encode() []byte {
	b := make([]byte, 32)
	binary.LittleEndian.PutUint64(b[0:], a.handler)
	binary.LittleEndian.PutUint64(b[8:], a.flags)
	binary.LittleEndian.PutUint64(b[16:], a.restorer)
	binary.LittleEndian.PutUint64(b[24:], a.mask)
	return b
}

// rt_sigaction(2): the disposition is recorded, with Linux's checks (signal(7)).
func sysRtSigaction(t *Thread) int64 {
	sig, actAddr, oldAddr, setSize := int(int32(t.arg(0))), t.arg(1), t.arg(2), t.arg(3)
	if setSize != 8 {
		return -int64(unix.EINVAL)
	}
	if sig < 1 || sig > 64 || (actAddr != 0 && sigBit(sig)&cannotCatch != 0) {
		return -int64(unix.EINVAL)
	}
	var act sigaction
	if actAddr != 0 {
		var b [32]byte
		if e := copyIn(actAddr, b[:]); e != 0 {
			return -int64(e)
		}
		act = sigaction{
			handler:  binary.LittleEndian.Uint64(b[0:]),
			flags:    binary.LittleEndian.Uint64(b[8:]),
			restorer: binary.LittleEndian.Uint64(b[16:]),
			mask:     binary.LittleEndian.Uint64(b[24:]) &^ cannotCatch,
		}
	}
	s := &t.p.sig
	s.mu.Lock()
	old := s.actions[sig]
	if actAddr != 0 {
		s.actions[sig] = act
		if s.ignored(sig) {
			// POSIX: setting a pending signal to be ignored discards it.
			s.pending &^= sigBit(sig)
			delete(s.infos, sig)
			t.p.threads.mu.Lock()
			for _, th := range t.p.threads.byTid {
				th.pending &^= sigBit(sig)
				delete(th.infos, sig)
			}
			t.p.threads.mu.Unlock()
			t.p.signalfdsChanged()
		}
	}
	s.mu.Unlock()
	if actAddr != 0 {
		entry.IgnoreTTYSignal(unix.Signal(sig), act.handler == sigIgn)
	}
	if oldAddr != 0 {
		if e := copyOut(oldAddr, old.encode()); e != 0 {
			return -int64(e)
		}
	}
	return 0
}

// sigaltstack(2), per thread.
func sysSigaltstack(t *Thread) int64 {
	ssAddr, oldAddr := t.arg(0), t.arg(1)
	on := t.onAltstack(t.ctx.Regs.RSP)
	if oldAddr != 0 {
		var b [24]byte
		old := t.altstack
		if on {
			old.flags |= ssOnstack
		}
		binary.LittleEndian.PutUint64(b[0:], old.sp)
		binary.LittleEndian.PutUint32(b[8:], uint32(old.flags))
		binary.LittleEndian.PutUint64(b[16:], old.size)
		if e := copyOut(oldAddr, b[:]); e != 0 {
			return -int64(e)
		}
	}
	if ssAddr != 0 {
		var b [24]byte
		if e := copyIn(ssAddr, b[:]); e != 0 {
			return -int64(e)
		}
		if on {
			return -int64(unix.EPERM)
		}
		ss := stackT{sp: binary.LittleEndian.Uint64(b[0:]), flags: int32(binary.LittleEndian.Uint32(b[8:])), size: binary.LittleEndian.Uint64(b[16:])}
		switch ss.flags &^ ssAutodisarm {
		case ssDisable:
			ss = stackT{flags: ssDisable}
		case 0, ssOnstack:
			if ss.size < 2048 { // MINSIGSTKSZ
				return -int64(unix.ENOMEM)
			}
			ss.flags &= ssAutodisarm
		default:
			return -int64(unix.EINVAL)
		}
		t.altstack = ss
	}
	return 0
}

func (t *Thread) onAltstack(sp uint64) bool {
	a := t.altstack
	return a.flags&ssDisable == 0 && a.size != 0 && sp > a.sp && sp-a.sp <= a.size
}
