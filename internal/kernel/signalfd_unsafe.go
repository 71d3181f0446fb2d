package kernel

import (
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"golos/internal/entry"
)

// waitReadable waits, in the runtime's syscall state, until signalfd descriptor fd is
// readable, or a signal the thread takes interrupts the wait (EINTR: entry.BlockingSyscall).
func (t *Thread) waitReadable(fd int) unix.Errno {
	pfd := &unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	args := [6]uintptr{uintptr(unsafe.Pointer(pfd)), 1, ^uintptr(0)} // no timeout: -1
	_, e := entry.BlockingSyscall(t.ctx, unix.SYS_POLL, &args)
	runtime.KeepAlive(pfd)
	return e
}

// napInterruptible sleeps for d in the runtime's syscall state, or until a signal the
// thread takes interrupts it (EINTR).
func (t *Thread) napInterruptible(d time.Duration) unix.Errno {
	ts := unix.NsecToTimespec(int64(d))
	args := [6]uintptr{uintptr(unsafe.Pointer(&ts))}
	_, e := entry.BlockingSyscall(t.ctx, unix.SYS_NANOSLEEP, &args)
	runtime.KeepAlive(&ts)
	return e
}
