package kernel

import (
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"golos/internal/vfs"
)

// A fork opens descriptors of golos's own at the lowest free numbers for a moment, where
// the program has none (fork(2) opens nothing): the pipe the Go runtime's
// syscall.ForkExec makes (pipe2 with O_CLOEXEC), on which the child's golos would report
// a failed execve, open until that golos has started, a few milliseconds; and, for
// microseconds each, the files golos opens before moving them to its own numbers
// (vfs.MoveHigh: the socket to the child, its start-up log) or reads (/proc/self/maps).
// Another process's listing of this one's fd directory met them. Their numbers cannot
// be chosen, but they can be foreseen: the lowest free ones as the fork begins, since
// the program's other threads rarely open a descriptor in that moment. So golos counts
// them among its own (ownFDsNow) while the fork lasts and for a moment after, for a
// listing made meanwhile whose asker comes late (it waits up to 0.3 s for the answer):
// each while it is not open, or is open close-on-exec, as each of golos's is.

// forkLowFDs is how many of the lowest free numbers a fork may take at once (the
// runtime's pipe, a socket pair, a file read).
const forkLowFDs = 4

// forkPipeGrace is how long after the fork the foreseen numbers stay golos's.
const forkPipeGrace = time.Second

// forkPipe is the foreseen numbers of the last fork (forkPipeMu).
var (
	forkPipeMu sync.Mutex
	forkPipe   struct {
		fds   []int
		until time.Time // zero while the fork lasts
	}
)

// foreseeForkPipe notes the numbers the fork that begins may take for a moment; the
// function it returns says that the fork is over.
func foreseeForkPipe() (done func()) {
	open, err := vfs.OpenFDs()
	if err != nil {
		return func() {}
	}
	var free []int
	for fd := 0; len(free) < forkLowFDs; fd++ {
		if !slices.Contains(open, fd) {
			free = append(free, fd)
		}
	}
	forkPipeMu.Lock()
	forkPipe.fds, forkPipe.until = free, time.Time{}
	forkPipeMu.Unlock()
	return func() {
		forkPipeMu.Lock()
		forkPipe.until = time.Now().Add(forkPipeGrace)
		forkPipeMu.Unlock()
	}
}

// forkPipeFDs is the foreseen numbers of a fork that a listing of the fd directory made
// now, or a moment ago, would leave out.
func forkPipeFDs() []int {
	forkPipeMu.Lock()
	fds, until := forkPipe.fds, forkPipe.until
	forkPipeMu.Unlock()
	if len(fds) == 0 || !until.IsZero() && time.Now().After(until) {
		return nil
	}
	var out []int
	for _, fd := range fds {
		// Closed since (EBADF): a listing that met it leaves it out.
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err == unix.EBADF || err == nil && flags&unix.FD_CLOEXEC != 0 {
			out = append(out, fd)
		}
	}
	return out
}
