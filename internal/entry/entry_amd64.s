// The crossing between application code and golos. Go's runtime keeps its TLS on GS
// (internal/tlsmove), so GS:-8 is the current g; golos uses five more slots of the same
// per-thread block, which Go leaves unused on linux/amd64: m.tls[1] (GS:0) this thread's
// Context, m.tls[2] (GS:8) enterApp's jump target, m.tls[3] (GS:16) and m.tls[4] (GS:24)
// a plain call's resume address and number, m.tls[5] (GS:32) fastSave's reason.
// GS-relative instructions are written as bytes because the Go assembler only knows GS
// through its TLS pseudo-register. FS is never touched: it belongs to the application.
// GS may hold the application's own base while its code runs (SetAppGS): the signal
// handlers find the thread's Context by their stack pointer (slots_unsafe.go) and put
// golos's GS back before anything reads it, with wrgsbase where the CPU has FSGSBASE and
// with arch_prctl(ARCH_SET_GS) where it does not (gsByInsn).

#include "go_asm.h"
#include "textflag.h"

// Offsets in the kernel's signal frame come from frame.go (const_uc…, const_si…).
#define UC_GREGS const_ucGregs
#define UC_ERR const_ucErr
#define UC_TRAPNO const_ucTrapno
#define UC_FPREGS const_ucFpregs
#define UC_RIP const_ucRip
#define UC_EFL const_ucEfl
#define SW_MAGIC1 const_swMagic1
#define SW_XSTATE_SIZE const_swXstateSize
#define FP_XSTATE_MAGIC1 const_FPXstateMagic1
#define SYS_USER_DISPATCH const_siSysUserDispatch

// CTX_BY_SP loads AX with the Context of the thread whose slot's signal stack we run on,
// or jumps to notapp when this is not an application thread's signal stack.
#define CTX_BY_SP(notapp) \
	MOVQ	SP, AX; \
	SUBQ	·slotsBase(SB), AX; \
	CMPQ	AX, ·slotsSize(SB); \
	JCC	notapp; \
	MOVQ	SP, AX; \
	ANDQ	$const_slotMask, AX; \
	MOVQ	const_slotCtx(AX), AX; \
	TESTQ	AX, AX; \
	JEQ	notapp

// OUTSIDE jumps to notin when the address in pc lies outside [start, end), the symbols'
// addresses; tmp is scratch, and ends holding end's.
#define OUTSIDE(pc, start, end, tmp, notin) \
	LEAQ	start(SB), tmp; \
	CMPQ	pc, tmp; \
	JCS	notin; \
	LEAQ	end(SB), tmp; \
	CMPQ	pc, tmp; \
	JCC	notin

// RESUME_AT_END makes a fault whose instruction (in CX) lies in [start, end) resume at
// end, through rt_sigreturn; any other goes on at notin. (R8 is scratch; DI, SI and DX
// are the handler's arguments, left as they are.)
#define RESUME_AT_END(start, end, notin) \
	OUTSIDE(CX, start, end, R8, notin); \
	MOVQ	R8, UC_RIP(DX); \
	RET

// FD_TO_GO, in fastEntry (R11 = the syscall number's low 16 bits), jumps to notplain when
// the call's first argument (RDI) is a descriptor (FDSyscalls) that golos owns or watches
// (GoFDs), else to ok. Flags untouched: JCXZ tests, LEA and MOV compute.
#define FD_TO_GO(ok) \
	LEAQ	·FDSyscalls(SB), CX; \
	MOVBQZX	(CX)(R11*1), CX; \
	JCXZQ	ok; \
	MOVWQZX	DI, R11; \
	LEAQ	·GoFDs(SB), CX; \
	MOVBQZX	(CX)(R11*1), CX; \
	JCXZQ	ok; \
	JMP	notplain

// FD_ARG_TO_GO, in fastEntry (AX = the syscall number), jumps to notplain when the
// call's argument in reg is a descriptor (table: FDRSISyscalls, FDRDXSyscalls) that is
// one of golos's own (OwnFDs), else to ok; R11 ends holding the number's low 16 bits
// again. Flags untouched, as FD_TO_GO.
#define FD_ARG_TO_GO(table, reg, ok) \
	MOVWQZX	AX, R11; \
	LEAQ	table(SB), CX; \
	MOVBQZX	(CX)(R11*1), CX; \
	JCXZQ	ok; \
	MOVWQZX	reg, CX; \
	LEAQ	·OwnFDs(SB), R11; \
	MOVBQZX	(R11)(CX*1), CX; \
	MOVWQZX	AX, R11; \
	JCXZQ	ok; \
	JMP	notplain

// CLEAR_FLAGS loads the flags Go's code expects: DF and AC clear, only IF (which user
// code cannot change) and the always-one bit 1 set. The application may leave AC set
// (alignment checking), which Linux keeps in a signal handler's flags and across
// syscalls, and Go's code makes unaligned accesses; the kernel clears DF for a handler,
// but a rewritten site's entry keeps the application's. (CLAC is for the kernel only.)
#define CLEAR_FLAGS \
	PUSHQ	$0x202; \
	POPFQ

// SET_GS_SYSCALL sets the GS base to reg (not AX, DI or SI) with arch_prctl(ARCH_SET_GS),
// for CPUs without FSGSBASE. It clobbers AX, CX, DI, SI and R11; the flags survive.
#define SET_GS_SYSCALL(reg) \
	MOVQ	reg, SI; \
	MOVL	$const_archSetGS, DI; \
	MOVL	$const_sysArchPrctl, AX; \
	SYSCALL

// GO_HANDLER loads AX with the Go runtime's handler of the signal in DI.
#define GO_HANDLER \
	LEAQ	·goHandlers(SB), AX; \
	MOVLQSX	DI, R8; \
	MOVQ	(AX)(R8*8), AX

// func switchToApp(ctx *Context)
// Runs the application until a signal handler below sends it back here. The frame makes
// the assembler save the goroutine's BP in the prologue and restore it in the epilogue,
// so the crossing itself never has to carry it.
TEXT ·switchToApp(SB),NOSPLIT,$8-8
	MOVQ	ctx+0(FP), AX
	CALL	·enterApp(SB)	// trapToGo returns here, on this stack
	RET

// enterApp loads the application's state from the Context in AX and jumps to
// ctx.Regs.RIP. 0(SP) is the return address into switchToApp.
// A kick (Kick) that interrupts enterApp anywhere makes it give up (abortEntry), so a
// signal made pending after the check below is never missed.
TEXT ·enterApp(SB),NOSPLIT|NOFRAME,$0
	MOVQ	SP, Context_goSP(AX)
	// mov %rax,%gs:0 — publish ctx in m.tls[1] for abortEntry
	BYTE $0x65; BYTE $0x48; BYTE $0x89; BYTE $0x04; BYTE $0x25; LONG $0
	CMPL	Context_Pending(AX), $0
	JNE	pending			// a signal to deliver first
	// Where the final jmp goes: the application's RIP, or with its own GS the slot's
	// trampoline, which loads GS, RAX and RIP from the slot's data page. R8 = the
	// selector value to leave in place (R8 is loaded from Regs last).
	MOVL	$const_selectorBlock, R8
	CMPB	Context_hasAppGS(AX), $0
	JNE	appgs
	MOVQ	(Context_Regs+Regs_RIP)(AX), BX
	JMP	target
appgs:
	MOVQ	Context_slot(AX), BX
	MOVQ	Context_appGS(AX), CX
	MOVQ	CX, const_slotTrampGS(BX)
	MOVQ	(Context_Regs+Regs_RAX)(AX), CX
	MOVQ	CX, const_slotTrampRAX(BX)
	MOVQ	(Context_Regs+Regs_RIP)(AX), CX
	MOVQ	CX, const_slotTrampRIP(BX)	// and BX = the trampoline, at the slot's start
	CMPB	·gsByInsn(SB), $0
	JNE	target
	// Without FSGSBASE the trampoline loads GS with arch_prctl, a syscall outside
	// golos's text: the selector stays ALLOW until the trampoline sets BLOCK after it,
	// and the registers the syscall uses come from the slot's data page too.
	MOVL	$const_selectorAllow, R8
	MOVQ	(Context_Regs+Regs_RDI)(AX), CX
	MOVQ	CX, const_slotTrampRDI(BX)
	MOVQ	(Context_Regs+Regs_RSI)(AX), CX
	MOVQ	CX, const_slotTrampRSI(BX)
	MOVQ	(Context_Regs+Regs_RCX)(AX), CX
	MOVQ	CX, const_slotTrampRCX(BX)
	MOVQ	(Context_Regs+Regs_R11)(AX), CX
	MOVQ	CX, const_slotTrampR11(BX)
target:
	// mov %rbx,%gs:8 — the jump target, for the final jmp that needs no register
	BYTE $0x65; BYTE $0x48; BYTE $0x89; BYTE $0x1c; BYTE $0x25; LONG $8
	// Extended state: XRSTOR with every feature requested (EDX:EAX = -1); the area's
	// XSTATE_BV says which components hold data and which return to their init state.
	MOVQ	AX, BX
	LEAQ	Context_xsave(BX), CX
	MOVL	$-1, AX
	MOVL	$-1, DX
	XRSTOR64	(CX)
	MOVQ	BX, AX
	// Flags through the goroutine's stack (we are still on it), keeping only the bits
	// user code may change (CF PF AF ZF SF DF OF AC, as the kernel's FIX_EFLAGS).
	MOVQ	(Context_Regs+Regs_RFLAGS)(AX), BX
	ANDQ	$0x40dd5, BX
	ORQ	$0x202, BX		// bit 1 is always set; IF is ignored by POPFQ at CPL 3
	PUSHQ	BX
	POPFQ
	// From here on only MOVs and POPs, which leave the flags alone.
	MOVB	$1, Context_inApp(AX)
	MOVB	R8, Context_selector(AX)	// trap the application's syscalls (see appgs)
	// Pop R8…RCX straight out of ctx.Regs (they are in that order), then load RSP.
	LEAQ	Context_Regs(AX), SP
	POPQ	R8
	POPQ	R9
	POPQ	R10
	POPQ	R11
	POPQ	R12
	POPQ	R13
	POPQ	R14
	POPQ	R15
	POPQ	DI
	POPQ	SI
	POPQ	BP
	POPQ	BX
	POPQ	DX
	POPQ	AX
	POPQ	CX
	MOVQ	0(SP), SP	// Regs.RSP: the application's stack, on which nothing is pushed
	// jmp *%gs:8 — into the application (or its GS trampoline)
	BYTE $0x65; BYTE $0xff; BYTE $0x24; BYTE $0x25; LONG $8
pending:
	JMP	·abortEntry(SB)

// enterAppEnd marks the end of enterApp's code for the kick handler.
TEXT ·enterAppEnd(SB),NOSPLIT|NOFRAME,$0
	INT	$3

// abortEntry leaves enterApp (or the GS trampoline) for the goroutine, with ReasonSignal,
// before the application ran: its registers in the Context are still as they were, and
// GS is golos's. The CPU's floating-point and flag state go back to what Go expects.
TEXT ·abortEntry(SB),NOSPLIT|NOFRAME,$0
	BYTE $0x65; BYTE $0x48; BYTE $0x8b; BYTE $0x04; BYTE $0x25; LONG $0	// mov %gs:0,%rax
	MOVB	$const_selectorAllow, Context_selector(AX)
	MOVB	$0, Context_inApp(AX)
	MOVQ	$const_ReasonSignal, Context_Reason(AX)
	MOVQ	Context_goSP(AX), SP
	CLEAR_FLAGS			// enterApp may have loaded the application's
	MOVQ	·initXsave(SB), CX	// every component back to its init state, MXCSR 0x1f80
	MOVL	$-1, AX
	MOVL	$-1, DX
	XRSTOR64	(CX)
	RET				// into switchToApp

// sigsysTramp is the raw SIGSYS handler (SA_SIGINFO|SA_ONSTACK|SA_NODEFER, empty mask):
// DI = signal number, SI = *siginfo_t, DX = *ucontext_t, on the thread's slot stack.
TEXT ·sigsysTramp(SB),NOSPLIT|NOFRAME,$0
	CMPL	const_siCode(SI), $SYS_USER_DISPATCH
	JNE	sent
	CTX_BY_SP(ignore)
	CMPB	Context_inApp(AX), $0
	JEQ	ignore			// cannot happen: golos's text is the allowed region
	MOVQ	$const_ReasonSyscall, R8
	JMP	·trapToGo(SB)
ignore:
	RET				// to the restorer: rt_sigreturn
sent:
	// Not a trap: a SIGSYS sent by a process (kill(2) and the like, si_code <= 0), the
	// application's signal from outside, or one the kernel raised for another reason.
	CMPL	const_siCode(SI), $0
	JGT	ignore
	JMP	·hostSigTramp(SB)

// kickTramp is the raw handler of KickSignal (same flags as sigsysTramp). A kick
// brings a thread that runs application code back to its goroutine to take a pending
// signal. (It is not SIGSYS: a kick pending when a syscall traps would swallow the
// trap's SIGSYS, as standard signals do not queue.)
TEXT ·kickTramp(SB),NOSPLIT|NOFRAME,$0
	CTX_BY_SP(done)
	MOVQ	UC_RIP(DX), BX		// the interrupted RIP
	OUTSIDE(BX, ·enterApp, ·enterAppEnd, CX, notentry)
abort:
	// Inside enterApp or the trampoline: resume at abortEntry instead, through
	// rt_sigreturn (which leaves GS as this handler sets it).
	LEAQ	·abortEntry(SB), CX
	MOVQ	CX, UC_RIP(DX)
	RET
notentry:
	// About to make a blocking syscall for the application in Go: it fails with EINTR.
	LEAQ	·blockingWindow(SB), CX
	CMPQ	BX, CX
	JCS	notblocking
	LEAQ	·blockingSyscallInsn(SB), CX
	CMPQ	BX, CX
	JHI	notblocking
	LEAQ	·blockingEintr(SB), CX
	MOVQ	CX, UC_RIP(DX)
	RET
notblocking:
	// Inside a plain call of fastEntry: before the syscall instruction ran, go to
	// fastAbort (Go makes the call); after it, to fastDone.
	LEAQ	·fastCallStart(SB), CX
	CMPQ	BX, CX
	JCS	notfast
	LEAQ	·fastCallEnd(SB), CX
	CMPQ	BX, CX
	JCC	notfast
	LEAQ	·fastAbort(SB), CX
	LEAQ	·fastCallSyscall(SB), R8
	CMPQ	BX, R8
	JLS	redirect		// at or before the syscall instruction: not made yet
	LEAQ	·fastDone(SB), CX
redirect:
	MOVQ	CX, UC_RIP(DX)
	RET
notfast:
	MOVQ	BX, CX
	SUBQ	Context_slot(AX), CX
	CMPQ	CX, $4096
	JCC	nottrampoline
	MOVQ	Context_goGS(AX), CX	// the trampoline may have loaded the application's GS
	CMPB	·gsByInsn(SB), $0
	JEQ	kickgs
	WRGSBASEQ	CX
	JMP	abort
kickgs:
	MOVQ	DX, R9			// the ucontext, kept across the syscall
	SET_GS_SYSCALL(CX)
	MOVQ	R9, DX
	JMP	abort
nottrampoline:
	CMPB	Context_inApp(AX), $0
	JEQ	done			// in golos: the goroutine looks at Pending before entering
	CMPQ	BX, ·textStart(SB)
	JCS	app
	CMPQ	BX, ·textEnd(SB)
	JCS	done			// in a Go signal handler nested in application code:
					// the thread takes the signal at its next trap or
					// kick (Rekick)
app:
	MOVQ	$const_ReasonSignal, R8
	JMP	·trapToGo(SB)
done:
	RET				// to the restorer: rt_sigreturn

// faultTramp is the raw handler for SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGTRAP. A fault
// in golos's copy of application memory makes the copy fail; a fault in application code
// goes back to the goroutine; any other goes to the Go runtime. One of these signals sent
// by a process is no fault: it goes to hostSigTramp.
TEXT ·faultTramp(SB),NOSPLIT|NOFRAME,$0
	// Sent by a process (kill(2), tgkill(2), sigqueue(3): si_code <= 0), not a fault: the
	// application's signal from outside, forwarded as the others are. (Every fault the
	// kernel raises has a positive si_code: SEGV_MAPERR, SI_KERNEL and so on.)
	CMPL	const_siCode(SI), $0
	JGT	fault
	JMP	·hostSigTramp(SB)
fault:
	MOVQ	UC_RIP(DX), CX		// the faulting instruction
	// In one of golos's copies of application memory (usercopy_amd64.s): that copy
	// fails. In fastEntry's look at a path or pollfds: the call goes to Go
	// (fastProbeFault).
	RESUME_AT_END(·userCopyInsn, ·userCopyFault, notcopy)
notcopy:
	RESUME_AT_END(·fastProbe, ·fastProbeFault, notprobe)
notprobe:
	// A single-step trap (SIGTRAP, TRAP_TRACE) in golos's own code: the application's
	// flags had TF, the trap flag, which a program may set itself with popf (Linux keeps
	// it across rt_sigreturn and syscalls: FIX_EFLAGS in arch/x86/kernel/signal.c), and
	// golos's entry code loaded it with them (enterApp's POPFQ), or the program ran into
	// a rewritten site's stub with it. Those traps are golos's, not the program's: each
	// goes on where it stopped, with TF, until the CPU is back in application code. At
	// enterApp's final jmp the handler makes the jump itself (RIP = its target, GS:8),
	// and rt_sigreturn then enters the application with TF as Linux's own return to user
	// space does (IRET): its first instruction runs, then it traps (Intel SDM vol. 3,
	// 18.3.1.4), with no trap before it.
	CMPL	const_siSigno(SI), $5	// SIGTRAP
	JNE	notstep
	CMPL	const_siCode(SI), $2	// TRAP_TRACE
	JNE	notstep
	OUTSIDE(CX, ·enterApp, ·enterAppEnd, R8, notentry)
	CMPL	0(CX), $0x2524ff65	// jmp *%gs:8 (65 ff 24 25 08 00 00 00)
	JNE	stepon
	CMPL	4(CX), $8
	JNE	stepon
	// mov %gs:8,%r8 — the jump target (GS is still golos's here)
	BYTE $0x65; BYTE $0x4c; BYTE $0x8b; BYTE $0x04; BYTE $0x25; LONG $8
	MOVQ	R8, UC_RIP(DX)
	// mov %gs:0,%r9 — this thread's Context
	BYTE $0x65; BYTE $0x4c; BYTE $0x8b; BYTE $0x0c; BYTE $0x25; LONG $0
	CMPQ	R8, (Context_Regs+Regs_RIP)(R9)
	JEQ	stepon
	// The target is the GS trampoline (the program has a GS base of its own), whose
	// steps golos does not follow (they looped on the program's handler): TF is
	// dropped there, and such a program is not single-stepped further.
	ANDQ	$~0x100, UC_EFL(DX)
	RET				// to the restorer: rt_sigreturn
notentry:
	CMPQ	CX, ·textStart(SB)
	JCS	notext
	CMPQ	CX, ·textEnd(SB)
	JCS	stepon
notext:
	MOVQ	CX, R8			// the slots: stubs and GS trampolines
	SUBQ	·slotsBase(SB), R8
	CMPQ	R8, ·slotsSize(SB)
	JCC	notstep
stepon:
	RET				// to the restorer: rt_sigreturn
notstep:
	CTX_BY_SP(golang)
	CMPB	Context_inApp(AX), $0
	JEQ	golang
	MOVQ	$const_ReasonFault, R8
	JMP	·trapToGo(SB)
golang:
	JMP	·goSigTramp(SB)

// goSigTramp stands in front of each of the Go runtime's own signal handlers. When the
// signal interrupts application code that has its own GS base loaded, the runtime's
// handler (which finds g at GS:-8) runs with golos's GS, and the application's is put
// back afterwards; otherwise the runtime's handler is tail-called as it is.
TEXT ·goSigTramp(SB),NOSPLIT|NOFRAME,$0
	CLEAR_FLAGS			// the interrupted code's AC (rt_sigreturn restores its flags)
	CTX_BY_SP(direct)
	CMPB	Context_hasAppGS(AX), $0
	JEQ	direct
	CMPB	·gsByInsn(SB), $0
	JEQ	bysyscall
	RDGSBASEQ	CX
	CMPQ	CX, Context_goGS(AX)
	JEQ	direct
	PUSHQ	CX			// the GS base to put back (and a 16-byte aligned call)
	MOVQ	Context_goGS(AX), CX
	WRGSBASEQ	CX
	GO_HANDLER
	CALL	AX			// DI, SI, DX as the kernel gave them
	POPQ	CX
	WRGSBASEQ	CX
	RET
direct:
	GO_HANDLER
	JMP	AX
bysyscall:
	JMP	·goSigTrampSyscall(SB)

// goSigTrampSyscall is goSigTramp without FSGSBASE (AX = the Context): the GS base is
// read and written with arch_prctl. The handler's arguments DI, SI, DX and the GS base to
// put back are kept on the stack: 0(SP) DI, 8(SP) SI, 16(SP) DX, 24(SP) the Context,
// 32(SP) the GS base (40 bytes keep the call 16-byte aligned).
TEXT ·goSigTrampSyscall(SB),NOSPLIT|NOFRAME,$0
	SUBQ	$40, SP
	MOVQ	DI, 0(SP)
	MOVQ	SI, 8(SP)
	MOVQ	DX, 16(SP)
	MOVQ	AX, 24(SP)
	MOVL	$const_archGetGS, DI	// arch_prctl(ARCH_GET_GS, 32(SP))
	LEAQ	32(SP), SI
	MOVL	$const_sysArchPrctl, AX
	SYSCALL
	MOVQ	24(SP), AX
	MOVQ	32(SP), CX
	CMPQ	CX, Context_goGS(AX)
	JEQ	sysdirect		// golos's GS is loaded already
	MOVQ	Context_goGS(AX), CX
	SET_GS_SYSCALL(CX)
	MOVQ	0(SP), DI
	MOVQ	8(SP), SI
	MOVQ	16(SP), DX
	GO_HANDLER
	CALL	AX
	MOVQ	32(SP), CX		// the application's GS back
	SET_GS_SYSCALL(CX)
	ADDQ	$40, SP
	RET
sysdirect:
	MOVQ	0(SP), DI
	MOVQ	8(SP), SI
	MOVQ	16(SP), DX
	ADDQ	$40, SP
	GO_HANDLER
	JMP	AX

// trapToGo saves the application's state from the signal frame into the Context in AX
// (R8 = reason, SI = siginfo, DX = ucontext) and returns from switchToApp on the
// goroutine's stack. The signal frame is never returned from: with SA_NODEFER and an empty
// sa_mask the kernel left the thread's signal mask as it was, so nothing stays blocked.
TEXT ·trapToGo(SB),NOSPLIT|NOFRAME,$0
	CLEAR_FLAGS			// the handler runs with the application's AC
	MOVB	$const_selectorAllow, Context_selector(AX)
	MOVB	$0, Context_inApp(AX)
	MOVQ	R8, Context_Reason(AX)
	MOVLQSX	const_siSigno(SI), BX
	MOVQ	BX, Context_Signo(AX)
	MOVLQSX	const_siCode(SI), BX
	MOVQ	BX, Context_Code(AX)
	MOVQ	const_siAddr(SI), BX
	MOVQ	BX, Context_Addr(AX)
	MOVQ	UC_ERR(DX), BX
	MOVQ	BX, Context_Err(AX)
	MOVQ	UC_TRAPNO(DX), BX
	MOVQ	BX, Context_Trapno(AX)
	// General registers: the 18 quadwords REG_R8…REG_EFL, in Regs order.
	MOVQ	DX, R9
	LEAQ	UC_GREGS(R9), SI
	LEAQ	Context_Regs(AX), DI
	MOVQ	$18, CX
	REP;	MOVSQ
	// Extended state: the kernel saved it in the frame (XSAVE format, with its size in
	// the software-reserved bytes) and gave the handler a clean one.
	MOVQ	UC_FPREGS(R9), SI
	TESTQ	SI, SI
	JEQ	back
	MOVL	$512, CX		// FXSAVE-only frame
	CMPL	SW_MAGIC1(SI), $FP_XSTATE_MAGIC1
	JNE	copy
	MOVL	SW_XSTATE_SIZE(SI), CX
	CMPQ	CX, $const_xsaveMax
	JLS	copy
	MOVL	$const_xsaveMax, CX	// cannot happen on CPUs without AMX (see xsaveMax)
copy:
	LEAQ	Context_xsave(AX), DI
	REP;	MOVSB
back:
	CMPB	Context_hasAppGS(AX), $0
	JEQ	gsok
	MOVQ	Context_goGS(AX), CX	// golos's GS back before anything reads it
	CMPB	·gsByInsn(SB), $0
	JEQ	backgs
	WRGSBASEQ	CX
	JMP	gsok
backgs:
	MOVQ	AX, BX			// the Context, kept across the syscall
	SET_GS_SYSCALL(CX)
	MOVQ	BX, AX
gsok:
	MOVQ	Context_goSP(AX), SP
	// Go's ABIInternal: R14 = g (GS:-8), X15 = 0.
	BYTE $0x65; BYTE $0x4c; BYTE $0x8b; BYTE $0x34; BYTE $0x25; LONG $-8	// mov %gs:-8,%r14
	XORPS	X15, X15
	RET				// into switchToApp, whose epilogue restores BP

// fastEntry is where the stub of a rewritten syscall site (internal/syspatch) jumps, with
// RAX = the syscall number (any value) and RCX = the stub's own syscall instruction (its
// slow path);
// every other register and the flags are the application's. A syscall golos passes
// through unchanged (PlainSyscalls) is made right here, from golos's text, where Syscall
// User Dispatch lets it through; any other goes to the goroutine as sigsysTramp and
// trapToGo would send it, without a signal. Nothing touches the flags before they are
// saved (only MOV, LEA, XCHG and JRCXZ), and nothing is pushed on the application's stack.
// m.tls[3] (GS:16) holds the resume address across a plain call, m.tls[4] (GS:24) its
// number.
TEXT ·fastEntry(SB),NOSPLIT|NOFRAME,$0
	// While any thread of the process has its own GS loaded, GS may not be golos's:
	// take the slow path, the stub's syscall instruction, which traps as usual.
	MOVBQZX	·anyAppGS(SB), R11
	XCHGQ	R11, CX			// R11 = the slow path, RCX = anyAppGS
	JCXZQ	fast
	JMP	R11
	// PlainUnlessMaskR8, PlainUnlessMaskR10 (below): plain when the call's signal mask,
	// in R8 (epoll_pwait, epoll_pwait2; then the descriptor check) or R10 (ppoll), is NULL;
	// with a mask the call goes to Go, which puts it in place of the thread's. Here,
	// before fast, within JRCXZ's reach of the class test.
maskr8:
	MOVQ	R8, CX
	JCXZQ	mr8plain
	JMP	notplain
mr8plain:
	MOVWQZX	AX, R11			// (unchanged: the assembler would thread a bare JMP, out of JRCXZ's reach)
	JMP	fdcheck
maskr10:
	MOVQ	R10, CX
	JCXZQ	mr10plain
	JMP	notplain
mr10plain:
	MOVQ	DI, R11			// ppoll without a mask: its pollfds, as poll's (pollclass)
	JMP	·fastProbe(SB)
	// PlainPoll (poll): its pollfds, in RDI, are scanned by fastProbe.
pollclass:
	MOVQ	DI, R11
	JMP	·fastProbe(SB)
selectclass:
	MOVWQZX	AX, R11			// (the assembler would thread a bare JMP)
	JMP	selectbody
ioctlclass:
	MOVWQZX	AX, R11			// (the assembler would thread a bare JMP)
	JMP	ioctlbody
fast:
	LEAQ	2(R11), R11		// the stub's way back, after its syscall instruction
	BYTE $0x65; BYTE $0x4c; BYTE $0x89; BYTE $0x1c; BYTE $0x25; LONG $16	// mov %r11,%gs:16
	BYTE $0x65; BYTE $0x48; BYTE $0x89; BYTE $0x04; BYTE $0x25; LONG $24	// mov %rax,%gs:24
	MOVWQZX	AX, R11			// the table covers the low 16 bits of any number;
	LEAQ	·PlainSyscalls(SB), CX	// a larger one the host then refuses itself
	MOVBQZX	(CX)(R11*1), CX
	JCXZQ	notplain
	LEAQ	-6(CX), CX		// PlainUnlessMaskR8
	JCXZQ	maskr8
	LEAQ	-1(CX), CX		// PlainUnlessMaskR10
	JCXZQ	maskr10
	LEAQ	-1(CX), CX		// PlainPoll
	JCXZQ	pollclass
	LEAQ	-1(CX), CX		// PlainSelect
	JCXZQ	selectclass
	LEAQ	-1(CX), CX		// PlainIoctl
	JCXZQ	ioctlclass
	LEAQ	9(CX), CX		// the class again, less 1
	JCXZQ	fdcheck
	// PlainSyscalls: 1 = plain; PlainPoll = plain unless a pollfd names one of golos's
	// own descriptors (fastProbe); PlainSelect = plain unless nfds reaches the lowest of
	// them (selectbody); PlainUnlessProcRDI, PlainUnlessProcRSI = plain unless the
	// path in RDI, RSI begins with "/proc", "/dev/f", "//" or "/." (fastProbe); PlainArchPrctlFS = plain for the int option
	// in EDI ARCH_SET_FS (0x1002) or ARCH_GET_FS (0x1003); PlainUnlessControl = plain
	// unless the struct msghdr in RSI has control data (fastProbe). (Compared by
	// subtracting with LEA, testing with JRCXZ: neither touches the flags.)
	LEAQ	-1(CX), CX
	JCXZQ	pathrdi
	LEAQ	-1(CX), CX
	JCXZQ	pathrsi
	LEAQ	-2(CX), CX		// PlainUnlessControl (sendmsg): its struct msghdr in RSI,
	JCXZQ	pathrsi			// which fastProbe tells from a path by the number
	MOVL	DI, CX			// arch_prctl's option, zero-extended
	LEAQ	-0x1002(CX), CX
	JCXZQ	plain
	LEAQ	-1(CX), CX
	JCXZQ	plain
notplain:
	// Here, within JRCXZ's reach of the jumps above.
	BYTE $0x65; BYTE $0x4c; BYTE $0x8b; BYTE $0x1c; BYTE $0x25; LONG $16	// mov %gs:16,%r11
	MOVQ	$const_ReasonSyscall, CX
	JMP	·fastSave(SB)
pathrsi:
	// An *at call (its directory descriptor in RDI, marked in FDSyscalls) relative to a
	// descriptor in GoFDs goes to Go, as fdcheck sends a call on one; so does sendmsg on
	// one (EBADF).
	FD_TO_GO(probersi)
probersi:
	MOVQ	SI, R11
	JMP	·fastProbe(SB)
pathrdi:
	MOVQ	DI, R11
	JMP	·fastProbe(SB)
fdcheck:
	// A call on a descriptor of golos's, or one golos watches, goes to Go, and so does
	// one that names one of golos's own in another argument.
	FD_TO_GO(fdok)
fdok:
	JMP	fdargs			// out of the way: the jumps above reach plain by JRCXZ
plain:
	JMP	·fastCallStart(SB)
	// PlainSelect (select): plain unless nfds (RDI, an int) reaches golos's lowest
	// descriptor, nfds + SelectSlack > 0xffff; a negative or huge one goes to Go as
	// well, to fail or be clamped there as on Linux. BSWAP moves a 32-bit value's upper
	// half into its lower 16 bits without touching the flags.
selectbody:
	MOVL	DI, CX
	BSWAPL	CX
	MOVWQZX	CX, CX			// nfds's upper 16 bits (byte-swapped)
	JCXZQ	selsmall
	JMP	notplain
selsmall:
	MOVWQZX	DI, CX
	MOVQ	·SelectSlack(SB), R11
	LEAQ	(CX)(R11*1), CX		// at most 0x1fffe
	BSWAPL	CX
	MOVWQZX	CX, CX			// bit 16 of the sum
	JCXZQ	selplain
	JMP	notplain
selplain:
	MOVWQZX	AX, R11
	JMP	plain
	// PlainIoctl (ioctl): plain, its descriptor checked (fdcheck), unless the request's
	// low 16 bits are those of FIFREEZE (0x5877), FITHAW (0x5878), FICLONE (0x9409),
	// FICLONERANGE (0x940d) or FIDEDUPERANGE (0x9436), which go to Go (sysIoctl; another
	// request with those bits goes too, and through there unchanged).
ioctlbody:
	MOVWQZX	SI, CX
	LEAQ	-0x5877(CX), CX		// FIFREEZE
	JCXZQ	ioctlgo
	LEAQ	-1(CX), CX		// FITHAW
	JCXZQ	ioctlgo
	LEAQ	-0x3b91(CX), CX		// FICLONE, 0x9409 - 0x5878
	JCXZQ	ioctlgo
	LEAQ	-4(CX), CX		// FICLONERANGE
	JCXZQ	ioctlgo
	LEAQ	-0x29(CX), CX		// FIDEDUPERANGE, 0x9436 - 0x940d
	JCXZQ	ioctlgo
	JMP	fdcheck
ioctlgo:
	MOVWQZX	AX, R11			// (the assembler would thread a bare JMP)
	JMP	notplain
fdargs:
	FD_ARG_TO_GO(·FDRSISyscalls, SI, fdrdx)
fdrdx:
	FD_ARG_TO_GO(·FDRDXSyscalls, DX, fdplain)
fdplain:
	JMP	·fastCallStart(SB)	// (not "JMP plain": the assembler would aim the JRCXZ there)

// fastProbe looks at application memory at R11 (the application's pointer) before a
// call is made plain. For sendmsg (the number in AX) R11 is its struct msghdr: a message
// without control data (msg_controllen, at 40, is 0) is plain data and made plain; one
// with control data goes to Go, which checks an SCM_RIGHTS message for golos's
// descriptors (sysSendmsg). For poll and ppoll R11 is their array of struct pollfd
// (pollfds below). For any other call R11 is a path: one that begins with /proc
// goes to Go, which shows some of those files as the application's, and so does one that
// begins with "/dev/f" (/dev/fd), "/dev//", "/dev/.", "//" or "/." (it may lead there: Go cleans it), or with "..", or is
// relative while RelativeToGo is set; any other is made plain. A
// fault while reading (a bad pointer, or a short path that ends just before an unmapped
// page) resumes at fastProbeFault (faultTramp), which sends the call to Go as well, to
// fail or succeed there as it would on Linux.
TEXT ·fastProbe(SB),NOSPLIT|NOFRAME,$0
	MOVWQZX	AX, CX			// the number's low 16 bits, as PlainSyscalls is indexed
	LEAQ	-const_sysSendmsg(CX), CX
	JCXZQ	msg
	LEAQ	(const_sysSendmsg-const_sysPoll)(CX), CX
	JCXZQ	pollfds
	LEAQ	(const_sysPoll-const_sysPpoll)(CX), CX
	JCXZQ	pollfds
	JMP	path			// after the others: JCXZQ reaches 127 bytes
msg:
	MOVQ	40(R11), CX		// msg_controllen; may fault
	JCXZQ	msgplain
	JMP	·fastProbeFault(SB)
msgplain:
	JMP	·fastCallStart(SB)
pollfds:
	// poll, ppoll: R11 (= RDI) is their array of struct pollfd (8 bytes each, the int fd
	// first), RSI their number (an unsigned int). A call that names one of golos's own
	// descriptors (OwnFDs, by the fd's low 16 bits) goes to Go, which answers POLLNVAL
	// for it as for a closed one. RAX, the number, is scratch here (the table's address)
	// and comes back from GS:24 on every way out (fastProbeFault too).
	MOVL	SI, CX			// entries left to look at
	LEAQ	·OwnFDs(SB), AX
pollnext:
	JCXZQ	pollplain
	MOVWQZX	-8(DI)(CX*8), R11	// may fault
	MOVBQZX	(AX)(R11*1), R11
	XCHGQ	R11, CX			// CX = is it golos's, R11 = entries left
	JCXZQ	pollapp
	JMP	·fastProbeFault(SB)
pollapp:
	LEAQ	-1(R11), CX
	JMP	pollnext
pollplain:
	BYTE $0x65; BYTE $0x48; BYTE $0x8b; BYTE $0x04; BYTE $0x25; LONG $24	// mov %gs:24,%rax
	JMP	·fastCallStart(SB)
path:
	MOVL	(R11), CX		// may fault
	LEAQ	-0x6f72702f(CX), CX	// "/pro", little-endian
	JCXZQ	pro
	MOVL	(R11), CX
	LEAQ	-0x7665642f(CX), CX	// "/dev", little-endian
	JCXZQ	dev
	MOVWLZX	(R11), CX
	LEAQ	-0x2f2f(CX), CX		// "//"
	JCXZQ	proc
	MOVWLZX	(R11), CX
	LEAQ	-0x2e2f(CX), CX		// "/."
	JCXZQ	proc
	MOVBLZX	(R11), CX
	LEAQ	-0x2f(CX), CX		// any other absolute path: plain
	JCXZQ	plainpath
	MOVWLZX	(R11), CX
	LEAQ	-0x2e2e(CX), CX		// "..": it may lead to /proc (proccwd.go)
	JCXZQ	proc
	MOVBLZX	·RelativeToGo(SB), CX	// a relative path while the working directory is
	LEAQ	-1(CX), CX		// / or under /proc
	JCXZQ	proc
plainpath:
	JMP	·fastCallStart(SB)
pro:
	MOVBLZX	4(R11), CX		// may fault
	LEAQ	-0x63(CX), CX		// "c"
	JCXZQ	proc
	JMP	·fastCallStart(SB)
dev:
	MOVBLZX	4(R11), CX		// may fault
	LEAQ	-0x2f(CX), CX		// "/dev/"
	JCXZQ	devdir
	JMP	·fastCallStart(SB)
devdir:
	MOVBLZX	5(R11), CX		// may fault
	LEAQ	-0x66(CX), CX		// "/dev/f": /dev/fd is a symlink to /proc/self/fd (procPathArgRaw)
	JCXZQ	proc
	MOVBLZX	5(R11), CX
	LEAQ	-0x2f(CX), CX		// "/dev//", "/dev/.": /dev//fd, /dev/./fd (Go cleans them)
	JCXZQ	proc
	MOVBLZX	5(R11), CX
	LEAQ	-0x2e(CX), CX
	JCXZQ	proc
	JMP	·fastCallStart(SB)
proc:
	JMP	·fastProbeFault(SB)
TEXT ·fastProbeFault(SB),NOSPLIT|NOFRAME,$0
	BYTE $0x65; BYTE $0x48; BYTE $0x8b; BYTE $0x04; BYTE $0x25; LONG $24	// mov %gs:24,%rax
	BYTE $0x65; BYTE $0x4c; BYTE $0x8b; BYTE $0x1c; BYTE $0x25; LONG $16	// mov %gs:16,%r11
	MOVQ	$const_ReasonSyscall, CX
	JMP	·fastSave(SB)

// From fastCallStart to fastCallSyscall a kick makes the thread take the call to the
// goroutine instead of making it (fastAbort); after it, until the jump back, go there
// with its result (fastDone). A kick before fastCallStart left Pending set, which is
// checked first.
TEXT ·fastCallStart(SB),NOSPLIT|NOFRAME,$0
	// mov %gs:0,%rcx — this thread's Context
	BYTE $0x65; BYTE $0x48; BYTE $0x8b; BYTE $0x0c; BYTE $0x25; LONG $0
	MOVL	Context_Pending(CX), CX
	JCXZQ	call
	JMP	·fastAbort(SB)
call:
	JMP	·fastCallSyscall(SB)
TEXT ·fastCallSyscall(SB),NOSPLIT|NOFRAME,$0
	SYSCALL				// from golos's text: not dispatched
	LEAQ	4(AX), CX		// -EINTR: a kick came during the call
	JCXZQ	interrupted
	LEAQ	32(AX), CX		// -EPIPE: the application gets SIGPIPE too
	JCXZQ	interrupted
	// jmp *%gs:16 — back to the stub, RAX = the result, the flags as they were
	BYTE $0x65; BYTE $0xff; BYTE $0x24; BYTE $0x25; LONG $16
interrupted:
	JMP	·fastDone(SB)
TEXT ·fastCallEnd(SB),NOSPLIT|NOFRAME,$0
	INT	$3

// fastAbort: a kick came before the plain call was made (or a signal was pending when
// it reached fastCallStart). The application has made its syscall (the stub's jump here
// stands for its syscall instruction), so the call goes to the goroutine as a trapped one
// would, with the signal pending: Go makes a call that does not block and delivers the
// signal after it, and fails a blocking one with EINTR before it starts
// (BlockingSyscall), restarting it or not as Linux does with a signal pending when a call
// begins. Going back to before the call instead, to deliver the signal and then make it,
// would let a handler that runs there be followed by a call that waits for good: a
// program that arms a timer, then writes to a full pipe and looks for the timer's signal
// after the write (sig_pipe_write.c) hung when the signal came in the few instructions
// between fastEntry and the syscall instruction.
TEXT ·fastAbort(SB),NOSPLIT|NOFRAME,$0
	BYTE $0x65; BYTE $0x4c; BYTE $0x8b; BYTE $0x1c; BYTE $0x25; LONG $16	// mov %gs:16,%r11
	BYTE $0x65; BYTE $0x48; BYTE $0x8b; BYTE $0x04; BYTE $0x25; LONG $24	// mov %gs:24,%rax
	MOVQ	$const_ReasonSyscall, CX
	JMP	·fastSave(SB)

// fastDone: the plain call was made (RAX = its result) and a kick came, or the call
// returned EINTR because of one, or EPIPE, which raises SIGPIPE. Go to the goroutine with the application at the stub's
// way back; it decides about restarting an interrupted call (signal(7)).
TEXT ·fastDone(SB),NOSPLIT|NOFRAME,$0
	BYTE $0x65; BYTE $0x4c; BYTE $0x8b; BYTE $0x1c; BYTE $0x25; LONG $16	// mov %gs:16,%r11
	MOVQ	$const_ReasonFastDone, CX
	JMP	·fastSave(SB)

// fastSave saves the application's state in the Context (R11 = where it resumes, CX =
// the reason) and returns from switchToApp.
TEXT ·fastSave(SB),NOSPLIT|NOFRAME,$0
	// mov %rcx,%gs:32 (m.tls[5]) — the reason, while CX holds the Context
	BYTE $0x65; BYTE $0x48; BYTE $0x89; BYTE $0x0c; BYTE $0x25; LONG $32
	// mov %gs:0,%rcx — this thread's Context
	BYTE $0x65; BYTE $0x48; BYTE $0x8b; BYTE $0x0c; BYTE $0x25; LONG $0
	MOVQ	SP, (Context_Regs+Regs_RSP)(CX)
	MOVQ	Context_goSP(CX), SP	// the goroutine's stack, below switchToApp's frame
	PUSHFQ
	POPQ	(Context_Regs+Regs_RFLAGS)(CX)
	MOVQ	AX, (Context_Regs+Regs_RAX)(CX)
	MOVQ	BX, (Context_Regs+Regs_RBX)(CX)
	MOVQ	DX, (Context_Regs+Regs_RDX)(CX)
	MOVQ	SI, (Context_Regs+Regs_RSI)(CX)
	MOVQ	DI, (Context_Regs+Regs_RDI)(CX)
	MOVQ	BP, (Context_Regs+Regs_RBP)(CX)
	MOVQ	R8, (Context_Regs+Regs_R8)(CX)
	MOVQ	R9, (Context_Regs+Regs_R9)(CX)
	MOVQ	R10, (Context_Regs+Regs_R10)(CX)
	MOVQ	R12, (Context_Regs+Regs_R12)(CX)
	MOVQ	R13, (Context_Regs+Regs_R13)(CX)
	MOVQ	R14, (Context_Regs+Regs_R14)(CX)
	MOVQ	R15, (Context_Regs+Regs_R15)(CX)
	MOVQ	R11, (Context_Regs+Regs_RIP)(CX)
	MOVQ	R11, (Context_Regs+Regs_RCX)(CX)
	BYTE $0x65; BYTE $0x48; BYTE $0x8b; BYTE $0x1c; BYTE $0x25; LONG $32	// mov %gs:32,%rbx
	MOVQ	BX, Context_Reason(CX)
	BYTE $0x65; BYTE $0x48; BYTE $0x8b; BYTE $0x1c; BYTE $0x25; LONG $24	// mov %gs:24,%rbx
	MOVQ	BX, Context_Addr(CX)	// the syscall number of a plain call (fastDone)
	MOVQ	$const_CodeFast, Context_Code(CX)
	// Extended state, in the standard format the signal path uses too. XSAVEOPT skips
	// what has not changed since enterApp's XRSTOR from the same area.
	MOVQ	CX, BX
	LEAQ	Context_xsave(BX), DI
	MOVL	$-1, AX
	MOVL	$-1, DX
	XSAVEOPT64	(DI)
	MOVQ	BX, AX
	MOVB	$const_selectorAllow, Context_selector(AX)
	MOVB	$0, Context_inApp(AX)
	// What Go expects of the CPU: DF and AC clear, MXCSR 0x1f80 (the x87 unit Go does
	// not use; the vector registers it clobbers freely, enterApp's XRSTOR restores them
	// all).
	CLEAR_FLAGS
	LDMXCSR	·defaultMXCSR(SB)
	BYTE $0x65; BYTE $0x4c; BYTE $0x8b; BYTE $0x34; BYTE $0x25; LONG $-8	// mov %gs:-8,%r14
	XORPS	X15, X15
	RET				// into switchToApp

// hostSigTramp is the handler of the signals sent to golos's process from outside (a
// terminal's ^C, kill(1), a timer's signal): it notes the signal and its siginfo for the
// forwarder goroutine (HostSignals) and wakes it. It runs on whatever thread the kernel
// chose, with whatever GS, and reads nothing through GS.
TEXT ·hostSigTramp(SB),NOSPLIT|NOFRAME,$0
	CALL	·hostSigNote(SB)
	// On an application thread, its Context's Pending: a thread in golos then looks at
	// its signals (and forwards this one, Thread.forwardBeforeReturn) before it runs
	// application code again, even when this came after it last looked; enterApp checks
	// Pending last thing. (Linux delivers a signal that comes during a syscall on the
	// syscall's way out, before any more user code runs.) kickTramp below takes a
	// thread in application code out of it, as the kick that Pending stands for.
	CTX_BY_SP(notapp)
	MOVL	$1, Context_Pending(AX)
notapp:
	// Then as a kick: if this interrupted application code, its thread goes back to its
	// goroutine now. Otherwise the forwarder's kick could come while this handler still
	// runs, be taken for one nested in golos's code, and wait for the next trap.
	MOVQ	R8, DI
	MOVQ	R9, SI
	MOVQ	R10, DX
	JMP	·kickTramp(SB)

// urgTramp stands in front of the Go runtime's SIGURG handler, its preemption signal
// (installed with the runtime's flags and mask: every signal blocked while it runs).
// A SIGURG another process sent (si_code <= 0, si_pid not this process's) is the
// application's signal from outside, PostgreSQL's latch wake-up among them
// (SetLatch: kill(owner, SIGURG)): hostSigNote notes it for the forwarder, whose kick
// then delivers it, as soon as this handler returns and unblocks the kick (no kick
// from here: the handler runs with the runtime's mask, which trapToGo would leave
// blocked). Nor is Pending set here as hostSigTramp sets it: Kick sends its signal only
// to a thread whose Pending it turns from 0 to 1, so a thread in application code, or
// blocked in a call that SA_RESTART resumes after this handler, would never be kicked. The runtime's own preemption, tgkill from this process, and everything
// else goes to the runtime's handler (goSigTramp).
TEXT ·urgTramp(SB),NOSPLIT|NOFRAME,$0
	CMPL	const_siCode(SI), $0
	JGT	runtime
	MOVL	$39, AX			// getpid (keeps DI, SI, DX)
	SYSCALL
	CMPL	const_siPid(SI), AX
	JEQ	runtime
	CALL	·hostSigNote(SB)
	RET				// to the restorer: rt_sigreturn
runtime:
	JMP	·goSigTramp(SB)

// hostSigNote notes the signal DI with siginfo SI (ucontext DX) for the forwarder and
// wakes it; it returns with DI, SI, DX in R8, R9, R10.
TEXT ·hostSigNote(SB),NOSPLIT|NOFRAME,$0
	MOVQ	DI, R8			// the signal number, 1…64
	MOVQ	SI, R9			// siginfo and ucontext, for the caller
	MOVQ	DX, R10
	// siginfo → hostInfo[signo] (128 bytes; a later one of the same signal replaces it)
	MOVQ	R8, AX
	SHLQ	$7, AX
	LEAQ	·hostInfo(SB), DI
	ADDQ	AX, DI
	MOVQ	$128, CX
	CLD
	REP;	MOVSB
	// the thread it came to: hostTid[signo] = gettid()
	MOVL	$186, AX
	SYSCALL
	LEAQ	·hostTid(SB), DI
	MOVL	AX, (DI)(R8*4)
	// the signal's bit in hostPending
	LEAQ	-1(R8), CX
	MOVL	$1, AX
	SHLQ	CX, AX
	LOCK
	ORQ	AX, ·hostPending(SB)
	// Wake the forwarder: write(hostWakeFD, &hostOne, 8) when it waits on an eventfd in
	// the runtime's poller, else futex(&hostWake, FUTEX_WAKE_PRIVATE, 1).
	MOVLQSX	·hostWakeFD(SB), DI
	TESTL	DI, DI
	JLT	wakefutex
	LEAQ	·hostOne(SB), SI	// an 8-byte 1: eventfd(2) adds it to the counter
	MOVL	$8, DX
	MOVL	$1, AX			// write
	SYSCALL
	JMP	woken
wakefutex:
	MOVL	$1, ·hostWake(SB)
	LEAQ	·hostWake(SB), DI
	MOVL	$129, SI
	MOVL	$1, DX
	MOVL	$202, AX
	SYSCALL
woken:
	RET

// func blockingSyscall(pending *uint32, nr uintptr, a *[6]uintptr) (r uintptr)
// A syscall golos makes for the application that may block. A kick that comes before its
// syscall instruction runs makes it fail with EINTR instead (the kick handler moves the
// thread to blockingEintr), as a signal already pending stops a blocking call on Linux;
// one that comes during it interrupts it.
TEXT ·blockingSyscall(SB),NOSPLIT,$0-32
	MOVQ	a+16(FP), R11
	MOVQ	0(R11), DI
	MOVQ	8(R11), SI
	MOVQ	16(R11), DX
	MOVQ	24(R11), R10
	MOVQ	32(R11), R8
	MOVQ	40(R11), R9
	MOVQ	nr+8(FP), AX
	MOVQ	pending+0(FP), R11
	CALL	·blockingWindow(SB)
	MOVQ	AX, r+24(FP)
	RET

// From blockingWindow to blockingSyscallInsn (inclusive), a kick goes to blockingEintr.
TEXT ·blockingWindow(SB),NOSPLIT|NOFRAME,$0
	CMPL	(R11), $0
	JNE	intr
	JMP	·blockingSyscallInsn(SB)
intr:
	JMP	·blockingEintr(SB)
TEXT ·blockingSyscallInsn(SB),NOSPLIT|NOFRAME,$0
	SYSCALL
	RET

// blockingEintr is where a kick sends a blocking syscall that had not started. It
// returns notMade (-ERESTARTNOHAND), which BlockingSyscallMade turns into EINTR.
TEXT ·blockingEintr(SB),NOSPLIT|NOFRAME,$0
	MOVQ	$-514, AX		// -ERESTARTNOHAND: not made
	RET

// sigreturnTramp is the sa_restorer of golos's handlers, for the frames they do return
// from. It lies in golos's text, which Syscall User Dispatch lets through.
TEXT ·sigreturnTramp(SB),NOSPLIT|NOFRAME,$0
	MOVQ	$15, AX			// rt_sigreturn
	SYSCALL
	INT	$3

// func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB),NOSPLIT,$0-24
	MOVL	leaf+0(FP), AX
	MOVL	sub+4(FP), CX
	CPUID
	MOVL	AX, eax+8(FP)
	MOVL	BX, ebx+12(FP)
	MOVL	CX, ecx+16(FP)
	MOVL	DX, edx+20(FP)
	RET

// func xgetbv0() uint64 — XCR0, the state components the OS enabled for XSAVE
TEXT ·xgetbv0(SB),NOSPLIT,$0-8
	MOVL	$0, CX
	XGETBV
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET

// func rdgsbase() uint64 — this thread's GS base (FSGSBASE instructions)
TEXT ·rdgsbase(SB),NOSPLIT,$0-8
	RDGSBASEQ	AX
	MOVQ	AX, ret+0(FP)
	RET

// ABI0 addresses of the handlers, for rt_sigaction.
DATA	·sigsysTrampPC+0(SB)/8, $·sigsysTramp(SB)
GLOBL	·sigsysTrampPC(SB), RODATA, $8
DATA	·kickTrampPC+0(SB)/8, $·kickTramp(SB)
GLOBL	·kickTrampPC(SB), RODATA, $8
DATA	·faultTrampPC+0(SB)/8, $·faultTramp(SB)
GLOBL	·faultTrampPC(SB), RODATA, $8
DATA	·goSigTrampPC+0(SB)/8, $·goSigTramp(SB)
GLOBL	·goSigTrampPC(SB), RODATA, $8
DATA	·urgTrampPC+0(SB)/8, $·urgTramp(SB)
GLOBL	·urgTrampPC(SB), RODATA, $8
// The addresses the kick handler compares with, for a check that the linker kept each
// group in order (checkLayout, which Install calls and frame_test.go tests).
DATA	·entryLayout+0(SB)/8, $·enterApp(SB)
DATA	·entryLayout+8(SB)/8, $·enterAppEnd(SB)
DATA	·entryLayout+16(SB)/8, $·fastCallStart(SB)
DATA	·entryLayout+24(SB)/8, $·fastCallSyscall(SB)
DATA	·entryLayout+32(SB)/8, $·fastCallEnd(SB)
DATA	·entryLayout+40(SB)/8, $·blockingWindow(SB)
DATA	·entryLayout+48(SB)/8, $·blockingSyscallInsn(SB)
DATA	·entryLayout+56(SB)/8, $·fastProbe(SB)
DATA	·entryLayout+64(SB)/8, $·fastProbeFault(SB)
GLOBL	·entryLayout(SB), RODATA, $72
DATA	·FastEntryPC+0(SB)/8, $·fastEntry(SB)
GLOBL	·FastEntryPC(SB), RODATA, $8
DATA	·hostSigTrampPC+0(SB)/8, $·hostSigTramp(SB)
GLOBL	·hostSigTrampPC(SB), RODATA, $8
DATA	·sigreturnTrampPC+0(SB)/8, $·sigreturnTramp(SB)
GLOBL	·sigreturnTrampPC(SB), RODATA, $8

// The psABI's MXCSR: all exceptions masked, round to nearest (for fastEntry's LDMXCSR).
DATA	·defaultMXCSR+0(SB)/4, $0x1f80
GLOBL	·defaultMXCSR(SB), RODATA, $4
