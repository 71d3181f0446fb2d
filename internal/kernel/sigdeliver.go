package kernel

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
	"golos/internal/entry"
)

// Sending signals (kill(2), tgkill(2), rt_sigqueueinfo(2), golos's own), queueing them,
// picking the thread that takes a process-directed one, kicking it, delivering them,
// what becomes of an interrupted syscall, and forwarding the signals sent to golos's
// process from outside.

// kill(2): to this process, a virtual signal; to other processes, the host's. A process
// group golos's process belongs to (pid 0, or -pgrp) is signalled on the host too: see
// groupKill. (pid -1 never reaches the caller on Linux.)
func sysKill(t *Thread) int64 {
	pid, sig := int(int32(t.arg(0))), int(int32(t.arg(1)))
	if pid == 0 || pid < -1 && -pid == unix.Getpgrp() {
		return t.p.groupKill(userInfo(sig), passthroughFast(t))
	}
	if self, ok := t.p.pidOfTid(pid); !ok {
		return -int64(unix.ESRCH)
	} else if self {
		pid = selfPid
	}
	if pid != selfPid {
		return passthroughFast(t)
	}
	if sig < 0 || sig > 64 {
		return -int64(unix.EINVAL)
	}
	if sig == 0 {
		return 0
	}
	t.p.sendProcess(userInfo(sig)) // SI_USER: never refused (queue)
	return 0
}

// pidOfTid says what kill(2) or rt_sigqueueinfo(2) given pid reaches when pid is the tid
// of a thread of golos's process other than its first: Linux takes any tid for its
// thread's process (kernel/signal.c: kill_proc_info finds the task by any id), so one of
// the program's threads stands for this process (self); one of golos's own threads, in
// this process or in another golos of the tree (peerGolosThread), is no thread of the
// program's, nor is a fork's holder (holderPid) a process of its (ok false: ESRCH, as for
// an id no task has; killed, the holder would take its child's memory with it). Any other pid is left as it is
// (self and ok true only for this process's own).
func (p *Process) pidOfTid(pid int) (self, ok bool) {
	switch {
	case pid == selfPid:
		return true, true
	case pid <= 0:
		return false, true
	case p.thread(pid) != nil:
		return true, true
	case unix.Tgkill(selfPid, pid, 0) == nil, peerGolosThread(pid), holderPid(pid):
		return false, false
	}
	return false, true
}

// peerGolosThread reports whether tid is one of golos's own threads (its runtime's) in
// another golos process of the tree: there is no such thread for the program, which must
// get ESRCH for it as for an id no task has, where the host would find it and take it for
// its process (kill(2) of any tid reaches the tid's process: kernel/signal.c,
// kill_proc_info). A thread group's leader never is one (tgkill(2) of tid to itself
// finds it: one syscall, all that kill(2) of a process costs more); for any other thread,
// its process's golos says which threads are its program's (peerHide, as for the
// process's task listing). A thread of a process that is not golos's is not one.
func peerGolosThread(tid int) bool {
	if tid <= 0 || tid == selfPid || unix.Tgkill(tid, tid, 0) == nil {
		return false
	}
	tgid := threadGroup(tid)
	if tgid <= 0 || tgid == tid || tgid == selfPid {
		return false
	}
	hide := peerHide(&procDir{hide: hideThreads, pid: tgid})
	return hide != nil && hide(tid)
}

// userInfo is the siginfo of a signal the application sends itself with kill(2).
func userInfo(sig int) siginfo {
	return siginfo{signo: int32(sig), code: abi.SI_USER, pid: uint32(selfPid), uid: uint32(unix.Getuid())}
}

// groupKill completes a signal to a process group that golos's own process belongs to,
// which the host sent (its result is ret) to every member, golos included: the group has
// golos's process in it, not the program's. What golos's process gets comes back to the
// program as any signal sent by a process (the forwarder's, with the host's siginfo),
// except the signals that never come back that way (entry.FromProcessesForwarded): those
// golos sends the program itself, with info. SIGKILL and SIGSTOP act on golos's process
// on the host, as they would on the program's.
func (p *Process) groupKill(info siginfo, ret int64) int64 {
	sig := int(info.signo)
	if ret != 0 || sig <= 0 || sig > 64 || entry.FromProcessesForwarded(unix.Signal(sig)) ||
		sig == int(unix.SIGKILL) || sig == int(unix.SIGSTOP) {
		return ret
	}
	p.sendProcess(info)
	return 0
}

// tgkill(2) and tkill(2): to one thread of this process, or of another (the host's), but
// for golos's own threads of another golos of the tree (peerGolosThread: ESRCH) and the
// forks' holders (holderPid).
func sysTgkill(t *Thread) int64 {
	if pid := int(int32(t.arg(0))); pid != selfPid {
		if tid := int(int32(t.arg(1))); pid > 0 && (tid != pid && peerGolosThread(tid) || holderPid(pid)) {
			return -int64(unix.ESRCH)
		}
		return passthroughFast(t)
	}
	return t.tkill(int(int32(t.arg(1))), int(int32(t.arg(2))))
}

func sysTkill(t *Thread) int64 {
	// tkill(2) reaches a thread of any process. A tid that is none of the program's and
	// none of golos's process (whose other threads are golos's own, and the OS threads of
	// exited program threads: ESRCH below) is another process's.
	if tid := int(int32(t.arg(0))); tid > 0 && t.p.thread(tid) == nil && unix.Tgkill(selfPid, tid, 0) != nil {
		if peerGolosThread(tid) || holderPid(tid) {
			return -int64(unix.ESRCH)
		}
		return passthroughFast(t)
	}
	return t.tkill(int(int32(t.arg(0))), int(int32(t.arg(1))))
}

func (t *Thread) tkill(tid, sig int) int64 {
	if tid <= 0 || sig < 0 || sig > 64 {
		return -int64(unix.EINVAL)
	}
	target := t.p.thread(tid)
	if target == nil {
		return -int64(unix.ESRCH)
	}
	if sig == 0 {
		return 0
	}
	if !t.p.sendThread(target, siginfo{signo: int32(sig), code: abi.SI_TKILL, pid: uint32(selfPid), uid: uint32(unix.Getuid())}) {
		return -int64(unix.EAGAIN)
	}
	return 0
}

// rt_sigqueueinfo(2) and rt_tgsigqueueinfo(2): a signal with the caller's siginfo.
func sysRtSigqueueinfo(t *Thread) int64 {
	pid, sig, infoAddr := int(int32(t.arg(0))), int(int32(t.arg(1))), t.arg(2)
	if self, ok := t.p.pidOfTid(pid); !ok {
		return noTaskQueueinfo(infoAddr)
	} else if self {
		pid = selfPid
	}
	if pid != selfPid {
		return passthroughFast(t)
	}
	info, e := readQueuedInfo(sig, infoAddr)
	if e != 0 {
		return -int64(e)
	}
	if !t.p.sendProcess(info) {
		return -int64(unix.EAGAIN)
	}
	return 0
}

func sysRtTgsigqueueinfo(t *Thread) int64 {
	pid, tid, sig, infoAddr := int(int32(t.arg(0))), int(int32(t.arg(1))), int(int32(t.arg(2))), t.arg(3)
	if pid != selfPid {
		if pid > 0 && tid > 0 && (tid != pid && peerGolosThread(tid) || holderPid(pid)) {
			return noTaskQueueinfo(infoAddr)
		}
		return passthroughFast(t)
	}
	info, e := readQueuedInfo(sig, infoAddr)
	if e != 0 {
		return -int64(e)
	}
	target := t.p.thread(tid)
	if target == nil {
		return -int64(unix.ESRCH)
	}
	if !t.p.sendThread(target, info) {
		return -int64(unix.EAGAIN)
	}
	return 0
}

// noTaskQueueinfo is what rt_sigqueueinfo(2) and rt_tgsigqueueinfo(2) answer for an id
// no task of the program's has, one of golos's own threads: the siginfo is read first
// (EFAULT), and a code of the kernel's or SI_TKILL is refused for a task other than the
// caller (EPERM), before the task is looked for (ESRCH) (kernel/signal.c,
// do_rt_sigqueueinfo, do_rt_tgsigqueueinfo).
func noTaskQueueinfo(infoAddr uint64) int64 {
	raw := new(abi.Siginfo)
	if e := copyIn(infoAddr, abi.Bytes(raw)); e != 0 {
		return -int64(e)
	}
	if raw.Code >= 0 || raw.Code == abi.SI_TKILL {
		return -int64(unix.EPERM)
	}
	return -int64(unix.ESRCH)
}

func readQueuedInfo(sig int, addr uint64) (siginfo, unix.Errno) {
	if sig < 1 || sig > 64 {
		return siginfo{}, unix.EINVAL
	}
	raw := new(abi.Siginfo)
	if e := copyIn(addr, abi.Bytes(raw)); e != 0 {
		return siginfo{}, e
	}
	// Any code may be given for the caller's own process: Linux refuses a code of the
	// kernel's (>= 0) or SI_TKILL with EPERM only for another process's
	// (kernel/signal.c: do_rt_sigqueueinfo, do_rt_tgsigqueueinfo), and golos answers for
	// its own process only.
	raw.Signo = int32(sig)
	return siginfo{signo: int32(sig), code: raw.Code, raw: raw}, 0
}

// sendThread makes a signal pending for one thread and kicks it. It reports false when
// the signal cannot be queued (queue: EAGAIN for the sender).
func (p *Process) sendThread(target *Thread, info siginfo) bool {
	hand := p.sighand
	hand.mu.Lock()
	sig := int(info.signo)
	p.flushStopCont(sig)
	if hand.ignored(sig) && target.sigmask&sigBit(sig) == 0 {
		// Discarded at once, unless blocked: the disposition may change before it is
		// unblocked (signal(7); kernel/signal.c, sig_ignored).
		hand.mu.Unlock()
		return true
	}
	if !p.queue(&target.pending, target.infos, info) {
		hand.mu.Unlock()
		return false
	}
	p.signalfdsChanged()
	blocked := target.sigmask&sigBit(sig) != 0
	hand.mu.Unlock()
	if blocked {
		// A blocked signal stays pending and interrupts nothing (signal(7): it "remains
		// pending until it is later unblocked"; kernel/signal.c, complete_signal does not
		// wake a thread that blocks it): a kick would end the thread's poll(2) or
		// nanosleep(2) with an EINTR no handler explains. The thread looks at it when it
		// unblocks it (setMask), or takes it in rt_sigtimedwait(2), whose wait unblocks it.
		return true
	}
	p.signalThread(target)
	return true
}

// stopSignals are the signals whose default action is to stop the process.
const stopSignals = 1<<(unix.SIGSTOP-1) | 1<<(unix.SIGTSTP-1) | 1<<(unix.SIGTTIN-1) | 1<<(unix.SIGTTOU-1)

// flushStopCont does what sending sig does to the signals already pending, whatever
// their dispositions, as Linux's prepare_signal (kernel/signal.c): SIGCONT discards the
// pending stop signals, and a stop signal a pending SIGCONT (signal(7)). Caller holds
// p.sighand.mu.
func (p *Process) flushStopCont(sig int) {
	var flush uint64
	switch {
	case sig == int(unix.SIGCONT):
		flush = stopSignals
	case sigBit(sig)&stopSignals != 0:
		flush = sigBit(int(unix.SIGCONT))
	default:
		return
	}
	shared := &p.shared
	drop := func(set *uint64, infos map[int][]siginfo) {
		for f := *set & flush; f != 0; f &= f - 1 {
			delete(infos, bits.TrailingZeros64(f)+1)
		}
		*set &^= flush
	}
	drop(&shared.pending, shared.infos)
	p.threads.mu.Lock()
	for _, th := range p.threads.byTid {
		drop(&th.pending, th.infos)
	}
	p.threads.mu.Unlock()
	p.signalfdsChanged()
}

// signalThread makes target look at its signals: it wakes it from a wait of golos's
// (sigsuspend, sigtimedwait) and kicks it out of application code, watching the kick
// until the thread has looked.
func (p *Process) signalThread(target *Thread) {
	target.wakeUp()
	if entry.Kick(target.ctx, target.tid) {
		p.watchKick(target)
	}
}

// sendProcess makes a signal pending for the process; one thread that does not block it
// takes it (signal(7)). It reports false when the signal cannot be queued (queue: EAGAIN
// for the sender).
func (p *Process) sendProcess(info siginfo) bool {
	hand := p.sighand
	shared := &p.shared
	hand.mu.Lock()
	sig := int(info.signo)
	p.flushStopCont(sig)
	if hand.ignored(sig) && !p.blockedByAll(sig) {
		hand.mu.Unlock()
		return true
	}
	if shared.infos == nil {
		shared.infos = map[int][]siginfo{}
	}
	if !p.queue(&shared.pending, shared.infos, info) {
		hand.mu.Unlock()
		return false
	}
	p.signalfdsChanged()
	// The main thread first when it can take the signal, as Linux's complete_signal
	// tries the group leader before walking the others (a program whose main thread
	// waits in pause(2) for SIGTERM while its workers block it expects the main thread to
	// wake).
	var target *Thread
	p.threads.mu.Lock()
	if m := p.threads.main; m != nil && p.threads.byTid[m.tid] == m && m.sigmask&sigBit(sig) == 0 {
		target = m
	}
	for _, th := range p.threads.byTid {
		if target != nil {
			break
		}
		if th.sigmask&sigBit(sig) == 0 {
			target = th
		}
	}
	p.threads.mu.Unlock()
	hand.mu.Unlock()
	if target != nil {
		p.signalThread(target)
	}
	return true
}

// kickWatch keeps the threads kicked whose kick may not have reached them yet; mu
// guards its fields.
type kickWatch struct {
	mu      mutex[kicksLock]
	threads map[*Thread]bool
	running bool
}

// rekickEvery is how often a thread that has not taken its kick is kicked again.
const rekickEvery = 5 * time.Millisecond

// watchKick makes sure that t, just kicked, looks at its signals: while it has not (its
// Context's Pending is still set), it is kicked again every rekickEvery (entry.Rekick).
func (p *Process) watchKick(t *Thread) {
	w := &p.kicks
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.threads == nil {
		w.threads = map[*Thread]bool{}
	}
	w.threads[t] = true
	if !w.running {
		w.running = true
		go p.rekickLoop()
	}
}

func (p *Process) rekickLoop() {
	w := &p.kicks
	for {
		time.Sleep(rekickEvery)
		w.mu.Lock()
		for t := range w.threads {
			if p.thread(t.tid) != t || !entry.Rekick(t.ctx, t.tid) {
				delete(w.threads, t)
			}
		}
		if len(w.threads) == 0 {
			w.running = false
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
	}
}

// queue adds info to a pending set: a standard signal is pending at most once, a
// real-time one queues (signal(7), "Real-time signals"). Each siginfo queued counts
// against the program's RLIMIT_SIGPENDING, as Linux's __send_signal_locked and
// sig_get_ucounts (kernel/signal.c) count a struct sigqueue: a signal that finds the
// queue full is made pending without its siginfo (the taker sees SI_USER and no sender:
// collect_signal), unless it is a real-time one sent with a code other than SI_USER
// (sigqueue(3), tgkill(2)), which is refused: queue reports false and the sender gets
// EAGAIN. A standard signal sent with a code of the kernel's or SI_USER (kill(2), a fault,
// SIGCHLD) passes the limit (override_rlimit), and so does a POSIX timer's, whose
// siginfo Linux allocates with the timer. Caller holds p.sighand.mu.
func (p *Process) queue(set *uint64, infos map[int][]siginfo, info siginfo) bool {
	sig := int(info.signo)
	if *set&sigBit(sig) != 0 && sig < 32 {
		return true // legacy_queue: a standard signal already pending takes nothing
	}
	override := sig < 32 && info.code >= 0 || info.code == abi.SI_TIMER
	if !override && p.queuedSignals()+1 > p.sigpendingCur.Load() {
		if sig >= 32 && info.code != abi.SI_USER {
			return false
		}
		*set |= sigBit(sig) // sent, its siginfo lost
		return true
	}
	*set |= sigBit(sig)
	infos[sig] = append(infos[sig], info)
	return true
}

// queuedSignals is how many siginfos the process has queued, its threads' and its own,
// and its POSIX timers, each of which holds one from timer_create(2) to timer_delete(2)
// whether its signal is pending or not (kernel/time/posix-timers.c, alloc_posix_timer:
// posixtimer_init_sigqueue): what Linux counts against RLIMIT_SIGPENDING (the user's
// count there, which also holds the user's other processes' signals; golos counts its
// program's). Caller holds p.sighand.mu.
func (p *Process) queuedSignals() uint64 {
	n := p.shared.timers
	count := func(infos map[int][]siginfo) {
		for _, q := range infos {
			for _, info := range q {
				if info.code != abi.SI_TIMER { // a timer's, counted with it
					n++
				}
			}
		}
	}
	count(p.shared.infos)
	p.threads.mu.Lock()
	for _, th := range p.threads.byTid {
		count(th.infos)
	}
	p.threads.mu.Unlock()
	return uint64(n)
}

// dequeue takes the lowest deliverable signal, if any. Caller holds s.mu.
func (t *Thread) dequeue() (siginfo, bool) {
	shared := &t.p.shared
	for _, src := range []struct {
		set   *uint64
		infos map[int][]siginfo
	}{{&t.pending, t.infos}, {&shared.pending, shared.infos}} {
		ready := *src.set &^ t.sigmask
		if ready == 0 {
			continue
		}
		sig := 1
		for ready&1 == 0 {
			ready >>= 1
			sig++
		}
		q := src.infos[sig]
		info := siginfo{signo: int32(sig)}
		if len(q) > 0 {
			info, q = q[0], q[1:]
		}
		if len(q) == 0 {
			delete(src.infos, sig)
			*src.set &^= sigBit(sig)
			t.p.signalfdsChanged()
		} else {
			src.infos[sig] = q
		}
		return info, true
	}
	return siginfo{}, false
}

// deliverPending delivers every signal the thread can take now, each on top of the last,
// as Linux does on the way back to user space.
func (t *Thread) deliverPending() {
	atomic.StoreUint32(&t.ctx.Pending, 0)
	for !t.exited {
		hand := t.p.sighand
		hand.mu.Lock()
		info, ok := t.dequeue()
		var act abi.Sigaction
		if ok {
			act = hand.actions[info.signo]
		}
		hand.mu.Unlock()
		if !ok {
			if t.restoreSavedMask() {
				continue // what the mask put back lets through
			}
			return
		}
		if t.p.opts.Pid1 && act.Handler == abi.SIG_DFL {
			continue // init takes only the signals it handles (Options.Pid1)
		}
		t.deliver(info, act)
	}
}

// forceSignal delivers a synchronous signal (a fault) now. If the application blocks or
// ignores it, it dies of it, as Linux's force_sig_info() does.
func (t *Thread) forceSignal(info siginfo) {
	hand := t.p.sighand
	sig := int(info.signo)
	hand.mu.Lock()
	act := hand.actions[sig]
	blocked := t.sigmask&sigBit(sig) != 0
	hand.mu.Unlock()
	if blocked || act.Handler == abi.SIG_IGN {
		t.killedBy(unix.Signal(sig))
		return
	}
	t.deliver(info, act)
}

// deliver runs the disposition act of one signal.
func (t *Thread) deliver(info siginfo, act abi.Sigaction) {
	sig := int(info.signo)
	switch act.Handler {
	case abi.SIG_IGN:
		return
	case abi.SIG_DFL:
		switch defaultActionOf(sig) {
		case actIgnore, actContinue:
			return
		case actStop:
			stopBy(unix.Signal(sig))
			// The SIGCONT that continued the process is queued now, to be delivered
			// with the others, before the thread returns to its code, as on Linux.
			t.forwardBeforeReturn()
			return
		}
		t.killedBy(unix.Signal(sig))
		return
	}
	if err := t.pushFrame(info, act); err != 0 {
		// The frame could not be written: Linux kills the process with SIGSEGV.
		t.killedBy(unix.SIGSEGV)
		return
	}
	hand := t.p.sighand
	hand.mu.Lock()
	t.sigmask |= act.Mask
	if act.Flags&abi.SA_NODEFER == 0 {
		t.sigmask |= sigBit(sig)
	}
	t.sigmask &^= cannotCatch
	if act.Flags&abi.SA_RESETHAND != 0 {
		hand.actions[sig] = abi.Sigaction{}
	}
	hand.mu.Unlock()
}

// restart_syscall(2) restarts a call the kernel stopped with ERESTART_RESTARTBLOCK. golos
// never leaves one to restart (an interrupted call is made again from its own
// registers: interrupted), so, as Linux's do_no_restart_syscall, it fails with EINTR.
func sysRestartSyscall(t *Thread) int64 { return -int64(unix.EINTR) }

// interrupted decides what a syscall that returned EINTR because of a kick becomes
// (signal(7), "Interruption of system calls and library functions by signal handlers"):
// if the signal's handler has SA_RESTART and the call is one Linux restarts, the thread
// will make the call again after the handler returns.
func (t *Thread) interrupted(nr uint64) {
	if atomic.LoadUint32(&t.ctx.Pending) == 0 {
		if t.swallowed.Swap(false) {
			t.resumeWait(nr)
			t.restart(nr) // the signal that interrupted it is not the program's (wait.go)
			return
		}
		// No signal of the program's is due: what interrupted the host call is a kick
		// that came late (sent while the thread had a signal to take, and taken since:
		// Kick and Rekick read Pending before their tgkill), one of the Go runtime's
		// signals (a preemption request sent while the goroutine ran), both golos's own,
		// or a signal from outside that came to this thread and that the program does
		// not take (a child's SIGCHLD whose action is the default). A call that only
		// waits is made again, as Linux does not interrupt it for a signal without a
		// handler (signal(7)); one with a time limit goes on until the end it had
		// (resumeWait). Any other EINTR is the host's, and the program sees it.
		if nr < uint64(len(waitCalls)) && waitCalls[nr] {
			t.resumeWait(nr)
			t.restart(nr)
		}
		return
	}
	never := !t.restartable(nr)
	hand := t.p.sighand
	shared := &t.p.shared
	hand.mu.Lock()
	// A signal that is ready and has a handler without SA_RESTART (with one, for a call
	// Linux never restarts) makes the call fail with EINTR; otherwise it is made again:
	// also when nothing is ready, because the signal that interrupted it was ignored (a
	// child's SIGCHLD by default) or is blocked, and such a signal does not interrupt a
	// call on Linux (signal(7)). The host interrupts the call all the same when the
	// signal comes to the thread's own host thread (a timer's signal for this thread,
	// SIGEV_THREAD_ID, or a process's signal the host gave this thread that another
	// takes), since golos's host threads block nothing the program blocks.
	ready := (t.pending | shared.pending) &^ t.sigmask
	restart := true
	for sig := 1; sig <= 64; sig++ {
		if ready&sigBit(sig) != 0 && hand.actions[sig].Handler > abi.SIG_IGN && (never || hand.actions[sig].Flags&abi.SA_RESTART == 0) {
			restart = false
		}
	}
	hand.mu.Unlock()
	if restart && never && !(nr < uint64(len(waitCalls)) && waitCalls[nr]) {
		return // not a call that only waits: it may have done part of its work
	}
	if restart {
		t.resumeWait(nr) // a call with a time limit goes on with the time left
		t.restart(nr)
	}
}

// restartable reports whether Linux makes the interrupted call nr again after an
// SA_RESTART handler.
func (t *Thread) restartable(nr uint64) bool {
	return !(nr < uint64(len(syscalls)) && syscalls[nr].noRestart || t.timedFutexWait(nr) || t.socketTimeout(nr))
}

// restart makes the thread make the interrupted call nr again when it returns to its code.
func (t *Thread) restart(nr uint64) {
	r := &t.ctx.Regs
	r.RIP -= 2 // back onto the 2-byte syscall instruction, with its number in RAX
	r.RAX = nr
}

// waitCalls are the calls that wait for something and, interrupted, have done nothing:
// made again, they wait again (interrupted). Others may have done their work before the
// EINTR (close(2) has closed the descriptor), and are never made again for nothing.
var waitCalls = func() (w [len(syscalls)]bool) {
	for _, nr := range []int{unix.SYS_READ, unix.SYS_READV, unix.SYS_WRITE, unix.SYS_WRITEV,
		unix.SYS_POLL, unix.SYS_PPOLL, unix.SYS_SELECT, unix.SYS_PSELECT6, unix.SYS_EPOLL_WAIT,
		unix.SYS_EPOLL_PWAIT, unix.SYS_EPOLL_PWAIT2, unix.SYS_FUTEX, unix.SYS_ACCEPT, unix.SYS_ACCEPT4,
		unix.SYS_RECVFROM, unix.SYS_RECVMSG, unix.SYS_SENDTO, unix.SYS_SENDMSG, unix.SYS_WAIT4,
		unix.SYS_WAITID, unix.SYS_CLOCK_NANOSLEEP, unix.SYS_NANOSLEEP, unix.SYS_IO_GETEVENTS,
		unix.SYS_IO_PGETEVENTS} {
		w[nr] = true
	}
	return w
}()

// timer_create(2) is the host's; golos notes the timers whose signal goes to one thread
// (SIGEV_THREAD_ID), so that forward can tell their signals from those of the other
// timers, which are the process's: both come with si_code SI_TIMER, to whatever host
// thread the kernel chose (kernel/time/posix-timers.c, good_sigevent and
// posixtimer_send_sigqueue). Each timer takes a signal's room against the program's
// RLIMIT_SIGPENDING, which golos keeps (ownLimit): EAGAIN when there is none
// (alloc_posix_timer), after EFAULT for a sigevent that cannot be read, as on Linux, but
// before EINVAL for an unknown clock, which Linux checks first.
func sysTimerCreate(t *Thread) int64 {
	const sigevThreadID = 4 // SIGEV_THREAD_ID, of sigev_notify (include/uapi/asm-generic/siginfo.h)
	evAddr, idAddr := t.arg(1), t.arg(2)
	var ev [16]byte // struct sigevent: sigev_value, sigev_signo, sigev_notify
	if evAddr != 0 {
		if e := copyIn(evAddr, ev[:]); e != 0 {
			return -int64(e)
		}
	}
	hand := t.p.sighand
	hand.mu.Lock()
	full := t.p.queuedSignals()+1 > t.p.sigpendingCur.Load()
	hand.mu.Unlock()
	if full {
		return -int64(unix.EAGAIN)
	}
	ret := passthroughFast(t)
	if ret == 0 {
		hand.mu.Lock()
		t.p.shared.timers++
		hand.mu.Unlock()
	}
	if ret != 0 || binary.LittleEndian.Uint32(ev[12:]) != sigevThreadID {
		return ret
	}
	var id [4]byte
	if e := copyIn(idAddr, id[:]); e != 0 {
		return ret // the host wrote it; it cannot be unreadable now but for a racing munmap
	}
	shared := &t.p.shared
	hand.mu.Lock()
	if shared.threadTimers == nil {
		shared.threadTimers = map[int32]bool{}
	}
	shared.threadTimers[int32(binary.LittleEndian.Uint32(id[:]))] = true
	hand.mu.Unlock()
	return ret
}

// timer_delete(2): the id may name a new timer later.
func sysTimerDelete(t *Thread) int64 {
	ret := passthroughFast(t)
	if ret == 0 {
		hand := t.p.sighand
		shared := &t.p.shared
		hand.mu.Lock()
		delete(shared.threadTimers, int32(t.arg(0)))
		shared.timers--
		hand.mu.Unlock()
	}
	return ret
}

// timedFutexWait reports whether the interrupted call nr is a futex(2) FUTEX_WAIT or
// FUTEX_WAIT_BITSET with a timeout: Linux ends it with ERESTART_RESTARTBLOCK, which a
// handler turns into EINTR even with SA_RESTART; only a wait without a timeout returns
// ERESTARTSYS, which SA_RESTART restarts (kernel/futex/waitwake.c, futex_wait; futex(2):
// "EINTR: A FUTEX_WAIT or FUTEX_WAIT_BITSET operation was interrupted by a signal").
func (t *Thread) timedFutexWait(nr uint64) bool {
	const (
		futexWait       = 0
		futexWaitBitset = 9
		futexCmdMask    = 0x7f // without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME
	)
	r := &t.ctx.Regs
	op := r.RSI & futexCmdMask
	return nr == unix.SYS_FUTEX && (op == futexWait || op == futexWaitBitset) && r.R10 != 0
}

// socketTimeout reports whether the interrupted call nr waited on a socket with a
// timeout: Linux then ends it with EINTR even after an SA_RESTART handler (signal(7): "Socket
// interfaces, when a timeout (SO_RCVTIMEO) has been set on the socket", and SO_SNDTIMEO
// for the sending ones; net/core/sock.c's sock_intr_errno gives ERESTARTSYS only to a
// wait without one), and recvmmsg with a timeout of its own likewise. A read or write on
// a socket waits as recvmsg and sendmsg do (net/socket.c, sock_read_iter).
func (t *Thread) socketTimeout(nr uint64) bool {
	r := &t.ctx.Regs
	opt := unix.SO_RCVTIMEO
	switch nr {
	case unix.SYS_RECVMMSG:
		if r.R8 != 0 {
			return true
		}
	case unix.SYS_ACCEPT, unix.SYS_ACCEPT4, unix.SYS_RECVFROM, unix.SYS_RECVMSG, unix.SYS_READ, unix.SYS_READV:
	case unix.SYS_CONNECT, unix.SYS_SENDTO, unix.SYS_SENDMSG, unix.SYS_SENDMMSG, unix.SYS_WRITE, unix.SYS_WRITEV:
		opt = unix.SO_SNDTIMEO
	default:
		return false
	}
	// Not a socket (a pipe's read): ENOTSOCK, no timeout.
	tv, err := unix.GetsockoptTimeval(int(int32(r.RDI)), unix.SOL_SOCKET, opt)
	return err == nil && (tv.Sec != 0 || tv.Usec != 0)
}

// forwardHostSignals passes the signals sent to golos's process from outside (a
// terminal's ^C, kill(1), alarm(2)'s SIGALRM, a POSIX timer's signal) on to the
// application, as process-directed signals with the siginfo they came with
// (entry.Forwarded says which signals).
//
// A tgkill's signal (SI_TKILL) that the kernel gave to a thread of the application's goes
// to that thread: it was meant for it (a thread targeted by tid from outside), and so
// does the signal of a timer made with SIGEV_THREAD_ID (which glibc's SIGEV_THREAD timers
// use). Any other timer's signal is the process's: the kernel gave it to a host thread
// that does not block it, but golos's threads block nothing the application blocks, and
// the thread it came to may block it (sent to that thread, it would wait there for good
// while another thread waits for it).
//
// It waits on wake, an eventfd hostSigTramp writes to, in the runtime's poller, or, when
// wake is nil, in a futex wait, which holds an OS thread (entry.SetHostWakeFD).
func (p *Process) forwardHostSignals(wake *os.File) {
	var buf [8]byte
	for {
		if wake == nil {
			entry.WaitHostSignals()
		} else if !entry.HostSignalsNoted() {
			// A signal noted after the check has added to the counter: the read returns.
			if _, err := wake.Read(buf[:]); err != nil && !errors.Is(err, unix.EINTR) {
				p.note("forwarding signals from outside: %v", err)
				wake = nil
			}
			continue
		}
		p.forwarding.Add(1) // before taking: see forwardTaken
		p.forwardTaken()
		p.forwarding.Add(-1)
	}
}

// forwardTaken forwards the signals from outside noted and not yet taken. An application
// thread calls it too, after a signal or a short syscall brought it back to golos: one of
// them may be what interrupted its syscall (a pipe write that returned short), and it must
// be queued (and so delivered) before the thread returns to the application, as Linux
// delivers it on the way out of that syscall; a program that checks for signals after a
// short write and then writes again would otherwise block with the handler not yet run.
// The lock makes a thread that finds nothing wait while the forwarder goroutine, which
// may have taken the signal a moment before, still queues it. A thread calls it each time
// it is about to return to the application; it costs two loads when there is nothing to
// forward (the forwarder counts itself in forwarding before it takes anything, so a
// signal is always either still noted or being forwarded).
func (p *Process) forwardTaken() {
	p.forwardMu.Lock()
	defer p.forwardMu.Unlock()
	if hs := entry.TakeHostSignals(); hs != nil {
		p.forward(hs)
	}
}

// forwardBeforeReturn is forwardTaken on an application thread's way back to its code,
// when a signal from outside is noted or being forwarded.
func (t *Thread) forwardBeforeReturn() {
	if entry.HostSignalsNoted() || t.p.forwarding.Load() != 0 {
		t.p.forwardTaken()
	}
}

func (p *Process) forward(signals map[unix.Signal]entry.HostSignal) {
	for sig, hs := range signals {
		if sig == unix.SIGCHLD {
			// A clone child's end comes with its own exit signal, or none (wait.go).
			exitSig, ok := p.childExitSignal(hs.Info)
			if !ok {
				if target := p.thread(hs.Tid); target != nil {
					target.swallowed.Store(true)
				}
				continue
			}
			sig = unix.Signal(exitSig)
		}
		raw := new(abi.Siginfo)
		copy(abi.Bytes(raw), hs.Info)
		raw.Signo = int32(sig)
		code := raw.Code
		info := siginfo{signo: int32(sig), code: code, raw: raw}
		if code == abi.SI_TIMER {
			// si_timerid, the timer's id: _timer's first field, at 16 where the union
			// of fields begins after signo, errno, code and padding (siginfo.h,
			// __ARCH_SI_PREAMBLE_SIZE), where _kill's si_pid is.
			id := int32(raw.Pid)
			p.sighand.mu.Lock()
			toThread := p.shared.threadTimers[id]
			p.sighand.mu.Unlock()
			if !toThread {
				p.sendProcess(info)
				continue
			}
		}
		if target := p.thread(hs.Tid); target != nil && (code == abi.SI_TIMER || code == abi.SI_TKILL) {
			p.sendThread(target, info)
			continue
		}
		p.sendProcess(info)
	}
}

// blockedByAll reports whether every thread blocks sig. Caller holds p.sighand.mu.
func (p *Process) blockedByAll(sig int) bool {
	p.threads.mu.Lock()
	defer p.threads.mu.Unlock()
	for _, th := range p.threads.byTid {
		if (th.sigmask|th.realBlocked)&sigBit(sig) == 0 {
			return false
		}
	}
	return true
}
