package kernel

import (
	"encoding/binary"
	"runtime"

	"golang.org/x/sys/unix"

	"golos/internal/entry"
)

// The clocks are the host's: reading them is passed through (table.go); setting them
// (clock_settime(2), settimeofday(2)) is refused with EPERM, as in a container without
// CAP_SYS_TIME, since golos shares the host's clock.

// adjtimexReadOnly are the modes adjtimex(2) accepts without CAP_SYS_TIME: 0 reads the
// clock's state, ADJ_OFFSET_SS_READ the remaining adjustment.
func adjtimexReadOnly(modes uint32) bool {
	const adjOffsetSSRead = 0xa001
	return modes == 0 || modes == adjOffsetSSRead
}

// timexModes reads the modes field at the start of the struct timex at addr.
func timexModes(addr uint64) (uint32, unix.Errno) {
	var b [4]byte
	if e := copyIn(addr, b[:]); e != 0 {
		return 0, e
	}
	return binary.LittleEndian.Uint32(b[:]), 0
}

// adjtimex(2): reading the clock's state is passed through; an adjustment is EPERM, as
// for a caller without CAP_SYS_TIME (it would adjust the host's clock).
func sysAdjtimex(t *Thread) int64 {
	modes, e := timexModes(t.arg(0))
	if e != 0 {
		return -int64(e)
	}
	if !adjtimexReadOnly(modes) {
		return -int64(unix.EPERM)
	}
	return passthroughFast(t)
}

// clock_adjtime(2) is adjtimex(2) for a given clock, refused alike.
func sysClockAdjtime(t *Thread) int64 {
	modes, e := timexModes(t.arg(1))
	if e != 0 {
		return -int64(e)
	}
	if !adjtimexReadOnly(modes) {
		return -int64(unix.EPERM)
	}
	return passthroughFast(t)
}

// nanosleep(2) and clock_nanosleep(2) are the host's, made on the thread (they block).
// A signal already pending when the call is made interrupts it before the host sees it:
// Linux would have started the sleep and ended it at once, writing the time not slept
// (all of it) to rem before returning EINTR (kernel/time/hrtimer.c, do_nanosleep and
// nanosleep_copyout), so golos writes the request there itself, after the checks Linux
// makes first (kernel/time/posix-timers.c, clock_nanosleep: EINVAL for an unknown clock;
// EFAULT for an unreadable request, EINVAL for an invalid one). An absolute sleep
// (TIMER_ABSTIME) writes no remaining time (clock_nanosleep(2)).
func sysNanosleep(t *Thread) int64 {
	return nanosleep(t, -1, t.arg(0), t.arg(1))
}

func sysClockNanosleep(t *Thread) int64 {
	const timerAbstime = 1
	rem := t.arg(3)
	if t.arg(1)&timerAbstime != 0 {
		rem = 0
	}
	return nanosleep(t, int64(int32(t.arg(0))), t.arg(2), rem)
}

// nanosleep makes the application's sleep call on clock (-1: nanosleep's), whose request
// is at req and remaining time goes to rem (0: none).
func nanosleep(t *Thread, clock int64, req, rem uint64) int64 {
	r := &t.ctx.Regs
	args, left := t.waitArgs(r.RAX) // the time left, when golos makes the sleep again
	ret, e, made := entry.BlockingSyscallMade(t.ctx, uintptr(r.RAX), &args)
	runtime.KeepAlive(left)
	if made || e != unix.EINTR {
		if e != 0 {
			return -int64(e)
		}
		return int64(ret)
	}
	if clock != -1 {
		if _, _, e := unix.RawSyscall(unix.SYS_CLOCK_GETRES, uintptr(clock), 0, 0); e != 0 {
			return -int64(unix.EINVAL)
		}
	}
	var ts [16]byte
	if e := copyIn(req, ts[:]); e != 0 {
		return -int64(e)
	}
	sec, nsec := int64(binary.LittleEndian.Uint64(ts[:8])), int64(binary.LittleEndian.Uint64(ts[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return -int64(unix.EINVAL)
	}
	if left != nil {
		// A sleep golos made again (timedwait.go): what is not slept is what was left.
		binary.LittleEndian.PutUint64(ts[:8], uint64(left.Sec))
		binary.LittleEndian.PutUint64(ts[8:], uint64(left.Nsec))
	}
	if rem != 0 {
		if e := copyOut(rem, ts[:]); e != 0 {
			return -int64(e)
		}
	}
	return -int64(unix.EINTR)
}
