package kernel

import (
	"encoding/binary"
	"runtime"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
	"golos/internal/entry"
)

// Waits with a signal mask of their own: ppoll(2), pselect6 (pselect(2)), epoll_pwait(2),
// epoll_pwait2(2) and io_pgetevents(2). Linux puts the call's mask in place of the
// thread's for the wait, atomically, and puts the thread's back when the call returns,
// unless it was interrupted by a signal: then the handler runs with the call's mask and
// its frame carries the thread's mask, which sigreturn restores (kernel/signal.c,
// set_user_sigmask; fs/select.c, poll_select_finish and restore_saved_sigmask_unless).
// golos's signals are its own (the host's mask of a thread is not the program's), so the
// call's mask goes in place of golos's record of the thread's mask, and the host call is
// made without one: a signal the call's mask blocks is then not delivered during it, and
// one it lets through interrupts it (sendProcess and sendThread kick only a thread that
// does not block the signal).

// readCallMask reads the mask of size bytes at addr (0: the call has none), as
// set_user_sigmask does: EINVAL for a size other than the kernel's sigset_t, EFAULT for
// an unreadable mask.
func readCallMask(addr, size uint64) (mask uint64, has bool, e unix.Errno) {
	if addr == 0 {
		return 0, false, 0
	}
	if size != 8 {
		return 0, false, unix.EINVAL
	}
	var set abi.Sigset
	if e := copyIn(addr, abi.Bytes(&set)); e != 0 {
		return 0, false, e
	}
	return set, true, 0
}

// callWithMask makes the thread's syscall on the host with mask in place of the thread's
// mask for the call, and the host's mask argument (argument maskArg) cleared.
func (t *Thread) callWithMask(mask uint64, maskArg int) int64 {
	hand := t.p.sighand
	hand.mu.Lock()
	old := t.sigmask
	hand.mu.Unlock()
	// A signal pending already that the call's mask lets through sets Pending here, and
	// the call ends at once with EINTR, as on Linux.
	t.setMask(mask)
	r := &t.ctx.Regs
	args, ts := t.waitArgs(r.RAX)
	args[maskArg] = 0
	ret, e := entry.BlockingSyscall(t.ctx, uintptr(r.RAX), &args)
	runtime.KeepAlive(ts)
	if e == unix.EINTR && t.deliverable() {
		// The handler runs with the call's mask; its frame carries the thread's
		// (sigframe.go), or the mask comes back at once if no frame is pushed
		// (deliverPending).
		t.restoreMask = &old
		return -int64(e)
	}
	t.setMask(old)
	if e != 0 {
		return -int64(e)
	}
	return int64(ret)
}

// restoreSavedMask puts back the mask a call with a mask of its own saved, when no
// handler's frame took it (the signal that interrupted the call had no handler), as
// Linux's restore_saved_sigmask does on the way out (arch/x86/kernel/signal.c,
// arch_do_signal_or_restart). It reports whether there was one.
func (t *Thread) restoreSavedMask() bool {
	if t.restoreMask == nil {
		return false
	}
	mask := *t.restoreMask
	t.restoreMask = nil
	t.setMask(mask)
	return true
}

// ppoll(2): the mask is its fourth argument, its size the fifth. A call that names one
// of golos's own descriptors returns at once (poll.go): the mask plays no part.
func sysPpoll(t *Thread) int64 {
	mask, has, e := readCallMask(t.arg(3), t.arg(4))
	if e != 0 {
		return -int64(e)
	}
	if r, ok := t.pollOwn(t.arg(2)); ok {
		return r
	}
	if !has {
		return passthrough(t)
	}
	return t.callWithMask(mask, 3)
}

// pselect6: the sixth argument points at the mask's address and size
// (fs/select.c, get_sigset_argpack; EFAULT when that pair cannot be read). A call whose
// sets name one of golos's own descriptors fails at once (poll.go).
func sysPselect6(t *Thread) int64 {
	if e, ok := t.selectOwn(true); ok {
		return -int64(e)
	}
	if t.arg(5) == 0 {
		return passthrough(t)
	}
	mask, has, e := readMaskPack(t.arg(5))
	if e != 0 {
		return -int64(e)
	}
	if !has {
		return passthrough(t)
	}
	return t.callWithMask(mask, 5)
}

// readMaskPack reads the mask named by the pair {its address, its size} at addr, which
// pselect6 (fs/select.c, get_sigset_argpack) and io_pgetevents (fs/aio.c, struct
// __aio_sigset) take: EFAULT when the pair cannot be read.
func readMaskPack(addr uint64) (mask uint64, has bool, e unix.Errno) {
	var pack [16]byte
	if e := copyIn(addr, pack[:]); e != 0 {
		return 0, false, e
	}
	return readCallMask(binary.LittleEndian.Uint64(pack[:8]), binary.LittleEndian.Uint64(pack[8:]))
}

// epoll_pwait(2): the mask is its fifth argument, its size the sixth.
func sysEpollPwait(t *Thread) int64 {
	mask, has, e := readCallMask(t.arg(4), t.arg(5))
	if e != 0 {
		return -int64(e)
	}
	if !has {
		return passthroughWait(t)
	}
	return t.callWithMask(mask, 4)
}

// epoll_pwait2(2): as epoll_pwait, with a struct timespec for the timeout.
func sysEpollPwait2(t *Thread) int64 {
	return sysEpollPwait(t)
}
