package kernel

import "golang.org/x/sys/unix"

// handler answers one syscall of thread t and returns its result (a negative errno on
// failure).
type handler func(t *Thread) int64

// sysRecord is everything golos knows about one x86-64 syscall number, in one row: the
// handler, and the facts the entry code (entry.PlainSyscalls, entry.FDSyscalls), the
// syscall path (own descriptors, restarts, SIGPIPE), the messages and --stats use. Every
// other table is made from these rows (setPlainSyscalls, atSyscalls); the records are
// checked against each other by TestSyscallRecords.
type sysRecord struct {
	name string  // as in Linux's arch/x86/entry/syscalls/syscall_64.tbl; "" for a number no syscall has
	fn   handler // nil: refused, with errno

	// A refused row: the errno the program gets and why. ENOSYS where Linux itself has no
	// such syscall on x86-64, or golos does not implement it yet; EPERM where a
	// container runtime refuses it (a privileged operation on the host's kernel, which
	// Docker's default seccomp profile blocks and a container without the capability
	// cannot make).
	errno unix.Errno
	why   string

	paths    argMask // the arguments that are paths
	procView bool    // the handler shows some files under /proc/ otherwise than the host
	fast     fastClass
	fd       bool    // the first argument is a descriptor: EBADF on one of golos's own
	fdArgs   argMask // other arguments that are always descriptors: EBADF on one of golos's own too
	at       *atArgs // the directory descriptors and the paths relative to them (*at calls)

	noRestart bool // never restarted after a handler, even with SA_RESTART (signal(7))
	sigpipe   bool // EPIPE also raises SIGPIPE (pipe(7), send(2), splice(2))
}

// argMask marks syscall arguments by position.
type argMask uint8

const (
	arg0 argMask = 1 << iota
	arg1
	arg2
	arg3
)

// fastClass says when a rewritten site's call is made by fastEntry itself, in assembly,
// without reaching Go (entry.PlainSyscalls). A plain call on a descriptor of golos's, or
// one golos watches (entry.GoFDs), still goes to Go when the row's fd or at says where a
// descriptor is (entry.FDSyscalls).
type fastClass uint8

const (
	notPlain           fastClass = iota // always answered in Go
	plain                               // passed through unchanged
	plainWithoutRoot                    // plain without --root: the paths (and unix socket addresses) are the host's as they are
	plainUnlessProcRDI                  // plain without --root, unless the path in RDI begins with /proc, // or /.
	plainUnlessProcRSI                  // plain without --root, unless the path in RSI begins with /proc, // or /.
	plainArchPrctlFS                    // plain for arch_prctl's ARCH_SET_FS and ARCH_GET_FS
	plainUnlessControl                  // sendmsg: plain without --root, unless the message has control data
	plainUnlessMaskR8                   // epoll_pwait, epoll_pwait2: plain unless a signal mask is given (R8)
	plainUnlessMaskR10                  // ppoll: plain unless a signal mask is given (R10), then as plainPoll
	plainPoll                           // poll: plain unless a pollfd names one of golos's own descriptors
	plainSelect                         // select: plain unless nfds reaches golos's lowest descriptor
	plainUnlessRO                       // ioctl: plain unless a part of the root is read-only, or the request is one sysIoctl checks (entry.PlainIoctl)
)

// syscalls holds a row for every x86-64 syscall number up to the last one
// golang.org/x/sys knows; a larger number gets ENOSYS and a note. It points at
// syscallTable, set by init: the handlers reach the table again (through clone, for
// one), and a table whose initializer names them cannot be named by them
// (initialization cycle). The table is a package-level literal so that the compiler
// lays it out as data: built by a function at each start, it took 0.08–0.1 ms of
// golos's package initialisation (GODEBUG=inittrace=1), a 34 KiB literal built on the
// stack and copied.
var syscalls *[unix.SYS_RSEQ_SLICE_YIELD + 1]sysRecord

// atSyscalls is the at facts by number, for the syscall path (ownDirFD).
var atSyscalls [len(syscalls)]*atArgs

func init() {
	syscalls = &syscallTable
	// The numbers between the last of the classic syscalls and the first of those
	// numbered alike on every architecture (Linux 5.1's 424) are nobody's on x86-64.
	for nr := unix.SYS_UPROBE + 1; nr < unix.SYS_PIDFD_SEND_SIGNAL; nr++ {
		syscalls[nr] = refuse("", unix.ENOSYS, "no syscall has this number on x86-64: ENOSYS on Linux too")
	}
	for nr := range syscalls {
		atSyscalls[nr] = syscalls[nr].at
	}
}

// refuse makes a row for a syscall golos refuses with errno, for the reason why.
func refuse(name string, errno unix.Errno, why string) sysRecord {
	return sysRecord{name: name, errno: errno, why: why}
}

// Reasons shared by several refused rows.
const (
	whyAdmin    = "a privileged operation on the host's kernel, which a container may not make (CAP_SYS_ADMIN; blocked by Docker's default seccomp profile)"
	whyModule   = "loads or removes kernel modules (CAP_SYS_MODULE; blocked by Docker's default seccomp profile)"
	whyTime     = "sets the host's clock, which is not namespaced (CAP_SYS_TIME; blocked by Docker's default seccomp profile)"
	whyKeys     = "the kernel keyring is not namespaced (blocked by Docker's default seccomp profile)"
	whyPtrace   = "reaches into another process's memory or descriptors (CAP_SYS_PTRACE; blocked by Docker's default seccomp profile), and golos's own share the program's process"
	whyNUMA     = "moves pages of any process between NUMA nodes (CAP_SYS_NICE; blocked by Docker's default seccomp profile)"
	whyIO       = "port I/O on the host's hardware (CAP_SYS_RAWIO; blocked by Docker's default seccomp profile)"
	whyMount    = "mounts belong to the host's mount namespace (CAP_SYS_ADMIN; blocked by Docker's default seccomp profile)"
	whyObsolete = "obsolete, and blocked by Docker's default seccomp profile"
	whyRemoved  = "removed from Linux: ENOSYS there too"
	whyNever    = "never implemented by Linux on x86-64: ENOSYS there too"
	whyUring    = "refused on purpose: io_uring's submissions open, read, write and connect with no syscall golos sees, so --root's confinement, the protection of golos's own descriptors and the virtual signals would be bypassed (and its rings are mappings golos's memory map does not track); ENOSYS, as from a kernel without io_uring, rather than the EPERM of Docker's default seccomp profile (since Docker 25): callers fall back on ENOSYS (libuv on any error, liburing's probes, OCaml's Eio), while tokio's io-uring support fell back on EPERM only from late 2025 (tokio-rs/tokio#7724)"
	whyNewer    = "not implemented: newer than the kernels golos was checked against (Linux 6.18 has none)"
	whyLandlock = "not implemented: a Landlock domain would confine golos's own file access too"
)

// syscallTable is the table syscalls points at, by syscall number.
var syscallTable = [len(syscalls)]sysRecord{
	// fs.go, paths.go, pathcalls.go, stat.go, readlink.go, files.go, dirs.go, cwd.go,
	// readonly.go: files and descriptors, passed through.
	unix.SYS_READ:              {name: "read", fn: sysRead, fast: plain, fd: true},
	unix.SYS_WRITE:             {name: "write", fn: sysWrite, fast: plain, fd: true, sigpipe: true},
	unix.SYS_READV:             {name: "readv", fn: sysReadv, fast: plain, fd: true},
	unix.SYS_WRITEV:            {name: "writev", fn: sysWritev, fast: plain, fd: true, sigpipe: true},
	unix.SYS_PREAD64:           {name: "pread64", fn: sysPread64, fast: plain, fd: true},
	unix.SYS_PWRITE64:          {name: "pwrite64", fn: sysPwrite64, fast: plain, fd: true, sigpipe: true},
	unix.SYS_IOCTL:             {name: "ioctl", fn: sysIoctl, fast: plainUnlessRO, fd: true},
	unix.SYS_FSTAT:             {name: "fstat", fn: sysFstat, fast: plain, fd: true},
	unix.SYS_NEWFSTATAT:        {name: "newfstatat", fn: sysNewfstatat, paths: arg1, procView: true, fast: plainUnlessProcRSI, at: &atArgs{[2]int8{0, -1}, [2]int8{1, -1}, 3}},
	unix.SYS_LSEEK:             {name: "lseek", fn: passthroughFast, fast: plain, fd: true},
	unix.SYS_READLINK:          {name: "readlink", fn: sysReadlink, paths: arg0, procView: true, fast: plainUnlessProcRDI},
	unix.SYS_READLINKAT:        {name: "readlinkat", fn: sysReadlinkat, paths: arg1, procView: true, fast: plainUnlessProcRSI, at: &atArgs{[2]int8{0, -1}, [2]int8{1, -1}, -1}},
	unix.SYS_OPEN:              {name: "open", fn: sysOpen, paths: arg0, procView: true, fast: plainUnlessProcRDI},
	unix.SYS_OPENAT:            {name: "openat", fn: sysOpenat, paths: arg1, procView: true, fast: plainUnlessProcRSI, at: &atArgs{[2]int8{0, -1}, [2]int8{1, -1}, -1}},
	unix.SYS_CREAT:             {name: "creat", fn: sysCreat, paths: arg0, procView: true},
	unix.SYS_CLOSE:             {name: "close", fn: sysClose, fast: plainWithoutRoot, fd: true},
	unix.SYS_STAT:              {name: "stat", fn: sysStat, paths: arg0, procView: true, fast: plainUnlessProcRDI},
	unix.SYS_LSTAT:             {name: "lstat", fn: sysLstat, paths: arg0, procView: true, fast: plainUnlessProcRDI},
	unix.SYS_STATX:             {name: "statx", fn: sysStatx, paths: arg1, procView: true, fast: plainUnlessProcRSI, at: &atArgs{[2]int8{0, -1}, [2]int8{1, -1}, 2}},
	unix.SYS_ACCESS:            {name: "access", fn: sysAccess, paths: arg0, procView: true, fast: plainUnlessProcRDI},
	unix.SYS_FACCESSAT:         {name: "faccessat", fn: sysFaccessat, paths: arg1, procView: true, fast: plainUnlessProcRSI, at: &atArgs{[2]int8{0, -1}, [2]int8{1, -1}, -1}},
	unix.SYS_FACCESSAT2:        {name: "faccessat2", fn: sysFaccessat2, paths: arg1, procView: true, fast: plainUnlessProcRSI, at: &atArgs{[2]int8{0, -1}, [2]int8{1, -1}, 3}},
	unix.SYS_GETDENTS64:        {name: "getdents64", fn: sysGetdents64, fast: plain, fd: true},
	unix.SYS_GETCWD:            {name: "getcwd", fn: sysGetcwd, fast: plainWithoutRoot},
	unix.SYS_CHDIR:             {name: "chdir", fn: sysChdir, paths: arg0},
	unix.SYS_FCHDIR:            {name: "fchdir", fn: sysFchdir, fd: true},
	unix.SYS_FCNTL:             {name: "fcntl", fn: sysFcntl, fast: plain, fd: true},
	unix.SYS_DUP:               {name: "dup", fn: sysDup, fast: plain, fd: true},
	unix.SYS_DUP2:              {name: "dup2", fn: sysDup2, fd: true},
	unix.SYS_DUP3:              {name: "dup3", fn: sysDup2, fd: true},
	unix.SYS_PIPE:              {name: "pipe", fn: passthroughFast, fast: plain},
	unix.SYS_PIPE2:             {name: "pipe2", fn: passthroughFast, fast: plain},
	unix.SYS_FADVISE64:         {name: "fadvise64", fn: passthroughFast, fast: plain, fd: true},
	unix.SYS_UMASK:             {name: "umask", fn: passthroughFast, fast: plain},
	unix.SYS_MKDIR:             {name: "mkdir", fn: sysMkdir, paths: arg0, fast: plainWithoutRoot},
	unix.SYS_MKDIRAT:           {name: "mkdirat", fn: sysMkdirat, paths: arg1, fast: plainWithoutRoot, at: &atArgs{[2]int8{0, -1}, [2]int8{1, -1}, -1}},
	unix.SYS_RMDIR:             {name: "rmdir", fn: sysRmdir, paths: arg0, fast: plainWithoutRoot},
	unix.SYS_UNLINK:            {name: "unlink", fn: sysUnlink, paths: arg0, fast: plainWithoutRoot},
	unix.SYS_UNLINKAT:          {name: "unlinkat", fn: sysUnlinkat, paths: arg1, fast: plainWithoutRoot, at: &atArgs{[2]int8{0, -1}, [2]int8{1, -1}, -1}},
	unix.SYS_RENAME:            {name: "rename", fn: sysRename, paths: arg0 | arg1, fast: plainWithoutRoot},
	unix.SYS_RENAMEAT:          {name: "renameat", fn: sysRenameat, paths: arg1 | arg3, at: &atArgs{[2]int8{0, 2}, [2]int8{1, 3}, -1}},
	unix.SYS_RENAMEAT2:         {name: "renameat2", fn: sysRenameat2, paths: arg1 | arg3, at: &atArgs{[2]int8{0, 2}, [2]int8{1, 3}, -1}},
	unix.SYS_LINK:              {name: "link", fn: sysLink, paths: arg0 | arg1, fast: plainWithoutRoot},
	unix.SYS_LINKAT:            {name: "linkat", fn: sysLinkat, paths: arg1 | arg3, at: &atArgs{[2]int8{0, 2}, [2]int8{1, 3}, 4}},
	unix.SYS_SYMLINK:           {name: "symlink", fn: sysSymlink, paths: arg1, fast: plainWithoutRoot},
	unix.SYS_SYMLINKAT:         {name: "symlinkat", fn: sysSymlinkat, paths: arg2, at: &atArgs{[2]int8{1, -1}, [2]int8{2, -1}, -1}},
	unix.SYS_TRUNCATE:          {name: "truncate", fn: sysTruncate, paths: arg0, fast: plainWithoutRoot},
	unix.SYS_FTRUNCATE:         {name: "ftruncate", fn: passthrough, fast: plain, fd: true},
	unix.SYS_FSYNC:             {name: "fsync", fn: passthrough, fast: plain, fd: true},
	unix.SYS_FDATASYNC:         {name: "fdatasync", fn: passthrough, fast: plain, fd: true},
	unix.SYS_UTIMENSAT:         {name: "utimensat", fn: sysUtimensat, paths: arg1, fast: plainWithoutRoot, at: &atArgs{[2]int8{0, -1}, [2]int8{1, -1}, -1}},
	unix.SYS_CHMOD:             {name: "chmod", fn: sysChmod, paths: arg0, fast: plainWithoutRoot},
	unix.SYS_FCHMOD:            {name: "fchmod", fn: sysFchmod, fast: plainWithoutRoot, fd: true},
	unix.SYS_FCHMODAT:          {name: "fchmodat", fn: sysFchmodat, paths: arg1, fast: plainWithoutRoot, at: &atArgs{[2]int8{0, -1}, [2]int8{1, -1}, -1}},
	unix.SYS_CHOWN:             {name: "chown", fn: sysChown, paths: arg0, fast: plainWithoutRoot},
	unix.SYS_FCHOWN:            {name: "fchown", fn: sysFchown, fast: plainWithoutRoot, fd: true},
	unix.SYS_FCHOWNAT:          {name: "fchownat", fn: sysFchownat, paths: arg1, fast: plainWithoutRoot, at: &atArgs{[2]int8{0, -1}, [2]int8{1, -1}, 4}},
	unix.SYS_LCHOWN:            {name: "lchown", fn: sysLchown, paths: arg0, fast: plainWithoutRoot},
	unix.SYS_STATFS:            {name: "statfs", fn: sysStatfs, paths: arg0, fast: plainWithoutRoot},
	unix.SYS_FSTATFS:           {name: "fstatfs", fn: passthrough, fast: plain, fd: true},
	unix.SYS_GETXATTR:          {name: "getxattr", fn: sysGetxattr, paths: arg0, fast: plainWithoutRoot},
	unix.SYS_LGETXATTR:         {name: "lgetxattr", fn: sysLgetxattr, paths: arg0, fast: plainWithoutRoot},
	unix.SYS_FGETXATTR:         {name: "fgetxattr", fn: passthrough, fast: plain, fd: true},
	unix.SYS_SETXATTR:          {name: "setxattr", fn: sysSetxattr, paths: arg0, fast: plainWithoutRoot},
	unix.SYS_LSETXATTR:         {name: "lsetxattr", fn: sysLsetxattr, paths: arg0, fast: plainWithoutRoot},
	unix.SYS_FSETXATTR:         {name: "fsetxattr", fn: sysFsetxattr, fast: plainWithoutRoot, fd: true},
	unix.SYS_LISTXATTR:         {name: "listxattr", fn: sysListxattr, paths: arg0, fast: plainWithoutRoot},
	unix.SYS_LLISTXATTR:        {name: "llistxattr", fn: sysLlistxattr, paths: arg0, fast: plainWithoutRoot},
	unix.SYS_FLISTXATTR:        {name: "flistxattr", fn: passthrough, fast: plain, fd: true},
	unix.SYS_REMOVEXATTR:       {name: "removexattr", fn: sysRemovexattr, paths: arg0, fast: plainWithoutRoot},
	unix.SYS_LREMOVEXATTR:      {name: "lremovexattr", fn: sysLremovexattr, paths: arg0, fast: plainWithoutRoot},
	unix.SYS_FREMOVEXATTR:      {name: "fremovexattr", fn: sysFremovexattr, fast: plainWithoutRoot, fd: true},
	unix.SYS_SENDFILE:          {name: "sendfile", fn: passthrough, fast: plain, fd: true, fdArgs: arg1, sigpipe: true},
	unix.SYS_COPY_FILE_RANGE:   {name: "copy_file_range", fn: passthrough, fd: true, fdArgs: arg2},
	unix.SYS_SPLICE:            {name: "splice", fn: passthrough, fast: plain, fd: true, fdArgs: arg2, sigpipe: true},
	unix.SYS_TEE:               {name: "tee", fn: passthrough, fd: true, fdArgs: arg1, sigpipe: true},
	unix.SYS_POLL:              {name: "poll", fn: sysPoll, fast: plainPoll, noRestart: true},
	unix.SYS_PPOLL:             {name: "ppoll", fn: sysPpoll, fast: plainUnlessMaskR10, noRestart: true},
	unix.SYS_SELECT:            {name: "select", fn: sysSelect, fast: plainSelect, noRestart: true},
	unix.SYS_PSELECT6:          {name: "pselect6", fn: sysPselect6, noRestart: true},
	unix.SYS_EPOLL_CREATE1:     {name: "epoll_create1", fn: passthroughFast, fast: plain},
	unix.SYS_EPOLL_CTL:         {name: "epoll_ctl", fn: passthroughFast, fast: plain, fd: true, fdArgs: arg2},
	unix.SYS_EPOLL_WAIT:        {name: "epoll_wait", fn: passthroughWait, fast: plain, fd: true, noRestart: true},
	unix.SYS_EPOLL_PWAIT:       {name: "epoll_pwait", fn: sysEpollPwait, fast: plainUnlessMaskR8, fd: true, noRestart: true},
	unix.SYS_EVENTFD2:          {name: "eventfd2", fn: passthroughFast, fast: plain},
	unix.SYS_SYNC:              {name: "sync", fn: passthrough, fast: plain},
	unix.SYS_FLOCK:             {name: "flock", fn: passthrough, fast: plain, fd: true},
	unix.SYS_MKNODAT:           {name: "mknodat", fn: sysMknodat, paths: arg1, fast: plainWithoutRoot, at: &atArgs{[2]int8{0, -1}, [2]int8{1, -1}, -1}},
	unix.SYS_MKNOD:             {name: "mknod", fn: sysMknod, paths: arg0, fast: plainWithoutRoot},
	unix.SYS_INOTIFY_INIT1:     {name: "inotify_init1", fn: passthroughFast, fast: plain},
	unix.SYS_INOTIFY_ADD_WATCH: {name: "inotify_add_watch", fn: sysInotifyAddWatch, paths: arg1, fast: plainWithoutRoot, fd: true},
	unix.SYS_INOTIFY_RM_WATCH:  {name: "inotify_rm_watch", fn: passthroughFast, fast: plain, fd: true},
	unix.SYS_MEMFD_CREATE:      {name: "memfd_create", fn: passthroughFast, fast: plain},
	unix.SYS_TIMERFD_CREATE:    {name: "timerfd_create", fn: passthroughFast, fast: plain},
	unix.SYS_TIMERFD_SETTIME:   {name: "timerfd_settime", fn: passthroughFast, fast: plain, fd: true},
	unix.SYS_TIMERFD_GETTIME:   {name: "timerfd_gettime", fn: passthroughFast, fast: plain, fd: true},
	unix.SYS_SYNC_FILE_RANGE:   {name: "sync_file_range", fn: passthrough, fast: plain, fd: true},
	unix.SYS_FALLOCATE:         {name: "fallocate", fn: passthrough, fast: plain, fd: true},
	unix.SYS_PREADV:            {name: "preadv", fn: sysPreadv, fast: plain, fd: true},
	unix.SYS_PWRITEV:           {name: "pwritev", fn: sysWritev, fast: plain, fd: true, sigpipe: true},
	unix.SYS_PREADV2:           {name: "preadv2", fn: sysReadv, fast: plain, fd: true},
	unix.SYS_PWRITEV2:          {name: "pwritev2", fn: sysWritev, fast: plain, fd: true, sigpipe: true},
	unix.SYS_EPOLL_CREATE:      {name: "epoll_create", fn: passthroughFast, fast: plain}, // epoll_create(2): size only > 0
	unix.SYS_EPOLL_PWAIT2:      {name: "epoll_pwait2", fn: sysEpollPwait2, fast: plainUnlessMaskR8, fd: true, noRestart: true},
	unix.SYS_EVENTFD:           {name: "eventfd", fn: passthroughFast, fast: plain},
	unix.SYS_INOTIFY_INIT:      {name: "inotify_init", fn: passthroughFast, fast: plain},
	unix.SYS_SIGNALFD:          {name: "signalfd", fn: sysSignalfd},
	unix.SYS_SIGNALFD4:         {name: "signalfd4", fn: sysSignalfd4},
	unix.SYS_CLOSE_RANGE:       {name: "close_range", fn: sysCloseRange},
	unix.SYS_UTIME:             {name: "utime", fn: sysUtime, paths: arg0},
	unix.SYS_UTIMES:            {name: "utimes", fn: sysUtimes, paths: arg0},
	unix.SYS_FCHMODAT2:         {name: "fchmodat2", fn: sysFchmodat2, paths: arg1, at: &atArgs{[2]int8{0, -1}, [2]int8{1, -1}, 3}},
	unix.SYS_READAHEAD:         {name: "readahead", fn: passthrough, fd: true},
	unix.SYS_VMSPLICE:          {name: "vmsplice", fn: passthrough, fd: true, sigpipe: true},
	unix.SYS_CACHESTAT:         {name: "cachestat", fn: passthroughFast, fd: true},
	unix.SYS_GETDENTS:          {name: "getdents", fn: sysGetdents, fd: true},
	unix.SYS_FUTIMESAT:         {name: "futimesat", fn: sysFutimesat, paths: arg1, at: &atArgs{[2]int8{0, -1}, [2]int8{1, -1}, -1}},
	unix.SYS_OPENAT2:           {name: "openat2", fn: sysOpenat2, paths: arg1, procView: true, at: &atArgs{[2]int8{0, -1}, [2]int8{1, -1}, -1}},
	unix.SYS_SETXATTRAT:        {name: "setxattrat", fn: sysSetxattrat, paths: arg1, at: &atArgs{[2]int8{0, -1}, [2]int8{1, -1}, 2}},
	unix.SYS_GETXATTRAT:        {name: "getxattrat", fn: sysGetxattrat, paths: arg1, at: &atArgs{[2]int8{0, -1}, [2]int8{1, -1}, 2}},
	unix.SYS_LISTXATTRAT:       {name: "listxattrat", fn: sysListxattrat, paths: arg1, at: &atArgs{[2]int8{0, -1}, [2]int8{1, -1}, 2}},
	unix.SYS_REMOVEXATTRAT:     {name: "removexattrat", fn: sysRemovexattrat, paths: arg1, at: &atArgs{[2]int8{0, -1}, [2]int8{1, -1}, 2}},
	unix.SYS_FILE_GETATTR:      {name: "file_getattr", fn: sysFileGetattr, paths: arg1, at: &atArgs{[2]int8{0, -1}, [2]int8{1, -1}, 4}},
	unix.SYS_FILE_SETATTR:      {name: "file_setattr", fn: sysFileSetattr, paths: arg1, at: &atArgs{[2]int8{0, -1}, [2]int8{1, -1}, 4}},
	unix.SYS_CHROOT:            {name: "chroot", fn: sysChroot, paths: arg0},
	unix.SYS_NAME_TO_HANDLE_AT: refuse("name_to_handle_at", unix.EPERM, "file handles bypass the confined root (open_by_handle_at(2): CAP_DAC_READ_SEARCH; blocked by Docker's default seccomp profile)"),
	unix.SYS_OPEN_BY_HANDLE_AT: refuse("open_by_handle_at", unix.EPERM, "opens any file of a mounted filesystem by handle (CAP_DAC_READ_SEARCH; blocked by Docker's default seccomp profile)"),
	unix.SYS_FANOTIFY_INIT:     refuse("fanotify_init", unix.EPERM, "watches a whole host filesystem (CAP_SYS_ADMIN)"),
	unix.SYS_FANOTIFY_MARK:     refuse("fanotify_mark", unix.EPERM, "there is no fanotify descriptor to mark: fanotify_init is refused"),
	unix.SYS_IO_SETUP:          {name: "io_setup", fn: sysIoSetup}, // aio.go
	unix.SYS_IO_DESTROY:        {name: "io_destroy", fn: sysIoDestroy},
	unix.SYS_IO_GETEVENTS:      {name: "io_getevents", fn: passthroughWait, noRestart: true},
	unix.SYS_IO_SUBMIT:         {name: "io_submit", fn: sysIoSubmit},
	unix.SYS_IO_CANCEL:         {name: "io_cancel", fn: passthroughFast},
	unix.SYS_IO_PGETEVENTS:     {name: "io_pgetevents", fn: sysIoPgetevents, noRestart: true},
	unix.SYS_IO_URING_SETUP:    refuse("io_uring_setup", unix.ENOSYS, whyUring),
	unix.SYS_IO_URING_ENTER:    refuse("io_uring_enter", unix.ENOSYS, whyUring),
	unix.SYS_IO_URING_REGISTER: refuse("io_uring_register", unix.ENOSYS, whyUring),
	unix.SYS_EPOLL_CTL_OLD:     refuse("epoll_ctl_old", unix.ENOSYS, whyNever),
	unix.SYS_EPOLL_WAIT_OLD:    refuse("epoll_wait_old", unix.ENOSYS, whyNever),
	unix.SYS_USELIB:            refuse("uselib", unix.ENOSYS, whyRemoved+" (CONFIG_USELIB)"),
	unix.SYS_LOOKUP_DCOOKIE:    refuse("lookup_dcookie", unix.ENOSYS, whyRemoved+" (Linux 6.8)"),
	unix.SYS_NFSSERVCTL:        refuse("nfsservctl", unix.ENOSYS, whyRemoved+" (Linux 3.1)"),
	unix.SYS_USTAT:             refuse("ustat", unix.EPERM, whyObsolete),
	unix.SYS_SYSFS:             refuse("sysfs", unix.EPERM, whyObsolete),
	unix.SYS_QUOTACTL:          refuse("quotactl", unix.EPERM, "changes the host's disk quotas (CAP_SYS_ADMIN; blocked by Docker's default seccomp profile)"),
	unix.SYS_QUOTACTL_FD:       refuse("quotactl_fd", unix.EPERM, "changes the host's disk quotas (CAP_SYS_ADMIN; blocked by Docker's default seccomp profile)"),
	unix.SYS_MOUNT:             refuse("mount", unix.EPERM, whyMount),
	unix.SYS_UMOUNT2:           refuse("umount2", unix.EPERM, whyMount),
	unix.SYS_PIVOT_ROOT:        refuse("pivot_root", unix.EPERM, whyMount),
	unix.SYS_OPEN_TREE:         refuse("open_tree", unix.EPERM, whyMount),
	unix.SYS_MOVE_MOUNT:        refuse("move_mount", unix.EPERM, whyMount),
	unix.SYS_FSOPEN:            refuse("fsopen", unix.EPERM, whyMount),
	unix.SYS_FSCONFIG:          refuse("fsconfig", unix.EPERM, whyMount),
	unix.SYS_FSMOUNT:           refuse("fsmount", unix.EPERM, whyMount),
	unix.SYS_FSPICK:            refuse("fspick", unix.EPERM, whyMount),
	unix.SYS_MOUNT_SETATTR:     refuse("mount_setattr", unix.EPERM, whyMount),
	unix.SYS_OPEN_TREE_ATTR:    refuse("open_tree_attr", unix.EPERM, whyMount),
	unix.SYS_STATMOUNT:         refuse("statmount", unix.ENOSYS, "not implemented: it would show the host's mounts, not the program's root and volumes"),
	unix.SYS_LISTMOUNT:         refuse("listmount", unix.ENOSYS, "not implemented: it would show the host's mounts, not the program's root and volumes"),
	unix.SYS_SWAPON:            refuse("swapon", unix.EPERM, whyAdmin),
	unix.SYS_SWAPOFF:           refuse("swapoff", unix.EPERM, whyAdmin),

	// mm.go: the application's memory map.
	unix.SYS_BRK:                     {name: "brk", fn: sysBrk},
	unix.SYS_MMAP:                    {name: "mmap", fn: sysMmap},
	unix.SYS_MUNMAP:                  {name: "munmap", fn: sysMunmap},
	unix.SYS_MPROTECT:                {name: "mprotect", fn: sysMprotect},
	unix.SYS_MADVISE:                 {name: "madvise", fn: sysMadvise},
	unix.SYS_MREMAP:                  {name: "mremap", fn: sysMremap},
	unix.SYS_MLOCK2:                  {name: "mlock2", fn: passthroughFast},
	unix.SYS_MLOCKALL:                {name: "mlockall", fn: passthroughFast},
	unix.SYS_MUNLOCKALL:              {name: "munlockall", fn: passthroughFast},
	unix.SYS_PKEY_MPROTECT:           {name: "pkey_mprotect", fn: sysMprotect},
	unix.SYS_PKEY_ALLOC:              {name: "pkey_alloc", fn: passthroughFast},
	unix.SYS_PKEY_FREE:               {name: "pkey_free", fn: passthroughFast},
	unix.SYS_MBIND:                   {name: "mbind", fn: sysMbind},
	unix.SYS_SET_MEMPOLICY:           {name: "set_mempolicy", fn: passthroughFast},
	unix.SYS_GET_MEMPOLICY:           {name: "get_mempolicy", fn: passthroughFast},
	unix.SYS_SET_MEMPOLICY_HOME_NODE: {name: "set_mempolicy_home_node", fn: sysSetMempolicyHomeNode},
	unix.SYS_MSEAL:                   {name: "mseal", fn: sysMseal},
	unix.SYS_MEMFD_SECRET:            {name: "memfd_secret", fn: passthroughFast},
	unix.SYS_MIGRATE_PAGES:           refuse("migrate_pages", unix.EPERM, whyNUMA),
	unix.SYS_MOVE_PAGES:              refuse("move_pages", unix.EPERM, whyNUMA),
	unix.SYS_REMAP_FILE_PAGES:        refuse("remap_file_pages", unix.ENOSYS, "not implemented: deprecated (remap_file_pages(2)), and it would need golos's memory-map checks"),
	unix.SYS_MAP_SHADOW_STACK:        refuse("map_shadow_stack", unix.ENOSYS, "not implemented: golos does not enable shadow stacks, and the mapping would be one golos's memory map does not track"),
	unix.SYS_USERFAULTFD:             refuse("userfaultfd", unix.EPERM, "page faults handled in user space could stall golos's own accesses (blocked by Docker's default seccomp profile)"),
	unix.SYS_PROCESS_MADVISE:         refuse("process_madvise", unix.EPERM, whyPtrace),
	unix.SYS_PROCESS_MRELEASE:        {name: "process_mrelease", fn: passthroughFast},
	unix.SYS_SHMGET:                  {name: "shmget", fn: passthroughFast},
	unix.SYS_SHMAT:                   {name: "shmat", fn: sysShmat},
	unix.SYS_SHMCTL:                  {name: "shmctl", fn: passthroughFast},
	unix.SYS_SHMDT:                   {name: "shmdt", fn: sysShmdt},

	// proc.go: process and thread identity, exit.
	unix.SYS_EXIT:                    {name: "exit", fn: sysExit},
	unix.SYS_EXIT_GROUP:              {name: "exit_group", fn: sysExitGroup},
	unix.SYS_ARCH_PRCTL:              {name: "arch_prctl", fn: sysArchPrctl, fast: plainArchPrctlFS},
	unix.SYS_SET_TID_ADDRESS:         {name: "set_tid_address", fn: sysSetTidAddress},
	unix.SYS_GETTID:                  {name: "gettid", fn: sysGettid},
	unix.SYS_GETPID:                  {name: "getpid", fn: passthroughFast, fast: plain},
	unix.SYS_GETPPID:                 {name: "getppid", fn: passthroughFast, fast: plain},
	unix.SYS_GETUID:                  {name: "getuid", fn: passthroughFast, fast: plain},
	unix.SYS_GETEUID:                 {name: "geteuid", fn: passthroughFast, fast: plain},
	unix.SYS_GETGID:                  {name: "getgid", fn: passthroughFast, fast: plain},
	unix.SYS_GETEGID:                 {name: "getegid", fn: passthroughFast, fast: plain},
	unix.SYS_UNAME:                   {name: "uname", fn: passthroughFast, fast: plain},
	unix.SYS_PRLIMIT64:               {name: "prlimit64", fn: sysPrlimit64},
	unix.SYS_SETRLIMIT:               {name: "setrlimit", fn: sysSetrlimit},
	unix.SYS_GETRANDOM:               {name: "getrandom", fn: passthrough, fast: plain},
	unix.SYS_SCHED_GETAFFINITY:       {name: "sched_getaffinity", fn: passthroughFast, fast: plain},
	unix.SYS_SET_ROBUST_LIST:         {name: "set_robust_list", fn: sysSetRobustList},
	unix.SYS_RSEQ:                    {name: "rseq", fn: sysRseq},
	unix.SYS_CLONE:                   {name: "clone", fn: sysClone},
	unix.SYS_EXECVE:                  {name: "execve", fn: sysExecve, paths: arg0, procView: true},
	unix.SYS_EXECVEAT:                {name: "execveat", fn: sysExecveat, paths: arg1, procView: true, at: &atArgs{[2]int8{0, -1}, [2]int8{1, -1}, 4}},
	unix.SYS_CLONE3:                  {name: "clone3", fn: sysClone3},
	unix.SYS_FUTEX:                   {name: "futex", fn: passthroughWait, fast: plain},
	unix.SYS_SCHED_YIELD:             {name: "sched_yield", fn: passthroughFast, fast: plain},
	unix.SYS_SCHED_SETAFFINITY:       {name: "sched_setaffinity", fn: passthroughFast},
	unix.SYS_GETCPU:                  {name: "getcpu", fn: passthroughFast, fast: plain},
	unix.SYS_GETRUSAGE:               {name: "getrusage", fn: passthroughFast, fast: plain},
	unix.SYS_TIMES:                   {name: "times", fn: passthroughFast, fast: plain},
	unix.SYS_SYSINFO:                 {name: "sysinfo", fn: passthroughFast, fast: plain},
	unix.SYS_GETPGRP:                 {name: "getpgrp", fn: passthroughFast, fast: plain},
	unix.SYS_GETPGID:                 {name: "getpgid", fn: passthroughFast, fast: plain},
	unix.SYS_GETSID:                  {name: "getsid", fn: passthroughFast, fast: plain},
	unix.SYS_GETGROUPS:               {name: "getgroups", fn: passthroughFast, fast: plain},
	unix.SYS_GETRESUID:               {name: "getresuid", fn: passthroughFast, fast: plain},
	unix.SYS_GETRESGID:               {name: "getresgid", fn: passthroughFast, fast: plain},
	unix.SYS_GETRLIMIT:               {name: "getrlimit", fn: sysGetrlimit},
	unix.SYS_GET_ROBUST_LIST:         {name: "get_robust_list", fn: passthroughFast},
	unix.SYS_MEMBARRIER:              {name: "membarrier", fn: passthroughFast, fast: plain},
	unix.SYS_PRCTL:                   {name: "prctl", fn: sysPrctl},
	unix.SYS_WAIT4:                   {name: "wait4", fn: sysWait4},
	unix.SYS_WAITID:                  {name: "waitid", fn: sysWaitid},
	unix.SYS_GETPRIORITY:             {name: "getpriority", fn: passthroughFast},
	unix.SYS_SETPRIORITY:             {name: "setpriority", fn: passthroughSched},
	unix.SYS_SCHED_GETPARAM:          {name: "sched_getparam", fn: passthroughFast},
	unix.SYS_SCHED_SETPARAM:          {name: "sched_setparam", fn: passthroughSched},
	unix.SYS_SCHED_GETSCHEDULER:      {name: "sched_getscheduler", fn: passthroughFast},
	unix.SYS_SCHED_SETSCHEDULER:      {name: "sched_setscheduler", fn: passthroughSched},
	unix.SYS_SCHED_GET_PRIORITY_MAX:  {name: "sched_get_priority_max", fn: passthroughFast},
	unix.SYS_SCHED_GET_PRIORITY_MIN:  {name: "sched_get_priority_min", fn: passthroughFast},
	unix.SYS_SETSID:                  {name: "setsid", fn: passthroughFast},
	unix.SYS_SETPGID:                 {name: "setpgid", fn: sysSetpgid},
	unix.SYS_SETUID:                  {name: "setuid", fn: passthroughCreds},
	unix.SYS_SETGID:                  {name: "setgid", fn: passthroughCreds},
	unix.SYS_SETREUID:                {name: "setreuid", fn: passthroughCreds},
	unix.SYS_SETREGID:                {name: "setregid", fn: passthroughCreds},
	unix.SYS_SETRESUID:               {name: "setresuid", fn: passthroughCreds},
	unix.SYS_SETRESGID:               {name: "setresgid", fn: passthroughCreds},
	unix.SYS_SETGROUPS:               {name: "setgroups", fn: passthroughCreds},
	unix.SYS_SETFSUID:                {name: "setfsuid", fn: passthroughCreds},
	unix.SYS_SETFSGID:                {name: "setfsgid", fn: passthroughCreds},
	unix.SYS_CAPGET:                  {name: "capget", fn: passthroughFast},
	unix.SYS_CAPSET:                  {name: "capset", fn: passthroughCreds},
	unix.SYS_MSYNC:                   {name: "msync", fn: passthrough},
	unix.SYS_MINCORE:                 {name: "mincore", fn: passthroughFast},
	unix.SYS_MLOCK:                   {name: "mlock", fn: passthroughFast},
	unix.SYS_MUNLOCK:                 {name: "munlock", fn: passthroughFast},
	unix.SYS_SYNCFS:                  {name: "syncfs", fn: passthrough},
	unix.SYS_FORK:                    {name: "fork", fn: sysFork},
	unix.SYS_VFORK:                   {name: "vfork", fn: sysVfork},
	unix.SYS_PIDFD_OPEN:              {name: "pidfd_open", fn: sysPidfdOpen},
	unix.SYS_PIDFD_SEND_SIGNAL:       {name: "pidfd_send_signal", fn: sysPidfdSendSignal, fd: true},
	unix.SYS_PIDFD_GETFD:             {name: "pidfd_getfd", fn: sysPidfdGetfd, fd: true},
	unix.SYS_PERSONALITY:             {name: "personality", fn: sysPersonality},
	unix.SYS_SCHED_RR_GET_INTERVAL:   {name: "sched_rr_get_interval", fn: passthroughFast},
	unix.SYS_SCHED_SETATTR:           {name: "sched_setattr", fn: passthroughSched},
	unix.SYS_SCHED_GETATTR:           {name: "sched_getattr", fn: passthroughFast},
	unix.SYS_IOPRIO_SET:              {name: "ioprio_set", fn: passthroughFast},
	unix.SYS_IOPRIO_GET:              {name: "ioprio_get", fn: passthroughFast},
	unix.SYS_FUTEX_WAITV:             {name: "futex_waitv", fn: passthrough},
	unix.SYS_FUTEX_WAKE:              {name: "futex_wake", fn: passthroughFast},
	unix.SYS_FUTEX_WAIT:              {name: "futex_wait", fn: passthrough},
	unix.SYS_FUTEX_REQUEUE:           {name: "futex_requeue", fn: passthroughFast},
	unix.SYS_RSEQ_SLICE_YIELD:        refuse("rseq_slice_yield", unix.ENOSYS, whyNewer),
	unix.SYS_LSM_GET_SELF_ATTR:       {name: "lsm_get_self_attr", fn: passthroughFast},
	unix.SYS_LSM_SET_SELF_ATTR:       {name: "lsm_set_self_attr", fn: passthroughFast},
	unix.SYS_LSM_LIST_MODULES:        {name: "lsm_list_modules", fn: passthroughFast},
	unix.SYS_LANDLOCK_CREATE_RULESET: refuse("landlock_create_ruleset", unix.ENOSYS, whyLandlock),
	unix.SYS_LANDLOCK_ADD_RULE:       refuse("landlock_add_rule", unix.ENOSYS, whyLandlock),
	unix.SYS_LANDLOCK_RESTRICT_SELF:  refuse("landlock_restrict_self", unix.ENOSYS, whyLandlock),
	unix.SYS_SECCOMP:                 {name: "seccomp", fn: sysSeccomp},
	unix.SYS_SET_THREAD_AREA:         refuse("set_thread_area", unix.ENOSYS, "ENOSYS for 64-bit callers on Linux too (a 32-bit TLS descriptor call)"),
	unix.SYS_GET_THREAD_AREA:         refuse("get_thread_area", unix.ENOSYS, "ENOSYS for 64-bit callers on Linux too (a 32-bit TLS descriptor call)"),
	unix.SYS_MODIFY_LDT:              refuse("modify_ldt", unix.EPERM, "16-bit segments for the host's LDT (blocked by Docker's default seccomp profile)"),
	unix.SYS_URETPROBE:               {name: "uretprobe", fn: sysUretprobe},
	unix.SYS_UPROBE:                  {name: "uprobe", fn: sysUprobe},
	unix.SYS_PTRACE:                  refuse("ptrace", unix.EPERM, "golos runs the program's threads itself, and each process of the tree is a golos process: a tracer would trace golos, not the program"),
	unix.SYS_PROCESS_VM_READV:        {name: "process_vm_readv", fn: sysProcessVmReadv},
	unix.SYS_PROCESS_VM_WRITEV:       {name: "process_vm_writev", fn: sysProcessVmWritev},
	unix.SYS_KCMP:                    refuse("kcmp", unix.EPERM, whyPtrace),
	unix.SYS_UNSHARE:                 refuse("unshare", unix.EPERM, "new namespaces would be golos's own too (CAP_SYS_ADMIN; blocked by Docker's default seccomp profile)"),
	unix.SYS_SETNS:                   refuse("setns", unix.EPERM, "joining another namespace would move golos too (CAP_SYS_ADMIN; blocked by Docker's default seccomp profile)"),
	unix.SYS_LISTNS:                  refuse("listns", unix.ENOSYS, whyNewer),
	unix.SYS_SYSLOG:                  refuse("syslog", unix.EPERM, "the host's kernel log (CAP_SYSLOG; blocked by Docker's default seccomp profile)"),
	unix.SYS_VHANGUP:                 refuse("vhangup", unix.EPERM, "hangs up the host's terminal (CAP_SYS_TTY_CONFIG; blocked by Docker's default seccomp profile)"),
	unix.SYS_ACCT:                    refuse("acct", unix.EPERM, "the host's process accounting (CAP_SYS_PACCT; blocked by Docker's default seccomp profile)"),
	unix.SYS_REBOOT:                  refuse("reboot", unix.EPERM, "reboots the host (CAP_SYS_BOOT; blocked by Docker's default seccomp profile)"),
	unix.SYS_SETHOSTNAME:             {name: "sethostname", fn: sysSethostname},
	unix.SYS_SETDOMAINNAME:           {name: "setdomainname", fn: sysSetdomainname},
	unix.SYS_IOPL:                    refuse("iopl", unix.EPERM, whyIO),
	unix.SYS_IOPERM:                  refuse("ioperm", unix.EPERM, whyIO),
	unix.SYS_INIT_MODULE:             refuse("init_module", unix.EPERM, whyModule),
	unix.SYS_FINIT_MODULE:            refuse("finit_module", unix.EPERM, whyModule),
	unix.SYS_DELETE_MODULE:           refuse("delete_module", unix.EPERM, whyModule),
	unix.SYS_CREATE_MODULE:           refuse("create_module", unix.ENOSYS, whyRemoved+" (Linux 2.6)"),
	unix.SYS_GET_KERNEL_SYMS:         refuse("get_kernel_syms", unix.ENOSYS, whyRemoved+" (Linux 2.6)"),
	unix.SYS_QUERY_MODULE:            refuse("query_module", unix.ENOSYS, whyRemoved+" (Linux 2.6)"),
	unix.SYS_KEXEC_LOAD:              refuse("kexec_load", unix.EPERM, "loads a new kernel for the host (CAP_SYS_BOOT; blocked by Docker's default seccomp profile)"),
	unix.SYS_KEXEC_FILE_LOAD:         refuse("kexec_file_load", unix.EPERM, "loads a new kernel for the host (CAP_SYS_BOOT; blocked by Docker's default seccomp profile)"),
	unix.SYS_ADD_KEY:                 refuse("add_key", unix.EPERM, whyKeys),
	unix.SYS_REQUEST_KEY:             refuse("request_key", unix.EPERM, whyKeys),
	unix.SYS_KEYCTL:                  refuse("keyctl", unix.EPERM, whyKeys),
	unix.SYS_PERF_EVENT_OPEN:         refuse("perf_event_open", unix.EPERM, "measures the host's CPUs and golos's own code (CAP_PERFMON; blocked by Docker's default seccomp profile)"),
	unix.SYS_BPF:                     refuse("bpf", unix.EPERM, "loads programs into the host's kernel (CAP_BPF; blocked by Docker's default seccomp profile)"),
	unix.SYS__SYSCTL:                 refuse("_sysctl", unix.ENOSYS, whyRemoved+" (Linux 5.5)"),
	unix.SYS_GETPMSG:                 refuse("getpmsg", unix.ENOSYS, whyNever+" (STREAMS)"),
	unix.SYS_PUTPMSG:                 refuse("putpmsg", unix.ENOSYS, whyNever+" (STREAMS)"),
	unix.SYS_AFS_SYSCALL:             refuse("afs_syscall", unix.ENOSYS, whyNever),
	unix.SYS_TUXCALL:                 refuse("tuxcall", unix.ENOSYS, whyNever),
	unix.SYS_SECURITY:                refuse("security", unix.ENOSYS, whyNever),
	unix.SYS_VSERVER:                 refuse("vserver", unix.ENOSYS, whyNever),

	// sockets: passed through, like files, and made by the entry code itself
	// (plain) where golos has nothing to do: with --root a unix socket's path is
	// the guest's (unixsock.go), and an SCM_RIGHTS message must not pass one of
	// golos's descriptors (sysSendmsg), so only those go to Go.
	unix.SYS_SOCKET:      {name: "socket", fn: passthroughFast, fast: plain},
	unix.SYS_SOCKETPAIR:  {name: "socketpair", fn: passthroughFast, fast: plain},
	unix.SYS_CONNECT:     {name: "connect", fn: sysConnect, fast: plainWithoutRoot, fd: true},
	unix.SYS_ACCEPT:      {name: "accept", fn: sysAccept, fast: plainWithoutRoot, fd: true},
	unix.SYS_ACCEPT4:     {name: "accept4", fn: sysAccept, fast: plainWithoutRoot, fd: true},
	unix.SYS_BIND:        {name: "bind", fn: sysBind, fast: plainWithoutRoot, fd: true},
	unix.SYS_LISTEN:      {name: "listen", fn: passthroughFast, fast: plain, fd: true},
	unix.SYS_SHUTDOWN:    {name: "shutdown", fn: passthroughFast, fast: plain, fd: true},
	unix.SYS_GETSOCKNAME: {name: "getsockname", fn: sockNameCall, fast: plainWithoutRoot, fd: true},
	unix.SYS_GETPEERNAME: {name: "getpeername", fn: sockNameCall, fast: plainWithoutRoot, fd: true},
	unix.SYS_SETSOCKOPT:  {name: "setsockopt", fn: passthroughFast, fast: plain, fd: true},
	unix.SYS_GETSOCKOPT:  {name: "getsockopt", fn: passthroughFast, fast: plain, fd: true},
	unix.SYS_SENDTO:      {name: "sendto", fn: sysSendto, fast: plainWithoutRoot, fd: true, sigpipe: true},
	unix.SYS_RECVFROM:    {name: "recvfrom", fn: sysRecvfrom, fast: plainWithoutRoot, fd: true},
	unix.SYS_SENDMSG:     {name: "sendmsg", fn: sysSendmsg, fast: plainUnlessControl, fd: true, sigpipe: true},
	unix.SYS_RECVMSG:     {name: "recvmsg", fn: sysRecvmsg, fast: plainWithoutRoot, fd: true},
	unix.SYS_SENDMMSG:    {name: "sendmmsg", fn: sysSendmmsg, fd: true, sigpipe: true},
	unix.SYS_RECVMMSG:    {name: "recvmmsg", fn: sysRecvmmsg, fast: plainWithoutRoot, fd: true},
	// signal.go, sigaction.go, sigdeliver.go, sigframe.go, sigwait.go: the
	// application's virtual signals.
	unix.SYS_RT_SIGACTION:      {name: "rt_sigaction", fn: sysRtSigaction},
	unix.SYS_RT_SIGPROCMASK:    {name: "rt_sigprocmask", fn: sysRtSigprocmask},
	unix.SYS_RT_SIGPENDING:     {name: "rt_sigpending", fn: sysRtSigpending},
	unix.SYS_RT_SIGRETURN:      {name: "rt_sigreturn", fn: sysRtSigreturn},
	unix.SYS_RT_SIGSUSPEND:     {name: "rt_sigsuspend", fn: sysRtSigsuspend, noRestart: true},
	unix.SYS_RT_SIGTIMEDWAIT:   {name: "rt_sigtimedwait", fn: sysRtSigtimedwait, noRestart: true},
	unix.SYS_PAUSE:             {name: "pause", fn: sysPause, noRestart: true},
	unix.SYS_TIMER_CREATE:      {name: "timer_create", fn: sysTimerCreate},
	unix.SYS_TIMER_SETTIME:     {name: "timer_settime", fn: passthroughFast},
	unix.SYS_TIMER_GETTIME:     {name: "timer_gettime", fn: passthroughFast},
	unix.SYS_TIMER_GETOVERRUN:  {name: "timer_getoverrun", fn: passthroughFast},
	unix.SYS_TIMER_DELETE:      {name: "timer_delete", fn: sysTimerDelete},
	unix.SYS_SIGALTSTACK:       {name: "sigaltstack", fn: sysSigaltstack},
	unix.SYS_KILL:              {name: "kill", fn: sysKill},
	unix.SYS_TGKILL:            {name: "tgkill", fn: sysTgkill},
	unix.SYS_TKILL:             {name: "tkill", fn: sysTkill},
	unix.SYS_RT_SIGQUEUEINFO:   {name: "rt_sigqueueinfo", fn: sysRtSigqueueinfo},
	unix.SYS_RT_TGSIGQUEUEINFO: {name: "rt_tgsigqueueinfo", fn: sysRtTgsigqueueinfo},
	unix.SYS_ALARM:             {name: "alarm", fn: passthroughFast},
	unix.SYS_SETITIMER:         {name: "setitimer", fn: passthroughFast},
	unix.SYS_GETITIMER:         {name: "getitimer", fn: passthroughFast},
	unix.SYS_RESTART_SYSCALL:   {name: "restart_syscall", fn: sysRestartSyscall},

	// time.go: clocks, answered by the host; setting them is refused.
	unix.SYS_CLOCK_GETTIME:   {name: "clock_gettime", fn: passthroughFast, fast: plain},
	unix.SYS_GETTIMEOFDAY:    {name: "gettimeofday", fn: passthroughFast, fast: plain},
	unix.SYS_TIME:            {name: "time", fn: passthroughFast, fast: plain},
	unix.SYS_CLOCK_GETRES:    {name: "clock_getres", fn: passthroughFast, fast: plain},
	unix.SYS_NANOSLEEP:       {name: "nanosleep", fn: sysNanosleep, noRestart: true},
	unix.SYS_CLOCK_NANOSLEEP: {name: "clock_nanosleep", fn: sysClockNanosleep, noRestart: true},
	unix.SYS_ADJTIMEX:        {name: "adjtimex", fn: sysAdjtimex},
	unix.SYS_CLOCK_ADJTIME:   {name: "clock_adjtime", fn: sysClockAdjtime},
	unix.SYS_CLOCK_SETTIME:   refuse("clock_settime", unix.EPERM, whyTime),
	unix.SYS_SETTIMEOFDAY:    refuse("settimeofday", unix.EPERM, whyTime),

	// System V and POSIX IPC: passed through, in the host's IPC namespace.
	unix.SYS_SEMGET:          {name: "semget", fn: passthroughFast},
	unix.SYS_SEMOP:           {name: "semop", fn: passthrough, noRestart: true},
	unix.SYS_SEMTIMEDOP:      {name: "semtimedop", fn: passthrough, noRestart: true},
	unix.SYS_SEMCTL:          {name: "semctl", fn: passthroughFast},
	unix.SYS_MSGGET:          {name: "msgget", fn: passthroughFast},
	unix.SYS_MSGSND:          {name: "msgsnd", fn: passthrough, noRestart: true},
	unix.SYS_MSGRCV:          {name: "msgrcv", fn: passthrough, noRestart: true},
	unix.SYS_MSGCTL:          {name: "msgctl", fn: passthroughFast},
	unix.SYS_MQ_OPEN:         {name: "mq_open", fn: passthroughFast},
	unix.SYS_MQ_UNLINK:       {name: "mq_unlink", fn: passthroughFast},
	unix.SYS_MQ_TIMEDSEND:    {name: "mq_timedsend", fn: passthrough, fd: true},
	unix.SYS_MQ_TIMEDRECEIVE: {name: "mq_timedreceive", fn: passthrough, fd: true},
	unix.SYS_MQ_NOTIFY:       {name: "mq_notify", fn: passthroughFast, fd: true},
	unix.SYS_MQ_GETSETATTR:   {name: "mq_getsetattr", fn: passthroughFast, fd: true},
}
