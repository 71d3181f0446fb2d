package kernel

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"golos/internal/entry"
)

// Thread is one application thread, run by one goroutine locked to its own OS thread.
type Thread struct {
	p   *Process
	ctx *entry.Context
	tid int

	sigmask uint64 // the thread's signal mask as the application set it

	clearChildTid uint64 // set_tid_address(2) / CLONE_CHILD_CLEARTID

	exited     bool // the thread ended (exit) or the process did (exit_group)
	exitStatus int  // what the process's parent sees, once exited
}

func (p *Process) newThread() (*Thread, error) {
	ctx, err := entry.NewContext()
	if err != nil {
		return nil, err
	}
	return &Thread{p: p, ctx: ctx}, nil
}

// run runs the thread on the calling OS thread (already locked) until it exits; it
// returns the exit status.
func (t *Thread) run() int {
	t.tid = unix.Gettid()
	if err := entry.Enable(t.ctx, t.p.textStart, t.p.textEnd); err != nil {
		t.p.note("%v", err)
		return 125
	}
	for !t.exited {
		entry.Switch(t.ctx)
		switch t.ctx.Reason {
		case entry.ReasonSyscall:
			t.syscall()
		case entry.ReasonFault:
			t.fault()
		case entry.ReasonSignal:
			t.killedBy(unix.Signal(t.ctx.Signo))
		default:
			t.p.note("internal error: thread %d stopped for unknown reason %d", t.tid, t.ctx.Reason)
			t.exit(125)
		}
	}
	return t.exitStatus
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
	nr := r.RAX
	var ret int64
	if nr < uint64(len(syscallTable)) && syscallTable[nr] != nil {
		ret = syscallTable[nr](t)
	} else {
		ret = t.p.enosys(nr)
	}
	if t.p.opts.DebugSyscalls {
		t.p.note("[%d] %s(%#x, %#x, %#x, %#x, %#x, %#x) = %s", t.tid, syscallName(nr),
			r.RDI, r.RSI, r.RDX, r.R10, r.R8, r.R9, retString(ret))
	}
	// What the syscall instruction and sysret leave behind: the result in RAX, the return
	// address in RCX and the flags in R11.
	r.RAX = uint64(ret)
	r.RCX = r.RIP
	r.R11 = r.RFLAGS
}

func retString(ret int64) string {
	if ret < 0 && ret > -4096 {
		return fmt.Sprintf("-%s (%s)", unix.ErrnoName(unix.Errno(-ret)), unix.Errno(-ret).Error())
	}
	return fmt.Sprintf("%#x", ret)
}

// enosys answers a syscall golos does not implement, naming it once on stderr.
func (p *Process) enosys(nr uint64) int64 {
	p.noteMu.Lock()
	first := !p.noted[nr]
	p.noted[nr] = true
	p.noteMu.Unlock()
	if first && !p.opts.Quiet {
		p.note("syscall %s (%d) is not implemented; the program gets ENOSYS", syscallName(nr), nr)
	}
	return -int64(unix.ENOSYS)
}

// fault handles a synchronous fault in application code. Without a handler of the
// application's (signals arrive with their own layer), the program dies of the signal.
func (t *Thread) fault() {
	sig := unix.Signal(t.ctx.Signo)
	if t.p.opts.Debug {
		t.p.note("%s", t.describeFault())
	}
	t.killedBy(sig)
}

func (t *Thread) describeFault() string {
	c := t.ctx
	r := &c.Regs
	s := fmt.Sprintf("thread %d: %v (si_code %d) at rip %#x", t.tid, unix.Signal(c.Signo), c.Code, r.RIP)
	switch unix.Signal(c.Signo) {
	case unix.SIGSEGV, unix.SIGBUS:
		s += fmt.Sprintf(", address %#x (error code %#x)", c.Addr, c.Err)
	case unix.SIGFPE, unix.SIGILL, unix.SIGTRAP:
		s += fmt.Sprintf(", address %#x", c.Addr)
	}
	s += fmt.Sprintf("\n  rax %016x rbx %016x rcx %016x rdx %016x\n  rsi %016x rdi %016x rbp %016x rsp %016x\n"+
		"  r8  %016x r9  %016x r10 %016x r11 %016x\n  r12 %016x r13 %016x r14 %016x r15 %016x\n  rip %016x flags %016x trap %d",
		r.RAX, r.RBX, r.RCX, r.RDX, r.RSI, r.RDI, r.RBP, r.RSP, r.R8, r.R9, r.R10, r.R11,
		r.R12, r.R13, r.R14, r.R15, r.RIP, r.RFLAGS, c.Trapno)
	return s
}

// killedBy ends the process as a death by sig would. golos's parent sees the same wait
// status as it would natively: golos dies of the signal itself, with its own handler
// out of the way and no core file of golos's memory.
func (t *Thread) killedBy(sig unix.Signal) {
	t.exit(128 + int(sig))
	os.Stdout.Sync()
	unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	if err := entry.RestoreDefault(sig); err == nil {
		var set unix.Sigset_t
		set.Val[0] = 1 << (uint(sig) - 1)
		unix.PthreadSigmask(unix.SIG_UNBLOCK, &set, nil)
		unix.Tgkill(unix.Getpid(), unix.Gettid(), sig)
	}
	// A signal whose default action is not to terminate, or one that could not be
	// raised: the status says what happened.
}

// exit ends the thread with the process exit status.
func (t *Thread) exit(status int) {
	t.exited = true
	t.exitStatus = status
}
