package kernel

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// timespecAddr is the address of ts, a heap object of golos's (which the Go runtime does
// not move), for a syscall argument; the caller keeps ts alive until the call returns.
func timespecAddr(ts *unix.Timespec) uintptr {
	return uintptr(unsafe.Pointer(ts))
}
