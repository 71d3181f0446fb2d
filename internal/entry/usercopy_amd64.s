// Copies between golos's memory and the application's that survive a wild pointer, as
// Linux's copy_from_user does with its exception table: the instructions that touch
// application memory lie between userCopyInsn and userCopyFault, and a fault there
// (faultTramp) resumes at userCopyFault, which returns -1 to the caller.

#include "textflag.h"

// func userCopy(dst, src, n uintptr) (r int64)
// Copies n bytes from src to dst; r is 0, or -1 if either side faulted.
TEXT ·userCopy(SB),NOSPLIT,$0-32
	MOVQ	dst+0(FP), DI
	MOVQ	src+8(FP), SI
	MOVQ	n+16(FP), CX
	CALL	·userCopyInsn(SB)
	MOVQ	AX, ret+24(FP)
	RET

// func userString(dst, src, n uintptr) (r int64)
// Copies bytes from src to dst up to and without the first NUL, at most n of them; r is
// how many, or -1 if reading src faulted. No byte after the NUL is read.
TEXT ·userString(SB),NOSPLIT,$0-32
	MOVQ	dst+0(FP), DI
	MOVQ	src+8(FP), SI
	MOVQ	n+16(FP), CX
	CALL	·userStringInsn(SB)
	MOVQ	AX, ret+24(FP)
	RET

// userCopyInsn: DI = dst, SI = src, CX = n; AX = 0.
TEXT ·userCopyInsn(SB),NOSPLIT|NOFRAME,$0
	CLD
	REP;	MOVSB
	XORL	AX, AX
	RET

// userStringInsn: DI = dst, SI = src, CX = n; AX = the length copied.
TEXT ·userStringInsn(SB),NOSPLIT|NOFRAME,$0
	XORL	AX, AX
loop:
	CMPQ	AX, CX
	JEQ	done
	MOVBLZX	(SI)(AX*1), DX		// may fault
	TESTB	DL, DL
	JEQ	done
	MOVB	DL, (DI)(AX*1)
	INCQ	AX
	JMP	loop
done:
	RET

// userCopyFault is where a fault in the copies above resumes: the copy's caller gets -1.
TEXT ·userCopyFault(SB),NOSPLIT|NOFRAME,$0
	MOVQ	$-1, AX
	RET

DATA	·userCopyLayout+0(SB)/8, $·userCopyInsn(SB)
DATA	·userCopyLayout+8(SB)/8, $·userStringInsn(SB)
DATA	·userCopyLayout+16(SB)/8, $·userCopyFault(SB)
GLOBL	·userCopyLayout(SB), RODATA, $24
