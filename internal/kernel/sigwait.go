package kernel

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
)

// Waiting for signals in golos: rt_sigsuspend(2), pause(2), rt_sigtimedwait(2).

// wakeUp wakes the thread if it waits for a signal in golos (sigsuspend and the like).
func (t *Thread) wakeUp() {
	if t.wake.Swap(1) == 0 {
		futexWake(&t.wake)
	}
}

// waitWake waits for wakeUp, at most d (forever if d < 0); it reports false on timeout.
// It sleeps in the host's futex(2) on the thread's own OS thread, to which its goroutine
// is locked anyway; wakeUp wakes it from any goroutine.
func (t *Thread) waitWake(deadline time.Time) bool {
	for t.wake.Swap(0) == 0 {
		var d time.Duration = -1
		if !deadline.IsZero() {
			if d = time.Until(deadline); d <= 0 {
				return false
			}
		}
		futexWait(&t.wake, 0, d)
	}
	return true
}

// deliverable reports whether a signal the thread can take now is pending.
func (t *Thread) deliverable() bool {
	hand := t.p.sighand
	shared := &t.p.shared
	hand.mu.Lock()
	defer hand.mu.Unlock()
	return (t.pending|shared.pending)&^t.sigmask != 0
}

// suspend waits, with mask as the thread's mask, until a signal it can take is pending,
// and arranges for the mask from before to come back when the handler returns: what
// rt_sigsuspend(2) and pause(2) do. They always fail with EINTR.
func (t *Thread) suspend(mask uint64) int64 {
	hand := t.p.sighand
	hand.mu.Lock()
	old := t.sigmask
	hand.mu.Unlock()
	t.setMask(mask)
	for {
		if t.takeStop() {
			continue
		}
		if t.deliverable() {
			break
		}
		t.waitWake(time.Time{})
	}
	t.restoreMask = &old
	atomic.StoreUint32(&t.ctx.Pending, 1)
	return -int64(unix.EINTR)
}

// takeStop carries out, for a thread that waits in golos for a signal (suspend), a stop
// signal it can take now whose action is the default: the process stops (stopBy), and
// once continued the wait goes on. On Linux the call is restarted after a stop, since no
// handler ran (ERESTARTNOHAND, arch/x86/kernel/signal.c); returning EINTR would end a
// pause(2) that natively goes on waiting. It reports whether it stopped.
func (t *Thread) takeStop() bool {
	hand := t.p.sighand
	hand.mu.Lock()
	var stops uint64
	for sig := 1; sig <= 64; sig++ {
		if sigBit(sig)&stopSignals != 0 && hand.actions[sig].Handler == abi.SIG_DFL {
			stops |= sigBit(sig)
		}
	}
	saved := t.sigmask
	t.sigmask |= ^stops // take only those
	info, ok := t.dequeue()
	t.sigmask = saved
	hand.mu.Unlock()
	if !ok {
		return false
	}
	stopBy(unix.Signal(info.signo))
	t.forwardBeforeReturn() // the SIGCONT that continued it
	return true
}

// rt_sigsuspend(2).
func sysRtSigsuspend(t *Thread) int64 {
	if t.arg(1) != 8 {
		return -int64(unix.EINVAL)
	}
	var mask abi.Sigset
	if e := copyIn(t.arg(0), abi.Bytes(&mask)); e != 0 {
		return -int64(e)
	}
	return t.suspend(mask)
}

// pause(2).
func sysPause(t *Thread) int64 {
	hand := t.p.sighand
	hand.mu.Lock()
	mask := t.sigmask
	hand.mu.Unlock()
	return t.suspend(mask)
}

// rt_sigtimedwait(2): takes a pending signal of set without running its handler,
// waiting up to the timeout (forever without one) for one to come. A signal outside set
// that the thread can take interrupts the wait (EINTR).
func sysRtSigtimedwait(t *Thread) int64 {
	setAddr, infoAddr, tsAddr, size := t.arg(0), t.arg(1), t.arg(2), t.arg(3)
	if size != 8 {
		return -int64(unix.EINVAL)
	}
	var set abi.Sigset
	if e := copyIn(setAddr, abi.Bytes(&set)); e != 0 {
		return -int64(e)
	}
	set &^= cannotCatch
	var deadline time.Time
	if tsAddr != 0 {
		var ts abi.Timespec
		if e := copyIn(tsAddr, abi.Bytes(&ts)); e != 0 {
			return -int64(e)
		}
		sec, nsec := ts.Sec, ts.Nsec
		if sec < 0 || nsec < 0 || nsec >= 1e9 {
			return -int64(unix.EINVAL)
		}
		deadline = time.Now().Add(time.Duration(sec)*time.Second + time.Duration(nsec))
	}
	for {
		hand := t.p.sighand
		shared := &t.p.shared
		hand.mu.Lock()
		saved := t.sigmask
		t.sigmask = ^set // take only signals of set…
		info, ok := t.dequeue()
		t.sigmask = saved
		other := (t.pending|shared.pending)&^t.sigmask&^set != 0 // …unless another one is due
		if !ok && !other {
			// While it waits, the thread takes the signals of set as if it did not block
			// them, so that one sent to the process picks it (Linux keeps the mask in
			// real_blocked and unblocks set for the wait, kernel/signal.c do_sigtimedwait).
			t.sigmask = saved &^ set
			t.realBlocked = saved
		}
		hand.mu.Unlock()
		if ok {
			if infoAddr != 0 {
				si := info.toABI()
				if e := copyOut(infoAddr, abi.Bytes(&si)); e != 0 {
					return -int64(e)
				}
			}
			return int64(info.signo)
		}
		if other {
			atomic.StoreUint32(&t.ctx.Pending, 1)
			return -int64(unix.EINTR)
		}
		woke := t.waitWake(deadline)
		hand.mu.Lock()
		t.sigmask, t.realBlocked = saved, 0
		hand.mu.Unlock()
		if !woke {
			return -int64(unix.EAGAIN)
		}
	}
}
