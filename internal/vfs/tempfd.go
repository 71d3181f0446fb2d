package vfs

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// golos's temporary descriptors: those a lookup holds while one call lasts (a Ref's, the
// directories a walk goes through, LockPaths'). The host gives each the lowest free
// number, among the program's own, where another thread of the program could see it (a
// listing of /proc/self/fd), use it (fcntl, fstat), close it, or put a descriptor of its
// own in its place with dup2(2) before golos names it in "/proc/self/fd/N/…" to the host,
// which would then resolve the call in the program's directory, inside the root or not.
// So a lookup holds the low window (EnterLow) from before it opens any until its
// descriptors are closed or moved above the program's numbers (holdTemp), where they are
// golos's own until they close (IsTemp, TempFDs, the tables Hook keeps); and the program's
// calls that close or replace a descriptor, or list its descriptors, wait for the window
// to be empty (LockLow).

// low is a lock that readers (lookups) may take again while they hold it, which a
// writer-preferring sync.RWMutex does not allow: the first reader in takes w, the last
// out lets it go; a writer takes w.
var low struct {
	mu      sync.Mutex
	readers int
	w       sync.Mutex
}

// EnterLow makes the calling lookup one that may hold descriptors at the program's
// numbers, until the function it returns is called.
func EnterLow() (leave func()) {
	low.mu.Lock()
	if low.readers == 0 {
		low.w.Lock()
	}
	low.readers++
	low.mu.Unlock()
	return func() {
		low.mu.Lock()
		if low.readers--; low.readers == 0 {
			low.w.Unlock()
		}
		low.mu.Unlock()
	}
}

// LockLow waits until no lookup holds a descriptor at the program's numbers and keeps
// new ones from starting, until the function it returns is called: for the program's
// close(2), dup2(2), dup3(2), close_range(2) and listings of its own descriptors.
func LockLow() (unlock func()) {
	low.w.Lock()
	return low.w.Unlock
}

// Hook, when set, is told of each temporary descriptor golos holds above the program's
// numbers (held true) and of its end (held false), before it closes: the kernel marks
// it as one of its own for the entry code.
var Hook func(fd int, held bool)

var (
	temps     sync.Map // int → struct{}: the temporary descriptors held now
	tempCount atomic.Int32
)

// IsTemp reports whether fd is one of golos's temporary descriptors.
func IsTemp(fd int) bool {
	if tempCount.Load() == 0 {
		return false
	}
	_, ok := temps.Load(fd)
	return ok
}

// TempFDs lists golos's temporary descriptors held now.
func TempFDs() []int {
	var fds []int
	if tempCount.Load() == 0 {
		return nil
	}
	temps.Range(func(k, _ any) bool {
		fds = append(fds, k.(int))
		return true
	})
	return fds
}

// holdTemp moves descriptor fd, just opened in the low window, above the program's
// numbers and records it as a temporary descriptor (closeTemp ends it). Where it cannot
// move (MoveHigh's cases: a lowered RLIMIT_NOFILE, a full range) it stays, recorded.
func holdTemp(fd int) int {
	if hi, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, HighFD()); err == nil {
		unix.Close(fd)
		fd = hi
	}
	temps.Store(fd, struct{}{})
	tempCount.Add(1)
	if Hook != nil {
		Hook(fd, true)
	}
	return fd
}

// closeTemp closes a temporary descriptor holdTemp made. It stays golos's until it is
// closed: the program's calls on its number get EBADF meanwhile, not golos's file.
func closeTemp(fd int) {
	unix.Close(fd)
	if _, ok := temps.LoadAndDelete(fd); ok {
		tempCount.Add(-1)
	}
	if Hook != nil {
		Hook(fd, false)
	}
}
