package kernel

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hostCall makes syscall nr on the host with args, the ones at the indexes in paths
// replaced by pointers to those strings (golos's own memory, NUL-terminated).
func hostCall(nr uint64, args [6]uint64, paths map[int]string) int64 {
	keep := make([]*byte, 0, len(paths))
	for i, p := range paths {
		b, err := unix.BytePtrFromString(p)
		if err != nil {
			return -int64(unix.EINVAL)
		}
		keep = append(keep, b)
		args[i] = uint64(uintptr(unsafe.Pointer(b)))
	}
	r, _, e := unix.Syscall6(uintptr(uint32(nr)), uintptr(args[0]), uintptr(args[1]), uintptr(args[2]),
		uintptr(args[3]), uintptr(args[4]), uintptr(args[5]))
	for _, b := range keep {
		_ = *b // the strings stay alive until the call returns
	}
	if e != 0 {
		return -int64(e)
	}
	return int64(r)
}
