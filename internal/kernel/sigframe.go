package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
	"golos/internal/entry"
)

// The signal frame: rt_sigframe built on the application's stack for a handler, and
// taken back by rt_sigreturn(2).

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
	frame := ((fp - frameSize) &^ 15) - 8

	xs := t.ctx.Xsave()[:xsize+4]
	entry.PutSWBytes(xs)
	if e := copyOut(fp, xs); e != 0 {
		return e
	}
	b := make([]byte, frameSize)
	le := binary.LittleEndian
	le.PutUint64(b[0:], act.Restorer)
	uc := b[frameUcontext:]
	le.PutUint64(uc[ucFlagsOff:], ucFpXstate|ucSigcontextSS|ucStrictRestore)
	stackFlags := t.altstack.Flags
	if onstack {
		stackFlags |= abi.SS_ONSTACK
	}
	le.PutUint64(uc[ucStackOff:], t.altstack.SP)
	le.PutUint32(uc[ucStackOff+8:], uint32(stackFlags))
	le.PutUint64(uc[ucStackOff+16:], t.altstack.Size)
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
	r.RIP = act.Handler
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
	ss := abi.StackT{SP: le.Uint64(b[ucStackOff:]), Flags: int32(le.Uint32(b[ucStackOff+8:])) &^ abi.SS_ONSTACK, Size: le.Uint64(b[ucStackOff+16:])}
	if ss.Flags&abi.SS_DISABLE != 0 || ss.Size >= 2048 {
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
