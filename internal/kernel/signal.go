package kernel

import (
	"sync/atomic"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
	"golos/internal/entry"
)

// The application's signals are virtual (signal(7) semantics on top of golos's own host
// handlers): dispositions, masks and pending sets live here; delivery builds Linux's
// rt_sigframe on the application's stack and rt_sigreturn takes it back. Signals sent to
// golos's process from outside are forwarded to the application.

// sigHandlers is what clone(2) shares with CLONE_SIGHAND (Linux's sighand_struct): the
// dispositions, and, as Linux's siglock, the lock of all of the process's signal state:
// mu guards actions, the Process's shared signals and the signal state of each Thread
// (sigmask, realBlocked, pending, infos).
type sigHandlers struct {
	mu      mutex[sigLock]
	actions [65]abi.Sigaction // by signal number, 1…64
}

// sharedSignals is the thread group's part of the signal state (Linux keeps it in
// signal_struct): the signals sent to the process as a whole, and what golos tracks for
// signals that concern every thread. Guarded by sighand.mu.
type sharedSignals struct {
	pending uint64 // sent to the process as a whole
	infos   map[int][]siginfo
	// threadTimers holds the ids of the POSIX timers whose signal goes to one thread
	// (SIGEV_THREAD_ID; forward), as timer_create(2) made them and until timer_delete(2).
	threadTimers map[int32]bool
	// timers counts the POSIX timers timer_create(2) made and timer_delete(2) has not
	// ended: each holds a signal's room against RLIMIT_SIGPENDING (queuedSignals).
	timers int

	signalfds map[*signalfd]bool // the signalfds with a descriptor open (signalfd.go)
}

// siginfo is what golos fills in of a siginfo_t.
type siginfo struct {
	signo, errno, code int32
	pid, uid           uint32       // kill(2) and friends
	addr               uint64       // faults: si_addr
	value              uint64       // rt_sigqueueinfo: si_value
	raw                *abi.Siginfo // a siginfo_t given whole (rt_sigqueueinfo, the host's)
}

// toABI is the siginfo_t the application sees for info: the one it came with whole, or
// one with the members golos fills in (include/uapi/asm-generic/siginfo.h): _sigfault's
// si_addr for a fault, else _kill's and _rt's si_pid, si_uid and si_value.
func (info *siginfo) toABI() abi.Siginfo {
	if info.raw != nil {
		return *info.raw
	}
	si := abi.Siginfo{Signo: info.signo, Errno: info.errno, Code: info.code}
	if info.addr != 0 || info.code > 0 {
		si.SetAddr(info.addr)
	} else {
		si.Pid, si.Uid, si.Value = info.pid, info.uid, info.value
	}
	return si
}

// sigBit is sig's bit in a sigset_t.
func sigBit(sig int) uint64 { return 1 << (sig - 1) }

// cannotCatch is SIGKILL and SIGSTOP, whose dispositions and mask bits are fixed.
const cannotCatch = 1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1)

// rt_sigprocmask(2): the thread's mask is recorded; SIGKILL and SIGSTOP stay unblocked.
func sysRtSigprocmask(t *Thread) int64 {
	how, setAddr, oldAddr, setSize := int32(t.arg(0)), t.arg(1), t.arg(2), t.arg(3)
	if setSize != 8 {
		return -int64(unix.EINVAL)
	}
	hand := t.p.sighand
	hand.mu.Lock()
	old := t.sigmask
	hand.mu.Unlock()
	if setAddr != 0 {
		var set abi.Sigset
		if e := copyIn(setAddr, abi.Bytes(&set)); e != 0 {
			return -int64(e)
		}
		mask := old
		switch how {
		case unix.SIG_BLOCK:
			mask |= set
		case unix.SIG_UNBLOCK:
			mask &^= set
		case unix.SIG_SETMASK:
			mask = set
		default:
			return -int64(unix.EINVAL)
		}
		t.setMask(mask)
	}
	if oldAddr != 0 {
		if e := copyOut(oldAddr, abi.Bytes(&old)); e != 0 {
			return -int64(e)
		}
	}
	return 0
}

// setMask sets the thread's mask; signals it unblocks are delivered before the
// application runs again.
func (t *Thread) setMask(mask uint64) {
	hand := t.p.sighand
	shared := &t.p.shared
	hand.mu.Lock()
	newlyBlocked := mask &^ cannotCatch &^ t.sigmask
	t.sigmask = mask &^ cannotCatch
	deliverable := (t.pending | shared.pending) &^ t.sigmask
	hand.mu.Unlock()
	entry.BlockTTYSignals(t.ctx, mask)
	if newlyBlocked != 0 {
		t.p.retargetShared(t, newlyBlocked) // before Pending is set below for other signals
	}
	if deliverable != 0 {
		atomic.StoreUint32(&t.ctx.Pending, 1)
	}
}

// retargetShared hands the process-pending signals among those t can no longer take (it
// blocked them, or it is exiting) to another thread that can, as Linux's
// retarget_shared_pending does (kernel/signal.c): when t was kicked and has not looked
// (Linux: the thread has TIF_SIGPENDING), it may have been the one chosen for them, and no
// other thread would look. A thread that was not kicked leaves them where they are: the
// thread chosen for them takes them.
func (p *Process) retargetShared(t *Thread, lost uint64) {
	if atomic.LoadUint32(&t.ctx.Pending) == 0 {
		return
	}
	hand := p.sighand
	shared := &p.shared
	hand.mu.Lock()
	want := shared.pending & lost
	var target *Thread
	if want != 0 {
		p.threads.mu.Lock()
		for _, th := range p.threads.byTid {
			if th != t && want&^th.sigmask != 0 {
				target = th
				break
			}
		}
		p.threads.mu.Unlock()
	}
	hand.mu.Unlock()
	if target != nil {
		p.signalThread(target)
	}
}

// rt_sigpending(2): the signals pending for the thread or the process that it blocks.
func sysRtSigpending(t *Thread) int64 {
	if t.arg(1) > 8 {
		return -int64(unix.EINVAL)
	}
	hand := t.p.sighand
	shared := &t.p.shared
	hand.mu.Lock()
	set := (t.pending | shared.pending) & t.sigmask
	hand.mu.Unlock()
	return -int64(copyOut(t.arg(0), abi.Bytes(&set)[:t.arg(1)]))
}
