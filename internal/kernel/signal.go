package kernel

import (
	"encoding/binary"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"golos/internal/entry"
)

// The application's signals are virtual (signal(7) semantics on top of golos's own host
// handlers): dispositions, masks and pending sets live here; delivery builds Linux's
// rt_sigframe on the application's stack and rt_sigreturn takes it back. Signals sent to
// golos's process from outside are forwarded to the application.

// signalState is the process-wide part: dispositions and process-directed pending signals.
type signalState struct {
	mu      sync.Mutex
	actions [65]sigaction // by signal number, 1…64
	pending uint64        // sent to the process as a whole
	infos   map[int][]siginfo
}

// sigaction is Linux's struct sigaction for rt_sigaction(2) (kernel layout).
type sigaction struct {
	handler, flags, restorer, mask uint64
}

// siginfo is what golos fills in of a siginfo_t.
type siginfo struct {
	signo, errno, code int32
	pid, uid           uint32 // kill(2) and friends
	addr               uint64 // faults: si_addr
	value              uint64 // rt_sigqueueinfo: si_value
	raw                []byte // a siginfo_t given whole by rt_sigqueueinfo
}

// stackT is Linux's stack_t (sigaltstack(2)).
type stackT struct {
	sp    uint64
	flags int32
	size  uint64
}

const (
	sigDfl = 0
	sigIgn = 1

	saNocldstop = 0x1
	saSiginfo   = 0x4
	saOnstack   = 0x08000000
	saRestart   = 0x10000000
	saNodefer   = 0x40000000
	saResethand = 0x80000000
	saRestorer  = 0x04000000

	ssOnstack    = 1
	ssDisable    = 2
	ssAutodisarm = -1 << 31 // 1<<31 as an int32

	siUser  = 0
	siTkill = -6
	siQueue = -1
)

// sigBit is sig's bit in a sigset_t.
func sigBit(sig int) uint64 { return 1 << (sig - 1) }

// cannotCatch is SIGKILL and SIGSTOP, whose dispositions and mask bits are fixed.
const cannotCatch = 1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1)

// defaultAction of a signal whose disposition is SIG_DFL (signal(7)).
type defaultAction int

const (
	actTerminate defaultAction = iota
	actIgnore
	actStop
	actContinue
)

func defaultActionOf(sig int) defaultAction {
	switch unix.Signal(sig) {
	case unix.SIGCHLD, unix.SIGURG, unix.SIGWINCH:
		return actIgnore
	case unix.SIGCONT:
		return actContinue
	case unix.SIGSTOP, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU:
		return actStop
	}
	return actTerminate
}

// ignored reports whether sending sig would be discarded at once: its disposition is
// SIG_IGN, or SIG_DFL with a default action of ignoring it. Caller holds s.mu.
func (s *signalState) ignored(sig int) bool {
	h := s.actions[sig].handler
	return h == sigIgn || h == sigDfl && (defaultActionOf(sig) == actIgnore || defaultActionOf(sig) == actContinue)
}

func (a *sigaction) encode() []byte {
	b := make([]byte, 32)
	binary.LittleEndian.PutUint64(b[0:], a.handler)
	binary.LittleEndian.PutUint64(b[8:], a.flags)
	binary.LittleEndian.PutUint64(b[16:], a.restorer)
	binary.LittleEndian.PutUint64(b[24:], a.mask)
	return b
}

// rt_sigaction(2): the disposition is recorded, with Linux's checks (signal(7)).
func sysRtSigaction(t *Thread) int64 {
	sig, actAddr, oldAddr, setSize := int(int32(t.arg(0))), t.arg(1), t.arg(2), t.arg(3)
	if setSize != 8 {
		return -int64(unix.EINVAL)
	}
	if sig < 1 || sig > 64 || (actAddr != 0 && sigBit(sig)&cannotCatch != 0) {
		return -int64(unix.EINVAL)
	}
	var act sigaction
	if actAddr != 0 {
		var b [32]byte
		if e := copyIn(actAddr, b[:]); e != 0 {
			return -int64(e)
		}
		act = sigaction{
			handler:  binary.LittleEndian.Uint64(b[0:]),
			flags:    binary.LittleEndian.Uint64(b[8:]),
			restorer: binary.LittleEndian.Uint64(b[16:]),
			mask:     binary.LittleEndian.Uint64(b[24:]) &^ cannotCatch,
		}
	}
	s := &t.p.sig
	s.mu.Lock()
	old := s.actions[sig]
	if actAddr != 0 {
		s.actions[sig] = act
		if s.ignored(sig) {
			// POSIX: setting a pending signal to be ignored discards it.
			s.pending &^= sigBit(sig)
			delete(s.infos, sig)
			t.p.threads.mu.Lock()
			for _, th := range t.p.threads.byTid {
				th.pending &^= sigBit(sig)
				delete(th.infos, sig)
			}
			t.p.threads.mu.Unlock()
		}
	}
	s.mu.Unlock()
	if actAddr != 0 {
		entry.IgnoreTTYSignal(unix.Signal(sig), act.handler == sigIgn)
	}
	if oldAddr != 0 {
		if e := copyOut(oldAddr, old.encode()); e != 0 {
			return -int64(e)
		}
	}
	return 0
}

// rt_sigprocmask(2): the thread's mask is recorded; SIGKILL and SIGSTOP stay unblocked.
func sysRtSigprocmask(t *Thread) int64 {
	how, setAddr, oldAddr, setSize := int32(t.arg(0)), t.arg(1), t.arg(2), t.arg(3)
	if setSize != 8 {
		return -int64(unix.EINVAL)
	}
	s := &t.p.sig
	s.mu.Lock()
	old := t.sigmask
	s.mu.Unlock()
	if setAddr != 0 {
		var buf [8]byte
		if e := copyIn(setAddr, buf[:]); e != 0 {
			return -int64(e)
		}
		set := binary.LittleEndian.Uint64(buf[:])
		mask := old
		switch how {
		case unix.SIG_BLOCK:
			mask |= set
		case unix.SIG_UNBLOCK:
			mask &^= set
		case unix.SIG_SETMASK:
			mask = set
		default:
			return -int64(unix.EINVAL)
		}
		t.setMask(mask)
	}
	if oldAddr != 0 {
		var buf [8]byte
		binary.LittleEndian.PutUint64(buf[:], old)
		if e := copyOut(oldAddr, buf[:]); e != 0 {
			return -int64(e)
		}
	}
	return 0
}

// setMask sets the thread's mask; signals it unblocks are delivered before the
// application runs again.
func (t *Thread) setMask(mask uint64) {
	s := &t.p.sig
	s.mu.Lock()
	newlyBlocked := mask &^ cannotCatch &^ t.sigmask
	t.sigmask = mask &^ cannotCatch
	deliverable := (t.pending | s.pending) &^ t.sigmask
	s.mu.Unlock()
	entry.BlockTTYSignals(mask)
	if newlyBlocked != 0 {
		t.p.retargetShared(t, newlyBlocked) // before Pending is set below for other signals
	}
	if deliverable != 0 {
		atomic.StoreUint32(&t.ctx.Pending, 1)
	}
}

// retargetShared hands the process-pending signals among those t can no longer take (it
// blocked them, or it is exiting) to another thread that can, as Linux's
// retarget_shared_pending does (kernel/signal.c): when t was kicked and has not looked
// (Linux: the thread has TIF_SIGPENDING), it may have been the one chosen for them, and no
// other thread would look. A thread that was not kicked leaves them where they are: the
// thread chosen for them takes them.
func (p *Process) retargetShared(t *Thread, lost uint64) {
	if atomic.LoadUint32(&t.ctx.Pending) == 0 {
		return
	}
	s := &p.sig
	s.mu.Lock()
	want := s.pending & lost
	var target *Thread
	if want != 0 {
		p.threads.mu.Lock()
		for _, th := range p.threads.byTid {
			if th != t && want&^th.sigmask != 0 {
				target = th
				break
			}
		}
		p.threads.mu.Unlock()
	}
	s.mu.Unlock()
	if target != nil {
		p.signalThread(target)
	}
}

// rt_sigpending(2): the signals pending for the thread or the process that it blocks.
func sysRtSigpending(t *Thread) int64 {
	if t.arg(1) > 8 {
		return -int64(unix.EINVAL)
	}
	s := &t.p.sig
	s.mu.Lock()
	set := (t.pending | s.pending) & t.sigmask
	s.mu.Unlock()
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], set)
	return -int64(copyOut(t.arg(0), buf[:t.arg(1)]))
}

// sigaltstack(2), per thread.
func sysSigaltstack(t *Thread) int64 {
	ssAddr, oldAddr := t.arg(0), t.arg(1)
	on := t.onAltstack(t.ctx.Regs.RSP)
	if oldAddr != 0 {
		var b [24]byte
		old := t.altstack
		if on {
			old.flags |= ssOnstack
		}
		binary.LittleEndian.PutUint64(b[0:], old.sp)
		binary.LittleEndian.PutUint32(b[8:], uint32(old.flags))
		binary.LittleEndian.PutUint64(b[16:], old.size)
		if e := copyOut(oldAddr, b[:]); e != 0 {
			return -int64(e)
		}
	}
	if ssAddr != 0 {
		var b [24]byte
		if e := copyIn(ssAddr, b[:]); e != 0 {
			return -int64(e)
		}
		if on {
			return -int64(unix.EPERM)
		}
		ss := stackT{sp: binary.LittleEndian.Uint64(b[0:]), flags: int32(binary.LittleEndian.Uint32(b[8:])), size: binary.LittleEndian.Uint64(b[16:])}
		switch ss.flags &^ ssAutodisarm {
		case ssDisable:
			ss = stackT{flags: ssDisable}
		case 0, ssOnstack:
			if ss.size < 2048 { // MINSIGSTKSZ
				return -int64(unix.ENOMEM)
			}
			ss.flags &= ssAutodisarm
		default:
			return -int64(unix.EINVAL)
		}
		t.altstack = ss
	}
	return 0
}

func (t *Thread) onAltstack(sp uint64) bool {
	a := t.altstack
	return a.flags&ssDisable == 0 && a.size != 0 && sp > a.sp && sp-a.sp <= a.size
}

// kill(2): to this process, a virtual signal; to other processes, the host's. A process
// group golos's process belongs to (pid 0, or -pgrp) is signalled on the host too: see
// groupKill. (pid -1 never reaches the caller on Linux.)
func sysKill(t *Thread) int64 {
	pid, sig := int(int32(t.arg(0))), int(int32(t.arg(1)))
	if pid == 0 || pid < -1 && -pid == unix.Getpgrp() {
		return t.p.groupKill(userInfo(sig), passthroughFast(t))
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
	t.p.sendProcess(userInfo(sig))
	return 0
}

// userInfo is the siginfo of a signal the application sends itself with kill(2).
func userInfo(sig int) siginfo {
	return siginfo{signo: int32(sig), code: siUser, pid: uint32(selfPid), uid: uint32(unix.Getuid())}
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

// tgkill(2) and tkill(2): to one thread of this process, or of another (the host's).
func sysTgkill(t *Thread) int64 {
	if int(int32(t.arg(0))) != selfPid {
		return passthroughFast(t)
	}
	return t.tkill(int(int32(t.arg(1))), int(int32(t.arg(2))))
}

func sysTkill(t *Thread) int64 {
	// tkill(2) reaches a thread of any process. A tid that is none of the program's and
	// none of golos's process (whose other threads are golos's own, and the OS threads of
	// exited program threads: ESRCH below) is another process's.
	if tid := int(int32(t.arg(0))); tid > 0 && t.p.thread(tid) == nil && unix.Tgkill(selfPid, tid, 0) != nil {
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
	t.p.sendThread(target, siginfo{signo: int32(sig), code: siTkill, pid: uint32(selfPid), uid: uint32(unix.Getuid())})
	return 0
}

// rt_sigqueueinfo(2) and rt_tgsigqueueinfo(2): a signal with the caller's siginfo.
func sysRtSigqueueinfo(t *Thread) int64 {
	pid, sig, infoAddr := int(int32(t.arg(0))), int(int32(t.arg(1))), t.arg(2)
	if pid != selfPid {
		return passthroughFast(t)
	}
	info, e := readQueuedInfo(sig, infoAddr)
	if e != 0 {
		return -int64(e)
	}
	t.p.sendProcess(info)
	return 0
}

func sysRtTgsigqueueinfo(t *Thread) int64 {
	pid, tid, sig, infoAddr := int(int32(t.arg(0))), int(int32(t.arg(1))), int(int32(t.arg(2))), t.arg(3)
	if pid != selfPid {
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
	t.p.sendThread(target, info)
	return 0
}

func readQueuedInfo(sig int, addr uint64) (siginfo, unix.Errno) {
	if sig < 1 || sig > 64 {
		return siginfo{}, unix.EINVAL
	}
	raw := make([]byte, 128)
	if e := copyIn(addr, raw); e != 0 {
		return siginfo{}, e
	}
	code := int32(binary.LittleEndian.Uint32(raw[8:]))
	if code >= 0 || code == siTkill {
		return siginfo{}, unix.EPERM // only negative codes other than SI_TKILL may be forged
	}
	binary.LittleEndian.PutUint32(raw[0:], uint32(sig))
	return siginfo{signo: int32(sig), code: code, raw: raw}, 0
}

// sendThread makes a signal pending for one thread and kicks it.
func (p *Process) sendThread(target *Thread, info siginfo) {
	s := &p.sig
	s.mu.Lock()
	sig := int(info.signo)
	p.flushStopCont(sig)
	if s.ignored(sig) && target.sigmask&sigBit(sig) == 0 {
		// Discarded at once, unless blocked: the disposition may change before it is
		// unblocked (signal(7); kernel/signal.c, sig_ignored).
		s.mu.Unlock()
		return
	}
	queue(&target.pending, target.infos, info)
	s.mu.Unlock()
	p.signalThread(target)
}

// stopSignals are the signals whose default action is to stop the process.
const stopSignals = 1<<(unix.SIGSTOP-1) | 1<<(unix.SIGTSTP-1) | 1<<(unix.SIGTTIN-1) | 1<<(unix.SIGTTOU-1)

// flushStopCont does what sending sig does to the signals already pending, whatever
// their dispositions, as Linux's prepare_signal (kernel/signal.c): SIGCONT discards the
// pending stop signals, and a stop signal a pending SIGCONT (signal(7)). Caller holds
// p.sig.mu.
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
	s := &p.sig
	drop := func(set *uint64, infos map[int][]siginfo) {
		for f := *set & flush; f != 0; f &= f - 1 {
			delete(infos, bits.TrailingZeros64(f)+1)
		}
		*set &^= flush
	}
	drop(&s.pending, s.infos)
	p.threads.mu.Lock()
	for _, th := range p.threads.byTid {
		drop(&th.pending, th.infos)
	}
	p.threads.mu.Unlock()
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
// takes it (signal(7)).
func (p *Process) sendProcess(info siginfo) {
	s := &p.sig
	s.mu.Lock()
	sig := int(info.signo)
	p.flushStopCont(sig)
	if s.ignored(sig) && !p.blockedByAll(sig) {
		s.mu.Unlock()
		return
	}
	if s.infos == nil {
		s.infos = map[int][]siginfo{}
	}
	queue(&s.pending, s.infos, info)
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
	s.mu.Unlock()
	if target != nil {
		p.signalThread(target)
	}
}

// kickWatch keeps the threads kicked whose kick may not have reached them yet.
type kickWatch struct {
	mu      sync.Mutex
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
// real-time one queues (signal(7), "Real-time signals").
func queue(set *uint64, infos map[int][]siginfo, info siginfo) {
	sig := int(info.signo)
	if *set&sigBit(sig) != 0 && sig < 32 {
		return
	}
	*set |= sigBit(sig)
	infos[sig] = append(infos[sig], info)
}

// dequeue takes the lowest deliverable signal, if any. Caller holds s.mu.
func (t *Thread) dequeue() (siginfo, bool) {
	s := &t.p.sig
	for _, src := range []struct {
		set   *uint64
		infos map[int][]siginfo
	}{{&t.pending, t.infos}, {&s.pending, s.infos}} {
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
		s := &t.p.sig
		s.mu.Lock()
		info, ok := t.dequeue()
		var act sigaction
		if ok {
			act = s.actions[info.signo]
		}
		s.mu.Unlock()
		if !ok {
			return
		}
		t.deliver(info, act)
	}
}

// forceSignal delivers a synchronous signal (a fault) now. If the application blocks or
// ignores it, it dies of it, as Linux's force_sig_info() does.
func (t *Thread) forceSignal(info siginfo) {
	s := &t.p.sig
	sig := int(info.signo)
	s.mu.Lock()
	act := s.actions[sig]
	blocked := t.sigmask&sigBit(sig) != 0
	s.mu.Unlock()
	if blocked || act.handler == sigIgn {
		t.killedBy(unix.Signal(sig))
		return
	}
	t.deliver(info, act)
}

// deliver runs the disposition act of one signal.
func (t *Thread) deliver(info siginfo, act sigaction) {
	sig := int(info.signo)
	switch act.handler {
	case sigIgn:
		return
	case sigDfl:
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
	s := &t.p.sig
	s.mu.Lock()
	t.sigmask |= act.mask
	if act.flags&saNodefer == 0 {
		t.sigmask |= sigBit(sig)
	}
	t.sigmask &^= cannotCatch
	if act.flags&saResethand != 0 {
		s.actions[sig] = sigaction{}
	}
	s.mu.Unlock()
}

// Layout of Linux's x86-64 rt_sigframe (arch/x86/include/asm/sigframe.h,
// arch/x86/include/uapi/asm/sigcontext.h, include/uapi/asm-generic/ucontext.h):
// pretcode, then struct ucontext (uc_flags, uc_link, uc_stack, uc_mcontext, uc_sigmask),
// then siginfo; the XSAVE area lies above, 64-byte aligned.
const (
	frameUcontext   = 8
	ucFlagsOff      = 0
	ucStackOff      = 16
	ucMcontextOff   = 40
	mcGregsCount    = 18 // r8 … rflags, in entry.Regs order
	mcCsgsfsOff     = 40 + 18*8
	mcErrOff        = mcCsgsfsOff + 8
	mcTrapnoOff     = mcErrOff + 8
	mcOldmaskOff    = mcTrapnoOff + 8
	mcCr2Off        = mcOldmaskOff + 8
	mcFpstateOff    = mcCr2Off + 8
	ucSigmaskOff    = 40 + 256
	ucontextSize    = ucSigmaskOff + 8
	frameSiginfo    = frameUcontext + ucontextSize
	frameSize       = frameSiginfo + 128
	siPidOff        = 16 // siginfo_t.si_pid, si_uid, si_value (_kill, _rt)
	siUidOff        = 20
	siValueOff      = 24
	siAddrOff       = 16 // siginfo_t.si_addr (_sigfault)
	redZone         = 128
	ucFpXstate      = 0x1
	ucSigcontextSS  = 0x2
	ucStrictRestore = 0x4
	userCS, userSS  = 0x33, 0x2b
)

// pushFrame builds the rt_sigframe for one signal on the application's stack (or its
// alternate signal stack) and points the registers at the handler.
func (t *Thread) pushFrame(info siginfo, act sigaction) unix.Errno {
	r := &t.ctx.Regs
	if act.flags&saRestorer == 0 {
		return unix.EFAULT // x86-64 has no kernel-provided return path
	}
	sp := r.RSP - redZone
	onstack := t.onAltstack(r.RSP)
	if act.flags&saOnstack != 0 && t.altstack.size != 0 && t.altstack.flags&ssDisable == 0 && !onstack {
		sp = t.altstack.sp + t.altstack.size
		if t.altstack.flags&ssAutodisarm != 0 {
			defer func() { t.altstack = stackT{flags: ssDisable} }()
		}
	}
	xsize := uint64(entry.XsaveSize)
	fp := (sp - xsize - 4) &^ 63
	frame := ((fp - frameSize) &^ 15) - 8

	xs := t.ctx.Xsave()[:xsize+4]
	entry.PutSWBytes(xs)
	if e := copyOut(fp, xs); e != 0 {
		return e
	}
	b := make([]byte, frameSize)
	le := binary.LittleEndian
	le.PutUint64(b[0:], act.restorer)
	uc := b[frameUcontext:]
	le.PutUint64(uc[ucFlagsOff:], ucFpXstate|ucSigcontextSS|ucStrictRestore)
	stackFlags := t.altstack.flags
	if onstack {
		stackFlags |= ssOnstack
	}
	le.PutUint64(uc[ucStackOff:], t.altstack.sp)
	le.PutUint32(uc[ucStackOff+8:], uint32(stackFlags))
	le.PutUint64(uc[ucStackOff+16:], t.altstack.size)
	putRegs(uc[ucMcontextOff:], r)
	le.PutUint64(uc[mcCsgsfsOff:], userCS|userSS<<48)
	if info.signo == int32(t.ctx.Signo) && t.ctx.Reason == entry.ReasonFault {
		le.PutUint64(uc[mcErrOff:], t.ctx.Err)
		le.PutUint64(uc[mcTrapnoOff:], t.ctx.Trapno)
		le.PutUint64(uc[mcCr2Off:], t.ctx.Addr)
	}
	s := &t.p.sig
	s.mu.Lock()
	mask := t.sigmask
	if t.restoreMask != nil {
		// Returning from sigsuspend(2) and the like: the handler's frame carries the
		// mask from before the call, which sigreturn puts back.
		mask = *t.restoreMask
		t.restoreMask = nil
	}
	s.mu.Unlock()
	le.PutUint64(uc[mcOldmaskOff:], mask)
	le.PutUint64(uc[mcFpstateOff:], fp)
	le.PutUint64(uc[ucSigmaskOff:], mask)
	putSiginfo(b[frameSiginfo:], info)
	if e := copyOut(frame, b); e != 0 {
		return e
	}
	// The handler starts with a clean extended state and DF clear (psABI), like on Linux.
	entry.InitXsave(t.ctx.Xsave())
	r.RSP = frame
	r.RIP = act.handler
	r.RDI = uint64(info.signo)
	r.RSI = frame + frameSiginfo
	r.RDX = frame + frameUcontext
	r.RAX = 0
	r.RFLAGS &^= 1<<10 | 1<<8 // DF, TF
	t.regsSet = true
	return 0
}

func putRegs(b []byte, r *entry.Regs) {
	v := [mcGregsCount]uint64{r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15,
		r.RDI, r.RSI, r.RBP, r.RBX, r.RDX, r.RAX, r.RCX, r.RSP, r.RIP, r.RFLAGS}
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], x)
	}
}

func getRegs(b []byte, r *entry.Regs) {
	p := [mcGregsCount]*uint64{&r.R8, &r.R9, &r.R10, &r.R11, &r.R12, &r.R13, &r.R14, &r.R15,
		&r.RDI, &r.RSI, &r.RBP, &r.RBX, &r.RDX, &r.RAX, &r.RCX, &r.RSP, &r.RIP, &r.RFLAGS}
	for i, x := range p {
		*x = binary.LittleEndian.Uint64(b[8*i:])
	}
}

// putSiginfo lays out a siginfo_t (include/uapi/asm-generic/siginfo.h): signo, errno,
// code, then the union at offset 16.
func putSiginfo(b []byte, info siginfo) {
	if info.raw != nil {
		copy(b, info.raw)
		return
	}
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(info.signo))
	le.PutUint32(b[4:], uint32(info.errno))
	le.PutUint32(b[8:], uint32(info.code))
	if info.addr != 0 || info.code > 0 {
		le.PutUint64(b[siAddrOff:], info.addr) // _sigfault
		return
	}
	le.PutUint32(b[siPidOff:], info.pid) // _kill and _rt
	le.PutUint32(b[siUidOff:], info.uid)
	le.PutUint64(b[siValueOff:], info.value)
}

// rt_sigreturn(2): the registers, mask and extended state come back from the frame the
// handler returns through (at RSP-8: the handler's ret popped pretcode).
func sysRtSigreturn(t *Thread) int64 {
	r := &t.ctx.Regs
	uc := r.RSP - 8 + frameUcontext
	b := make([]byte, ucontextSize)
	if e := copyIn(uc, b); e != 0 {
		t.killedBy(unix.SIGSEGV)
		return 0
	}
	le := binary.LittleEndian
	var regs entry.Regs
	getRegs(b[ucMcontextOff:], &regs)
	fp := le.Uint64(b[mcFpstateOff:])
	xs := t.ctx.Xsave()
	if fp != 0 {
		if e := readXsave(fp, xs); e != 0 {
			t.killedBy(unix.SIGSEGV)
			return 0
		}
	} else {
		entry.InitXsave(xs)
	}
	// Flags the application may change (the kernel's FIX_EFLAGS); the rest stay.
	const fixFlags = 0x40dd5 | 1<<8
	regs.RFLAGS = r.RFLAGS&^fixFlags | regs.RFLAGS&fixFlags
	*r = regs
	t.setMask(le.Uint64(b[ucSigmaskOff:]))
	// uc_stack restores the alternate stack settings (sigaltstack is restored on return).
	ss := stackT{sp: le.Uint64(b[ucStackOff:]), flags: int32(le.Uint32(b[ucStackOff+8:])) &^ ssOnstack, size: le.Uint64(b[ucStackOff+16:])}
	if ss.flags&ssDisable != 0 || ss.size >= 2048 {
		t.altstack = ss
	}
	t.regsSet = true
	return int64(r.RAX)
}

// readXsave copies an XSAVE area from a signal frame into xs and checks it as the kernel
// does before XRSTOR (arch/x86/kernel/fpu/signal.c): a bad header would make the CPU
// fault inside golos.
func readXsave(fp uint64, xs []byte) unix.Errno {
	size := entry.XsaveSize
	if e := copyIn(fp, xs[:size]); e != 0 {
		return e
	}
	le := binary.LittleEndian
	if le.Uint32(xs[24:])&0xffff0000 != 0 { // MXCSR reserved bits
		return unix.EFAULT
	}
	if le.Uint32(xs[464:]) != entry.FPXstateMagic1 {
		// An FXSAVE-only frame: the legacy area, everything else in its init state.
		le.PutUint64(xs[512:], 3)
		clear(xs[520:576])
		return 0
	}
	if le.Uint64(xs[512:])&^entry.XsaveFeatures != 0 || le.Uint64(xs[520:]) != 0 {
		return unix.EFAULT
	}
	for _, x := range xs[528:576] {
		if x != 0 {
			return unix.EFAULT
		}
	}
	return 0
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
		return // EINTR of the host's own making: the application sees it
	}
	if nr < uint64(len(syscalls)) && syscalls[nr].noRestart {
		return
	}
	s := &t.p.sig
	s.mu.Lock()
	// A signal that is ready and has a handler without SA_RESTART makes the call fail
	// with EINTR; otherwise it is made again: also when nothing is ready, because the
	// signal that interrupted it was ignored (a child's SIGCHLD by default) or is blocked,
	// and such a signal does not interrupt a call on Linux (signal(7)).
	ready := (t.pending | s.pending) &^ t.sigmask
	restart := true
	for sig := 1; sig <= 64; sig++ {
		if ready&sigBit(sig) != 0 && s.actions[sig].handler > sigIgn && s.actions[sig].flags&saRestart == 0 {
			restart = false
		}
	}
	s.mu.Unlock()
	if restart {
		r := &t.ctx.Regs
		r.RIP -= 2 // back onto the 2-byte syscall instruction, with its number in RAX
		r.RAX = nr
	}
}

// forwardHostSignals passes the signals sent to golos's process from outside (a
// terminal's ^C, kill(1), alarm(2)'s SIGALRM, a POSIX timer's signal) on to the
// application, as process-directed signals with the siginfo they came with
// (entry.Forwarded says which signals).
//
// A timer's signal (SI_TIMER) or a tgkill's (SI_TKILL) that the kernel gave to a thread
// of the application's goes to that thread: it was meant for it (SIGEV_THREAD_ID, which
// glibc's SIGEV_THREAD timers use, or a thread targeted by tid from outside).
func (p *Process) forwardHostSignals() {
	for {
		entry.WaitHostSignals()
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
	const siTimer = -2
	for sig, hs := range signals {
		raw := hs.Info
		binary.LittleEndian.PutUint32(raw[0:], uint32(sig))
		code := int32(binary.LittleEndian.Uint32(raw[8:]))
		info := siginfo{signo: int32(sig), code: code, raw: raw}
		if target := p.thread(hs.Tid); target != nil && (code == siTimer || code == siTkill) {
			p.sendThread(target, info)
			continue
		}
		p.sendProcess(info)
	}
}

// wakeUp wakes the thread if it waits for a signal in golos (sigsuspend and the like).
func (t *Thread) wakeUp() {
	if t.wake.Swap(1) == 0 {
		futexWake(&t.wake)
	}
}

// waitWake waits for wakeUp, at most d (forever if d < 0); it reports false on timeout.
// It sleeps in the host's futex(2) on the thread's own OS thread, to which its goroutine
// is locked anyway; wakeUp wakes it from any goroutine.
func (t *Thread) waitWake(deadline time.Time) bool {
	for t.wake.Swap(0) == 0 {
		var d time.Duration = -1
		if !deadline.IsZero() {
			if d = time.Until(deadline); d <= 0 {
				return false
			}
		}
		futexWait(&t.wake, 0, d)
	}
	return true
}

// deliverable reports whether a signal the thread can take now is pending.
func (t *Thread) deliverable() bool {
	s := &t.p.sig
	s.mu.Lock()
	defer s.mu.Unlock()
	return (t.pending|s.pending)&^t.sigmask != 0
}

// suspend waits, with mask as the thread's mask, until a signal it can take is pending,
// and arranges for the mask from before to come back when the handler returns: what
// rt_sigsuspend(2) and pause(2) do. They always fail with EINTR.
func (t *Thread) suspend(mask uint64) int64 {
	s := &t.p.sig
	s.mu.Lock()
	old := t.sigmask
	s.mu.Unlock()
	t.setMask(mask)
	for {
		if t.takeStop() {
			continue
		}
		if t.deliverable() {
			break
		}
		t.waitWake(time.Time{})
	}
	t.restoreMask = &old
	atomic.StoreUint32(&t.ctx.Pending, 1)
	return -int64(unix.EINTR)
}

// takeStop carries out, for a thread that waits in golos for a signal (suspend), a stop
// signal it can take now whose action is the default: the process stops (stopBy), and
// once continued the wait goes on. On Linux the call is restarted after a stop, since no
// handler ran (ERESTARTNOHAND, arch/x86/kernel/signal.c); returning EINTR would end a
// pause(2) that natively goes on waiting. It reports whether it stopped.
func (t *Thread) takeStop() bool {
	s := &t.p.sig
	s.mu.Lock()
	var stops uint64
	for sig := 1; sig <= 64; sig++ {
		if sigBit(sig)&stopSignals != 0 && s.actions[sig].handler == sigDfl {
			stops |= sigBit(sig)
		}
	}
	saved := t.sigmask
	t.sigmask |= ^stops // take only those
	info, ok := t.dequeue()
	t.sigmask = saved
	s.mu.Unlock()
	if !ok {
		return false
	}
	stopBy(unix.Signal(info.signo))
	t.forwardBeforeReturn() // the SIGCONT that continued it
	return true
}

// rt_sigsuspend(2).
func sysRtSigsuspend(t *Thread) int64 {
	if t.arg(1) != 8 {
		return -int64(unix.EINVAL)
	}
	var b [8]byte
	if e := copyIn(t.arg(0), b[:]); e != 0 {
		return -int64(e)
	}
	return t.suspend(binary.LittleEndian.Uint64(b[:]))
}

// pause(2).
func sysPause(t *Thread) int64 {
	s := &t.p.sig
	s.mu.Lock()
	mask := t.sigmask
	s.mu.Unlock()
	return t.suspend(mask)
}

// rt_sigtimedwait(2): takes a pending signal of set without running its handler,
// waiting up to the timeout (forever without one) for one to come. A signal outside set
// that the thread can take interrupts the wait (EINTR).
func sysRtSigtimedwait(t *Thread) int64 {
	setAddr, infoAddr, tsAddr, size := t.arg(0), t.arg(1), t.arg(2), t.arg(3)
	if size != 8 {
		return -int64(unix.EINVAL)
	}
	var b [16]byte
	if e := copyIn(setAddr, b[:8]); e != 0 {
		return -int64(e)
	}
	set := binary.LittleEndian.Uint64(b[:8]) &^ cannotCatch
	var deadline time.Time
	if tsAddr != 0 {
		if e := copyIn(tsAddr, b[:]); e != 0 {
			return -int64(e)
		}
		sec, nsec := int64(binary.LittleEndian.Uint64(b[:8])), int64(binary.LittleEndian.Uint64(b[8:]))
		if sec < 0 || nsec < 0 || nsec >= 1e9 {
			return -int64(unix.EINVAL)
		}
		deadline = time.Now().Add(time.Duration(sec)*time.Second + time.Duration(nsec))
	}
	for {
		s := &t.p.sig
		s.mu.Lock()
		saved := t.sigmask
		t.sigmask = ^set // take only signals of set…
		info, ok := t.dequeue()
		t.sigmask = saved
		other := (t.pending|s.pending)&^t.sigmask&^set != 0 // …unless another one is due
		if !ok && !other {
			// While it waits, the thread takes the signals of set as if it did not block
			// them, so that one sent to the process picks it (Linux keeps the mask in
			// real_blocked and unblocks set for the wait, kernel/signal.c do_sigtimedwait).
			t.sigmask = saved &^ set
			t.realBlocked = saved
		}
		s.mu.Unlock()
		if ok {
			if infoAddr != 0 {
				raw := make([]byte, 128)
				putSiginfo(raw, info)
				if e := copyOut(infoAddr, raw); e != 0 {
					return -int64(e)
				}
			}
			return int64(info.signo)
		}
		if other {
			atomic.StoreUint32(&t.ctx.Pending, 1)
			return -int64(unix.EINTR)
		}
		woke := t.waitWake(deadline)
		s.mu.Lock()
		t.sigmask, t.realBlocked = saved, 0
		s.mu.Unlock()
		if !woke {
			return -int64(unix.EAGAIN)
		}
	}
}

// blockedByAll reports whether every thread blocks sig. Caller holds p.sig.mu.
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
