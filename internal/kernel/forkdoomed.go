package kernel

import (
	"sync"
	"sync/atomic"
)

// A fork that fails after the child's golos has started (fork.go, startChild: the
// process could not be sent to it) leaves a host child that the program never had: golos
// kills it and waits for it. Another thread of the program that waits for any child
// (waitpid(-1, …), as make(1) does, often with WNOHANG after a SIGCHLD; waitid(P_ALL))
// may reap it first, and would see a pid its fork never returned, a child more than it
// made (Linux's failed fork leaves nothing to wait for: kernel/fork.c, copy_process
// frees the task before it is ever on the parent's list of children). Such a child may
// also end by itself, before the parent knows the fork failed (a child's golos that
// cannot open the root ends with its error). So golos notes every child's golos as
// starting from the moment it exists until the fork's outcome is known: a wait of the
// program's that reports a starting child waits for that outcome (the forking thread
// has it soon: the child's golos answers or is gone), then reports the child if the fork
// succeeded, and is made again if it failed, as if that child had never been there
// (sysWait4, sysWaitid). A failed fork's child stays noted as doomed until it is reaped,
// by golos or by a wait of the program's.

// doomedKids are the children's golos processes whose fork has not succeeded (yet).
type doomedKids struct {
	n    atomic.Int32 // len(pid): a wait looks no further when it is 0
	mu   mutex[kidsLock]
	pid  map[int]bool // mu: false while the fork is under way, true once it failed
	done *sync.Cond   // mu: broadcast when a starting child's fork is decided
}

// starting notes pid, a child's golos just started, until its fork is decided
// (succeeded, failed).
func (d *doomedKids) starting(pid int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pid == nil {
		d.pid = map[int]bool{}
		d.done = sync.NewCond(&d.mu)
	}
	d.pid[pid] = false
	d.n.Store(int32(len(d.pid)))
}

// add notes pid as a child the program never has, from the start: a lazy fork's holder
// (lazyfork_unsafe.go).
func (d *doomedKids) add(pid int) {
	d.starting(pid)
	d.failed(pid)
}

// succeeded forgets pid: the fork returned it, and a wait reports it from now on.
func (d *doomedKids) succeeded(pid int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.pid, pid)
	d.n.Store(int32(len(d.pid)))
	d.done.Broadcast()
}

// failed notes pid as the child of a failed fork, before golos kills it, unless a wait
// of the program's reaped it already (it ended by itself): then there is nothing left
// to hide.
func (d *doomedKids) failed(pid int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.pid[pid]; ok {
		d.pid[pid] = true
	}
	d.done.Broadcast()
}

// decided waits, mu held, while pid's fork is under way; it reports whether pid is a
// failed fork's child.
func (d *doomedKids) decided(pid int) (doomed, known bool) {
	for {
		doomed, known = d.pid[pid]
		if !known || doomed {
			return doomed, known
		}
		d.done.Wait()
	}
}

// take reports whether pid, just reaped by a wait, was the child of a failed fork, and
// forgets it: whoever reaped it, golos or the program, the host may hand the pid out
// again now. For a child whose fork is under way it waits until the fork is decided.
func (d *doomedKids) take(pid int) bool {
	if pid <= 0 || d.n.Load() == 0 {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if doomed, _ := d.decided(pid); !doomed {
		return false
	}
	delete(d.pid, pid)
	d.n.Store(int32(len(d.pid)))
	return true
}

// has reports whether pid, which a wait reported without reaping it (WNOWAIT, a stop),
// is the child of a failed fork, waiting as take does.
func (d *doomedKids) has(pid int) bool {
	if pid <= 0 || d.n.Load() == 0 {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	doomed, _ := d.decided(pid)
	return doomed
}
