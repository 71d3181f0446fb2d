package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
	"golos/internal/entry"
)

// exit_group(2): the whole process ends with the status's low byte.
func sysExitGroup(t *Thread) int64 {
	t.p.exitGroup(int(t.arg(0) & 0xff))
	return 0
}

// exit(2): the thread ends; the process ends with its last thread.
func sysExit(t *Thread) int64 {
	t.exit(int(t.arg(0) & 0xff))
	return 0
}

// set_tid_address(2): records where the tid is cleared when the thread exits and
// returns the caller's tid.
func sysSetTidAddress(t *Thread) int64 {
	t.clearChildTid = t.arg(0)
	return int64(t.tid)
}

// gettid(2): the application thread is the host thread that runs it.
func sysGettid(t *Thread) int64 { return int64(t.tid) }

// arch_prctl(2)'s codes (arch/x86/include/uapi/asm/prctl.h).
const (
	archSetGS = 0x1001
	archSetFS = 0x1002
	archGetFS = 0x1003
	archGetGS = 0x1004
	// CPUID faulting (arch/x86/kernel/process.c, get_cpuid_mode and set_cpuid_mode).
	archGetCPUID = 0x1011
	archSetCPUID = 0x1012
	// The extended states the CPU supports and the process may use
	// (arch/x86/kernel/fpu/xstate.c, fpu_xstate_prctl).
	archGetXcompSupp = 0x1021
	archGetXcompPerm = 0x1022
	archReqXcompPerm = 0x1023
)

// arch_prctl(2). ARCH_SET_FS sets this thread's FS base on the host: the application owns
// FS and golos never reads or changes it again. ARCH_GET_FS is answered by the host too
// (it writes the value to the application's memory; golos never reads it). GS is
// golos's own (the Go runtime's TLS), so the application's GS base is virtual: recorded
// here and loaded only while the application's code runs (entry.Context.SetAppGS).
func sysArchPrctl(t *Thread) int64 {
	switch uint32(t.arg(0)) { // int option
	case archSetFS:
		if baseBeyondUser(t.arg(1)) {
			return -int64(unix.EPERM) // as Linux: a non-canonical or kernel address
		}
		return passthroughRaw(unix.SYS_ARCH_PRCTL, archSetFS, t.arg(1), 0, 0, 0, 0)
	case archGetFS:
		return passthroughRaw(unix.SYS_ARCH_PRCTL, archGetFS, t.arg(1), 0, 0, 0, 0)
	case archGetGS:
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], t.ctx.AppGS())
		return -int64(copyOut(t.arg(1), b[:]))
	case archSetGS:
		if baseBeyondUser(t.arg(1)) { // tasksize.go: 47 or 56 bits, as the host's
			return -int64(unix.EPERM)
		}
		t.ctx.SetAppGS(t.arg(1))
		return 0
	case archGetCPUID:
		return 1 // CPUID runs: golos never lets it fault (below)
	case archSetCPUID:
		if t.arg(1) != 0 {
			// Enabling what is enabled: 0, or ENODEV from a CPU without CPUID faulting.
			return passthroughRaw(unix.SYS_ARCH_PRCTL, archSetCPUID, 1, 0, 0, 0, 0)
		}
		// A faulting CPUID would be golos's too: the flag is its OS thread's, and the
		// threads cloned from it inherit it. ENODEV is a CPU without CPUID faulting,
		// which callers (rr) expect.
		t.p.unsupported("arch_prctl(ARCH_SET_CPUID, 0)", "CPUID faulting would reach golos's own code on the thread")
		return -int64(unix.ENODEV)
	case archGetXcompSupp, archGetXcompPerm:
		// The host writes the mask to golos's memory; the program's is written as any
		// other result, checked.
		v, e := hostArchPrctlValue(uint32(t.arg(0)))
		if e != 0 {
			return -int64(e)
		}
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], v)
		return -int64(copyOut(t.arg(1), b[:]))
	case archReqXcompPerm:
		// Permission for a dynamically enabled state (AMX's tile data) is the process's,
		// golos's threads' too: their XSAVE areas are sized for every state XCR0 enables
		// (entry.XsaveSize), the tiles' among them. EOPNOTSUPP for a state the CPU lacks.
		return passthroughRaw(unix.SYS_ARCH_PRCTL, archReqXcompPerm, t.arg(1), 0, 0, 0, 0)
	}
	return -int64(unix.EINVAL)
}

// unsupported names, once, a feature golos refuses.
func (p *Process) unsupported(what, why string) {
	p.noteMu.Lock()
	if p.notedFeatures == nil {
		p.notedFeatures = map[string]bool{}
	}
	first := !p.notedFeatures[what]
	p.notedFeatures[what] = true
	p.noteMu.Unlock()
	if first && !p.opts.Quiet {
		p.note("%s is not supported: %s", what, why)
	}
}

// clone(2) and clone3(2) both come to clone with an abi.CloneArgs as Linux's
// kernel_clone_args holds them: Stack is the top of the new stack (clone(2)'s newsp, or
// clone3's stack plus stack_size), or 0 to keep the caller's; StackSize is 0.

// clone(2): x86-64 passes flags, newsp, parent_tid, child_tid, tls. Only the low 32
// bits of the flags count, and the low byte is the exit signal (kernel/fork.c).
func sysClone(t *Thread) int64 {
	flags := uint64(uint32(t.arg(0)))
	a := abi.CloneArgs{Flags: flags &^ 0xff, ExitSignal: flags & 0xff, Stack: t.arg(1),
		ParentTid: t.arg(2), ChildTid: t.arg(3), TLS: t.arg(4)}
	if a.Flags&unix.CLONE_PIDFD != 0 {
		// clone(2) returns the pidfd where it would store the parent's tid, so the two
		// cannot be asked for together (kernel/fork.c, kernel_clone).
		if a.Flags&unix.CLONE_PARENT_SETTID != 0 {
			return -int64(unix.EINVAL)
		}
		a.Pidfd = a.ParentTid
	}
	if a.ExitSignal > 64 {
		// clone(2) takes any byte as the exit signal (clone3 checks it); one past 64 is
		// never sent (kernel/signal.c, do_notify_parent), as with none at all.
		a.ExitSignal = 0
	}
	return t.clone(a)
}

// clone3(2): struct clone_args (include/uapi/linux/sched.h), read and checked as
// kernel/fork.c's copy_clone_args_from_user and clone3_args_valid do.
func sysClone3(t *Thread) int64 {
	// struct clone_args grew from 64 bytes (CLONE_ARGS_SIZE_VER0) to 80 (set_tid, VER1)
	// and 88 (cgroup, VER2). Linux takes any size from 64 to a page: a shorter one reads
	// as zero beyond its end, a longer one must hold zeros past what the kernel knows
	// (abi.CopyStructIn).
	addr, size := t.arg(0), t.arg(1)
	if size > pageSize {
		return -int64(unix.E2BIG)
	}
	if size < abi.CloneArgsSizeVer0 {
		return -int64(unix.EINVAL)
	}
	var a abi.CloneArgs
	if e := abi.CopyStructIn(entry.CopyIn, abi.Bytes(&a), addr, size); e != 0 {
		return -int64(e)
	}
	// set_tid with set_tid_size: choosing the new thread's id needs
	// CAP_CHECKPOINT_RESTORE in the pid namespace's owner (EPERM, from alloc_pid); a
	// size past the nesting depth (MAX_PID_NS_LEVEL), or one without the other, is EINVAL.
	if a.SetTidSize > 32 || a.SetTid == 0 && a.SetTidSize != 0 || a.SetTid != 0 && a.SetTidSize == 0 {
		return -int64(unix.EINVAL)
	}
	const csignal = 0xff
	if a.ExitSignal&^csignal != 0 || a.ExitSignal > 64 { // valid_signal
		return -int64(unix.EINVAL)
	}
	if a.Flags&unix.CLONE_INTO_CGROUP != 0 && (a.Cgroup > 1<<31-1 || size < abi.CloneArgsSizeVer2) {
		return -int64(unix.EINVAL)
	}
	// clone3_args_valid: no flags past clone(2)'s 32 and the two of clone3's own; the
	// bits clone(2) gives the exit signal and CLONE_DETACHED are not flags here (golos
	// also refuses CLONE_NEWTIME, 0x80, which Linux lets through to a permission check);
	// a thread or a CLONE_PARENT child has no exit signal; a stack has a size.
	const legacyFlags = 0xffffffff
	if a.Flags&^(legacyFlags|unix.CLONE_CLEAR_SIGHAND|unix.CLONE_INTO_CGROUP) != 0 ||
		a.Flags&(unix.CLONE_DETACHED|csignal) != 0 ||
		a.Flags&(unix.CLONE_SIGHAND|unix.CLONE_CLEAR_SIGHAND) == unix.CLONE_SIGHAND|unix.CLONE_CLEAR_SIGHAND ||
		a.Flags&(unix.CLONE_THREAD|unix.CLONE_PARENT) != 0 && a.ExitSignal != 0 ||
		(a.Stack == 0) != (a.StackSize == 0) || a.Stack+a.StackSize < a.Stack || a.Stack+a.StackSize > userEnd {
		return -int64(unix.EINVAL)
	}
	if a.SetTidSize != 0 {
		return -int64(unix.EPERM)
	}
	// clone3_stack_valid: the stack grows down from its top. pidfd is read only with
	// CLONE_PIDFD, which clone refuses.
	a.Stack += a.StackSize
	a.StackSize = 0
	return t.clone(a)
}

// cloneFlagsValid checks the combinations of flags Linux refuses with EINVAL before it
// makes anything (kernel/fork.c, copy_process), so that they are refused as such and not
// as something golos does not support: a new mount or user namespace cannot share the
// fs context; a thread shares the signal handlers, which are shared only with the
// memory; a thread is in its creator's namespaces; a pidfd is for a process.
func cloneFlagsValid(flags uint64) unix.Errno {
	has := func(f uint64) bool { return flags&f == f }
	switch {
	case has(unix.CLONE_NEWNS | unix.CLONE_FS), has(unix.CLONE_NEWUSER | unix.CLONE_FS),
		has(unix.CLONE_THREAD) && !has(unix.CLONE_SIGHAND),
		has(unix.CLONE_SIGHAND) && !has(unix.CLONE_VM),
		has(unix.CLONE_THREAD) && flags&(unix.CLONE_NEWUSER|unix.CLONE_NEWPID) != 0,
		has(unix.CLONE_PIDFD) && flags&(unix.CLONE_DETACHED|unix.CLONE_THREAD) != 0:
		return unix.EINVAL
	}
	return 0
}

// The flags a new thread (pthread_create, Go's newosproc) comes with; golos gives every
// thread of the process the same memory, files, fs information and signal dispositions.
const threadFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_THREAD

// clone creates a thread: a spare OS thread (takeSpare), locked to its goroutine, starts
// at the caller's registers with RAX = 0 and the new stack.
func (t *Thread) clone(a abi.CloneArgs) int64 {
	if e := cloneFlagsValid(a.Flags); e != 0 {
		return -int64(e)
	}
	if a.Flags&unix.CLONE_THREAD == 0 {
		return t.fork(a) // a new process (fork.go)
	}
	known := uint64(threadFlags | unix.CLONE_SYSVSEM | unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID |
		unix.CLONE_CHILD_SETTID | unix.CLONE_CHILD_CLEARTID | unix.CLONE_DETACHED)
	// kernel/fork.c, copy_process: a thread shares its signal handlers, and handlers are
	// shared only with the memory.
	if a.Flags&unix.CLONE_SIGHAND == 0 || a.Flags&unix.CLONE_VM == 0 || a.Flags&^known != 0 {
		return -int64(unix.EINVAL)
	}
	if a.Flags&(unix.CLONE_FILES|unix.CLONE_FS) != unix.CLONE_FILES|unix.CLONE_FS {
		// Linux lets a thread have a descriptor table or fs context of its own; golos's
		// threads are host threads of one process and share the host's (docs/design.md,
		// "The kernel's state").
		t.p.unsupported("a thread with its own descriptor table or working directory (clone with CLONE_THREAD, without CLONE_FILES or CLONE_FS)",
			"golos's threads share one; the program gets ENOSYS")
		return -int64(unix.ENOSYS)
	}
	if a.Flags&unix.CLONE_SETTLS == 0 {
		// The child would inherit the caller's FS base, which golos never reads.
		t.p.unsupported("a thread without CLONE_SETTLS", "golos does not read the application's FS to copy it")
		return -int64(unix.EINVAL)
	}
	if baseBeyondUser(a.TLS) {
		return -int64(unix.EPERM)
	}
	// Held until the thread's OS thread runs (nproclock.go).
	unlock := t.p.lockNproc()
	if t.overNproc() || !t.p.taskRoom(1) { // nproc.go
		unlock()
		return -int64(unix.EAGAIN)
	}
	var creds *threadCreds // this thread's for the new one, if they may differ from golos's (creds.go)
	if t.p.credsChanged.Load() {
		c, err := currentCreds()
		if err != nil {
			unlock()
			t.p.note("start a thread: %v", err)
			return -int64(unix.EAGAIN)
		}
		creds = &c
	}
	raiseProcs() // a P for the new thread's code besides this one's (procs.go)
	t.p.mm.rw.goingThreaded()
	s, err := t.p.takeSpare()
	unlock()
	if err != nil {
		t.p.note("start a thread: %v", err)
		return -int64(unix.EAGAIN) // clone(2): "Too many processes are already running"
	}
	child := &Thread{p: t.p, ctx: s.ctx, tid: s.tid, infos: map[int][]siginfo{}}
	child.ctx.Regs = t.ctx.Regs
	child.ctx.Regs.RAX = 0
	child.ctx.Regs.RCX = t.ctx.Regs.RIP
	child.ctx.Regs.R11 = t.ctx.Regs.RFLAGS
	if a.Stack != 0 {
		child.ctx.Regs.RSP = a.Stack
	}
	copy(child.ctx.Xsave(), t.ctx.Xsave()[:entry.XsaveSize])
	child.ctx.InheritGS(t.ctx)
	t.p.sighand.mu.Lock()
	child.sigmask = t.sigmask
	t.p.sighand.mu.Unlock()
	child.seccompMode.Store(t.seccompMode.Load()) // a new thread has its parent's filters
	child.seccomp.Store(t.seccomp.Load())
	if a.Flags&unix.CLONE_CHILD_CLEARTID != 0 {
		child.clearChildTid = a.ChildTid
	}
	// The spare's tid is known, so the parent writes it where the flags ask (the memory
	// is shared), registers the child and lets it go: the child sets its own FS, the
	// one thing only it can do, and runs. clone returns without waiting for it.
	if e := setupTids(a, s.tid); e != 0 {
		t.p.putSpare(s)
		return -int64(e)
	}
	t.p.threads.mu.Lock()
	t.p.threads.byTid[s.tid] = child
	t.p.threads.mu.Unlock()
	t.p.publishThread(child, false)
	s.next, s.tls, s.creds = child, a.TLS, creds
	s.cpus = planCPUs(s) // threadcpu.go
	s.sched = nil
	if t.p.schedChanged.Load() {
		s.sched = schedOf() // threadsched_unsafe.go
	}
	s.wake.Store(1)
	futexWake(&s.wake)
	return int64(s.tid)
}

// overNproc reports whether a new thread would pass RLIMIT_NPROC, which counts threads
// as well as processes (clone(2): EAGAIN). golos's own OS threads, started ahead by the Go
// runtime (spare), run new application threads, so the host does not check it for
// them; golos checks it as Linux's copy_process does for a user other than root
// (without CAP_SYS_RESOURCE or CAP_SYS_ADMIN, approximated by euid 0), counting only this
// process's threads, where Linux counts all of the user's tasks.
func (t *Thread) overNproc() bool {
	limit, binds := t.p.nprocLimit()
	if !binds {
		return false
	}
	t.p.threads.mu.Lock()
	n := len(t.p.threads.byTid)
	t.p.threads.mu.Unlock()
	return uint64(n) >= limit
}

// nprocLimit returns the soft RLIMIT_NPROC and whether it binds golos's process: not for
// root (see overNproc), nor when it is far more than the threads a process can have here
// (MaxThreads). A clone asks three times (lockNproc, overNproc, taskRoom); root is known
// without a syscall (rootCreds), and the limit, which another process may change
// (prlimit(2)), is read each time, as Linux's copy_process reads it.
func (p *Process) nprocLimit() (uint64, bool) {
	if p.rootCreds() {
		return 0, false
	}
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NPROC, &rl) != nil || rl.Cur == unix.RLIM_INFINITY {
		return 0, false
	}
	return rl.Cur, rl.Cur <= 1<<16
}

// rseq(2) registers restartable sequences with the host for the host thread that runs the
// application thread, which is the right thread for them. The registration is recorded
// so that it ends with the application thread: the host thread lives on for a moment in
// golos, and the kernel would write into an rseq area the application may already have
// freed (and kill the process with SIGSEGV when it cannot).
func sysRseq(t *Thread) int64 {
	addr, length, flags, sig := t.arg(0), t.arg(1), t.arg(2), t.arg(3)
	r := passthroughRaw(unix.SYS_RSEQ, addr, length, flags, sig, 0, 0)
	if r == 0 {
		const rseqFlagUnregister = 1
		if flags&rseqFlagUnregister != 0 {
			t.rseq = rseqArea{}
		} else {
			t.rseq = rseqArea{addr: addr, length: length, sig: sig}
		}
	}
	return r
}

// rseqArea is a thread's rseq(2) registration.
type rseqArea struct{ addr, length, sig uint64 }

// endRseq unregisters the thread's rseq area, as the thread's exit does on Linux.
func (t *Thread) endRseq() {
	if t.rseq.addr != 0 {
		passthroughRaw(unix.SYS_RSEQ, t.rseq.addr, t.rseq.length, 1, t.rseq.sig, 0, 0)
		t.rseq = rseqArea{}
	}
}

// prlimit64(2), getrlimit(2), setrlimit(2): RLIMIT_NOFILE is the application's own
// (Options.Nofile): the soft limit it started with. The others are the host's.
func sysPrlimit64(t *Thread) int64 {
	pid, res, newAddr, oldAddr := int(int32(t.arg(0))), int(int32(t.arg(1))), t.arg(2), t.arg(3)
	if pid != 0 && pid != selfPid {
		return passthroughFast(t)
	}
	return t.rlimit(res, newAddr, oldAddr)
}

func sysGetrlimit(t *Thread) int64 { return t.rlimit(int(int32(t.arg(0))), 0, t.arg(1)) }

func sysSetrlimit(t *Thread) int64 { return t.rlimit(int(int32(t.arg(0))), t.arg(1), 0) }

// rlimit answers for the limits golos keeps for the program: RLIMIT_NOFILE (nofile),
// the address-space limits RLIMIT_AS and RLIMIT_DATA and RLIMIT_SIGPENDING (ownLimit);
// the others are the host's.
func (t *Thread) rlimit(res int, newAddr, oldAddr uint64) int64 {
	switch {
	case res == unix.RLIMIT_NOFILE && t.p.opts.Nofile != nil:
		return t.nofile(newAddr, oldAddr)
	case res == unix.RLIMIT_AS || res == unix.RLIMIT_DATA || res == unix.RLIMIT_SIGPENDING:
		return t.ownLimit(res, newAddr, oldAddr)
	}
	return passthroughFast(t)
}

// ownLimit is RLIMIT_AS, RLIMIT_DATA and RLIMIT_SIGPENDING (getrlimit(2)): the program's
// own, never set on the host, where they would bind golos: its runtime for the first two
// (its reservations alone pass a few hundred MiB, and a runtime that cannot map memory
// dies), its kicks for the third (real-time signals, which the host refuses over the
// limit: a thread in the program's code would never see a signal sent to it). golos
// applies them to the program: to the whole of its memory for RLIMIT_AS, to its private
// writable memory for RLIMIT_DATA (addressSpace.limited), to the signals it queues for
// RLIMIT_SIGPENDING (queue). Until the program sets RLIMIT_AS or RLIMIT_DATA, the host's
// is shown; RLIMIT_SIGPENDING is taken from the host as golos starts (takeSigpending).
func (t *Thread) ownLimit(res int, newAddr, oldAddr uint64) int64 {
	p := t.p
	p.nofileMu.Lock()
	defer p.nofileMu.Unlock()
	slot := &p.opts.AS
	switch res {
	case unix.RLIMIT_DATA:
		slot = &p.opts.Data
	case unix.RLIMIT_SIGPENDING:
		slot = &p.opts.Sigpending
	}
	var cur unix.Rlimit
	if *slot != nil {
		cur = **slot
	} else if err := unix.Getrlimit(res, &cur); err != nil {
		return -int64(errnoOf(err))
	}
	if newAddr != 0 {
		n, e := newRlimit(newAddr, cur)
		if e != 0 {
			return -int64(e)
		}
		*slot = &n
		if res == unix.RLIMIT_SIGPENDING {
			p.sigpendingCur.Store(n.Cur)
		}
	}
	if oldAddr != 0 {
		if e := copyOut(oldAddr, abi.Bytes(&cur)); e != 0 {
			return -int64(e)
		}
	}
	return 0
}

// takeSigpending makes RLIMIT_SIGPENDING the program's (ownLimit): the one it inherits
// (Options.Sigpending from the golos that forked or exec'd it), else the host's that golos
// started with, whose soft limit the host then raises to the hard one, so that golos's
// kicks find room even when the program starts with a small limit (ulimit -i).
func (p *Process) takeSigpending() {
	if p.opts.Sigpending == nil {
		var rl unix.Rlimit
		if unix.Getrlimit(unix.RLIMIT_SIGPENDING, &rl) != nil {
			rl = unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}
		}
		p.opts.Sigpending = &rl
		if rl.Cur < rl.Max {
			unix.Setrlimit(unix.RLIMIT_SIGPENDING, &unix.Rlimit{Cur: rl.Max, Max: rl.Max})
		}
	}
	p.sigpendingCur.Store(p.opts.Sigpending.Cur)
}

// newRlimit reads a struct rlimit the program gives setrlimit(2) at addr and checks it
// against the current one: a soft limit above the hard one is EINVAL, a raised hard limit
// EPERM without CAP_SYS_RESOURCE in the calling thread's effective set (kernel/sys.c,
// do_prlimit). The host cannot check it for golos: it never lowers its own hard
// RLIMIT_NOFILE (setHostNofile), nor sets RLIMIT_AS and RLIMIT_DATA at all.
func newRlimit(addr uint64, cur abi.Rlimit) (abi.Rlimit, unix.Errno) {
	var n abi.Rlimit
	if e := copyIn(addr, abi.Bytes(&n)); e != 0 {
		return n, e
	}
	if n.Cur > n.Max {
		return n, unix.EINVAL
	}
	if n.Max > cur.Max && !hasCap(unix.CAP_SYS_RESOURCE) {
		return n, unix.EPERM
	}
	return n, 0
}

func (t *Thread) nofile(newAddr, oldAddr uint64) int64 {
	t.p.nofileMu.Lock()
	defer t.p.nofileMu.Unlock()
	cur := *t.p.opts.Nofile
	if newAddr != 0 {
		n, e := newRlimit(newAddr, cur)
		if e != 0 {
			return -int64(e)
		}
		// The host's soft limit follows, so that the application runs out of descriptors
		// where it would natively; golos's own are already open above it.
		if err := t.p.setHostNofile(n); err != nil {
			return -int64(errnoOf(err))
		}
		*t.p.opts.Nofile = n
	}
	if oldAddr != 0 {
		if e := copyOut(oldAddr, abi.Bytes(&cur)); e != 0 {
			return -int64(e)
		}
	}
	return 0
}

// setHostNofile sets the host's RLIMIT_NOFILE for the application's limit n. The limit is
// one more than the highest number a new descriptor may take (getrlimit(2)), and golos's
// own descriptors below it take numbers the application would have: the host's limit is
// raised by as many, so that the application opens as many as natively. Those at or above
// it take none (a program that lowers its limit to 3 gets EMFILE on its next open).
//
// The host's hard limit is never lowered: the program's own hard limit is golos's record
// (Options.Nofile, which newRlimit checks), and the host's stays where golos may raise
// its soft limit for the files it opens itself (roomForGolos), as the kernel's own
// references to an executable and its interpreter count against no limit (execve(2)).
func (p *Process) setHostNofile(n unix.Rlimit) error {
	var room uint64
	for _, fd := range p.files.ownFDs {
		if uint64(fd) < n.Cur {
			room++
		}
	}
	host := unix.Rlimit{Cur: n.Cur + room, Max: n.Max + room}
	if n.Cur == unix.RLIM_INFINITY || n.Max == unix.RLIM_INFINITY {
		host = n
	}
	var was unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &was) == nil && was.Max > host.Max {
		host.Max = was.Max
	}
	if unix.Setrlimit(unix.RLIMIT_NOFILE, &host) == nil {
		return nil
	}
	// Without the privilege to raise the hard limit, golos's descriptors count against it.
	host.Max = n.Max
	host.Cur = min(host.Cur, n.Max)
	return unix.Setrlimit(unix.RLIMIT_NOFILE, &host)
}

// roomForGolos raises the host's soft RLIMIT_NOFILE to its hard limit while golos opens
// files of its own for an execve (the program, its interpreter, a script's first line,
// the new program's own descriptors), so that the program's limit, however small, does
// not fail them: Linux's execve opens the executable and the interpreter as the kernel,
// counted against no limit (fs/exec.c, do_open_execat; binfmt_elf.c, open_exec), and
// works with RLIMIT_NOFILE at 3 and descriptors 0 to 2 open. The function it returns
// puts the program's limit back. Only the thread that makes the execve runs program
// code meanwhile, unless other threads of the program are still running, which the
// execve is about to end (execve(2): all threads other than the calling thread are
// destroyed).
func (p *Process) roomForGolos() (restore func()) {
	p.nofileMu.Lock()
	defer p.nofileMu.Unlock()
	var host unix.Rlimit
	if p.opts.Nofile == nil || unix.Getrlimit(unix.RLIMIT_NOFILE, &host) != nil || host.Cur >= host.Max {
		return func() {}
	}
	raised := unix.Rlimit{Cur: host.Max, Max: host.Max}
	if unix.Setrlimit(unix.RLIMIT_NOFILE, &raised) != nil {
		return func() {}
	}
	return func() {
		p.nofileMu.Lock()
		defer p.nofileMu.Unlock()
		p.setHostNofile(*p.opts.Nofile)
	}
}

// pidfd_open(2) is the host's: the program's process is golos's (its pid and its
// threads' tids are the host's), and other processes are host processes, its children
// among them (the host answers ESRCH for a pid that does not exist). Only the other
// threads of golos's process are not there for the program (ESRCH): golos's own, and the
// OS threads of program threads that have exited; nor are golos's own threads in the
// other golos processes of the tree (peerGolosThread), nor the forks' holders (holderPid).
// Flags and pids <= 0 are left to the host to refuse (EINVAL).
func sysPidfdOpen(t *Thread) int64 {
	const pidfdThread = unix.O_EXCL // PIDFD_THREAD
	pid := int(int32(t.arg(0)))
	if pid > 0 && pid != selfPid && t.p.thread(pid) == nil && t.arg(1)&^uint64(unix.PIDFD_NONBLOCK|pidfdThread) == 0 &&
		(unix.Tgkill(selfPid, pid, 0) == nil || peerGolosThread(pid) || holderPid(pid)) {
		return -int64(unix.ESRCH)
	}
	return passthroughFast(t)
}

// personality(2): the query (0xffffffff) and the personas Docker's default seccomp profile
// allows (PER_LINUX, PER_LINUX32, UNAME26 and their union) are passed through; the process
// is golos's too, and those only change what uname(2) reports. So is any of them with
// ADDR_NO_RANDOMIZE (setarch -R, gdb's default), which only changes the layout of the
// next execve: the host's for the golos that runs the new program, and golos's loader's,
// which then adds no random offsets (loader.randomBelow). Any other persona (such as
// READ_IMPLIES_EXEC, which would change mmap(2) for golos's own runtime) is EPERM, as the
// profile refuses it.
func sysPersonality(t *Thread) int64 {
	const addrNoRandomize = 0x0040000 // <linux/personality.h>
	persona := uint32(t.arg(0))
	if persona != 0xffffffff {
		persona &^= addrNoRandomize
	}
	switch persona {
	case 0x0, 0x8, 0x20000, 0x20008, 0xffffffff:
		return passthroughFast(t)
	}
	return -int64(unix.EPERM)
}

// prctl(2): passed through, but for syscall user dispatch (golos's own interception),
// refused with EINVAL and a note, and seccomp, whose filters golos runs itself.
func sysPrctl(t *Thread) int64 {
	switch int(int32(t.arg(0))) {
	case unix.PR_SET_SYSCALL_USER_DISPATCH:
		t.p.unsupported("prctl(PR_SET_SYSCALL_USER_DISPATCH)", "golos uses syscall user dispatch itself")
		return -int64(unix.EINVAL)
	case unix.PR_SET_SECCOMP: // seccomp.go
		switch t.arg(1) {
		case seccompModeStrict:
			return t.seccompStrict()
		case seccompModeFilter:
			return t.seccompAttach(0, t.arg(2))
		}
		return -int64(unix.EINVAL)
	case unix.PR_GET_SECCOMP:
		return t.prctlGetSeccomp()
	case unix.PR_SET_KEEPCAPS, unix.PR_SET_NO_NEW_PRIVS, unix.PR_CAPBSET_DROP, unix.PR_SET_SECUREBITS, unix.PR_CAP_AMBIENT:
		return passthroughCreds(t) // a thread's credentials (creds.go)
	}
	return passthroughFast(t)
}

// setupTids writes the child's tid where CLONE_PARENT_SETTID and CLONE_CHILD_SETTID ask,
// before the child runs, as Linux does (clone(2)).
func setupTids(a abi.CloneArgs, tid int) unix.Errno {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(tid))
	if a.Flags&unix.CLONE_PARENT_SETTID != 0 {
		copyOut(a.ParentTid, b[:])
	}
	if a.Flags&unix.CLONE_CHILD_SETTID != 0 {
		copyOut(a.ChildTid, b[:])
	}
	return 0
}

// set_robust_list(2): registered with the host for its thread, and recorded, since golos
// walks the list itself when the application thread ends (its host thread lives on).
func sysSetRobustList(t *Thread) int64 {
	r := passthroughRaw(unix.SYS_SET_ROBUST_LIST, t.arg(0), t.arg(1), 0, 0, 0, 0)
	if r == 0 {
		t.robustHead = t.arg(0)
	}
	return r
}

// exitRobustList does for a thread that ends what Linux's exit_robust_list() does: each
// robust futex the thread still holds gets FUTEX_OWNER_DIED and one waiter is woken
// (Documentation/locking/robust-futex-ABI.rst). The host's registration is dropped.
func (t *Thread) exitRobustList() {
	head := t.robustHead
	if head == 0 {
		return
	}
	t.robustHead = 0
	passthroughRaw(unix.SYS_SET_ROBUST_LIST, 0, 24, 0, 0, 0, 0)
	var h abi.RobustListHead
	if copyIn(head, abi.Bytes(&h)) != 0 {
		return
	}
	le := binary.LittleEndian
	offset, pending := h.FutexOffset, h.ListOpPending
	mark := func(entry uint64) {
		uaddr := uint64(int64(entry) + offset)
		var w [4]byte
		if copyIn(uaddr, w[:]) != 0 {
			return
		}
		const waiters, ownerDied, tidMask = 0x80000000, 0x40000000, 0x3fffffff
		v := le.Uint32(w[:])
		if int(v&tidMask) != t.tid {
			return
		}
		le.PutUint32(w[:], v&waiters|ownerDied)
		copyOut(uaddr, w[:])
		if v&waiters != 0 {
			unix.RawSyscall6(unix.SYS_FUTEX, uintptr(uaddr), 1|128, 1, 0, 0, 0) // FUTEX_WAKE_PRIVATE
		}
	}
	next := h.Next
	for i := 0; next != head && next != 0 && i < 2048; i++ { // ROBUST_LIST_LIMIT
		var e uint64 // struct robust_list: next
		if copyIn(next, abi.Bytes(&e)) != 0 {
			break
		}
		if next != pending {
			mark(next &^ 1)
		}
		next = e
	}
	if pending != 0 {
		mark(pending &^ 1)
	}
}
