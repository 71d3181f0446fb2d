//go:build golosbuild

#include "textflag.h"

// preStart is the second step of golos's ELF entry point (forkEntry, which internal/build
// links with -E, jumps here): it registers the process for membarrier's core
// serialisation and grows the descriptor table before the Go runtime starts, then enters the runtime as
// _rt0_amd64_linux would have been entered. golos keeps its own descriptors at the top
// of the table (vfs.HighFD), out of the program's way; a small table puts them where the
// program's own numbers go (56-63 of 64: `exec 60>file` in a shell failed with EBADF).
// Growing the table is cheap only while one thread uses it: with others, Linux waits for
// an RCU grace period first (fs/file.c, expand_fdtable; 10-15 ms here), and the runtime
// starts threads before any Go code of golos's runs. So the table grows here, to the
// soft RLIMIT_NOFILE or 4096 entries, whichever is less, and tableTop says to what. It
// also notes which standard descriptors were closed (stdClosed), and goes on to
// reserveSanitizerRanges (sanreserve_amd64.s), which enters the runtime.
//
// Nothing has run on this stack: RSP points at argc (the System V x86-64 ABI's process
// start), which _rt0_amd64_linux reads, so RSP is left as it was, and the few bytes used
// lie below it. No register is live at a process's entry but RSP (and RDX, which a
// static Go binary ignores).
//
// First, the stack: the main thread's grows on faults up to RLIMIT_STACK, and the
// runtime takes 64 KiB of it for the main thread's system stack (rt0_go's g0), and more
// for the runtime's start. A program may have lowered the limit below that (to 8 or 12
// KiB, where a C program still runs) before it forked or exec'd: golos's child would die
// of SIGSEGV in the runtime's first frames, where Linux's child of a fork keeps its
// parent's grown stack. So, with a soft limit under 1 MiB and a hard one of 1 MiB or more,
// the soft limit is raised to 1 MiB, the stack grown to 256 KiB below RSP by a write to
// each page, and the program's soft limit kept in stackSoft, which golos sets back before
// any program code runs (hostfd_unsafe.go): the pages stay, only growth below them is
// limited (mm/mmap.c, acct_stack_growth).
TEXT main·preStart(SB),NOSPLIT|NOFRAME,$0
	// The limits go through stackLimits, not below RSP: under a limit of a page the
	// stack's one mapped page may end a few bytes below RSP, and a write past it would
	// need the growth the limit refuses (SIGSEGV).
	MOVQ	$302, AX		// prlimit64(0, RLIMIT_STACK, NULL, &stackLimits[0])
	XORQ	DI, DI			// this process
	MOVQ	$3, SI			// RLIMIT_STACK
	XORQ	DX, DX			// no new limit
	LEAQ	main·stackLimits(SB), R10 // the old one: soft at [0], hard at [1]
	SYSCALL
	TESTQ	AX, AX
	JNE	stackok
	LEAQ	main·stackLimits(SB), R10
	MOVQ	0(R10), R12		// the soft limit
	CMPQ	R12, $0x100000
	JCC	stackok			// 1 MiB or more (unlimited is ~0)
	MOVQ	8(R10), R13		// the hard limit
	CMPQ	R13, $0x100000
	JCS	stackok			// under 1 MiB: nothing to raise to
	MOVQ	$0x100000, 16(R10)	// the new soft limit, at [2]; the hard one kept, at [3]
	MOVQ	R13, 24(R10)
	MOVQ	$302, AX		// prlimit64(0, RLIMIT_STACK, &stackLimits[2], NULL)
	XORQ	DI, DI
	MOVQ	$3, SI
	LEAQ	16(R10), DX
	XORQ	R10, R10
	SYSCALL
	TESTQ	AX, AX
	JNE	stackok
	MOVQ	R12, main·stackSoft(SB)
	MOVQ	$1, main·stackRaised(SB)
	MOVQ	SP, DI
	LEAQ	-0x40000(SP), SI	// 256 KiB below RSP
touch:
	SUBQ	$4096, DI
	MOVQ	$0, (DI)
	CMPQ	DI, SI
	JHI	touch
stackok:
	// membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0), for the
	// rewriter's code changes once the program has threads (internal/kernel/rewrite.go).
	// Made while this is the process's only thread, it costs Linux no RCU grace period
	// (kernel/sched/membarrier.c, sync_runqueues_membarrier_state: with the runtime's
	// threads up it took 13 ms, during which a threaded program's sites could not be
	// rewritten and trapped). The result (0, or a negative errno) goes to syncCoreResult.
	MOVQ	$324, AX		// SYS_membarrier
	MOVQ	$64, DI			// MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE (1<<6)
	XORQ	SI, SI			// flags
	XORQ	DX, DX			// cpu_id
	SYSCALL
	MOVQ	AX, main·syncCoreResult(SB)

	// Which of 0, 1 and 2 golos was started without: the runtime opens /dev/null in
	// their place before any Go code runs (runtime/fds_unix.go, checkfds), and golos
	// closes those again before the program runs, whose first open(2) must get the
	// lowest free number (stdClosed).
	XORQ	BX, BX			// the descriptor
	XORQ	R8, R8			// the mask of closed ones
std:
	MOVQ	$72, AX			// fcntl(fd, F_GETFD)
	MOVQ	BX, DI
	MOVQ	$1, SI
	SYSCALL
	CMPQ	AX, $-9			// EBADF: not open
	JNE	nextstd
	MOVQ	$1, AX
	MOVQ	BX, CX
	SHLQ	CX, AX
	ORQ	AX, R8
nextstd:
	INCQ	BX
	CMPQ	BX, $3
	JLT	std
	MOVQ	R8, main·stdClosed(SB)

	MOVQ	$302, AX		// prlimit64(0, RLIMIT_NOFILE, NULL, RSP-16)
	XORQ	DI, DI			// this process
	MOVQ	$7, SI			// RLIMIT_NOFILE
	XORQ	DX, DX			// no new limit
	LEAQ	-16(SP), R10		// the old one: soft at -16, hard at -8
	SYSCALL
	TESTQ	AX, AX
	JNE	enter			// no limit to read: leave the table as it is
	MOVQ	-16(SP), R12		// top = min(soft limit, 4096)
	CMPQ	R12, $4096
	JLS	capped
	MOVQ	$4096, R12
capped:
	CMPQ	R12, $64		// a new table has 64 entries: nothing to grow
	JLS	enter
	MOVQ	$0x2f, -32(SP)		// "/" and its NUL, for a descriptor to duplicate
	MOVQ	$2, AX			// open("/", O_PATH|O_CLOEXEC)
	LEAQ	-32(SP), DI
	MOVQ	$0x280000, SI		// O_PATH (0x200000) | O_CLOEXEC (0x80000)
	XORQ	DX, DX
	SYSCALL
	TESTQ	AX, AX
	JS	enter			// none to duplicate: leave the table as it is
	MOVQ	AX, R13			// the descriptor of "/"
	MOVQ	$72, AX			// fcntl(fd, F_DUPFD, top-1): the lowest free number
	MOVQ	R13, DI			// from top-1 on, which grows the table to top (a
	XORQ	SI, SI			// number already open there is left alone)
	LEAQ	-1(R12), DX
	SYSCALL
	TESTQ	AX, AX
	JS	closeroot
	MOVQ	AX, DI			// close(the duplicate): the table keeps its size
	MOVQ	$3, AX
	SYSCALL
	MOVQ	R12, main·tableTop(SB)	// the table is top entries long
closeroot:
	MOVQ	R13, DI			// close(fd of "/")
	MOVQ	$3, AX
	SYSCALL
enter:
	JMP	main·reserveSanitizerRanges(SB)	// then the runtime (sanreserve_amd64.s)
