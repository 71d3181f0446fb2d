package kernel

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
	"golos/internal/entry"
)

// Thread is one application thread, run by one goroutine locked to its own OS thread, so
// that the host thread that runs the application's code is always the same one: its tid
// is the application thread's tid, its FS base the application's.
type Thread struct {
	// Set before the thread runs and not changed after (tid: by start, before the thread
	// is registered).
	p   *Process
	ctx *entry.Context
	tid int

	// The thread's signal state (signal.go), guarded by p.sighand.mu: other threads send it
	// signals and read its mask to pick a thread for a process-directed one.
	sigmask uint64
	// realBlocked is the mask of a thread waiting in rt_sigtimedwait, whose sigmask then
	// lets the signals it waits for through; a blocked signal is not ignored (Linux's
	// real_blocked, sig_ignored).
	realBlocked uint64
	pending     uint64            // signals sent to this thread
	infos       map[int][]siginfo // their siginfo, in order
	// swallowed is set when a signal from outside that came to this thread was taken by
	// golos and not passed on (a clone child's SIGCHLD without an exit signal: wait.go):
	// a call it interrupted is made again, as for an ignored signal (interrupted).
	swallowed atomic.Bool
	// The thread's seccomp mode (0, or SECCOMP_MODE_STRICT or _FILTER) and its filters
	// (seccomp.go): set by the thread itself, or by another with SECCOMP_FILTER_FLAG_TSYNC.
	seccompMode atomic.Int32
	seccomp     atomic.Pointer[seccompFilter]

	// The thread's own signal state, which no other thread touches: only the thread reads
	// and writes it (sigaltstack, delivery, sigreturn, sigsuspend, fork, execve), so no
	// lock guards it (some of those happen to hold p.sighand.mu).
	altstack abi.StackT
	// restoreMask, when set, is the mask a handler's frame carries back (sigsuspend).
	restoreMask *uint64

	wake atomic.Uint32 // a signal came for a thread waiting in golos (futex word)
	// inSwitch is 1 from just before the thread enters the program's code (mayRun) until
	// it is back in golos: what a fork's freezeOthers waits on.
	inSwitch atomic.Uint32

	// The rest is the thread's own too, touched only by the thread (or before it runs).
	clearChildTid uint64   // set_tid_address(2) / CLONE_CHILD_CLEARTID
	rseq          rseqArea // rseq(2) registration, ended with the thread
	robustHead    uint64   // set_robust_list(2), walked by golos when the thread ends

	regsSet bool // the handler replaced the registers: leave RAX, RCX and R11 alone

	forkRetries int       // forks made again in a row after the child's golos died of a signal (fork.go)
	vforkServe  func()    // stops serving a vfork child's memory (vforklazy_unsafe.go), while it is served
	timed       timedWait // the current wait with a time limit (timedwait.go)

	trapAt time.Time // with --stats: when the application last entered golos

	exited     bool // the thread ended (exit) or the process did (exit_group)
	exitStatus int  // the status it gave
}

// threads is the process's set of live application threads. mu guards byTid, status,
// spares and starting; byTid and main are set before the first thread runs, main never
// changed after.
type threads struct {
	mu     mutex[threadsLock]
	byTid  map[int]*Thread
	status int // the main thread's exit status (Linux reports the leader's)
	main   *Thread
	// spares are OS threads started ahead of need, oldest first, each waiting for clone
	// to give it a thread (spare); starting counts those still on their way, from the
	// moment they are asked of makeSpares, and ordered those it has yet to start.
	spares   []*spare
	starting int
	ordered  int
	refused  bool // makeSpares refused the last spares asked of it (sparesAllowed)
	// pool is how many spares the process keeps ready now (spareThreadsMin up to
	// spareThreads): it doubles each time a clone finds none ready (takeSpare).
	pool int
	// refill is a futex word, set when the pool is low, that wakes makeSpares (started
	// once, by maker).
	refill atomic.Uint32
	maker  sync.Once
	// arrived is a futex word that counts the pooled spares that finished starting (or
	// failed to), for the clones that wait for one (waiting of them) when the pool is
	// empty and some are on their way.
	arrived atomic.Uint32
	waiting int
}

func (p *Process) newThread() (*Thread, error) {
	ctx, err := entry.NewContext()
	if err != nil {
		return nil, err
	}
	return &Thread{p: p, ctx: ctx, infos: map[int][]siginfo{}}, nil
}

// start runs the process's first thread on the calling goroutine's OS thread (already
// locked) until it exits: it turns Syscall User Dispatch on, lets setup (if any) prepare
// the thread on its own OS thread, registers it, then calls ready with the thread's tid
// (or the negative errno of what failed) before any of the application's code runs. The
// threads clone makes start on a spare OS thread (runSpare); both run the program
// through run.
func (t *Thread) start(setup func(t *Thread) unix.Errno, ready func(tid int)) {
	t.tid = unix.Gettid()
	if err := entry.Enable(t.ctx); err != nil {
		t.p.note("%v", err)
		entry.FreeContext(t.ctx)
		ready(-int(unix.EAGAIN))
		return
	}
	if setup != nil {
		if e := setup(t); e != 0 {
			entry.Release(t.ctx)
			ready(-int(e))
			return
		}
	}
	t.p.threads.mu.Lock()
	t.p.threads.byTid[t.tid] = t
	t.p.threads.mu.Unlock()
	t.p.publishThread(t, false) // for /proc/<pid> of a stopped process (tree_unsafe.go)
	ready(t.tid)
	t.run()
}

// run runs the registered thread t, on its own OS thread with Syscall User Dispatch on
// and its FS set, until it exits, then ends it (finish).
func (t *Thread) run() {
	t.p.sighand.mu.Lock()
	entry.BlockTTYSignals(t.ctx, t.sigmask) // the host's view of job control (entry.TTYSignals)
	t.p.sighand.mu.Unlock()
	t.pendingDue()
	t.loop()
	t.finish()
}

// setFS sets the calling OS thread's FS base to base on the program's behalf
// (arch_prctl(2) ARCH_SET_FS) as a thread or a program starts: the FS base is the
// application's, and golos sets it only here (and in sysArchPrctl, at the program's own
// request, whose errno the program gets). The host fails it only for a base that is not
// a canonical user address (EPERM), and every base given here was checked already:
// clone's CLONE_SETTLS one (EPERM, as Linux's copy_thread), a forked thread's (the host
// took it in the parent), a new program's (0). A failure is therefore golos's own error,
// never the program's: the thread would run with an FS it did not ask for, so the
// process ends (status 125) with one line that says why.
func (t *Thread) setFS(base uint64) {
	if _, _, e := unix.RawSyscall(unix.SYS_ARCH_PRCTL, archSetFS, uintptr(base), 0); e != 0 {
		t.p.note("internal error: thread %d: set its FS base to %#x: %v", t.tid, base, e)
		t.p.exitGroup(125)
	}
}

// pendingDue makes the thread look at its signals before it runs the program's code
// when one it does not block is pending already: sent to the process before the thread
// was there to be picked (a signal that came while a forked child's golos started), or
// kept across an execve.
func (t *Thread) pendingDue() {
	hand := t.p.sighand
	shared := &t.p.shared
	hand.mu.Lock()
	due := (t.pending | shared.pending) &^ t.sigmask
	hand.mu.Unlock()
	if due != 0 {
		atomic.StoreUint32(&t.ctx.Pending, 1)
	}
}

func (t *Thread) loop() {
	for !t.exited {
		t.parkIfDying()
		// A signal from outside that interrupted what the thread was doing is queued
		// before it returns to its code, as Linux delivers it on that way out.
		t.forwardBeforeReturn()
		if atomic.LoadUint32(&t.ctx.Pending) != 0 {
			t.deliverPending()
			if t.exited {
				break
			}
		}
		if t.p.stats != nil && !t.trapAt.IsZero() {
			t.p.stats.inGolos.Add(int64(time.Since(t.trapAt)))
		}
		if !t.mayRun() {
			continue // a fork copied the process meanwhile: look at the signals again
		}
		entry.Switch(t.ctx)
		t.inSwitch.Store(0)
		if t.p.stats != nil {
			t.trapAt = time.Now()
		}
		switch t.ctx.Reason {
		case entry.ReasonSyscall:
			t.syscall()
		case entry.ReasonFault:
			t.fault()
		case entry.ReasonSignal:
			// A kick, or a signal from outside: the pending signals are delivered at the
			// top of the loop. A kick that took the thread out of application code left
			// KickSignal blocked.
			entry.UnblockKick(t.ctx)
		case entry.ReasonFastDone:
			t.fastDone()
		default:
			t.p.note("internal error: thread %d stopped for unknown reason %d", t.tid, t.ctx.Reason)
			t.p.exitGroup(125)
		}
	}
}

// finish ends a thread that exited, as Linux's exit does (mm_release): robust futexes it
// held are marked OWNER_DIED, the CLONE_CHILD_CLEARTID word is cleared and its waiters
// woken (clone(2), set_tid_address(2)), and the process ends with its last thread.
func (t *Thread) finish() {
	t.endRseq()
	t.exitRobustList()
	if t.clearChildTid != 0 {
		var zero [4]byte
		if copyOut(t.clearChildTid, zero[:]) == 0 {
			unix.RawSyscall6(unix.SYS_FUTEX, uintptr(t.clearChildTid), 1 /* FUTEX_WAKE */, 1, 0, 0, 0)
		}
	}
	th := &t.p.threads
	th.mu.Lock()
	delete(th.byTid, t.tid)
	if t == th.main {
		th.status = t.exitStatus
	}
	last := len(th.byTid) == 0
	th.mu.Unlock()
	if last {
		t.p.exitGroup(th.status)
		return
	}
	t.p.publishThread(t, true)
	t.p.retargetShared(t, ^uint64(0))
}

// spare is an OS thread golos started ahead of need, locked to its goroutine, with its
// Context made and Syscall User Dispatch on: it waits for clone to give it the program's
// next thread (run). The application thread's tid is the host thread's (the design's
// invariant), and an OS thread runs one application thread only, then ends: every new
// thread has a tid the host gave a new thread, never one a thread of the program had
// before (Linux allocates pids in a cycle, alloc_pid, so an exited thread's id is not
// soon given again; CPython's test_threading checks it). Starting the OS thread ahead
// keeps its cost, that of a new Go M through the runtime's template thread, out of
// clone's way.
//
// runSpare sets tid, ctx and err before it stores ready; clone sets next, tls, creds and
// cpus before it stores wake, and the spare reads them after it sees wake set: no lock
// guards them.
type spare struct {
	ready atomic.Uint32 // futex word: started (tid, ctx and err are set)
	tid   int
	ctx   *entry.Context
	err   error
	wake  atomic.Uint32 // futex word: clone gave it a thread
	next  *Thread
	tls   uint64       // the thread's FS base
	creds *threadCreds // its creator's, which it takes on before it runs; nil: golos's own (creds.go)
	cpus  cpuPlan      // its creator's CPU mask, which it takes on before it runs (threadcpu.go)
	sched *schedAttr   // its creator's scheduling attributes, likewise; nil: golos's (threadsched_unsafe.go)
}

// spareThreads is how many spares the process keeps ready at most once it has made
// threads: enough for a burst of pthread_create while the next ones start. It keeps
// spareThreadsMin at first and twice as many each time a clone finds none ready: a Go
// program's runtime makes three or four threads as it starts, and eight OS threads
// started for it then took the CPU its start needed (golos run of a Go hello 7.35 ms
// with eight, 6.45 ms with four, under load), while a loop of pthread_create and
// pthread_join wants the eight.
const (
	spareThreads    = 8
	spareThreadsMin = 2
)

// takeSpare returns a spare for a new thread: the oldest waiting one; when none is ready,
// the first of those on their way; when none is on its way either, one started now and
// waited for. Either way spares are started in the background to bring the pool back to
// spareThreads.
func (p *Process) takeSpare() (*spare, error) {
	th := &p.threads
	th.mu.Lock()
	// With the pool empty but spares on their way, the clone waits for the first to
	// arrive rather than start one more: started here, on the application's locked OS
	// thread, a new M goes through the Go runtime's template thread (runtime.newm), one
	// more wake-up, and comes later than those already asked for. (Not while makeSpares
	// refuses them: a task limit binds.)
	if len(th.spares) == 0 {
		th.pool = min(max(2*th.pool, spareThreadsMin), spareThreads)
	}
	for len(th.spares) == 0 && th.starting > 0 && !th.refused {
		seen := th.arrived.Load()
		th.waiting++
		th.mu.Unlock()
		futexWait(&th.arrived, seen, -1)
		th.mu.Lock()
		th.waiting--
	}
	if len(th.spares) > 0 {
		s := th.spares[0]
		th.spares[0] = nil
		th.spares = th.spares[1:]
		p.refillLocked()
		th.mu.Unlock()
		return s, nil
	}
	th.mu.Unlock()
	s := &spare{}
	go p.runSpare(s, false)
	for s.ready.Load() == 0 {
		futexWait(&s.ready, 0, -1)
	}
	if s.err != nil {
		return nil, s.err
	}
	th.mu.Lock()
	p.refillLocked()
	th.mu.Unlock()
	return s, nil
}

// expectThreads has spares started for a program about to run that makes threads as it
// starts (a Go program: its runtime makes three or four before main), while golos starts
// the program, so that its first clone finds one ready rather than wait for an OS thread
// to start (golos run of a Go hello 8.5 -> 7.6 ms under load). Other programs start their
// first spares at their first clone: started for every program they would cost a static
// C hello 0.28 ms.
func (p *Process) expectThreads() {
	go func() {
		if !p.sparesAllowed() {
			return // a task limit binds: spares are started only when clone needs one
		}
		raiseProcs() // a P for the program's threads' code, as clone gives it
		th := &p.threads
		th.mu.Lock()
		th.pool = max(th.pool, spareThreadsMin)
		p.refillLocked()
		th.mu.Unlock()
	}()
}

// putSpare gives back a spare clone took and did not use.
func (p *Process) putSpare(s *spare) {
	th := &p.threads
	th.mu.Lock()
	th.spares = append([]*spare{s}, th.spares...)
	th.mu.Unlock()
}

// refillLocked has the spares the pool lacks started, once it is down to half of th.pool
// (p.threads.mu held): a few at a time cost the Go runtime fewer wake-ups than one for
// each thread taken. They are started by makeSpares, a goroutine of golos's own, rather
// than here, on the thread that called clone: a goroutine started here would wait in the
// run queue of that thread's P, which the thread keeps while it runs the program's code,
// until the runtime's sysmon took the P back, and every such retake keeps sysmon waking
// every 20 µs for a millisecond after (runtime/proc.go, sysmon, retake).
func (p *Process) refillLocked() {
	th := &p.threads
	if len(th.spares)+th.starting > th.pool/2 {
		return
	}
	th.maker.Do(func() { go p.makeSpares() })
	n := th.pool - len(th.spares) - th.starting
	th.starting += n
	th.ordered += n
	if th.refill.Swap(1) == 0 {
		futexWake(&th.refill)
	}
}

// makeSpares starts spares each time refillLocked asks, up to spareThreads. It hands its
// P on as it waits (futexSleep), so the runtime gives the new goroutines to an M at once.
// None are started while RLIMIT_NPROC binds golos's process: the host counts every OS
// thread of the user's against it, and the Go runtime ends the process when it cannot
// make an OS thread (newosproc), so golos makes one only when clone needs it, after the
// count. Under --sandbox's --pids-limit and a pids cgroup's pids.max (pidscgroup.go),
// which count tasks of a sandbox or a container alone, they are started while twice as
// many as they are still leave room (taskRoom): they start after the count, unlike a
// clone's thread.
func (p *Process) makeSpares() {
	th := &p.threads
	for {
		for th.refill.Load() == 0 {
			futexSleep(&th.refill, 0)
		}
		th.refill.Store(0)
		th.mu.Lock()
		n := th.ordered
		th.ordered = 0
		th.mu.Unlock()
		if n == 0 {
			continue
		}
		allowed := p.sparesAllowed()
		th.mu.Lock()
		th.refused = !allowed
		if !allowed {
			th.starting -= n
			th.sparesArrived()
		}
		th.mu.Unlock()
		if !allowed {
			continue
		}
		for range n {
			go p.runSpare(&spare{}, true)
		}
	}
}

// sparesAllowed reports whether makeSpares may start spares now (see makeSpares).
func (p *Process) sparesAllowed() bool {
	if _, binds := p.nprocLimit(); binds {
		return false
	}
	if p.opts.TaskLimit > 0 || len(pidsLimits()) > 0 {
		unlock := p.lockNproc()
		room := p.taskRoom(2 * spareThreads)
		unlock()
		return room
	}
	return true
}

// sparesArrived wakes the clones waiting for a spare on its way (takeSpare) to look at
// the pool again, after one joined it or one fewer is on its way (p.threads.mu held).
func (th *threads) sparesArrived() {
	if th.waiting > 0 {
		th.arrived.Add(1)
		futexWake(&th.arrived)
	}
}

// runSpare is the goroutine of spare s, on an OS thread of its own: it readies the
// thread, joins the pool (pooled) or hands itself to the clone that waits for it, then
// waits for its application thread and runs it (run). When that thread ends the
// goroutine returns still locked, and the Go runtime ends the OS thread with it
// (runtime.LockOSThread), so no other thread ever runs on it. A spare that could not be
// readied reports why to the clone that waits, or, pooled, is dropped (the next clone
// starts its own and gets the error).
func (p *Process) runSpare(s *spare, pooled bool) {
	runtime.LockOSThread() // never unlocked: the OS thread ends with the goroutine
	s.tid = unix.Gettid()
	s.ctx, s.err = entry.NewContext()
	if s.err == nil {
		if s.err = entry.Enable(s.ctx); s.err != nil {
			entry.FreeContext(s.ctx)
		} else {
			// A new thread starts with its creator's mask, which blocks SIGTTIN and
			// SIGTTOU as the creator blocks every signal around clone (glibc's and musl's
			// pthread_create, Go's newosproc): blocked here, ahead, run's mirror of the
			// mask on the host (BlockTTYSignals) has nothing to do on the thread's way in.
			entry.BlockTTYSignals(s.ctx, entry.TTYSignals)
		}
	}
	th := &p.threads
	if pooled {
		th.mu.Lock()
		th.starting--
		if s.err == nil {
			th.spares = append(th.spares, s)
		}
		th.sparesArrived()
		th.mu.Unlock()
	} else {
		s.ready.Store(1)
		futexWake(&s.ready)
	}
	if s.err != nil {
		return
	}
	for s.wake.Load() == 0 {
		futexSleep(&s.wake, 0)
	}
	t := s.next
	s.cpus.takeCPUs()
	takeSched(s.sched)
	if s.creds != nil {
		if err := adoptCreds(s.creds); err != nil {
			// The thread would run with credentials its creator does not have.
			t.p.note("internal error: thread %d: take on its creator's credentials: %v", t.tid, err)
			t.p.exitGroup(125)
		}
	}
	// The thread's FS, set once, here, on the application's behalf: clone has already
	// returned the child's tid, so the base was checked there (setFS).
	t.setFS(s.tls)
	t.run()
	entry.Release(t.ctx)
}

// thread returns the live thread tid of this process, or nil.
func (p *Process) thread(tid int) *Thread {
	p.threads.mu.Lock()
	defer p.threads.mu.Unlock()
	return p.threads.byTid[tid]
}

// exitGroup ends the process with status: every thread stops with it.
func (p *Process) exitGroup(status int) {
	p.exitReport()
	os.Exit(status)
}

// exitReport prints what golos reports when the process ends (--stats).
func (p *Process) exitReport() {
	p.vforkShare()
	p.releaseHolders() // lazyfork_unsafe.go
	if p.stats != nil {
		p.mm.rw.mu.Lock()
		n := p.mm.rw.rewritten
		p.mm.rw.mu.Unlock()
		p.note("%s", p.stats.report(n))
	}
	if p.stress {
		p.note("%s", stressReport())
	}
}

// arg returns the i-th syscall argument (x86-64 syscall ABI: rdi, rsi, rdx, r10, r8, r9).
func (t *Thread) arg(i int) uint64 {
	r := &t.ctx.Regs
	switch i {
	case 0:
		return r.RDI
	case 1:
		return r.RSI
	case 2:
		return r.RDX
	case 3:
		return r.R10
	case 4:
		return r.R8
	default:
		return r.R9
	}
}

func (t *Thread) syscall() {
	if t.ctx.Code != entry.CodeFast && t.int80() {
		t.compatSyscall() // compat.go
		return
	}
	r := &t.ctx.Regs
	nr := uint64(uint32(r.RAX)) // the kernel reads the number as 32 bits (do_syscall_64)
	var ret int64
	t.regsSet = false
	rec := &sysRecord{} // a number beyond the table: no syscall golos knows
	if nr < uint64(len(syscalls)) {
		rec = &syscalls[nr]
	}
	stopped := false
	if t.seccompMode.Load() != 0 {
		ret, stopped = t.seccompStop(nr) // the program's own filters first, as on Linux
	}
	switch {
	case stopped:
	case rec.fd && t.p.ownFD(int(int32(r.RDI))), rec.fdArgs != 0 && t.ownFDArg(rec.fdArgs):
		ret = -int64(unix.EBADF) // golos's own descriptors are not there for the application
	case t.ownDirFD(nr):
		ret = -int64(unix.EBADF) // nor as the directory of a relative path
	case rec.fn != nil:
		t.beginWait(nr)
		ret = rec.fn(t)
	case rec.errno != 0:
		ret = t.p.refused(nr, rec)
	default:
		ret = t.p.enosys(nr)
	}
	if s := t.p.stats; s != nil {
		s.record(nr, t.ctx.Code, time.Since(t.trapAt))
	}
	if t.ctx.Code != entry.CodeFast {
		t.p.trapped(r.RIP)
	}
	if t.p.opts.DebugSyscalls {
		t.p.note("[%d] %s(%#x, %#x, %#x, %#x, %#x, %#x) = %s", t.tid, syscallName(nr),
			r.RDI, r.RSI, r.RDX, r.R10, r.R8, r.R9, retString(ret))
	}
	if t.regsSet {
		return
	}
	// What the syscall instruction and sysret leave behind: the result in RAX, the return
	// address in RCX and the flags in R11.
	r.RAX = uint64(ret)
	r.RCX = r.RIP
	r.R11 = r.RFLAGS
	t.afterSyscall(nr, ret)
}

// afterSyscall does what a syscall's result calls for beyond returning it: a restart of
// a call a signal interrupted, SIGPIPE for a write to a broken pipe (pipe(7)).
func (t *Thread) afterSyscall(nr uint64, ret int64) {
	switch ret {
	case -int64(unix.EINTR):
		t.forwardBeforeReturn() // the signal from outside that interrupted it, if any
		t.interrupted(nr)
	case -int64(unix.EPIPE):
		if nr < uint64(len(syscalls)) && syscalls[nr].sigpipe && !t.noSignal(nr) {
			t.p.sendThread(t, siginfo{signo: int32(unix.SIGPIPE), code: abi.SI_USER, pid: uint32(selfPid), uid: uint32(unix.Getuid())})
		}
	}
}

// fastDone finishes a syscall that fastEntry made itself, when a signal came around it
// or it failed with EPIPE: the registers are those after the call.
func (t *Thread) fastDone() {
	r := &t.ctx.Regs
	r.RCX = r.RIP
	r.R11 = r.RFLAGS
	t.afterSyscall(t.ctx.Addr, int64(r.RAX))
}

func retString(ret int64) string {
	if ret < 0 && ret > -4096 {
		return fmt.Sprintf("-%s (%s)", unix.ErrnoName(unix.Errno(-ret)), unix.Errno(-ret).Error())
	}
	return fmt.Sprintf("%#x", ret)
}

// refused answers a syscall that rec refuses, naming it and the reason once on stderr.
func (p *Process) refused(nr uint64, rec *sysRecord) int64 {
	if p.firstNote(nr) {
		p.note("syscall %s (%d): %s; the program gets %s", syscallName(nr), nr, rec.why, unix.ErrnoName(rec.errno))
	}
	return -int64(rec.errno)
}

// firstNote reports whether a note on syscall nr is to be printed: the first time, unless
// --quiet.
func (p *Process) firstNote(nr uint64) bool {
	p.noteMu.Lock()
	first := !p.noted[nr]
	p.noted[nr] = true
	p.noteMu.Unlock()
	return first && !p.opts.Quiet
}

// enosys answers a syscall golos does not implement, naming it once on stderr.
func (p *Process) enosys(nr uint64) int64 {
	if p.firstNote(nr) {
		p.note("syscall %s (%d) is not implemented; the program gets ENOSYS", syscallName(nr), nr)
	}
	return -int64(unix.ENOSYS)
}

// fault turns a synchronous fault in application code into the application's signal,
// with Linux's si_code and si_addr.
func (t *Thread) fault() {
	if t.stepOverPatch() || t.stepInStub() {
		return
	}
	c := t.ctx
	info := siginfo{signo: int32(c.Signo), code: int32(c.Code), addr: c.Addr}
	t.forceSignal(info)
}

func (t *Thread) describeFault(sig unix.Signal) string {
	c := t.ctx
	r := &c.Regs
	s := fmt.Sprintf("thread %d: %v at rip %#x", t.tid, sig, r.RIP)
	if c.Reason == entry.ReasonFault && c.Signo == int64(sig) {
		s += fmt.Sprintf(" (si_code %d, address %#x", c.Code, c.Addr)
		if sig == unix.SIGSEGV || sig == unix.SIGBUS {
			s += fmt.Sprintf(", error code %#x", c.Err)
		}
		s += fmt.Sprintf(", trap %d)", c.Trapno)
	}
	s += fmt.Sprintf("\n  rax %016x rbx %016x rcx %016x rdx %016x\n  rsi %016x rdi %016x rbp %016x rsp %016x\n"+
		"  r8  %016x r9  %016x r10 %016x r11 %016x\n  r12 %016x r13 %016x r14 %016x r15 %016x\n  rip %016x flags %016x",
		r.RAX, r.RBX, r.RCX, r.RDX, r.RSI, r.RDI, r.RBP, r.RSP, r.R8, r.R9, r.R10, r.R11,
		r.R12, r.R13, r.R14, r.R15, r.RIP, r.RFLAGS)
	return s
}

// killedBy ends the process as a death by sig does on Linux: golos's own process dies of
// sig (dieOf), so that the program's parent sees the death by signal it would see
// natively (a shell reports 128+N). The other threads are kicked and stop before they
// run more application code (parkIfDying) while golos reports (--debug, --stats).
func (t *Thread) killedBy(sig unix.Signal) {
	dying.Store(true)
	t.p.threads.mu.Lock()
	others := make([]*Thread, 0, len(t.p.threads.byTid))
	for _, th := range t.p.threads.byTid {
		if th != t {
			others = append(others, th)
		}
	}
	t.p.threads.mu.Unlock()
	for _, th := range others {
		t.p.signalThread(th)
	}
	if t.p.opts.Debug {
		t.p.note("%s", t.describeFault(sig))
	}
	t.p.exitReport()
	dieOf(sig)
}

// exit ends the thread with status.
func (t *Thread) exit(status int) {
	t.exited = true
	t.exitStatus = status
}
