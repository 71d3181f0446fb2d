package kernel

import (
	"encoding/binary"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"golos/internal/entry"
)

// Children made by clone(2) with an exit signal other than SIGCHLD — "clone children" in
// wait(2)'s words, 0 for none, as Go's runtime asks for when it checks that CLONE_PIDFD
// works (syscall.checkClonePidfd) — are golos processes like any other, and the host's
// child is the child's golos, which ends with SIGCHLD. So golos keeps each one's exit
// signal: it delivers that signal, or none, in place of the host's SIGCHLD for the
// child's end, and it tells clone children apart in wait4(2) and waitid(2), where Linux
// finds them only with __WCLONE or __WALL and the others only without __WCLONE
// (kernel/exit.c, eligible_child).
//
// The waits by pid or pidfd are exact. A wait for any child or a process group with
// __WCLONE waits for every child (__WALL), and one without __WCLONE may find a clone
// child, where Linux would not: golos would have to wait for each eligible child itself.

// cloneKids are a process's clone children.
//
// One that a wait has reaped is kept until the host's SIGCHLD for its end has been seen
// (childExitSignal), which may be after the wait: the kernel queues the signal before the
// child can be waited for, but golos forwards it when one of its threads has taken it.
// One whose SIGCHLD never comes, merged with another child's, is forgotten a second
// later (add), long before the host could hand its pid out again.
type cloneKids struct {
	n   atomic.Int32 // len(kid): wait4, waitid and the forwarder look no further when it is 0
	mu  mutex[kidsLock]
	kid map[int]cloneKid // by pid; mu
}

type cloneKid struct {
	exitSignal int       // 0: none
	reaped     time.Time // when a wait reaped it; zero before
}

// add records a clone child.
func (k *cloneKids) add(pid, exitSignal int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.kid == nil {
		k.kid = map[int]cloneKid{}
	}
	for pid, c := range k.kid {
		if !c.reaped.IsZero() && time.Since(c.reaped) > time.Second {
			delete(k.kid, pid)
		}
	}
	k.kid[pid] = cloneKid{exitSignal: exitSignal}
	k.n.Store(int32(len(k.kid)))
}

// isClone reports whether pid is a clone child not yet reaped.
func (k *cloneKids) isClone(pid int) bool {
	if k.n.Load() == 0 {
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	c, ok := k.kid[pid]
	return ok && c.reaped.IsZero()
}

// reaped notes that a wait has reaped pid.
func (k *cloneKids) reaped(pid int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if c, ok := k.kid[pid]; ok {
		c.reaped = time.Now()
		k.kid[pid] = c
	}
}

// ended returns the exit signal of pid if it is a clone child, and forgets it if a wait
// has reaped it already.
func (k *cloneKids) ended(pid int) (int, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	c, ok := k.kid[pid]
	if ok && !c.reaped.IsZero() {
		delete(k.kid, pid)
		k.n.Store(int32(len(k.kid)))
	}
	return c.exitSignal, ok
}

// forget drops pid: a child golos itself started and reaped, which the program never had.
func (k *cloneKids) forget(pid int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.kid, pid)
	k.n.Store(int32(len(k.kid)))
}

// waitOptions returns the options to give the host for a wait on pid (0 or less: any
// child or a group) with options, and whether the wait can find nothing (ECHILD):
// a clone child is eligible only with __WCLONE or __WALL, another child only without
// __WCLONE or with __WALL.
func (p *Process) waitOptions(pid int, options uint64) (uint64, bool) {
	if options&unix.WALL != 0 || p.kids.n.Load() == 0 && options&unix.WCLONE == 0 {
		return options, true
	}
	if pid <= 0 {
		if options&unix.WCLONE != 0 {
			return options&^unix.WCLONE | unix.WALL, true
		}
		return options, true
	}
	if p.kids.isClone(pid) != (options&unix.WCLONE != 0) {
		return options, false
	}
	return options&^unix.WCLONE | unix.WALL, true
}

// wait4(2).
func sysWait4(t *Thread) int64 {
	p := t.p
	if p.kids.n.Load() == 0 && t.arg(2)&unix.WCLONE == 0 {
		ret := passthrough(t)
		return t.notDoomed(unix.SYS_WAIT4, int(ret), true, ret)
	}
	pid := int(int32(t.arg(0)))
	options, ok := p.waitOptions(pid, t.arg(2))
	if !ok {
		return -int64(unix.ECHILD)
	}
	args := [6]uintptr{uintptr(t.arg(0)), uintptr(t.arg(1)), uintptr(options), uintptr(t.arg(3))}
	ret, e := entry.BlockingSyscall(t.ctx, unix.SYS_WAIT4, &args)
	if e != 0 {
		return -int64(e)
	}
	if ret > 0 {
		p.kids.reaped(int(ret))
	}
	return t.notDoomed(unix.SYS_WAIT4, int(ret), true, int64(ret))
}

// notDoomed returns ret, what wait4 or waitid (the call nr) returned, unless the child
// it reported, pid, is a failed fork's (forkdoomed.go), which the program never had: the
// wait is then made again, for the program's own children, as if that child had never
// been there. A waitid with WNOWAIT left that child a zombie, which golos reaps at once
// (fork.go, startChild): the wait made again finds it gone.
func (t *Thread) notDoomed(nr int, pid int, reaped bool, ret int64) int64 {
	if pid <= 0 {
		return ret
	}
	if reaped && !t.p.doomed.take(pid) || !reaped && !t.p.doomed.has(pid) {
		return ret
	}
	t.restart(uint64(nr))
	t.regsSet = true
	return 0
}

// waitid(2).
func sysWaitid(t *Thread) int64 {
	p := t.p
	if p.kids.n.Load() == 0 && t.arg(3)&unix.WCLONE == 0 {
		ret := passthrough(t)
		pid, reaped := t.waitidChild(ret)
		return t.notDoomed(unix.SYS_WAITID, pid, reaped, ret)
	}
	idtype, id, infop := t.arg(0), t.arg(1), t.arg(2)
	pid := 0
	switch idtype {
	case unix.P_PID:
		pid = int(int32(id))
	case unix.P_PIDFD:
		if target, _, ok := pidfdTarget(int(int32(id))); ok {
			pid = target
		}
	}
	options, ok := p.waitOptions(pid, t.arg(3))
	if !ok {
		return -int64(unix.ECHILD)
	}
	args := [6]uintptr{uintptr(idtype), uintptr(id), uintptr(infop), uintptr(options), uintptr(t.arg(4))}
	_, e := entry.BlockingSyscall(t.ctx, unix.SYS_WAITID, &args)
	if e != 0 {
		return -int64(e)
	}
	child, reaped := t.waitidChild(0)
	if reaped {
		p.kids.reaped(child)
	}
	return t.notDoomed(unix.SYS_WAITID, child, reaped, 0)
}

// waitidChild returns the child a waitid(2) that returned ret reported (its siginfo's
// si_pid; 0 for none, or when the program passed no siginfo, which Linux allows), and
// whether the call reaped it: it reported an end (WEXITED), without WNOWAIT.
func (t *Thread) waitidChild(ret int64) (pid int, reaped bool) {
	infop, options := t.arg(2), t.arg(3)
	if ret != 0 || infop == 0 {
		return 0, false
	}
	var b [20]byte // siginfo's si_signo, si_errno, si_code, padding, si_pid
	if copyIn(infop, b[:]) != 0 {
		return 0, false
	}
	// CLD_EXITED, CLD_KILLED, CLD_DUMPED (include/uapi/asm-generic/siginfo.h)
	const cldExited, cldKilled, cldDumped = 1, 2, 3
	code := int32(binary.LittleEndian.Uint32(b[8:]))
	pid = int(int32(binary.LittleEndian.Uint32(b[16:])))
	ended := code == cldExited || code == cldKilled || code == cldDumped
	return pid, ended && options&unix.WNOWAIT == 0
}

// childExitSignal returns the signal to deliver for a SIGCHLD from the host with the
// siginfo raw, and false for none: a clone child's end is announced by its own exit
// signal (kernel/exit.c, do_notify_parent), its stops and continues by SIGCHLD, as for
// any child (do_notify_parent_cldstop).
func (p *Process) childExitSignal(raw []byte) (int, bool) {
	if p.kids.n.Load() == 0 || len(raw) < 20 {
		return int(unix.SIGCHLD), true
	}
	// CLD_EXITED, CLD_KILLED, CLD_DUMPED (include/uapi/asm-generic/siginfo.h)
	const cldExited, cldKilled, cldDumped = 1, 2, 3
	code := int32(binary.LittleEndian.Uint32(raw[8:]))
	if code != cldExited && code != cldKilled && code != cldDumped {
		return int(unix.SIGCHLD), true
	}
	sig, ok := p.kids.ended(int(int32(binary.LittleEndian.Uint32(raw[16:]))))
	if !ok {
		return int(unix.SIGCHLD), true
	}
	return sig, sig != 0
}
