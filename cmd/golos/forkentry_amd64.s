// This file is built only by internal/build, which links golos with forkEntry as its
// entry point (-E); see vdsoentry_unsafe.go.

//go:build golosbuild

#include "textflag.h"

// forkEntry is golos's entry point. For a forked child's golos ("golos fork-child CONN
// VDSO HIGH LAYOUT") it moves the vDSO to the parent's place before the Go runtime starts,
// then goes on to preStart (prestart_amd64.s), which starts the runtime as the plain entry
// does (_rt0_amd64_linux). LAYOUT is the
// parent's vDSO: the address of its [vdso] part, then each part's start and end, in
// address order, each as 16 hex digits. The kernel lays the vDSO out the same way in
// every process, so the child's parts lie at the same offsets from its own [vdso], which
// the auxiliary vector gives (AT_SYSINFO_EHDR). Once they are moved, AT_SYSINFO_EHDR is
// changed on the stack to the new place, where the runtime then finds the vDSO
// (runtime/vdso_linux.go, vdsoauxv): nothing of the runtime ever used the old one.
// forkVDSO[0] says what was done (vdsoentry_unsafe.go); anything but a clean move leaves
// the move to kernel.RunForked, as when this entry is not used.
//
// The stack at entry (System V ABI, x86-64 supplement, 3.4.1): argc, argv[0..argc-1],
// NULL, envp…, NULL, then the auxiliary vector's (tag, value) pairs up to AT_NULL.
TEXT ·forkEntry(SB),NOSPLIT|NOFRAME,$0
	MOVQ	0(SP), AX
	CMPQ	AX, $6
	JNE	start
	MOVQ	16(SP), SI // argv[1]: "fork-child"
	MOVQ	$0x6968632d6b726f66, CX // "fork-chi"
	CMPQ	0(SI), CX
	JNE	start
	CMPB	8(SI), $'l'
	JNE	start
	CMPB	9(SI), $'d'
	JNE	start
	CMPB	10(SI), $0
	JNE	start

	// LAYOUT into forkVDSO[2:], how many numbers in R15.
	MOVQ	48(SP), SI // argv[5]
	LEAQ	·forkVDSO(SB), R14
	XORQ	R15, R15
number:
	CMPB	0(SI), $0
	JEQ	parsed
	CMPQ	R15, $17 // [vdso] and at most 8 parts
	JAE	start
	XORQ	DX, DX
	MOVQ	$16, CX
digit:
	MOVBQZX	0(SI), AX
	SUBQ	$'0', AX
	CMPQ	AX, $10
	JCS	hexok
	SUBQ	$('a'-'0'), AX
	CMPQ	AX, $6
	JCC	start
	ADDQ	$10, AX
hexok:
	SHLQ	$4, DX
	ORQ	AX, DX
	INCQ	SI
	DECQ	CX
	JNZ	digit
	MOVQ	DX, 16(R14)(R15*8)
	INCQ	R15
	JMP	number
parsed:
	CMPQ	R15, $3
	JCS	start
	TESTQ	$1, R15
	JZ	start
	// Each part lies within 1 MiB of [vdso], after the one before it, so that a
	// layout can name nothing of the process but the vDSO's neighbourhood.
	MOVQ	16(R14), CX
	MOVQ	CX, DX
	SUBQ	$0x100000, CX // the window's start, then each part's end
	JCS	start
	ADDQ	$0x100000, DX // the window's end
	JCS	start
	MOVQ	$1, BX
check:
	CMPQ	BX, R15
	JCC	checked
	MOVQ	16(R14)(BX*8), AX // start
	CMPQ	AX, CX
	JCS	start
	MOVQ	24(R14)(BX*8), CX // end
	CMPQ	AX, CX
	JCC	start
	CMPQ	CX, DX
	JHI	start
	ADDQ	$2, BX
	JMP	check
checked:

	// The auxiliary vector's AT_SYSINFO_EHDR (33): its value's address in R13.
	MOVQ	0(SP), AX
	LEAQ	16(SP)(AX*8), R13 // envp
env:
	MOVQ	0(R13), AX
	ADDQ	$8, R13
	TESTQ	AX, AX
	JNZ	env
aux:
	MOVQ	0(R13), AX
	TESTQ	AX, AX
	JZ	start // no vDSO
	CMPQ	AX, $33
	JEQ	found
	ADDQ	$16, R13
	JMP	aux
found:
	ADDQ	$8, R13
	MOVQ	16(R14), R12
	SUBQ	0(R13), R12 // R12: the parent's place less the child's
	JNZ	move
	MOVQ	$1, 0(R14) // already there
	JMP	start
move:
	// The whole of the parent's place, [first part's start, last part's end), must be
	// free here, and apart from where the vDSO is now: a PROT_NONE placeholder with
	// MAP_FIXED_NOREPLACE claims it (a kernel before 4.17 takes the flag for a hint and
	// maps elsewhere: given back, and RunForked moves the vDSO).
	MOVQ	24(R14), BX // start
	MOVQ	8(R14)(R15*8), BP // end: the last number
	MOVQ	BX, AX
	SUBQ	R12, AX // start, here
	CMPQ	AX, BP
	JCC	claim
	MOVQ	BP, CX
	SUBQ	R12, CX // end, here
	CMPQ	BX, CX
	JCS	start // the two places overlap
claim:
	MOVQ	BX, DI
	MOVQ	BP, SI
	SUBQ	BX, SI
	MOVQ	$0, DX // PROT_NONE
	MOVQ	$0x100022, R10 // MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE
	MOVQ	$-1, R8
	MOVQ	$0, R9
	MOVQ	$9, AX // mmap
	SYSCALL
	CMPQ	AX, BX
	JEQ	claimed
	CMPQ	AX, $-4096
	JHI	start // an error: the place is taken
	MOVQ	AX, DI // mapped elsewhere
	MOVQ	BP, SI
	SUBQ	BX, SI
	MOVQ	$11, AX // munmap
	SYSCALL
	JMP	start
claimed:
	// Each part over the placeholder (mremap moves one mapping at a time), then
	// whatever of the placeholder lies between parts.
	MOVQ	$1, BX // the index of the part's start among the numbers
part:
	CMPQ	BX, R15
	JCC	moved
	MOVQ	16(R14)(BX*8), R10 // new address
	MOVQ	24(R14)(BX*8), SI
	SUBQ	R10, SI // size
	MOVQ	SI, DX
	MOVQ	R10, DI
	SUBQ	R12, DI // old address
	MOVQ	$3, R10 // MREMAP_MAYMOVE|MREMAP_FIXED
	MOVQ	16(R14)(BX*8), R8
	MOVQ	$25, AX // mremap
	SYSCALL
	CMPQ	AX, $-4096
	JHI	failed
	LEAQ	2(BX), CX
	CMPQ	CX, R15
	JCC	nextpart
	MOVQ	24(R14)(BX*8), DI // this part's end
	MOVQ	32(R14)(BX*8), SI // the next one's start
	SUBQ	DI, SI
	JZ	nextpart
	MOVQ	$11, AX // munmap
	SYSCALL
nextpart:
	ADDQ	$2, BX
	JMP	part
moved:
	MOVQ	16(R14), AX
	MOVQ	AX, 0(R13) // AT_SYSINFO_EHDR: the new place
	MOVQ	$1, 0(R14)
	JMP	start
failed:
	// Some parts may have moved and others not: the runtime goes without a vDSO
	// (syscalls), and the child's golos fails the fork.
	MOVQ	$0, 0(R13)
	MOVQ	$2, 0(R14)
start:
	JMP	main·preStart(SB)	// then the descriptor table, then the runtime (prestart_amd64.s)
