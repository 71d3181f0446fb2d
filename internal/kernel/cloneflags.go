package kernel

import (
	"fmt"
	"math/bits"
	"strings"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
)

// What clone(2) and clone3(2) without CLONE_THREAD do with each flag in golos, whose new
// process is a new golos, a host child of this one (fork.go):
//
//   - CLONE_VFORK (with or without CLONE_VM): the caller waits until the child execs or
//     ends; the child has a copy of the memory, what it writes in the parent's stack
//     frame given back (vforkShare).
//   - CLONE_SETTLS, CLONE_PARENT_SETTID, CLONE_CHILD_SETTID, CLONE_CHILD_CLEARTID,
//     CLONE_PIDFD: as Linux (fork.go, forkchild.go).
//   - CLONE_CLEAR_SIGHAND (clone3): the child's handled signals go back to SIG_DFL, the
//     ignored stay ignored (kernel/fork.c copy_process, flush_signal_handlers(p, 0)).
//   - hostCloneFlags (CLONE_PARENT, CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWNET,
//     CLONE_NEWPID, CLONE_NEWUSER, CLONE_NEWCGROUP, CLONE_IO, CLONE_PTRACE,
//     CLONE_UNTRACED) and CLONE_INTO_CGROUP: given to the host's clone of the child's
//     golos, which so is made where the program's child would be (the grandparent's
//     child, in new namespaces, in the cgroup), the host's errors (EPERM, EINVAL, ENOSPC,
//     EUSERS) the program's.
//   - CLONE_VM without CLONE_VFORK or CLONE_SIGHAND, with a stack and without --root
//     (LeakSanitizer's tracer): a raw task, a host clone that runs the program's code
//     outside golos (rawtask.go).
//   - Otherwise CLONE_VM without CLONE_VFORK, CLONE_FILES, CLONE_FS, CLONE_SIGHAND,
//     CLONE_SYSVSEM: two golos processes cannot share memory, a descriptor table, the fs
//     context, signal handlers or semaphore undo lists: ENOSYS, with a note the first time.
//   - CLONE_DETACHED: ignored, as Linux ignores it (clone(2): "ignored since 2.6.2").
//
// Combinations Linux refuses are refused first, with its errno (checkCloneFlags).

// hostCloneFlags are the clone flags the host's clone of the child's golos takes as the
// program gave them.
const hostCloneFlags = unix.CLONE_PARENT | unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
	unix.CLONE_NEWNET | unix.CLONE_NEWPID | unix.CLONE_NEWUSER | unix.CLONE_NEWCGROUP | unix.CLONE_IO |
	unix.CLONE_PTRACE | unix.CLONE_UNTRACED

// unsharedFlags are the flags of sharing between two processes that golos cannot give.
const unsharedFlags = unix.CLONE_FILES | unix.CLONE_FS | unix.CLONE_SIGHAND | unix.CLONE_SYSVSEM

var cloneFlagNames = map[uint64]string{
	unix.CLONE_VM: "CLONE_VM", unix.CLONE_FS: "CLONE_FS", unix.CLONE_FILES: "CLONE_FILES",
	unix.CLONE_SIGHAND: "CLONE_SIGHAND", unix.CLONE_SYSVSEM: "CLONE_SYSVSEM",
}

// checkCloneFlags checks the flags of a clone without CLONE_THREAD as Linux's
// copy_process does (kernel/fork.c, cloneFlagsValid), then refuses those golos cannot give (ENOSYS, with a
// note). It returns 0 when the clone can go on.
func (p *Process) checkCloneFlags(flags uint64) unix.Errno {
	if e := cloneFlagsValid(flags); e != 0 { // proc.go: Linux's EINVAL combinations
		return e
	}
	unshared := flags & unsharedFlags
	if flags&unix.CLONE_VM != 0 && flags&unix.CLONE_VFORK == 0 {
		unshared |= unix.CLONE_VM
	}
	if unshared == 0 {
		return 0
	}
	var names []string
	for f := unshared; f != 0; f &= f - 1 {
		names = append(names, cloneFlagNames[1<<bits.TrailingZeros64(f)])
	}
	what := strings.Join(names, "|")
	if unshared&unix.CLONE_VM != 0 && flags&unix.CLONE_VFORK == 0 {
		what += " without CLONE_VFORK"
	}
	p.unsupported(fmt.Sprintf("clone of a process with %s", what),
		"each process of golos is a host process of its own, which cannot share that with its parent; the program gets ENOSYS")
	return unix.ENOSYS
}

// clearSighand is what CLONE_CLEAR_SIGHAND leaves of a sigaction (handler, flags,
// restorer, mask): a handler goes back to SIG_DFL, SIG_IGN stays, and flags, restorer
// and mask are cleared (kernel/signal.c, flush_signal_handlers with force_default 0).
func clearSighand(a [4]uint64) [4]uint64 {
	if a[0] == abi.SIG_IGN {
		return [4]uint64{abi.SIG_IGN}
	}
	return [4]uint64{abi.SIG_DFL}
}

// hostCloneError is the host's refusal of a clone of the child's golos with flags of the
// program's (hostCloneFlags): its errno is the program's.
type hostCloneError struct{ errno unix.Errno }

func (e *hostCloneError) Error() string { return "clone of the child's golos: " + e.errno.Error() }
