package kernel

import "golang.org/x/sys/unix"

// handler answers one syscall of thread t and returns its result (a negative errno on
// failure).
type handler func(t *Thread) int64

// syscallTable maps x86-64 syscall numbers to their handlers; a missing entry is ENOSYS.
var syscallTable = [...]handler{
	// fs.go: files and descriptors, passed through.
	unix.SYS_READ:       passthrough,
	unix.SYS_WRITE:      passthrough,
	unix.SYS_READV:      passthrough,
	unix.SYS_WRITEV:     passthrough,
	unix.SYS_PREAD64:    passthrough,
	unix.SYS_PWRITE64:   passthrough,
	unix.SYS_IOCTL:      passthrough,
	unix.SYS_FSTAT:      passthroughFast,
	unix.SYS_NEWFSTATAT: passthroughFast,
	unix.SYS_LSEEK:      passthroughFast,
	unix.SYS_READLINK:   sysReadlink,
	unix.SYS_READLINKAT: sysReadlinkat,

	// mm.go: the application's memory map.
	unix.SYS_BRK:      sysBrk,
	unix.SYS_MMAP:     sysMmap,
	unix.SYS_MUNMAP:   sysMunmap,
	unix.SYS_MPROTECT: sysMprotect,
	unix.SYS_MADVISE:  sysMadvise,
	unix.SYS_MREMAP:   sysMremap,

	// proc.go: process and thread identity, exit.
	unix.SYS_EXIT:              sysExit,
	unix.SYS_EXIT_GROUP:        sysExitGroup,
	unix.SYS_ARCH_PRCTL:        sysArchPrctl,
	unix.SYS_SET_TID_ADDRESS:   sysSetTidAddress,
	unix.SYS_GETTID:            sysGettid,
	unix.SYS_GETPID:            passthroughFast,
	unix.SYS_GETPPID:           passthroughFast,
	unix.SYS_GETUID:            passthroughFast,
	unix.SYS_GETEUID:           passthroughFast,
	unix.SYS_GETGID:            passthroughFast,
	unix.SYS_GETEGID:           passthroughFast,
	unix.SYS_UNAME:             passthroughFast,
	unix.SYS_PRLIMIT64:         passthroughFast,
	unix.SYS_GETRANDOM:         passthrough,
	unix.SYS_SCHED_GETAFFINITY: passthroughFast,
	unix.SYS_SET_ROBUST_LIST:   passthroughFast,
	unix.SYS_RSEQ:              passthroughFast,

	// signal.go: the application's signal dispositions and masks.
	unix.SYS_RT_SIGACTION:   sysRtSigaction,
	unix.SYS_RT_SIGPROCMASK: sysRtSigprocmask,

	// time.go: clocks, answered by the host.
	unix.SYS_CLOCK_GETTIME: passthroughFast,
	unix.SYS_GETTIMEOFDAY:  passthroughFast,
	unix.SYS_TIME:          passthroughFast,
	unix.SYS_CLOCK_GETRES:  passthroughFast,
}
