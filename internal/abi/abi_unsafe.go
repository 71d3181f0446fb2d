package abi

import "unsafe"

// Type is an ABI type of this package, whose memory is the C layout.
type Type interface {
	Sigaction | StackT | CloneArgs | Siginfo | Ucontext | RtSigframe | Rlimit | Timespec |
		Sigset | RobustListHead | Stat | Statx | Msghdr | Mmsghdr | Cmsghdr | OpenHow | SockFprog |
		SockFilter
}

// Bytes is the memory of *p as bytes, to be copied to or from the application's memory
// whole: x86-64 is little-endian, as the C layout is, and none of the types holds a Go
// pointer (an application's address copied into one would mislead the garbage
// collector): their pointers are uint64 addresses.
func Bytes[T Type](p *T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), unsafe.Sizeof(*p))
}

// SliceBytes is the memory of the elements of s as bytes (Bytes of a whole array).
func SliceBytes[T Type](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), uintptr(len(s))*unsafe.Sizeof(s[0]))
}
