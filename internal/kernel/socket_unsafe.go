package kernel

import (
	"runtime"
	"unsafe"

	"golos/internal/abi"
)

// bytesAddr is the address of b's first byte, in golos's memory; the caller keeps b
// alive (keepAlive) until the call that uses it returns.
func bytesAddr(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(&b[0]))) }

func keepAlive(x any) { runtime.KeepAlive(x) }

// callWithBytes makes the thread's syscall with args, argument i pointing at b (golos's
// memory): blocking as passthrough, or not.
func callWithBytes(t *Thread, args [6]uint64, i int, b []byte, blocking bool) int64 {
	args[i] = bytesAddr(b)
	var ret int64
	if blocking {
		ret = blockingCall(t, args)
	} else {
		ret = passthroughRaw(t.ctx.Regs.RAX, args[0], args[1], args[2], args[3], args[4], args[5])
	}
	runtime.KeepAlive(b)
	return ret
}

// heapBytes allocates n bytes on the heap, which never moves: a buffer whose address is
// given to the host must not be on a goroutine stack, which may be copied elsewhere.
//
//go:noinline
func heapBytes(n int) []byte { return make([]byte, n) }

// heapMmsghdrs allocates n struct mmsghdr on the heap, as heapBytes does.
//
//go:noinline
func heapMmsghdrs(n int) []abi.Mmsghdr { return make([]abi.Mmsghdr, n) }
