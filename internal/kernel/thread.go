package kernel

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

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

	// The thread's signal state (signal.go), guarded by p.sig.mu: other threads send it
	// signals and read its mask to pick a thread for a process-directed one.
	sigmask uint64
	// realBlocked is the mask of a thread waiting in rt_sigtimedwait, whose sigmask then
	// lets the signals it waits for through; a blocked signal is not ignored (Linux's
	// real_blocked, sig_ignored).
	realBlocked uint64
	pending     uint64            // signals sent to this thread
	infos       map[int][]siginfo // their siginfo, in order

	// The thread's own signal state, which no other thread touches: only the thread reads
	// and writes it (sigaltstack, delivery, sigreturn, sigsuspend, fork, execve), so no
	// lock guards it (some of those happen to hold p.sig.mu).
	altstack stackT
	// restoreMask, when set, is the mask a handler's frame carries back (sigsuspend).
	restoreMask *uint64

	wake atomic.Uint32 // a signal came for a thread waiting in golos (futex word)

	// The rest is the thread's own too, touched only by the thread (or before it runs).
	clearChildTid uint64   // set_tid_address(2) / CLONE_CHILD_CLEARTID
	rseq          rseqArea // rseq(2) registration, ended with the thread
	robustHead    uint64   // set_robust_list(2), walked by golos when the thread ends

	regsSet bool // the handler replaced the registers: leave RAX, RCX and R11 alone

	trapAt time.Time // with --stats: when the application last entered golos

	exited     bool // the thread ended (exit) or the process did (exit_group)
	exitStatus int  // the status it gave
}

// threads is the process's set of live application threads. mu guards idle, byTid and
// status; byTid and main are set before the first thread runs, main never changed after.
type threads struct {
	mu     sync.Mutex
	idle   []*worker // OS threads of exited application threads, ready for new ones
	byTid  map[int]*Thread
	status int // the main thread's exit status (Linux reports the leader's)
	main   *Thread
}

func (p *Process) newThread() (*Thread, error) {
	ctx, err := entry.NewContext()
	if err != nil {
		return nil, err
	}
	return &Thread{p: p, ctx: ctx, infos: map[int][]siginfo{}}, nil
}

// start runs the thread on the calling goroutine's OS thread (already locked) until it
// exits: it turns Syscall User Dispatch on, lets setup (if any) prepare the thread on its
// own OS thread, registers it, then calls ready with the thread's tid (or the negative
// errno of what failed) before any of the application's code runs.
func (t *Thread) start(setup func(t *Thread) unix.Errno, ready func(tid int)) {
	t.tid = unix.Gettid()
	if err := entry.Enable(t.ctx); err != nil {
		t.p.note("%v", err)
		entry.FreeContext(t.ctx)
		ready(-int(unix.EAGAIN))
		return
	}
	t.p.sig.mu.Lock()
	entry.BlockTTYSignals(t.sigmask) // the host's view of job control (entry.TTYSignals)
	t.p.sig.mu.Unlock()
	t.pendingDue()
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
	ready(t.tid)
	if t == t.p.threads.main {
		t.loop()
		t.finish()
		return
	}
	t.p.runThreads(t)
}

// pendingDue makes the thread look at its signals before it runs the program's code
// when one it does not block is pending already: sent to the process before the thread
// was there to be picked (a signal that came while a forked child's golos started), or
// kept across an execve.
func (t *Thread) pendingDue() {
	s := &t.p.sig
	s.mu.Lock()
	due := (t.pending | s.pending) &^ t.sigmask
	s.mu.Unlock()
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
		entry.Switch(t.ctx)
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
			entry.UnblockKick()
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
	t.p.retargetShared(t, ^uint64(0))
}

// worker is one of golos's OS threads, locked to its goroutine, whose application thread
// has exited: it waits, its Context and slot ready, for clone to give it the next one.
// (A new OS thread would cost a new Go M, made through the runtime's template thread.)
//
// clone writes next and tls before it stores wake, and the worker reads them after it
// sees wake set: no lock guards them.
type worker struct {
	ctx  *entry.Context
	tid  int
	wake atomic.Uint32 // futex word: a thread was given
	next *Thread
	tls  uint64 // the next thread's FS base
}

// maxIdleWorkers bounds the OS threads kept waiting.
const maxIdleWorkers = 64

// runThreads runs thread t, then, on the same OS thread, the threads clone gives it, until
// it is not wanted: then the OS thread ends with the goroutine.
func (p *Process) runThreads(t *Thread) {
	w := &worker{ctx: t.ctx, tid: t.tid}
	for {
		t.loop()
		t.finish()
		th := &p.threads
		th.mu.Lock()
		if len(th.idle) >= maxIdleWorkers {
			th.mu.Unlock()
			entry.Release(w.ctx)
			return
		}
		w.wake.Store(0)
		th.idle = append(th.idle, w)
		th.mu.Unlock()
		for w.wake.Load() == 0 {
			futexWait(&w.wake, 0, -1)
		}
		t = w.next
		// The child's FS is set once, here, on the application's behalf. Unlike clone's
		// setup on a new OS thread, a failure could not end this start with its errno:
		// clone has already returned the child's tid and registered it. It cannot fail:
		// clone refused a tls that is not a canonical user address (EPERM), the only
		// base the host refuses.
		setProgramFS(w.tls)
	}
}

// takeIdle returns a waiting worker, or nil.
func (p *Process) takeIdle() *worker {
	th := &p.threads
	th.mu.Lock()
	defer th.mu.Unlock()
	n := len(th.idle)
	if n == 0 {
		return nil
	}
	w := th.idle[n-1]
	th.idle = th.idle[:n-1]
	return w
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
	if p.stats != nil {
		p.rw.mu.Lock()
		n := p.rw.rewritten
		p.rw.mu.Unlock()
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
	r := &t.ctx.Regs
	nr := uint64(uint32(r.RAX)) // the kernel reads the number as 32 bits (do_syscall_64)
	var ret int64
	t.regsSet = false
	rec := &sysRecord{} // a number beyond the table: no syscall golos knows
	if nr < uint64(len(syscalls)) {
		rec = &syscalls[nr]
	}
	switch {
	case rec.fd && t.p.ownFD(int(int32(r.RDI))):
		ret = -int64(unix.EBADF) // golos's own descriptors are not there for the application
	case t.ownDirFD(nr):
		ret = -int64(unix.EBADF) // nor as the directory of a relative path
	case rec.fn != nil:
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
			t.p.sendThread(t, siginfo{signo: int32(unix.SIGPIPE), code: siUser, pid: uint32(selfPid), uid: uint32(unix.Getuid())})
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
	if t.stepOverPatch() {
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
