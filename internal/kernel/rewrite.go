package kernel

import (
	"golang.org/x/sys/unix"

	"golos/internal/entry"
	"golos/internal/syspatch"
)

// rewriteSites rewrites the syscall sites of freshly mapped executable code [lo, hi)
// (the program, its interpreter, each library as it is mapped) to jump to golos's entry
// code; every other site is still caught by Syscall User Dispatch. It is done before the
// application can run that code, so no thread is ever inside a site being rewritten.
func (p *Process) rewriteSites(lo, hi uint64) {
	if p.opts.NoRewrite || hi <= lo || hi-lo > 1<<30 {
		return
	}
	code := make([]byte, hi-lo)
	if copyIn(lo, code) != 0 {
		return // not readable (PROT_EXEC alone): left to Syscall User Dispatch
	}
	sites := syspatch.Find(code, lo)
	if len(sites) == 0 {
		return
	}
	size := uint64(syspatch.PageLen(len(sites)))
	page, ok := stubPageNear(lo, hi, size)
	if !ok {
		return
	}
	stubs, jmps, err := syspatch.Stubs(page, sites, uint64(entry.FastEntryPC))
	if err != nil {
		unix.RawSyscall(unix.SYS_MUNMAP, uintptr(page), uintptr(size), 0)
		return
	}
	if copyOut(page, stubs) != 0 {
		return
	}
	unix.RawSyscall(unix.SYS_MPROTECT, uintptr(page), uintptr(size), unix.PROT_READ|unix.PROT_EXEC)
	// The code is not writable: the jumps go in through /proc/self/mem, which writes
	// into the process's private copy of the pages as a debugger's breakpoints do.
	mem, err := unix.Open("/proc/self/mem", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(mem)
	n := 0
	for i, s := range sites {
		if _, err := unix.Pwrite(mem, jmps[i][:], int64(s.Addr)); err == nil {
			n++
		}
	}
	p.rewritten.Add(uint64(n))
}

// stubPageNear maps a page range of size for stubs within rel32 reach of [lo, hi): below
// the code first (above a program lies its break), then above it.
func stubPageNear(lo, hi, size uint64) (uint64, bool) {
	const step = 1 << 20
	try := func(at uint64) bool {
		_, e := rawMmap(at, size, unix.PROT_READ|unix.PROT_WRITE,
			unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED_NOREPLACE, -1, 0)
		return e == 0
	}
	for d := uint64(step); d < 1<<30; d += 16 * step {
		if lo > d+size+0x10000 && try(lo-d-size) {
			return lo - d - size, true
		}
	}
	for d := uint64(64 << 20); d < 1<<30; d += 16 * step {
		if at := pageUp(hi) + d; at+size < userEnd && try(at) {
			return at, true
		}
	}
	return 0, false
}

// plainSyscalls are the syscalls a rewritten site makes straight from golos's entry code,
// with no Go code involved: golos passes them through unchanged, their descriptors and
// pointers mean the same to the host, and none of them touches golos's own state.
var plainSyscalls = []int{
	unix.SYS_READ, unix.SYS_WRITE, unix.SYS_READV, unix.SYS_WRITEV, unix.SYS_PREAD64,
	unix.SYS_PWRITE64, unix.SYS_PREADV, unix.SYS_PWRITEV, unix.SYS_LSEEK, unix.SYS_FSTAT,
	unix.SYS_GETDENTS64, unix.SYS_IOCTL, unix.SYS_FADVISE64, unix.SYS_FSYNC, unix.SYS_FDATASYNC,
	unix.SYS_FSTATFS, unix.SYS_FCHMOD, unix.SYS_PIPE2, unix.SYS_EVENTFD2, unix.SYS_EPOLL_CREATE1,
	unix.SYS_EPOLL_CTL, unix.SYS_EPOLL_WAIT, unix.SYS_EPOLL_PWAIT, unix.SYS_POLL, unix.SYS_PPOLL,
	unix.SYS_SELECT, unix.SYS_PSELECT6, unix.SYS_SENDFILE, unix.SYS_SPLICE,
	unix.SYS_GETPID, unix.SYS_GETPPID, unix.SYS_GETUID, unix.SYS_GETEUID, unix.SYS_GETGID,
	unix.SYS_GETEGID, unix.SYS_GETRESUID, unix.SYS_GETRESGID, unix.SYS_GETGROUPS,
	unix.SYS_GETPGRP, unix.SYS_GETPGID, unix.SYS_GETSID, unix.SYS_UNAME, unix.SYS_UMASK,
	unix.SYS_SCHED_YIELD, unix.SYS_SCHED_GETAFFINITY, unix.SYS_GETCPU, unix.SYS_GETRUSAGE,
	unix.SYS_TIMES, unix.SYS_SYSINFO, unix.SYS_CLOCK_GETTIME, unix.SYS_CLOCK_GETRES,
	unix.SYS_GETTIMEOFDAY, unix.SYS_TIME, unix.SYS_GETRANDOM, unix.SYS_FUTEX,
	unix.SYS_NANOSLEEP, unix.SYS_CLOCK_NANOSLEEP, unix.SYS_SET_ROBUST_LIST, unix.SYS_MEMBARRIER,
}

// setPlainSyscalls tells the entry code which syscalls it may make itself: none when each
// syscall is to be shown (--debug=syscalls).
func (p *Process) setPlainSyscalls() {
	if p.opts.DebugSyscalls {
		return
	}
	for _, nr := range plainSyscalls {
		entry.PlainSyscalls[nr] = 1
	}
}
