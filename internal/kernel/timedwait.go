package kernel

import (
	"encoding/binary"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"golos/internal/entry"
)

// Waits with a time limit that golos makes again after its own signal interrupted them
// on the host: a signal the program does not take (a child's SIGCHLD whose action is the
// default, a kick that came late), which on Linux would not have interrupted the call at
// all. Made again from the same registers, a relative time limit would start over;
// Linux's restart goes on until the end the first call had (restart_syscall(2); the
// restart_block of kernel/time/hrtimer.c's nanosleep, kernel/futex/waitwake.c's
// futex_wait and fs/select.c's poll). So golos notes when such a call began and, when it
// makes it again, passes the time that is left instead (interrupted, resumeWait,
// waitArgs). select(2), pselect6 and ppoll(2) need none of this: the host writes the
// time left into their timeout before returning EINTR (fs/select.c,
// poll_select_finish), and the call made again reads it.

// timedWait is the thread's record of its current wait with a time limit.
type timedWait struct {
	nr    uint64
	start time.Time // when the wait began: its deadline is start plus the call's limit
	// resuming: the call was interrupted and will be made again at rip (the address
	// after its syscall instruction), to go on until its deadline; cont: the call being
	// made is such a continuation.
	resuming, cont bool
	rip            uint64
}

// timedCalls are the calls with a relative time limit that the host does not update.
var timedCalls = func() (w [len(syscalls)]bool) {
	for _, nr := range []int{unix.SYS_POLL, unix.SYS_EPOLL_WAIT, unix.SYS_EPOLL_PWAIT,
		unix.SYS_EPOLL_PWAIT2, unix.SYS_FUTEX, unix.SYS_NANOSLEEP, unix.SYS_CLOCK_NANOSLEEP,
		unix.SYS_IO_GETEVENTS, unix.SYS_IO_PGETEVENTS} {
		w[nr] = true
	}
	return w
}()

// beginWait notes, before the handler of syscall nr runs, when a wait with a time limit
// begins, unless it is the continuation of one made again (resumeWait).
func (t *Thread) beginWait(nr uint64) {
	if nr >= uint64(len(timedCalls)) || !timedCalls[nr] {
		return
	}
	w := &t.timed
	if w.resuming && w.nr == nr && w.rip == t.ctx.Regs.RIP {
		w.resuming, w.cont = false, true
		return
	}
	*w = timedWait{nr: nr, start: time.Now()}
}

// resumeWait prepares the call nr, interrupted by a signal of golos's own and about to be
// made again, to go on until the deadline it had. A call made by a rewritten site itself
// (fastDone) did not pass through beginWait: its beginning is not known, and it waits
// its whole time again, later than Linux but never earlier.
func (t *Thread) resumeWait(nr uint64) {
	if nr >= uint64(len(timedCalls)) || !timedCalls[nr] {
		return
	}
	w := &t.timed
	start := w.start
	if w.nr != nr || t.ctx.Reason == entry.ReasonFastDone || start.IsZero() {
		start = time.Now()
	}
	*w = timedWait{nr: nr, start: start, resuming: true, rip: t.ctx.Regs.RIP}
}

// waitTimeout returns which argument of the call nr holds its relative time limit and
// the limit, if it has one: milliseconds in a register (poll, epoll_wait, epoll_pwait) or
// a struct timespec in memory (the others).
func (t *Thread) waitTimeout(nr uint64) (arg int, ms bool, d time.Duration, ok bool) {
	const (
		futexWait    = 0
		futexCmdMask = 0x7f
		timerAbstime = 1
	)
	r := &t.ctx.Regs
	switch nr {
	case unix.SYS_POLL:
		return 2, true, time.Duration(int32(r.RDX)) * time.Millisecond, int32(r.RDX) >= 0
	case unix.SYS_EPOLL_WAIT, unix.SYS_EPOLL_PWAIT:
		return 3, true, time.Duration(int32(r.R10)) * time.Millisecond, int32(r.R10) >= 0
	case unix.SYS_EPOLL_PWAIT2:
		arg = 3
	case unix.SYS_FUTEX:
		if r.RSI&futexCmdMask != futexWait {
			return 0, false, 0, false // FUTEX_WAIT_BITSET's and the PI waits' limits are absolute
		}
		arg = 3
	case unix.SYS_NANOSLEEP:
		arg = 0
	case unix.SYS_IO_GETEVENTS, unix.SYS_IO_PGETEVENTS:
		arg = 4
	case unix.SYS_CLOCK_NANOSLEEP:
		if r.RSI&timerAbstime != 0 {
			return 0, false, 0, false
		}
		arg = 2
	default:
		return 0, false, 0, false
	}
	addr := t.arg(arg)
	var ts [16]byte
	if addr == 0 || copyIn(addr, ts[:]) != 0 {
		return 0, false, 0, false
	}
	sec, nsec := int64(binary.LittleEndian.Uint64(ts[:8])), int64(binary.LittleEndian.Uint64(ts[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 || sec > 1<<32 {
		return 0, false, 0, false // the host's EINVAL, or a limit too far to matter
	}
	return arg, false, time.Duration(sec)*time.Second + time.Duration(nsec), true
}

// waitArgs returns the thread's syscall arguments for the host, with the time left in
// place of the call's limit when the call continues one golos made again; ts, if not
// nil, holds that time and must stay alive until the call returns.
func (t *Thread) waitArgs(nr uint64) (args [6]uintptr, ts *unix.Timespec) {
	r := &t.ctx.Regs
	args = [6]uintptr{uintptr(r.RDI), uintptr(r.RSI), uintptr(r.RDX), uintptr(r.R10), uintptr(r.R8), uintptr(r.R9)}
	w := &t.timed
	if !w.cont || w.nr != nr {
		return args, nil
	}
	w.cont = false
	arg, ms, d, ok := t.waitTimeout(nr)
	if !ok {
		return args, nil
	}
	left := max(time.Until(w.start.Add(d)), 0)
	if ms {
		args[arg] = uintptr((left + time.Millisecond - 1) / time.Millisecond) // rounded up, as Linux's limits are
		return args, nil
	}
	v := unix.NsecToTimespec(int64(left))
	ts = &v
	args[arg] = timespecAddr(ts)
	return args, ts
}

// passthroughWait is passthrough for a wait whose time limit goes on after golos made
// the call again (poll, epoll_wait, futex).
func passthroughWait(t *Thread) int64 {
	r := &t.ctx.Regs
	args, ts := t.waitArgs(r.RAX)
	ret, e := entry.BlockingSyscall(t.ctx, uintptr(r.RAX), &args)
	runtime.KeepAlive(ts)
	if e != 0 {
		return -int64(e)
	}
	return int64(ret)
}
