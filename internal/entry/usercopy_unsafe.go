package entry

import "unsafe"

// Implemented in usercopy_amd64.s.
func userCopy(dst, src, n uintptr) int64
func userString(dst, src, n uintptr) int64

//lint:ignore U1000 assembly only
func userCopyInsn()

//lint:ignore U1000 assembly only
func userStringInsn()

//lint:ignore U1000 assembly only
func userCopyFault()

// userCopyLayout holds the addresses of userCopyInsn, userStringInsn and userCopyFault:
// faultTramp sends a fault between the first and the last to userCopyFault.
var userCopyLayout [3]uintptr

// CopyIn reads len(buf) bytes of the application's memory at addr. It reports false if
// any of them is not readable: the caller answers EFAULT, as Linux does for a bad pointer
// (a fault inside the copy comes back as that failure, never as a crash).
func CopyIn(buf []byte, addr uint64) bool {
	if len(buf) == 0 {
		return true
	}
	return userCopy(uintptr(unsafe.Pointer(&buf[0])), uintptr(addr), uintptr(len(buf))) == 0
}

// CopyOut writes buf to the application's memory at addr; false if any of it is not
// writable (some of it may have been written, as with Linux's copy_to_user).
func CopyOut(addr uint64, buf []byte) bool {
	if len(buf) == 0 {
		return true
	}
	return userCopy(uintptr(addr), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf))) == 0
}

// CopyString reads a NUL-terminated string of the application's at addr into buf: n is
// its length when the NUL came within len(buf) bytes, len(buf) when it did not, or -1
// when memory before the NUL is not readable.
func CopyString(buf []byte, addr uint64) int {
	if len(buf) == 0 {
		return 0
	}
	return int(userString(uintptr(unsafe.Pointer(&buf[0])), uintptr(addr), uintptr(len(buf))))
}
