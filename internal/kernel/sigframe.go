package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
	"golos/internal/entry"
)

// The signal frame: rt_sigframe built on the application's stack for a handler, and
// taken back by rt_sigreturn(2).

const (
	redZone        = 128
	userCS, userSS = 0x33, 0x2b
	// The frame's offsets the handler is given, in an abi.RtSigframe.
	frameUcontext = 8
	frameSiginfo  = frameUcontext + 304
)

// pushFrame builds the rt_sigframe for one signal on the application's stack (or its
// alternate signal stack) and points the registers at the handler, as Linux's
// setup_rt_frame and x64_setup_rt_frame do (arch/x86/kernel/signal_64.c).
func (t *Thread) pushFrame(info siginfo, act abi.Sigaction) unix.Errno {
	r := &t.ctx.Regs
	if act.Flags&abi.SA_RESTORER == 0 {
		return unix.EFAULT // x86-64 has no kernel-provided return path
	}
	sp := r.RSP - redZone
	onstack := t.onAltstack(r.RSP)
	if act.Flags&abi.SA_ONSTACK != 0 && t.altstack.Size != 0 && t.altstack.Flags&abi.SS_DISABLE == 0 && !onstack {
		sp = t.altstack.SP + t.altstack.Size
		if t.altstack.Flags&abi.SS_AUTODISARM != 0 {
			defer func() { t.altstack = abi.StackT{Flags: abi.SS_DISABLE} }()
		}
	}
	xsize := uint64(entry.XsaveSize)
	fp := (sp - xsize - 4) &^ 63
	frame := ((fp - abi.RtSigframeSize) &^ 15) - 8

	xs := t.ctx.Xsave()[:xsize+4]
	entry.PutSWBytes(xs)
	if e := copyOut(fp, xs); e != 0 {
		return e
	}
	var f abi.RtSigframe
	f.Pretcode = act.Restorer
	uc := &f.Uc
	uc.Flags = abi.UC_FP_XSTATE | abi.UC_SIGCONTEXT_SS | abi.UC_STRICT_RESTORE_SS
	stackFlags := t.altstack.Flags
	if onstack {
		stackFlags |= abi.SS_ONSTACK
	}
	uc.Stack = abi.StackT{SP: t.altstack.SP, Flags: stackFlags, Size: t.altstack.Size}
	mc := &uc.Mcontext
	putRegs(&mc.Gregs, r)
	mc.CSGSFS = userCS | userSS<<48
	if info.signo == int32(t.ctx.Signo) && t.ctx.Reason == entry.ReasonFault {
		mc.Err, mc.Trapno, mc.CR2 = t.ctx.Err, t.ctx.Trapno, t.ctx.Addr
	}
	hand := t.p.sighand
	hand.mu.Lock()
	mask := t.sigmask
	if t.restoreMask != nil {
		// Returning from sigsuspend(2) and the like: the handler's frame carries the
		// mask from before the call, which sigreturn puts back.
		mask = *t.restoreMask
		t.restoreMask = nil
	}
	hand.mu.Unlock()
	mc.Oldmask, mc.Fpstate, uc.Sigmask = mask, fp, mask
	f.Info = info.toABI()
	if e := copyOut(frame, abi.Bytes(&f)); e != 0 {
		return e
	}
	// The handler starts with a clean extended state and DF clear (psABI), like on Linux.
	entry.InitXsave(t.ctx.Xsave())
	r.RSP = frame
	r.RIP = act.Handler
	r.RDI = uint64(info.signo)
	r.RSI = frame + frameSiginfo
	r.RDX = frame + frameUcontext
	r.RAX = 0
	r.RFLAGS &^= 1<<10 | 1<<8 // DF, TF
	t.regsSet = true
	return 0
}

// putRegs and getRegs copy between the registers and a sigcontext's, which are in the
// same order (entry.Regs is laid out as mcontext_t's gregs).
func putRegs(g *[18]uint64, r *entry.Regs) {
	*g = [18]uint64{r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15,
		r.RDI, r.RSI, r.RBP, r.RBX, r.RDX, r.RAX, r.RCX, r.RSP, r.RIP, r.RFLAGS}
}

func getRegs(g *[18]uint64, r *entry.Regs) {
	*r = entry.Regs{R8: g[0], R9: g[1], R10: g[2], R11: g[3], R12: g[4], R13: g[5], R14: g[6], R15: g[7],
		RDI: g[8], RSI: g[9], RBP: g[10], RBX: g[11], RDX: g[12], RAX: g[13], RCX: g[14], RSP: g[15],
		RIP: g[16], RFLAGS: g[17]}
}

// rt_sigreturn(2): the registers, mask and extended state come back from the frame the
// handler returns through (at RSP-8: the handler's ret popped pretcode).
func sysRtSigreturn(t *Thread) int64 {
	r := &t.ctx.Regs
	var uc abi.Ucontext
	if e := copyIn(r.RSP-8+frameUcontext, abi.Bytes(&uc)); e != 0 {
		t.killedBy(unix.SIGSEGV)
		return 0
	}
	var regs entry.Regs
	getRegs(&uc.Mcontext.Gregs, &regs)
	xs := t.ctx.Xsave()
	if fp := uc.Mcontext.Fpstate; fp != 0 {
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
	t.setMask(uc.Sigmask)
	// uc_stack restores the alternate stack settings (sigaltstack is restored on return).
	ss := abi.StackT{SP: uc.Stack.SP, Flags: uc.Stack.Flags &^ abi.SS_ONSTACK, Size: uc.Stack.Size}
	if ss.Flags&abi.SS_DISABLE != 0 || ss.Size >= abi.MINSIGSTKSZ {
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
