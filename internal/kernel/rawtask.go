package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
	"golos/internal/entry"
)

// A clone(2) with CLONE_VM and without CLONE_THREAD, CLONE_VFORK or CLONE_SIGHAND makes a
// process that shares its parent's memory: a thread group of its own, with its own pid,
// signal handlers and (without CLONE_FILES, CLONE_FS) descriptor table and fs context.
// LeakSanitizer (on by default with gcc -fsanitize=address on x86-64) makes one at every
// leak check, at exit too: its tracer, which ptrace(2)-attaches to each thread of the
// process, reads their registers, scans the memory they share and detaches (compiler-rt,
// lib/sanitizer_common/sanitizer_stoptheworld_linux_libcdep.cpp, StopTheWorld, clone
// flags CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_UNTRACED). A golos process cannot share its
// memory with another golos, so golos makes this child a raw task: a host clone of the
// calling thread with the program's flags, which runs the program's code from the
// clone on with the caller's registers, outside golos (rawTaskClone). Such a child is then
// what it is on Linux: its parent is this process, whose threads' tids it ptraces (they
// are the host's), whose wait4 finds it and whose memory it shares.
//
// What the raw task does not get from golos: its system calls go to the host as they
// are, none virtualised (Syscall User Dispatch is per thread and off in a new task;
// rewritten sites take their slow path, entry.SlowSites): a path is the host's, not
// --root's; an execve would run the new program without golos; its own signal handlers
// are the host's. So it is made only when golos confines nothing the task could reach
// around: without --root (and --sandbox, whose seccomp filter and namespaces the task
// inherits, confines it as it does golos). Otherwise, and for flags it cannot give
// (CLONE_SIGHAND would share golos's own host handlers; CLONE_PIDFD, namespaces), the
// clone is refused as before (cloneflags.go).
//
// A tracer that stops every host thread also stops golos's own (the runtime's); they go
// on when it detaches, as the program's do. The registers it reads for a program thread
// that is inside golos at that moment are golos's, whose stack pointer is not on the
// thread's stack: LeakSanitizer then scans that thread's whole stack, as it does for a
// thread on a signal stack (lsan_common.cpp, ProcessThreads), the dead part below the
// stack pointer too. There a pointer to a block the program has lost, left by an earlier
// deeper call (malloc's own frames), would keep the block from being reported. The
// thread that makes the tracer is inside golos while it waits for it, so its dead stack
// is cleared first (clearDeadStack), as nothing the program may rely on: below the
// 128-byte red zone the stack belongs to whatever runs next on it, a signal handler
// (the x86-64 psABI, 3.2.2). A thread blocked in golos meanwhile keeps its own, which can
// only hide a leak, never report a false one.

// rawTaskFlags are the flags a raw task's host clone takes as the program gave them.
const rawTaskFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_UNTRACED |
	unix.CLONE_PTRACE | unix.CLONE_SYSVSEM | unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID |
	unix.CLONE_CHILD_SETTID | unix.CLONE_CHILD_CLEARTID | unix.CLONE_DETACHED | unix.CLONE_IO

// rawTaskBlockSlots is the size of rawTaskClone's block, in 8-byte slots (rawtask_amd64.s).
const rawTaskBlockSlots = 20

// wantsRawTask reports whether a clone without CLONE_THREAD with these flags makes a raw
// task: one sharing the memory, not a vfork, with flags the host's clone can take as
// they are, a stack of its own (the block goes below it), and no confinement by golos.
func (t *Thread) wantsRawTask(a abi.CloneArgs) bool {
	return a.Flags&(unix.CLONE_VM|unix.CLONE_VFORK) == unix.CLONE_VM && a.Flags&^rawTaskFlags == 0 &&
		a.Stack != 0 && t.p.fsctx.root == nil
}

// cloneRawTask makes the raw task and returns its pid, or -errno.
func (t *Thread) cloneRawTask(a abi.CloneArgs) int64 {
	if e := cloneFlagsValid(a.Flags); e != 0 { // proc.go: Linux's EINVAL combinations
		return -int64(e)
	}
	if a.Flags&unix.CLONE_SETTLS != 0 && a.TLS >= userEnd {
		return -int64(unix.EPERM)
	}
	r := &t.ctx.Regs
	var gs uint64
	if t.ctx.HasAppGS() {
		gs = t.ctx.AppGS()
	}
	fcw, mxcsr := t.ctx.FPControl()
	slots := [rawTaskBlockSlots]uint64{
		r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15,
		r.RDI, r.RSI, r.RBP, r.RBX, r.RDX, r.RIP, // RCX: after a syscall, its return address
		t.sigmask, gs, uint64(mxcsr), uint64(fcw), r.RFLAGS, r.RIP,
	}
	var block [rawTaskBlockSlots * 8]byte
	for i, v := range slots {
		binary.LittleEndian.PutUint64(block[i*8:], v)
	}
	sp := a.Stack - uint64(len(block))
	if sp > a.Stack || copyOut(sp, block[:]) != 0 {
		// Linux's child would fault on its first push and die of SIGSEGV; here the block
		// cannot be written, and the parent is told.
		return -int64(unix.EFAULT)
	}
	t.clearDeadStack(r.RSP)
	// From here on no site is rewritten, and no rewritten site reads GS: the task runs
	// with one that is no thread's.
	t.p.mm.rw.stop()
	entry.SlowSites()
	flags := a.Flags | a.ExitSignal&0xff
	pid := rawTaskClone(flags, sp, a.ParentTid, a.ChildTid, a.TLS)
	if pid > 0 && a.ExitSignal != uint64(unix.SIGCHLD) {
		t.p.kids.add(int(pid), int(a.ExitSignal)) // a clone child for wait4's __WCLONE (wait.go)
	}
	return pid
}

// clearDeadStack clears the calling thread's stack below its red zone (rsp-128), down to
// the start of the private anonymous mapping it lies in: the partial page with zeros, the
// pages below it with MADV_DONTNEED, which leaves them reading as zeros (madvise(2)).
// Anything else (a stack in a file or shared mapping) is left as it is.
func (t *Thread) clearDeadStack(rsp uint64) {
	dead := rsp - 128
	if dead > rsp {
		return
	}
	maps, _, err := readMaps() // fork.go
	if err != nil {
		return
	}
	for _, m := range maps {
		if dead <= m.Lo || dead > m.Hi {
			continue
		}
		if m.Shared || m.Path != "" || m.Ino != 0 || m.Prot&unix.PROT_WRITE == 0 {
			return
		}
		page := dead &^ (pageSize - 1)
		if page < m.Lo {
			page = m.Lo
		}
		copyOut(page, make([]byte, dead-page))
		if page > m.Lo {
			unix.Syscall(unix.SYS_MADVISE, uintptr(m.Lo), uintptr(page-m.Lo), unix.MADV_DONTNEED)
		}
		return
	}
}

// rawTaskClone is in rawtask_amd64.s.
func rawTaskClone(flags, sp, ptid, ctid, tls uint64) (pid int64)
