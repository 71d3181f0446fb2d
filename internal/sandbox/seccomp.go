package sandbox

import (
	"golang.org/x/sys/unix"
)

// The seccomp filter (seccomp(2), Documentation/userspace-api/seccomp_filter.rst) binds
// golos's whole process: golos passes most of a program's syscalls to the host, so the
// allowed set is the x86-64 syscalls up to lastSyscall but for those in denied, which
// fail with EPERM (as they do under Docker's default profile, so that a program that
// tries one sees a plain error rather than dying); numbers past lastSyscall, x32's
// (__X32_SYSCALL_BIT) and i386's (int $0x80, AUDIT_ARCH_I386) fail with ENOSYS, as
// syscalls the kernel does not know. golos itself calls none of the denied ones, and
// refuses them to programs already (internal/kernel/table.go): the filter holds the same
// line against a program that makes them from golos's own code.
//
// Namespaces a program could still make with clone(2) or clone3(2) (whose flags are
// in memory, out of a filter's reach) are nested in the sandbox's: the ruleset and this
// filter still bind what runs in them.

// lastSyscall is the last x86-64 syscall golos knows of (golang.org/x/sys's table,
// arch/x86/entry/syscalls/syscall_64.tbl); a later one is new to golos, and a host
// kernel that does not know one fails it with ENOSYS itself.
const lastSyscall = unix.SYS_RSEQ_SLICE_YIELD

// denied are the syscalls the filter refuses with EPERM.
var denied = []uint32{
	// Mounts, the root, namespaces: the program's view of files is golos's and the
	// ruleset's.
	unix.SYS_MOUNT, unix.SYS_UMOUNT2, unix.SYS_PIVOT_ROOT, unix.SYS_CHROOT,
	unix.SYS_FSOPEN, unix.SYS_FSCONFIG, unix.SYS_FSMOUNT, unix.SYS_FSPICK,
	unix.SYS_MOVE_MOUNT, unix.SYS_OPEN_TREE, unix.SYS_OPEN_TREE_ATTR, unix.SYS_MOUNT_SETATTR,
	unix.SYS_UNSHARE, unix.SYS_SETNS,
	// Reaching into processes (golos's own process_vm_readv/writev, for /proc/PID and
	// fork, stay: Landlock keeps them to the sandbox's processes).
	unix.SYS_PTRACE, unix.SYS_KCMP, unix.SYS_PIDFD_GETFD,
	// The host kernel's larger surfaces.
	unix.SYS_BPF, unix.SYS_PERF_EVENT_OPEN, unix.SYS_USERFAULTFD,
	unix.SYS_IO_URING_SETUP, unix.SYS_IO_URING_ENTER, unix.SYS_IO_URING_REGISTER,
	unix.SYS_KEYCTL, unix.SYS_ADD_KEY, unix.SYS_REQUEST_KEY,
	unix.SYS_OPEN_BY_HANDLE_AT, // opens any file of a mounted file system by its handle
	// The machine's: modules, kexec, reboot, swap, accounting, quotas, clocks, the
	// kernel log, I/O ports.
	unix.SYS_INIT_MODULE, unix.SYS_FINIT_MODULE, unix.SYS_DELETE_MODULE,
	unix.SYS_CREATE_MODULE, unix.SYS_QUERY_MODULE, unix.SYS_GET_KERNEL_SYMS,
	unix.SYS_KEXEC_LOAD, unix.SYS_KEXEC_FILE_LOAD, unix.SYS_REBOOT,
	unix.SYS_SWAPON, unix.SYS_SWAPOFF, unix.SYS_ACCT, unix.SYS_QUOTACTL, unix.SYS_QUOTACTL_FD,
	unix.SYS_SETTIMEOFDAY, unix.SYS_CLOCK_SETTIME, unix.SYS_CLOCK_ADJTIME,
	unix.SYS_SYSLOG, unix.SYS_IOPL, unix.SYS_IOPERM, unix.SYS_VHANGUP,
	unix.SYS_LOOKUP_DCOOKIE, unix.SYS_NFSSERVCTL, unix.SYS_USELIB, unix.SYS__SYSCTL,
}

// BPF's classic instructions (linux/filter.h, linux/bpf_common.h).
const (
	bpfLdW  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	bpfJeq  = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	bpfJge  = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	bpfJset = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
	bpfRet  = unix.BPF_RET | unix.BPF_K

	// The offsets of struct seccomp_data's fields (linux/seccomp.h).
	offNr   = 0
	offArch = 4

	x32Bit = 0x40000000 // __X32_SYSCALL_BIT
)

// filter returns golos's seccomp program.
func filter() []unix.SockFilter {
	retErrno := func(e unix.Errno) unix.SockFilter {
		return unix.SockFilter{Code: bpfRet, K: unix.SECCOMP_RET_ERRNO | uint32(e)}
	}
	// The returns sit at the end: allow, then enosys, then eperm.
	var body []unix.SockFilter
	n := 6 + len(denied) // the instructions before the returns
	enosys, eperm := n+1, n+2
	jump := func(code uint16, k uint32, to int) unix.SockFilter {
		// A conditional jump to the instruction at index to when it holds; on to the
		// next when not (offsets count from the instruction after the jump).
		return unix.SockFilter{Code: code, K: k, Jt: uint8(to - len(body) - 1)}
	}
	body = append(body, unix.SockFilter{Code: bpfLdW, K: offArch})
	body = append(body, unix.SockFilter{Code: bpfJeq, K: unix.AUDIT_ARCH_X86_64, Jt: 1})
	body = append(body, unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JA, K: uint32(enosys - len(body) - 1)})
	body = append(body, unix.SockFilter{Code: bpfLdW, K: offNr})
	body = append(body, jump(bpfJset, x32Bit, enosys))
	body = append(body, jump(bpfJge, lastSyscall+1, enosys))
	for _, nr := range denied {
		body = append(body, jump(bpfJeq, nr, eperm))
	}
	body = append(body, unix.SockFilter{Code: bpfRet, K: unix.SECCOMP_RET_ALLOW}, retErrno(unix.ENOSYS), retErrno(unix.EPERM))
	return body
}
