package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
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
