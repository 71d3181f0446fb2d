package abi

import "unsafe"

// Struct is an ABI struct of this package, whose memory is the C layout.
type Struct interface {
	Sigaction | StackT | CloneArgs | Siginfo | Ucontext | RtSigframe | Rlimit | Timespec
}

// Bytes is the memory of *p as bytes, to be copied to or from the application's memory
// whole (the structs have no pointers and x86-64 is little-endian, as the C layout is).
func Bytes[T Struct](p *T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), unsafe.Sizeof(*p))
}
