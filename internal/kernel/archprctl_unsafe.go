package kernel

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hostArchPrctlValue asks the host's arch_prctl(2) for a value it writes to memory
// (ARCH_GET_XCOMP_SUPP, ARCH_GET_XCOMP_PERM), here into golos's own.
func hostArchPrctlValue(code uint32) (uint64, unix.Errno) {
	var v uint64
	if _, _, e := unix.RawSyscall(unix.SYS_ARCH_PRCTL, uintptr(code), uintptr(unsafe.Pointer(&v)), 0); e != 0 {
		return 0, e
	}
	return v, 0
}
