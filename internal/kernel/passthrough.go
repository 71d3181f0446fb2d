package kernel

import (
	"golang.org/x/sys/unix"

	"golos/internal/entry"
)

// passthrough makes the application's syscall on the host unchanged: the application's
// memory is golos's memory, so its pointers are valid as they are and the host validates
// them. The call may block: the goroutine enters the runtime's syscall state, and a
// signal pending for the thread stops it with EINTR (entry.BlockingSyscall).
func passthrough(t *Thread) int64 {
	r := &t.ctx.Regs
	args := [6]uintptr{uintptr(r.RDI), uintptr(r.RSI), uintptr(r.RDX), uintptr(r.R10), uintptr(r.R8), uintptr(r.R9)}
	ret, e := entry.BlockingSyscall(t.ctx, uintptr(r.RAX), &args)
	if e != 0 {
		return -int64(e)
	}
	return int64(ret)
}

// passthroughFast is passthrough for calls that never block.
func passthroughFast(t *Thread) int64 {
	r := &t.ctx.Regs
	return passthroughRaw(r.RAX, r.RDI, r.RSI, r.RDX, r.R10, r.R8, r.R9)
}

func passthroughRaw(nr, a0, a1, a2, a3, a4, a5 uint64) int64 {
	ret, _, e := unix.RawSyscall6(uintptr(nr), uintptr(a0), uintptr(a1), uintptr(a2),
		uintptr(a3), uintptr(a4), uintptr(a5))
	if e != 0 {
		return -int64(e)
	}
	return int64(ret)
}
