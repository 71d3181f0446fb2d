// Package abi is the Linux x86-64 ABI that golos's syscall layer reads from and writes to
// the application's memory: the structs as the kernel lays them out, each constant once,
// and the size-aware copy-in of an extensible struct. Packages kernel and entry both use
// it; it imports neither (its copy-in takes their fault-safe copy as a function).
//
// abi_test.go checks every struct's size and field offsets against the C headers.
package abi

import "golang.org/x/sys/unix"

// Sigaction is struct sigaction as rt_sigaction(2) takes it: the kernel's layout
// (arch/x86/include/uapi/asm/signal.h), not glibc's, which puts the mask second.
type Sigaction struct {
	Handler  uint64 // SIG_DFL, SIG_IGN or the handler's address
	Flags    uint64 // SA_*
	Restorer uint64 // with SA_RESTORER: where the handler returns (its rt_sigreturn)
	Mask     uint64 // a sigset_t of the kernel's 64 signals
}

// StackT is stack_t (sigaltstack(2), include/uapi/asm-generic/signal.h); it is also
// ucontext_t.uc_stack.
type StackT struct {
	SP    uint64
	Flags int32 // SS_*
	_     int32
	Size  uint64
}

// CloneArgs is struct clone_args (clone3(2), include/uapi/linux/sched.h), in its newest
// published size (CLONE_ARGS_SIZE_VER2); older programs pass a prefix of it.
type CloneArgs struct {
	Flags      uint64 // CLONE_*, all 64 bits (clone(2) has only the low 32)
	Pidfd      uint64 // with CLONE_PIDFD: where the pidfd is stored
	ChildTid   uint64
	ParentTid  uint64
	ExitSignal uint64
	Stack      uint64 // the lowest byte of the child's stack, with StackSize
	StackSize  uint64
	TLS        uint64
	SetTid     uint64 // CLONE_ARGS_SIZE_VER1: an array of pids, one per pid namespace level
	SetTidSize uint64
	Cgroup     uint64 // CLONE_ARGS_SIZE_VER2: with CLONE_INTO_CGROUP
}

// clone_args' published sizes (include/uapi/linux/sched.h).
const (
	CloneArgsSizeVer0 = unix.CLONE_ARGS_SIZE_VER0 // up to tls
	CloneArgsSizeVer1 = unix.CLONE_ARGS_SIZE_VER1 // set_tid, set_tid_size
	CloneArgsSizeVer2 = unix.CLONE_ARGS_SIZE_VER2 // cgroup
)

// Siginfo is siginfo_t (include/uapi/asm-generic/siginfo.h): signo, errno, code, then a
// union at offset 16 of which golos writes two members: _kill and _rt (si_pid, si_uid,
// si_value) and _sigfault (si_addr, which overlays si_pid and si_uid; Addr, SetAddr).
// The union's other members (SIGCHLD's status, a timer's overrun) come whole from the
// host when golos passes a siginfo on.
type Siginfo struct {
	Signo int32
	Errno int32
	Code  int32 // SI_* or the signal's own codes
	_     int32
	Pid   uint32 // si_pid
	Uid   uint32 // si_uid
	Value uint64 // si_value (sigqueue(3))
	_     [96]byte
}

// Addr is si_addr (the faulting address of SIGSEGV, SIGBUS and the like).
func (s *Siginfo) Addr() uint64 { return uint64(s.Pid) | uint64(s.Uid)<<32 }

// SetAddr sets si_addr.
func (s *Siginfo) SetAddr(a uint64) { s.Pid, s.Uid = uint32(a), uint32(a>>32) }

// Sigcontext is the 64-bit struct sigcontext (arch/x86/include/uapi/asm/sigcontext.h),
// ucontext's uc_mcontext: glibc's mcontext_t with its gregs in the same order.
type Sigcontext struct {
	// r8 … r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags: <sys/ucontext.h>'s
	// REG_R8 … REG_EFL.
	Gregs   [18]uint64
	CSGSFS  uint64 // cs, gs, fs and __pad0, or ss with UC_SIGCONTEXT_SS: 16 bits each
	Err     uint64
	Trapno  uint64
	Oldmask uint64
	CR2     uint64
	Fpstate uint64 // the address of the XSAVE area, or 0
	_       [8]uint64
}

// Ucontext is the kernel's struct ucontext (include/uapi/asm-generic/ucontext.h, as
// x86-64 uses it): glibc's ucontext_t up to uc_sigmask, which is the kernel's 8 bytes.
type Ucontext struct {
	Flags    uint64 // UC_*
	Link     uint64
	Stack    StackT
	Mcontext Sigcontext
	Sigmask  uint64
}

// uc_flags (arch/x86/include/uapi/asm/ucontext.h).
const (
	UC_FP_XSTATE         = 0x1
	UC_SIGCONTEXT_SS     = 0x2
	UC_STRICT_RESTORE_SS = 0x4
)

// RtSigframe is the 64-bit signal frame a handler is called on (struct rt_sigframe,
// arch/x86/include/asm/sigframe.h, kernel-internal): the handler's return address (the
// restorer), the ucontext and the siginfo, whose addresses the handler gets; the XSAVE
// area lies above it, 64-byte aligned.
type RtSigframe struct {
	Pretcode uint64
	Uc       Ucontext
	Info     Siginfo
}

// RtSigframeSize is the size of RtSigframe (abi_test.go checks it).
const RtSigframeSize = 8 + 304 + 128

// Rlimit is struct rlimit (getrlimit(2)); prlimit64's struct rlimit64 is the same on
// x86-64.
type Rlimit = unix.Rlimit

// Timespec is struct timespec.
type Timespec = unix.Timespec

// Stat is struct stat (stat(2), x86-64's: st_nlink before st_mode).
type Stat = unix.Stat_t

// Statx is struct statx (statx(2), include/uapi/linux/stat.h).
type Statx = unix.Statx_t

// Msghdr is struct msghdr (sendmsg(2), include/linux/socket.h); its control messages
// start with a Cmsghdr each, at 8-byte boundaries (CMSG_NXTHDR). Its pointers are the
// application's addresses, never Go pointers (unix.Msghdr has Go pointers, which the
// garbage collector would follow).
type Msghdr struct {
	Name       uint64
	Namelen    uint32
	_          uint32
	Iov        uint64
	Iovlen     uint64
	Control    uint64
	Controllen uint64
	Flags      int32
	_          uint32
}

// Mmsghdr is struct mmsghdr (sendmmsg(2)): a Msghdr and the bytes sent for it.
type Mmsghdr struct {
	Hdr Msghdr
	Len uint32 // msg_len
	_   uint32
}

// Offsets the kernel package writes alone, not whole structs (abi_test.go checks them).
const (
	MsghdrNamelenOffset = 8  // msghdr.msg_namelen
	MmsghdrLenOffset    = 56 // mmsghdr.msg_len
)

// Cmsghdr is struct cmsghdr: cmsg_len counts the header.
type Cmsghdr = unix.Cmsghdr

// SizeofCmsghdr is the size of a Cmsghdr, and where a control message's data starts.
const SizeofCmsghdr = unix.SizeofCmsghdr

// RobustListHead is struct robust_list_head (set_robust_list(2),
// include/uapi/linux/futex.h; Documentation/locking/robust-futex-ABI.rst).
type RobustListHead struct {
	Next          uint64 // the first entry of the list, or the head's own address
	FutexOffset   int64  // from an entry to its futex word
	ListOpPending uint64 // an entry being added or removed, or 0
}

// OpenHow is struct open_how (openat2(2), include/uapi/linux/openat2.h), which callers
// pass with its size: OpenHowSizeVer0 is the first.
type OpenHow struct {
	Flags   uint64
	Mode    uint64
	Resolve uint64
}

// OpenHowSizeVer0 is OPEN_HOW_SIZE_VER0 (include/linux/fcntl.h): the struct as it first was.
const OpenHowSizeVer0 = 24

// SockFprog is struct sock_fprog (seccomp(2), include/uapi/linux/filter.h): a classic BPF
// program's length in instructions and the application's address of its SockFilters.
type SockFprog struct {
	Len    uint16
	_      [6]byte
	Filter uint64
}

// SockFilter is struct sock_filter: one classic BPF instruction.
type SockFilter struct {
	Code uint16
	Jt   uint8
	Jf   uint8
	K    uint32
}

// Sigset is the kernel's sigset_t on x86-64 (_NSIG = 64 bits): what the rt_* signal
// calls take with a sigsetsize of 8.
type Sigset = uint64

// Dispositions (include/uapi/asm-generic/signal-defs.h).
const (
	SIG_DFL = 0
	SIG_IGN = 1
)

// sa_flags (include/uapi/asm-generic/signal-defs.h; SA_RESTORER:
// arch/x86/include/uapi/asm/signal.h). golang.org/x/sys/unix has none of them for Linux.
const (
	SA_NOCLDSTOP = 0x1
	SA_NOCLDWAIT = 0x2
	SA_SIGINFO   = 0x4
	SA_RESTORER  = 0x04000000
	SA_ONSTACK   = 0x08000000
	SA_RESTART   = 0x10000000
	SA_NODEFER   = 0x40000000
	SA_RESETHAND = 0x80000000
)

// ss_flags (include/uapi/linux/signal.h); SS_AUTODISARM is 1<<31, an int32's sign bit.
const (
	SS_ONSTACK    = 1
	SS_DISABLE    = 2
	SS_AUTODISARM = -1 << 31
	MINSIGSTKSZ   = 2048 // arch/x86/include/uapi/asm/signal.h
)

// si_code values of signals sent by processes (include/uapi/asm-generic/siginfo.h).
const (
	SI_USER  = 0
	SI_QUEUE = -1
	SI_TIMER = -2 // a POSIX timer's expiry (timer_create(2))
	SI_TKILL = -6
)

// CopyIn reads len(buf) bytes of the application's memory at addr, reporting false on a
// fault: package entry's CopyIn.
type CopyIn func(buf []byte, addr uint64) bool

// CopyStructIn reads an extensible struct of usize bytes the application gives at addr
// into dst (the struct as golos knows it, Bytes), as Linux's copy_struct_from_user
// (include/linux/uaccess.h) does: a shorter struct reads as zeros past its end, a
// longer one is E2BIG unless its bytes past dst are zero, and a fault is EFAULT. The
// caller checks usize against the struct's own bounds first (its EINVAL below the
// first published size, clone3's E2BIG above a page).
func CopyStructIn(read CopyIn, dst []byte, addr, usize uint64) unix.Errno {
	ksize := uint64(len(dst))
	if addr+usize < addr {
		return unix.EFAULT // wraps: no such memory
	}
	if usize > ksize {
		// check_zeroed_user, before the copy as in Linux: a fault here is EFAULT.
		var chunk [64]byte
		for off := ksize; off < usize; {
			n := min(usize-off, uint64(len(chunk)))
			if !read(chunk[:n], addr+off) {
				return unix.EFAULT
			}
			for _, b := range chunk[:n] {
				if b != 0 {
					return unix.E2BIG
				}
			}
			off += n
		}
	}
	n := min(usize, ksize)
	clear(dst[n:])
	if !read(dst[:n], addr) {
		return unix.EFAULT
	}
	return 0
}
