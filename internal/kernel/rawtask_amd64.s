// rawTaskClone makes the task of rawtask.go: a host clone(2) sharing this process's
// memory, which runs the program's code at once with the registers its caller had at
// its clone, and never runs Go code.

#include "textflag.h"

#define SYS_rt_sigprocmask	14
#define SYS_clone	56
#define SYS_arch_prctl	158
#define ARCH_SET_GS	0x1001

// The block rawTaskBlock lays out below the child's stack pointer, in 8-byte slots from
// the lowest (where the child's RSP points after the clone): R8 R9 R10 R11 R12 R13 R14 R15
// RDI RSI RBP RBX RDX RCX (0-13), the signal mask (14), GS base (15), MXCSR (16, low 32
// bits), x87 control word (17, low 16 bits), RFLAGS (18), RIP (19).

// func rawTaskClone(flags, sp, ptid, ctid, tls uint64) (pid int64)
//
// sp is the block's address: the child starts with RSP there. In the parent it returns
// clone's result (the child's pid or -errno). The child sets its signal mask and GS base,
// loads the x87 and SSE control words and every register from the block, and returns
// into the program's code with RAX 0 and RSP just above the block, where the program
// asked its stack to be. Registers survive the syscall (but RAX, RCX, R11): the block is
// addressed through RSP, which the kernel set.
TEXT ·rawTaskClone(SB),NOSPLIT,$0-48
	MOVQ	flags+0(FP), DI
	MOVQ	sp+8(FP), SI
	MOVQ	ptid+16(FP), DX
	MOVQ	ctid+24(FP), R10
	MOVQ	tls+32(FP), R8
	MOVQ	$SYS_clone, AX
	SYSCALL
	TESTQ	AX, AX
	JEQ	child
	MOVQ	AX, pid+40(FP)
	RET
child:
	MOVQ	SP, R12			// the block (R12 survives the syscalls)
	MOVQ	$SYS_rt_sigprocmask, AX	// rt_sigprocmask(SIG_SETMASK, &block[14], NULL, 8)
	MOVQ	$2, DI
	LEAQ	112(R12), SI
	XORQ	DX, DX
	MOVQ	$8, R10
	SYSCALL
	MOVQ	$SYS_arch_prctl, AX	// arch_prctl(ARCH_SET_GS, block[15])
	MOVQ	$ARCH_SET_GS, DI
	MOVQ	120(R12), SI
	SYSCALL
	LDMXCSR	128(R12)
	FLDCW	136(R12)
	MOVQ	0(R12), R8
	MOVQ	8(R12), R9
	MOVQ	16(R12), R10
	MOVQ	24(R12), R11
	MOVQ	40(R12), R13
	MOVQ	48(R12), R14
	MOVQ	56(R12), R15
	MOVQ	64(R12), DI
	MOVQ	72(R12), SI
	MOVQ	80(R12), BP
	MOVQ	88(R12), BX
	MOVQ	96(R12), DX
	MOVQ	104(R12), CX
	MOVQ	32(R12), R12		// last: the base
	XORL	AX, AX
	ADDQ	$144, SP		// at RFLAGS
	BYTE	$0x9d			// popfq (as bytes: the assembler counts a POP without its PUSH)
	RET				// to RIP, RSP at the program's stack
