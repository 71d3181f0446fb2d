package kernel

import "sync/atomic"

// A fork that fails after the child's golos has started (fork.go, startChild: the
// process could not be sent to it) leaves a host child that the program never had: golos
// kills it and waits for it. Another thread of the program that waits for any child
// (waitpid(-1, …), as make(1) does, often with WNOHANG after a SIGCHLD) may reap it
// first, and would see a pid its fork never returned, a child more than it made (Linux's
// failed fork leaves nothing to wait for: kernel/fork.c, copy_process frees the task
// before it is ever on the parent's list of children). golos notes such a child as
// doomed until it has reaped it itself; a wait of the program's that reaps it instead
// drops it and is made again (sysWait4).

// doomedKids are the host children of failed forks not yet reaped by golos.
type doomedKids struct {
	n   atomic.Int32 // len(pid): wait4 looks no further when it is 0
	mu  mutex[kidsLock]
	pid map[int]bool // mu
}

// add notes pid as the child of a failed fork, before golos kills it.
func (d *doomedKids) add(pid int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pid == nil {
		d.pid = map[int]bool{}
	}
	d.pid[pid] = true
	d.n.Store(int32(len(d.pid)))
}

// take reports whether pid, just reaped by a wait, was the child of a failed fork, and
// forgets it: whoever reaped it, golos or the program, the host may hand the pid out
// again now.
func (d *doomedKids) take(pid int) bool {
	if pid <= 0 || d.n.Load() == 0 {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.pid[pid] {
		return false
	}
	delete(d.pid, pid)
	d.n.Store(int32(len(d.pid)))
	return true
}

// has reports whether pid is still doomed: golos has not reaped it, nor a wait of the
// program's.
func (d *doomedKids) has(pid int) bool {
	if d.n.Load() == 0 {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pid[pid]
}
