// holderClone makes the fork holder of lazyfork_unsafe.go: a plain fork(2) of this whole
// golos process, taken while the program's other threads are frozen, whose pages are the
// program's memory at that instant (the kernel shares them copy-on-write, as a native fork
// does). The holder runs no Go code (the runtime does not survive a fork of its threaded
// process): only the few instructions below, on the forking thread's stack (its own
// copy-on-write copy). It closes every descriptor but its socket (sock), receives the
// child golos's userfaultfd over it, and serves the child's missing pages with
// UFFDIO_COPY from its own copy of them, at the same addresses (userfaultfd(2),
// Documentation/admin-guide/mm/userfaultfd.rst), until the socket says end (EOF: both
// golos processes have closed their ends), then exit_group.
//
// A vfork child's holder (vforklazy_unsafe.go) is the same loop in a task that shares
// this process's memory (CLONE_VM, on a stack of its own, given): its pages are the
// program's own, which the waiting parent does not change, and the task keeps the
// address space alive (mm_users) when golos's own threads are killed, so that the child
// is still served until its execve. It copies with the mode given (UFFDIO_COPY_MODE_WP,
// so that the child's writes are tracked; plain where a region is not registered for
// write protection), stays dumpable (dumpability is the address space's, golos's own),
// and unmaps its stack as it exits.

#include "textflag.h"

#define SYS_read	0
#define SYS_poll	7
#define SYS_rt_sigprocmask	14
#define SYS_munmap	11
#define SYS_ioctl	16
#define SYS_clone	56
#define SYS_recvmsg	47
#define SYS_prctl	157
#define SYS_exit_group	231
#define SYS_close_range	436

#define HOLDER_STACK	0x4000	// holderStack
#define UFFDIO_COPY	$0xc028aa03
#define UFFDIO_ZEROPAGE	$0xc020aa04
#define UFFDIO_WAKE	$0x8010aa02
#define UFFD_EVENT_PAGEFAULT	$0x12

// Frame (offsets from the hardware SP):
//   0  the mask blocked around the clone     8  the mask it replaced
//  16  struct msghdr (56)                   72  struct iovec (16)
//  88  the one data byte (8)                96  the control buffer, CMSG_SPACE(4) (32)
// 128  struct uffd_msg (32)                160  two struct pollfd (16)
// 176  struct uffdio_copy / uffdio_zeropage / uffdio_range (40)
// 216  a shared task's stack base, to unmap as it exits; 0 for a fork (8)

// func holderClone(sock, chunk, stack, mode uintptr) int64
// Returns the holder's pid, or -errno. chunk is a power of two, the bytes UFFDIO_COPY
// fetches around a fault. stack is 0 for a fork's holder; else the base of holderStack
// bytes of this process's memory, and the holder shares the memory (CLONE_VM). mode is
// UFFDIO_COPY's.
TEXT ·holderClone(SB),NOSPLIT,$224-40
	MOVQ	sock+0(FP), R12
	MOVQ	chunk+8(FP), BX
	MOVQ	stack+16(FP), R9
	MOVQ	mode+24(FP), R15
	// Every signal blocked across the clone (as syscall.forkExec does with
	// runtime_BeforeFork): the holder must never run one of golos's handlers, which are
	// Go code. SIGKILL and SIGSTOP cannot be blocked, and need no handler.
	MOVQ	$-1, 0(SP)
	MOVQ	$SYS_rt_sigprocmask, AX
	MOVQ	$2, DI			// SIG_SETMASK
	LEAQ	0(SP), SI
	LEAQ	8(SP), DX		// the old mask
	MOVQ	$8, R10			// sizeof(kernel sigset_t)
	SYSCALL
	CMPQ	AX, $0
	JNE	ret			// nothing blocked: no clone (-errno)
	// clone(flags 0: a new process, its own memory, files and signal handlers; exit
	// signal 0, so that its end sends golos no SIGCHLD and only a wait with __WALL or
	// __WCLONE sees it (wait(2)); no new stack: the child goes on on its copy of this one.
	// With a stack: CLONE_VM, and the child's frame at the stack's top.
	MOVQ	$SYS_clone, AX
	XORQ	DI, DI			// flags
	XORQ	SI, SI			// stack
	TESTQ	R9, R9
	JEQ	clone
	MOVQ	$0x100, DI		// CLONE_VM
	LEAQ	(HOLDER_STACK-256)(R9), SI	// room for the frame (224) above it
clone:
	XORQ	DX, DX			// parent_tid
	XORQ	R10, R10		// child_tid
	XORQ	R8, R8			// tls
	SYSCALL
	CMPQ	AX, $0
	JEQ	child
	MOVQ	AX, R13			// the pid, or -errno
	MOVQ	$SYS_rt_sigprocmask, AX	// the caller's mask back
	MOVQ	$2, DI
	LEAQ	8(SP), SI
	XORQ	DX, DX
	MOVQ	$8, R10
	SYSCALL
	MOVQ	R13, AX
ret:
	MOVQ	AX, ret+32(FP)
	RET

child:
	MOVQ	R9, 216(SP)		// the stack to unmap at the end, or 0
	// Only the socket stays open: the holder must keep no pipe, file or socket of the
	// program's (a reader would wait for its EOF) nor golos's. close_range(2).
	CMPQ	R12, $0
	JEQ	above
	MOVQ	$SYS_close_range, AX
	XORQ	DI, DI			// first
	LEAQ	-1(R12), SI		// last: sock-1
	XORQ	DX, DX
	SYSCALL
above:
	MOVQ	$SYS_close_range, AX
	LEAQ	1(R12), DI		// sock+1
	MOVL	$0xffffffff, SI		// ~0U: to the end
	XORQ	DX, DX
	SYSCALL
	// Not dumpable: no other process of the user's may read golos's memory through it
	// (ptrace access mode checks, /proc/PID/mem; prctl(2) PR_SET_DUMPABLE). A shared
	// task's dumpability is golos's own (the address space's): left as it is.
	CMPQ	216(SP), $0
	JNE	recvsetup
	MOVQ	$SYS_prctl, AX
	MOVQ	$4, DI			// PR_SET_DUMPABLE
	XORQ	SI, SI			// 0
	XORQ	DX, DX
	XORQ	R10, R10
	XORQ	R8, R8
	SYSCALL

	// Named "golos-holder" (prctl(2) PR_SET_NAME, its comm): how the program's listings
	// of /proc tell it from the program's processes and leave it out (holderPid).
recvsetup:
	MOVQ	$0x6f682d736f6c6f67, AX	// "golos-ho"
	MOVQ	AX, 176(SP)
	MOVQ	$0x7265646c, AX		// "lder", then NULs
	MOVQ	AX, 184(SP)
	MOVQ	$SYS_prctl, AX
	MOVQ	$15, DI			// PR_SET_NAME
	LEAQ	176(SP), SI
	XORQ	DX, DX
	XORQ	R10, R10
	XORQ	R8, R8
	SYSCALL
	// recvmsg(sock, {iov: 1 byte, control: one SCM_RIGHTS descriptor}, MSG_CMSG_CLOEXEC)
	LEAQ	88(SP), AX
	MOVQ	AX, 72(SP)		// iov_base
	MOVQ	$1, 80(SP)		// iov_len
	MOVQ	$0, 16(SP)		// msg_name
	MOVQ	$0, 24(SP)		// msg_namelen
	LEAQ	72(SP), AX
	MOVQ	AX, 32(SP)		// msg_iov
	MOVQ	$1, 40(SP)		// msg_iovlen
	LEAQ	96(SP), AX
	MOVQ	AX, 48(SP)		// msg_control
	MOVQ	$32, 56(SP)		// msg_controllen
	MOVQ	$0, 64(SP)		// msg_flags
	MOVQ	$0, 96(SP)		// cmsg_len: 0 unless a descriptor came
recv:
	MOVQ	$SYS_recvmsg, AX
	MOVQ	R12, DI
	LEAQ	16(SP), SI
	MOVQ	$0x40000000, DX		// MSG_CMSG_CLOEXEC
	SYSCALL
	CMPQ	AX, $-4			// EINTR
	JEQ	recv
	CMPQ	AX, $0
	JLE	exit			// EOF: the child serves itself (eager copy), or is gone
	// struct cmsghdr: len (8), level (4), type (4), then the descriptor.
	CMPQ	96(SP), $20		// CMSG_LEN(4)
	JLT	exit
	CMPL	104(SP), $1		// SOL_SOCKET
	JNE	exit
	CMPL	108(SP), $1		// SCM_RIGHTS
	JNE	exit
	MOVLQSX	112(SP), R13		// the userfaultfd

	// struct pollfd {int fd; short events; short revents}: the socket and the uffd,
	// both for POLLIN.
	MOVL	R12, 160(SP)
	MOVL	R13, 168(SP)
loop:
	MOVL	$1, 164(SP)		// POLLIN, revents 0
	MOVL	$1, 172(SP)
	MOVQ	$SYS_poll, AX
	LEAQ	160(SP), DI
	MOVQ	$2, SI
	MOVQ	$-1, DX			// no timeout
	SYSCALL
	CMPQ	AX, $-4			// EINTR
	JEQ	loop
	CMPQ	AX, $0
	JLT	exit
	MOVWLZX	166(SP), AX		// anything on the socket is its end
	TESTL	AX, AX
	JNE	exit
	MOVWLZX	174(SP), AX
	TESTL	$1, AX			// POLLIN on the uffd: a message
	JNE	message
	TESTL	AX, AX			// POLLERR, POLLHUP
	JNE	exit
	JMP	loop

message:
	MOVQ	$SYS_read, AX		// struct uffd_msg; the uffd is non-blocking
	MOVQ	R13, DI
	LEAQ	128(SP), SI
	MOVQ	$32, DX
	SYSCALL
	CMPQ	AX, $32
	JNE	loop			// EAGAIN: another wake-up took it
	CMPB	128(SP), UFFD_EVENT_PAGEFAULT
	JNE	loop
	MOVQ	144(SP), R8		// arg.pagefault.address
	ANDQ	$~0xfff, R8		// its page
	// The chunk around it, aligned: one ioctl for the pages the program will most
	// likely touch next. A copy fails as a whole where the chunk leaves the registered
	// region (ENOENT), and stops at a page already there (EEXIST), never overwriting
	// one: then half the chunk, the half that holds the page, down to the page alone.
	MOVQ	BX, R14			// the chunk's length
try:
	MOVQ	R14, R9
	NEGQ	R9			// ~(length-1)
	ANDQ	R8, R9			// the chunk's start
	MOVQ	R9, 176(SP)		// dst
	MOVQ	R9, 184(SP)		// src: the same address, here
	MOVQ	R14, 192(SP)		// len
	MOVQ	R15, 200(SP)		// mode (no DONTWAKE: wake the waiting thread)
	MOVQ	$0, 208(SP)		// copy (out)
	MOVQ	$SYS_ioctl, AX
	MOVQ	R13, DI
	MOVQ	UFFDIO_COPY, SI
	LEAQ	176(SP), DX
	SYSCALL
	CMPQ	AX, $0
	JEQ	loop
	// EINVAL with UFFDIO_COPY_MODE_WP: the region is not registered for write
	// protection (mm/userfaultfd.c, mfill_atomic): the same copy without it.
	CMPQ	AX, $-22
	JNE	half
	CMPQ	200(SP), $0
	JEQ	half
	MOVQ	$0, 200(SP)
	MOVQ	$0, 208(SP)
	MOVQ	$SYS_ioctl, AX
	SYSCALL
	CMPQ	AX, $0
	JEQ	loop
half:
	CMPQ	R14, $4096
	JEQ	page
	SHRQ	$1, R14
	JMP	try
page:
	CMPQ	AX, $-17		// EEXIST: the chunk's copy did it; wake the thread
	JEQ	wake
	CMPQ	AX, $-11		// EAGAIN: the mappings changing; the refault comes back
	JEQ	wake
	// The page cannot be read here (EFAULT: the parent had it unreadable, and so never
	// gave it before either): a zero page, as an untouched anonymous page reads.
	MOVQ	R8, 176(SP)		// range.start
	MOVQ	$4096, 184(SP)		// range.len
	MOVQ	$0, 192(SP)		// mode
	MOVQ	$0, 200(SP)		// zeropage (out)
	MOVQ	$SYS_ioctl, AX
	MOVQ	R13, DI
	MOVQ	UFFDIO_ZEROPAGE, SI
	LEAQ	176(SP), DX
	SYSCALL
	CMPQ	AX, $0
	JEQ	loop
wake:
	// The thread refaults, and the next message says what is there then.
	MOVQ	R8, 176(SP)
	MOVQ	$4096, 184(SP)
	MOVQ	$SYS_ioctl, AX
	MOVQ	R13, DI
	MOVQ	UFFDIO_WAKE, SI
	LEAQ	176(SP), DX
	SYSCALL
	JMP	loop

exit:
	MOVQ	216(SP), DI
	TESTQ	DI, DI
	JEQ	end
	// A shared task's stack goes, and nothing touches it after: the exit takes only
	// registers.
	MOVQ	$SYS_munmap, AX
	MOVQ	$HOLDER_STACK, SI
	SYSCALL
end:
	MOVQ	$SYS_exit_group, AX
	XORQ	DI, DI
	SYSCALL
	JMP	end
