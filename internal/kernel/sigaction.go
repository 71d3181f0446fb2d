package kernel

import (
	"golang.org/x/sys/unix"

	"golos/internal/abi"
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
func (s *sigHandlers) ignored(sig int) bool {
	h := s.actions[sig].Handler
	return h == abi.SIG_IGN || h == abi.SIG_DFL && (defaultActionOf(sig) == actIgnore || defaultActionOf(sig) == actContinue)
}

// rt_sigaction(2): the disposition is recorded, with Linux's checks (signal(7)).
func sysRtSigaction(t *Thread) int64 {
	sig, actAddr, oldAddr, setSize := int(int32(t.arg(0))), t.arg(1), t.arg(2), t.arg(3)
	if setSize != 8 {
		return -int64(unix.EINVAL)
	}
	// Linux reads the new action before it checks the signal (kernel/signal.c: the
	// syscall's copy_from_user, then do_sigaction): a bad pointer is EFAULT even for
	// SIGKILL.
	var act abi.Sigaction
	if actAddr != 0 {
		if e := copyIn(actAddr, abi.Bytes(&act)); e != 0 {
			return -int64(e)
		}
		act.Mask &^= cannotCatch
	}
	if sig < 1 || sig > 64 || (actAddr != 0 && sigBit(sig)&cannotCatch != 0) {
		return -int64(unix.EINVAL)
	}
	hand := t.p.sighand
	shared := &t.p.shared
	hand.mu.Lock()
	old := hand.actions[sig]
	if actAddr != 0 {
		hand.actions[sig] = act
		if hand.ignored(sig) {
			// POSIX: setting a pending signal to be ignored discards it.
			shared.pending &^= sigBit(sig)
			delete(shared.infos, sig)
			t.p.threads.mu.Lock()
			for _, th := range t.p.threads.byTid {
				th.pending &^= sigBit(sig)
				delete(th.infos, sig)
			}
			t.p.threads.mu.Unlock()
			t.p.signalfdsChanged()
		}
	}
	hand.mu.Unlock()
	if actAddr != 0 {
		mirrorOnHost(sig, act)
	}
	if oldAddr != 0 {
		if e := copyOut(oldAddr, abi.Bytes(&old)); e != 0 {
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
		// A new stack_t: its padding is zero, as Linux's do_sigaltstack clears it.
		a := t.altstack
		old := abi.StackT{SP: a.SP, Flags: a.Flags, Size: a.Size}
		if on {
			old.Flags |= abi.SS_ONSTACK
		}
		if a.Size == 0 {
			// None set, or disabled: SS_DISABLE, also for a thread that never set one
			// (kernel/signal.c, sas_ss_flags: "if (!current->sas_ss_size) return
			// SS_DISABLE"). A cgo program's Go runtime takes any other answer for a
			// stack its C code set up and runs its handlers there (minitSignalStack).
			old.Flags |= abi.SS_DISABLE
		}
		if e := copyOut(oldAddr, abi.Bytes(&old)); e != 0 {
			return -int64(e)
		}
	}
	if ssAddr != 0 {
		var ss abi.StackT
		if e := copyIn(ssAddr, abi.Bytes(&ss)); e != 0 {
			return -int64(e)
		}
		if on {
			return -int64(unix.EPERM)
		}
		switch ss.Flags &^ abi.SS_AUTODISARM {
		case abi.SS_DISABLE:
			ss = abi.StackT{Flags: abi.SS_DISABLE}
		case 0, abi.SS_ONSTACK:
			if ss.Size < abi.MINSIGSTKSZ {
				return -int64(unix.ENOMEM)
			}
			ss.Flags &= abi.SS_AUTODISARM
		default:
			return -int64(unix.EINVAL)
		}
		t.altstack = ss
	}
	return 0
}

func (t *Thread) onAltstack(sp uint64) bool {
	a := t.altstack
	return a.Flags&abi.SS_DISABLE == 0 && a.Size != 0 && sp > a.SP && sp-a.SP <= a.Size
}

// mirrorOnHost gives the host the part of the program's new action act for sig that the
// kernel itself looks at in golos's process: whether SIGTTIN and SIGTTOU are ignored (job
// control, entry.IgnoreTTYSignal) and SIGCHLD's SA_NOCLDSTOP and SA_NOCLDWAIT, SIG_IGN
// counting as the latter (entry.SetHostChildFlags): the program's children are golos's
// host children, which the host reaps, or not, and reports stopped, or not, by golos's
// own action.
func mirrorOnHost(sig int, act abi.Sigaction) {
	switch unix.Signal(sig) {
	case unix.SIGTTIN, unix.SIGTTOU:
		entry.IgnoreTTYSignal(unix.Signal(sig), act.Handler == abi.SIG_IGN)
	case unix.SIGCHLD:
		entry.SetHostChildFlags(act.Flags&abi.SA_NOCLDSTOP != 0,
			act.Handler == abi.SIG_IGN || act.Flags&abi.SA_NOCLDWAIT != 0)
	}
}
