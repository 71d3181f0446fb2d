//go:build golosbuild

#include "textflag.h"

// sanStart and sanSize in sanreserve.go.
#define SAN_START 0x7fff8000
#define SAN_SIZE 0x100000000000

// reserveSanitizerRanges is the entry point's last step before the Go runtime
// (prestart_amd64.s jumps here, this jumps to _rt0_amd64_linux): it maps the range
// AddressSanitizer's shadow needs on x86-64 with PROT_NONE, so that the runtime's heap,
// placed by mallocinit's arena hints, lands elsewhere. sanreserve.go says why and
// releases the range once the heap has its place. MAP_FIXED_NOREPLACE (Linux 4.17)
// fails with EEXIST rather than replace anything mapped there; a kernel without it takes
// the address as a hint (mmap(2)), and a mapping made elsewhere is unmapped again at once.
// RSP is left as it was: it points at argc, which _rt0_amd64_linux reads.
TEXT main·reserveSanitizerRanges(SB),NOSPLIT|NOFRAME,$0
	MOVQ	$9, AX				// mmap(start, size, PROT_NONE,
	MOVQ	$SAN_START, DI			//  MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE|
	MOVQ	$SAN_SIZE, SI			//  MAP_FIXED_NOREPLACE, -1, 0)
	XORQ	DX, DX
	MOVQ	$0x104022, R10
	MOVQ	$-1, R8
	XORQ	R9, R9
	SYSCALL
	CMPQ	AX, $-4095			// -errno: nothing reserved
	JCC	done
	CMPQ	AX, DI
	JEQ	reserved
	MOVQ	AX, DI				// mapped elsewhere: munmap(it, size)
	MOVQ	$11, AX
	SYSCALL
	JMP	done
reserved:
	MOVQ	AX, main·sanReserved(SB)
done:
	JMP	_rt0_amd64_linux(SB)
