package sandbox

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// installSeccomp binds the calling thread, and what it runs and starts from now on, to
// golos's filter (prctl(2) PR_SET_SECCOMP, SECCOMP_MODE_FILTER; no_new_privs set first).
func installSeccomp() error {
	prog := filter()
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	return unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&fprog)), 0, 0)
}
