package kernel

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
	"golos/internal/entry"
	"golos/internal/loader"
	"golos/internal/vfs"
)

// A new process (fork(2), vfork(2), clone(2) without CLONE_THREAD) is a new golos: a host
// child of this one, started from golos's own executable with ForkChildCommand, which
// receives over a socket what the program's process is made of (forkState) and its memory,
// and runs the calling thread on from the syscall, with 0 for its result. The child's pid
// is the host's, so wait4(2), kill(2), process groups and SIGCHLD between the processes of
// the tree are the host's own (docs/design.md, "Processes").
//
// The Go runtime does not survive a plain fork of its threaded process, so the child's
// golos is a fresh one. Its memory is made in four steps: the child maps every region of
// the program's at the parent's address (files again from their files, the rest anonymous),
// the parent writes into the child what is not in those files (the pages /proc/self/pagemap
// shows private to the process: written, or anonymous) with process_vm_writev(2), the child
// gives each region its protection back, and moves its vDSO to the parent's address, where
// the program's libc found it.

// ForkChildCommand is the golos command a forked child's golos is started with, followed
// by the number of the descriptor of its socket to the parent, the address of the
// parent's vDSO (hex), the parent's vfs.HighFD, which the child's golos takes as its
// own (vfs.InheritHighFD), and the vDSO's layout (vdsoLayout).
const ForkChildCommand = "fork-child"

// forkState is what the parent sends its child's golos.
type forkState struct {
	Opts                  Options // without Stderr and HostFDs, which are the child golos's own, and NSInit (a child is no namespace's init)
	ExePath, ExeGuestPath string
	Args, Env             [2]uint64 // where the argument and environment strings are
	Auxv                  []byte
	Stack                 [2]uint64
	StartStack            uint64
	Layout                loader.Layout // where the executable's code and data lie (mm_struct's)
	BrkStart, BrkCur      uint64
	BrkMapped             uint64
	Cwd                   string
	Comm                  string
	VforkStack            [2]uint64     // vfork: the part of the caller's stack the child gives back
	Actions               [65][4]uint64 // sigaction: handler, flags, restorer, mask
	Thread                forkThread
	Maps                  []forkMapping
	Code                  [][2]uint64 // the rewriter's code ranges
	Stubs                 []forkStub
	Sites                 []forkSite    // syspatch.Before's answers (sitememo.go)
	VDSO                  []forkMapping // the parent's [vvar]… and [vdso], in order
	CloexecFDs            []int         // sent with SCM_RIGHTS after the state, in this order
	SharedFDs             int           // how many descriptors of shared mappings follow them
	Signalfds             []forkSignalfd
	OwnUTS                bool // the child is in a UTS namespace of the tree's own (uts.go)
	// StackSoft is the program's soft RLIMIT_STACK, which the child's golos was started
	// above (execStackRoom) and sets back.
	StackSoft     uint64
	InheritStderr bool // fd 2, without FD_CLOEXEC, is among CloexecFDs all the same (startLog)
	VforkWrites   bool // vfork: the child tracks its writes to give them back (vforkmem_unsafe.go)
	Lazy          bool // the holder's socket (or word of none) follows the descriptors: its private anonymous memory comes from there (lazyfork_unsafe.go)
	VforkLazy     bool // vfork: the parent serves the private anonymous memory as the child touches it (vforklazy_unsafe.go)
}

// forkSignalfd is one signalfd of the parent's (signalfd.go): its mask and descriptors.
type forkSignalfd struct {
	Mask uint64
	FDs  []int
}

// forkThread is the calling thread as the child's only thread starts it.
type forkThread struct {
	Regs          entry.Regs
	Xsave         []byte
	AppGS         uint64
	HasAppGS      bool
	FS            uint64
	Sigmask       uint64
	Altstack      [3]uint64 // stack_t: sp, flags, size
	ClearChildTid uint64
	SetChildTid   uint64    // CLONE_CHILD_SETTID: where the child's tid is written
	Rseq          [3]uint64 // rseq(2): address, length, signature
	Seccomp       []byte    // its seccomp mode and filters (encodeSeccomp)
}

// forkMapping is one region of the program's memory (a /proc/self/maps line, clipped to
// what is the program's).
type forkMapping struct {
	Lo, Hi   uint64
	Prot     int
	Shared   bool
	Path     string // the file mapped, or "" (anonymous, or a file the child cannot reopen)
	Dev, Ino uint64 // the file's, checked by the child when it reopens Path
	Offset   uint64
	SharedFD int  // for a shared mapping of a file without a path: 1 + its index among the descriptors sent
	Copy     bool // the child gets every page's contents (an anonymous copy of a file mapping)
	Huge     bool // a large anonymous region, almost all there: transparent huge pages (planCopy)
	Wipe     bool // MADV_WIPEONFORK: the child's is zero-filled, and wiped again at its forks (forkadvice.go)
	Grows    bool // grows down (VM_GROWSDOWN): a part of the main stack (growsDown)
}

// forkStub is one of the rewriter's stub pages: its address and contents.
type forkStub struct {
	Addr uint64
	Used int
	Data []byte
}

// sysFork and sysVfork are fork(2) and vfork(2): clone(2) with SIGCHLD, and with
// CLONE_VM|CLONE_VFORK.
func sysFork(t *Thread) int64 {
	return t.fork(abi.CloneArgs{ExitSignal: uint64(unix.SIGCHLD)})
}

func sysVfork(t *Thread) int64 {
	return t.fork(abi.CloneArgs{Flags: unix.CLONE_VM | unix.CLONE_VFORK, ExitSignal: uint64(unix.SIGCHLD)})
}

// fork makes a new process running the calling thread: clone(2) without CLONE_THREAD.
// With CLONE_VM|CLONE_VFORK (vfork, posix_spawn) the child gets a copy of the memory
// rather than the parent's own (it only reads it on its way to execve, except that a
// write it makes before that is not seen by the parent), and the caller waits, as Linux's
// does, until the child has called execve or ended.
func (t *Thread) fork(a abi.CloneArgs) int64 {
	p := t.p
	if t.wantsRawTask(a) {
		return t.cloneRawTask(a) // a child sharing the memory (rawtask.go)
	}
	if e := p.checkCloneFlags(a.Flags); e != 0 { // cloneflags.go
		return -int64(e)
	}
	if a.Flags&unix.CLONE_SETTLS != 0 && baseBeyondUser(a.TLS) {
		return -int64(unix.EPERM)
	}
	if a.Flags&unix.CLONE_PIDFD != 0 {
		// Linux stores the pidfd before the child runs, and a store that faults fails the
		// clone: golos checks the place is writable first (by writing back what is there).
		var b [4]byte
		if copyIn(a.Pidfd, b[:]) != 0 || copyOut(a.Pidfd, b[:]) != 0 {
			return -int64(unix.EFAULT)
		}
	}
	// The descriptors golos opens low for a moment from here on, the Go runtime's
	// ForkExec pipe among them, are golos's for other processes' listings (forkpipe.go).
	defer foreseeForkPipe()()
	// A child whose pages are not all here yet fetches them first: the new child's
	// snapshot of this process must have them, and the eager copy reads them here.
	p.finishLazy()
	// The user's golos processes fork one at a time near the limit (nproclock.go).
	unlock := p.lockNproc()
	if !p.taskRoom(golosThreads) { // the child's golos would pass a task limit (nproc.go)
		unlock()
		return -int64(unix.EAGAIN)
	}
	// golos's own descriptors for the child (the socket to it, the memory map it reads,
	// the new golos's own) need room the program's RLIMIT_NOFILE may not leave
	// (roomForGolos), where Linux's fork opens nothing; the program's limit is back once
	// the child's golos has the process, before anything is opened for the program (a
	// pidfd) and before a vfork's wait.
	restore := sync.OnceFunc(p.roomForGolos())
	pid, err := t.forkChild(a, func() { restore(); unlock() })
	restore()
	unlock()
	if err != nil {
		return t.forkFailed(err)
	}
	t.forkRetries = 0
	return int64(pid)
}

// forkFailed is fork's result when the child's golos could not be given the process
// (err): the call made again, when a signal ended the child's golos, or forkErrno's
// errno.
func (t *Thread) forkFailed(err error) int64 {
	p := t.p
	// A signal that came meanwhile (a terminal's ^C reaches the child's golos too, in
	// the same process group, and ends it) is delivered first and the call made again
	// after it, as Linux's fork does when a signal is pending (ERESTARTNOINTR,
	// kernel/fork.c copy_process): the program never sees the failure.
	// The signal that ended the child's golos may reach this golos a moment later.
	for try := 0; ; try++ {
		t.forwardBeforeReturn()
		if atomic.LoadUint32(&t.ctx.Pending) != 0 || !errors.Is(err, errChildSignaled) || try == 20 {
			break
		}
		unix.Nanosleep(&unix.Timespec{Nsec: 1e6}, nil)
	}
	// A signal the program ignores (or blocks) ends a child's golos all the same before
	// it has the process: the call is made again, as for any signal that stops a fork
	// before it is done, a few times in a row at most.
	// Only a failure that may pass is made again: one that will not (forkErrno's
	// ENOMEM) would fail each time, and its child's golos, ended, sends this process
	// a SIGCHLD each time, which would restart the call without end.
	e := forkErrno(err)
	if e == unix.EAGAIN && (atomic.LoadUint32(&t.ctx.Pending) != 0 || errors.Is(err, errChildSignaled)) && t.forkRetries < 5 {
		t.forkRetries++
		t.restart(t.ctx.Regs.RAX) // RAX still holds the call's number
		t.regsSet = true
		return 0
	}
	t.forkRetries = 0
	var refused *hostCloneError
	if errors.As(err, &refused) {
		return -int64(refused.errno) // a namespace or CLONE_PARENT the host refused
	}
	if !p.opts.Quiet && !errors.Is(err, unix.EAGAIN) {
		p.note("fork: %v (the program gets %s)", err, unix.ErrnoName(e))
	}
	return -int64(e)
}

// forkErrno is the error fork(2) returns for a child golos could not make. EAGAIN only
// for what may pass: the host's own EAGAIN (RLIMIT_NPROC, the pid limit: fork(2),
// kernel/fork.c copy_process), a child whose places were taken by chance (ASLR) or that a
// signal ended. Any other failure of golos's (a --volume whose host directory is gone, a
// descriptor or a mapping the child cannot make) will fail again: ENOMEM, which Linux
// returns when it cannot allocate what the child needs (fork(2)): a caller may retry
// EAGAIN ("try again"), where a lasting failure would never end.
func forkErrno(err error) unix.Errno {
	switch {
	case errors.Is(err, unix.EAGAIN), errors.Is(err, errPlaceTaken), errors.Is(err, errChildSignaled):
		return unix.EAGAIN
	}
	return unix.ENOMEM
}

// forkChild starts the child's golos and gives it the process; it returns the child's pid.
// It calls started once the child's golos has its process, before a vfork's wait for
// the child's execve.
func (t *Thread) forkChild(a abi.CloneArgs, started func()) (int, error) {
	p := t.p
	p.forkMu.Lock()
	defer p.forkMu.Unlock()
	// The numbers of golos's own descriptors of a fork (the socket to the child, its
	// log, copies of the program's) are golos's while it lasts, whatever file each is
	// open on when another process lists this one's descriptors (ownFDsNow).
	defer vfs.KeepHigh()()
	// The child's golos maps the program's regions where the parent has them, and its own
	// runtime's first mappings are at random places (ASLR), which may be among them: a
	// child that finds one of its places taken is given up for a new one (about 1 fork in
	// 150 here, and so about 1 in 20,000 needs a third try).
	var pid, conn int
	var err error
	for try := 0; try < 4; try++ {
		pid, conn, err = t.startChild(a)
		if !errors.Is(err, errPlaceTaken) {
			break
		}
	}
	if err != nil {
		return 0, err
	}
	started()
	defer unix.Close(conn)
	if a.Flags&unix.CLONE_VFORK != 0 {
		// First: the child gives back the parent's stack when it execs or ends, where
		// the stores below may be (vforkShare).
		vforkWait(conn, pid)
		if t.vforkServe != nil {
			t.vforkServe() // the child has what it needs of this process's memory
			t.vforkServe = nil
		}
	}
	if a.Flags&unix.CLONE_PARENT_SETTID != 0 {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(pid))
		copyOut(a.ParentTid, b[:])
	}
	if a.Flags&unix.CLONE_PIDFD != 0 {
		// The host's pidfd of the child's golos is the child's: the program's next free
		// descriptor, close-on-exec, as clone's is (pidfd_open(2), clone(2)).
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			fd = -1 // not a pidfd: the child's golos has already been reaped, which only the program can do
		}
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(int32(fd)))
		copyOut(a.Pidfd, b[:])
	}
	return pid, nil
}

// errPlaceTaken is a child's failure to map a region of the program's at its address,
// where its own golos has something: the child's message starts with placeTaken.
var errPlaceTaken = errors.New("a place of the program's memory is taken in the child")

const placeTaken = "place taken: "

// errChildSignaled is a child's golos that a signal ended before it had the process: one
// sent to the whole process group (a terminal's ^C) most likely, which the parent gets
// too.
var errChildSignaled = errors.New("the child's golos was ended by a signal")

// startChild starts a child's golos and gives it the process: its pid and the socket to it.
func (t *Thread) startChild(a abi.CloneArgs) (pid, conn int, err error) {
	p := t.p
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, 0, fmt.Errorf("socketpair: %w", err)
	}
	conn, err = vfs.MoveHigh(sp[0])
	if err != nil {
		unix.Close(sp[1])
		return 0, 0, fmt.Errorf("socketpair: %w", err)
	}
	// The child's end is inherited at a number of golos's (high), without FD_CLOEXEC; at
	// the lowest free one when the program has lowered RLIMIT_NOFILE below those or
	// golos's own fill them (vfs.MoveHigh).
	childEnd, err := unix.FcntlInt(uintptr(sp[1]), unix.F_DUPFD, vfs.HighFD())
	if err == unix.EINVAL || err == unix.EMFILE {
		childEnd, err = unix.FcntlInt(uintptr(sp[1]), unix.F_DUPFD, 0)
	}
	unix.Close(sp[1])
	if err != nil {
		unix.Close(conn)
		return 0, 0, fmt.Errorf("socketpair: %w", err)
	}
	vfs.NoteHigh(childEnd) // golos's until the child's golos has it (ownFDsNow)
	// ForkExec closes 0, 1 and 2 unless they are given; the others without FD_CLOEXEC
	// the child inherits as they are. 2 is the child's start-up log (startLog); the
	// program's stderr reaches it over the socket (forkState).
	std := make([]uintptr, 3)
	for i := range std {
		std[i] = uintptr(i)
		if _, err := unix.FcntlInt(uintptr(i), unix.F_GETFD, 0); err != nil {
			std[i] = ^uintptr(0) // closed in the child too
		}
	}
	// The log is golos's while the fork lasts: at a number of golos's, where a program's
	// open meanwhile would not have found it taken, and not among the descriptors the
	// child gets (forkState).
	log, logErr := unix.MemfdCreate("golos-fork-child-log", unix.MFD_CLOEXEC)
	if logErr == nil {
		log, logErr = vfs.MoveHigh(log)
	}
	if logErr == nil {
		defer unix.Close(log)
		std[2] = uintptr(log)
	} else {
		log = -1
	}
	vdso, err := p.vdsoParts()
	if err != nil {
		unix.Close(conn)
		unix.Close(childEnd)
		return 0, 0, err
	}
	attr := &syscall.ProcAttr{Env: os.Environ(), Files: std}
	if a.Flags&(hostCloneFlags|unix.CLONE_INTO_CGROUP) != 0 {
		// Made where the program's child would be (cloneflags.go).
		attr.Sys = &syscall.SysProcAttr{Cloneflags: uintptr(a.Flags & hostCloneFlags)}
		if a.Flags&unix.CLONE_INTO_CGROUP != 0 {
			attr.Sys.UseCgroupFD, attr.Sys.CgroupFD = true, int(a.Cgroup)
		}
	}
	restoreStack := execStackRoom()
	pid, err = syscall.ForkExec(selfExe, []string{golosBinary(), ForkChildCommand, strconv.Itoa(childEnd),
		strconv.FormatUint(vdso[0].Lo, 16), strconv.Itoa(vfs.HighFD()), vdsoLayout(vdso)}, attr)
	restoreStack()
	unix.Close(childEnd)
	if err == nil {
		// Known before the child can end: a wait of the program's must not report it
		// unless the fork succeeds (forkdoomed.go).
		p.doomed.starting(pid)
	}
	if err == nil && a.ExitSignal != uint64(unix.SIGCHLD) && a.Flags&unix.CLONE_PARENT == 0 {
		// Known before the child can end: the program's code runs only once it has the
		// process (wait.go).
		p.kids.add(pid, int(a.ExitSignal))
	}
	if err != nil {
		unix.Close(conn)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.ENOMEM) {
			return 0, 0, err // RLIMIT_NPROC, or the host's memory: as fork(2) fails
		}
		var errno unix.Errno
		if a.Flags&(hostCloneFlags|unix.CLONE_INTO_CGROUP) != 0 && errors.As(err, &errno) {
			return 0, 0, &hostCloneError{errno}
		}
		return 0, 0, fmt.Errorf("start golos for the child: %w", err)
	}
	if err := t.sendProcess(conn, log, pid, a); err != nil {
		// The child's golos ends without running anything of the program's.
		unix.Close(conn)
		p.doomed.failed(pid) // before golos ends it: a wait of the program's must not report it
		unix.Kill(pid, unix.SIGKILL)
		var ws unix.WaitStatus
		got, werr := unix.Wait4(pid, &ws, 0, nil)
		if werr == nil {
			p.doomed.take(got)
		} // else a wait of the program's reaped it, and forgot it (sysWait4)
		p.kids.forget(pid)
		if logErr == nil {
			if e := p.startLog(log); e != nil {
				return 0, 0, e
			}
		}
		if strings.HasPrefix(err.Error(), placeTaken) {
			return 0, 0, fmt.Errorf("%w: %v", errPlaceTaken, err)
		}
		if ws.Signaled() && ws.Signal() != unix.SIGKILL {
			return 0, 0, fmt.Errorf("%w (%v): %v", errChildSignaled, ws.Signal(), err)
		}
		if (werr != nil || !ws.Exited()) && (errors.Is(err, unix.ECONNRESET) || errors.Is(err, unix.EPIPE)) {
			// The child's golos vanished without a word, and a wait of the program's took
			// its status: a signal ended it (a failure of its own is sent as a message
			// and ends it with a status).
			return 0, 0, fmt.Errorf("%w: %v", errChildSignaled, err)
		}
		return 0, 0, err
	}
	p.doomed.succeeded(pid)
	return pid, conn, nil
}

// execStackRoom raises the soft RLIMIT_STACK to 1 MiB for the execve of the child's
// golos, when the program has lowered it below that and the hard limit allows, and
// returns the function that sets it back. Under a limit of a page the kernel's execve
// fails past its point of no return (EFAULT, then SIGSEGV) about one time in three, as
// the arguments, the environment and the random gap below them (arch_align_stack) need
// a second page (fs/exec.c, setup_arg_pages), where a native fork does not execve at all.
// The child sets the program's limit back (forkState.StackSoft) before any of its code
// runs.
func execStackRoom() (restore func()) {
	const room = 1 << 20
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_STACK, &rl) != nil || rl.Cur >= room || rl.Max < room {
		return func() {}
	}
	raised := rl
	raised.Cur = room
	if unix.Setrlimit(unix.RLIMIT_STACK, &raised) != nil {
		return func() {}
	}
	return func() { unix.Setrlimit(unix.RLIMIT_STACK, &rl) }
}

// vdsoLayout is the vDSO's layout for the child golos's entry, which moves its own to the
// same place before its runtime starts (cmd/golos/forkentry_amd64.s): the address of the
// [vdso] part, then each part's start and end, each as 16 hex digits.
func vdsoLayout(parts []forkMapping) string {
	var b strings.Builder
	for _, m := range parts {
		if m.Path == "[vdso]" {
			fmt.Fprintf(&b, "%016x", m.Lo)
		}
	}
	for _, m := range parts {
		fmt.Fprintf(&b, "%016x%016x", m.Lo, m.Hi)
	}
	return b.String()
}

// startLog looks at what a child's golos that failed before it had the process wrote to
// its stderr, a memfd (its start-up log), which keeps the Go runtime's complaints from
// the program's stderr: a child whose runtime could not start its threads, the host's
// RLIMIT_NPROC reached (the runtime's newosproc ends the process, with a goroutine dump,
// when clone(2) fails), is the program's fork failing with EAGAIN, as fork(2) does at
// the limit (kernel/fork.c, copy_process). Anything else it wrote is passed on to
// golos's stderr.
func (p *Process) startLog(log int) error {
	var st unix.Stat_t
	if unix.Fstat(log, &st) != nil || st.Size == 0 {
		return nil
	}
	b := make([]byte, min(st.Size, 64<<10))
	n, _ := unix.Pread(log, b, 0)
	b = b[:max(n, 0)]
	if bytes.Contains(b, []byte("failed to create new OS thread")) {
		return fmt.Errorf("the child's golos could not start its threads: %w", unix.EAGAIN)
	}
	p.opts.Stderr.Write(b)
	return nil
}

// sendProcess sends the child the process and its memory, and waits until its thread is
// about to run. log is the child's start-up log (startLog), golos's, never sent as one of
// the program's descriptors.
func (t *Thread) sendProcess(conn, log, pid int, a abi.CloneArgs) (err error) {
	p := t.p
	if a.Flags&unix.CLONE_VFORK == 0 {
		// The child's memory is the process's at one instant. (A vfork child only
		// reads what its caller made ready, on its way to execve: the other threads
		// go on, as they do on Linux.)
		defer t.freezeOthers()()
	}
	// No mapping changes and no site is rewritten while the memory is described and copied.
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	p.mm.syncStack() // before the mappings are read: the stack's growth is the program's
	p.mm.rw.mu.Lock()
	defer p.mm.rw.mu.Unlock()
	st, toSend, err := t.forkState(a, conn, log)
	if err != nil {
		return err
	}
	defer func() {
		for _, fd := range toSend {
			unix.Close(fd)
		}
	}()
	// The private anonymous memory from a snapshot, the holder (lazyfork_unsafe.go).
	st.Lazy = a.Flags&unix.CLONE_VFORK == 0 && lazyForkOK() && lazyWorth(p.mm.pagemap, st.Maps)
	if a.Flags&unix.CLONE_VFORK != 0 {
		st.VforkStack = vforkStack(st.Maps, t.ctx.Regs.RSP)
		// The child's other writes too, when no other thread of this process writes
		// meanwhile (vforkmem_unsafe.go).
		st.VforkWrites = p.programThreads() == 1
		// And then its private anonymous memory as it touches it, served from this
		// process's (vforklazy_unsafe.go).
		st.VforkLazy = st.VforkWrites && lazyForkOK() && lazyPresent(p.mm.pagemap, st.Maps, vforkLazyMin)
	}
	runs, err := planCopy(p.mm.pagemap, st.Maps, st.Lazy || st.VforkLazy)
	if err != nil {
		return err
	}
	if err := writeMsg(conn, st.encode()); err != nil {
		return err
	}
	if err := sendFDs(conn, toSend); err != nil {
		return err
	}
	if st.Lazy {
		// The snapshot, while the child maps the regions (nothing changes the memory
		// meanwhile: the other threads are frozen, the mappings locked); then its socket
		// for the child, or word that there is none (the copy is eager then). The child
		// has the socket once it is sent (in flight, until it takes it): the holder ends
		// when the child closes it.
		holder, err := p.startHolder()
		if err != nil {
			holder = -1
		}
		err = sendHolder(conn, holder)
		if holder >= 0 {
			unix.Close(holder)
		}
		if err != nil {
			return err
		}
	}
	mapped, err := readMsg(conn) // the child has mapped the regions
	if err != nil {
		return err
	}
	switch {
	case st.Lazy && string(mapped) == lazyReady:
		p.keepConn(conn) // the child takes the rest at once when this golos ends
	case st.VforkLazy && string(mapped) == lazyReady:
		fds, rerr := recvFDs(conn, 1) // the child's userfaultfd
		if rerr != nil {
			for _, fd := range fds {
				unix.Close(fd)
			}
			return rerr
		}
		uffd, merr := vfs.MoveHigh(fds[0]) // not at a number of the program's
		if merr != nil {
			return merr
		}
		if h := p.startVforkHolder(uffd); h >= 0 {
			// The holder serves the child, and ends when the child closes its socket.
			unix.Close(uffd)
			serr := sendHolder(conn, h)
			unix.Close(h)
			if serr != nil {
				return serr
			}
			break
		}
		if serr := sendHolder(conn, -1); serr != nil {
			unix.Close(uffd)
			return serr
		}
		stop := serveVforkFaults(uffd, lazyOnly(st.Maps))
		t.vforkServe = stop // until the child execs or ends (forkChild)
		defer func() {
			if err != nil { // sendProcess's: the child is given up
				stop()
				t.vforkServe = nil
			}
		}()
	case len(mapped) == 0:
		if st.Lazy || st.VforkLazy {
			// The child could not take its memory from the holder (a vfork's, from
			// this golos): all of it is copied, as it was before the holder.
			more, err := planCopy(p.mm.pagemap, lazyOnly(st.Maps), false)
			if err != nil {
				return err
			}
			runs = append(runs, more...)
		}
	default:
		return errors.New(string(mapped))
	}
	if err := copyMemory(pid, runs); err != nil {
		return err
	}
	if err := writeMsg(conn, nil); err != nil {
		return err
	}
	return readReply(conn) // the child's thread is ready to run
}

// lazyOnly is the regions of maps the holder would have served.
func lazyOnly(maps []forkMapping) []forkMapping {
	var out []forkMapping
	for _, m := range maps {
		if lazyRegion(&m) {
			out = append(out, m)
		}
	}
	return out
}

// forkState describes the process for the child; it returns the descriptors to send
// along: copies of the program's (st.CloexecFDs, holdFDs), then the shared mappings'
// files.
func (t *Thread) forkState(a abi.CloneArgs, conn, log int) (*forkState, []int, error) {
	p := t.p
	st := &forkState{
		Opts:         p.opts,
		ExePath:      p.mm.exePath,
		ExeGuestPath: p.mm.exeGuestPath,
		Args:         p.mm.args,
		Env:          p.mm.env,
		Auxv:         p.mm.auxv,
		Stack:        p.mm.stack,
		StartStack:   p.mm.startStack,
		Layout:       p.mm.layout,
		BrkStart:     p.mm.brkStart,
		BrkCur:       p.mm.brkCur,
		BrkMapped:    p.mm.brkMapped,
		Cwd:          p.cwd(),
		Comm:         processName(),
	}
	st.Opts.Stderr, st.Opts.HostFDs, st.Opts.NSInit = nil, nil, 0
	if st.Opts.Nofile != nil {
		n := *st.Opts.Nofile
		st.Opts.Nofile = &n
	}
	st.Opts.Workdir = ""
	p.sighand.mu.Lock()
	for i, act := range p.sighand.actions {
		st.Actions[i] = [4]uint64{act.Handler, act.Flags, act.Restorer, act.Mask}
		if a.Flags&unix.CLONE_CLEAR_SIGHAND != 0 {
			st.Actions[i] = clearSighand(st.Actions[i])
		}
	}
	for sfd := range p.shared.signalfds {
		st.Signalfds = append(st.Signalfds, forkSignalfd{Mask: sfd.mask, FDs: slices.Sorted(maps.Keys(sfd.fds))})
	}
	st.Thread.Sigmask = t.sigmask
	st.Thread.Altstack = [3]uint64{t.altstack.SP, uint64(uint32(t.altstack.Flags)), t.altstack.Size}
	p.sighand.mu.Unlock()
	th := &st.Thread
	th.Regs = t.ctx.Regs
	th.Xsave = append([]byte(nil), t.ctx.Xsave()[:entry.XsaveSize]...)
	th.AppGS, th.HasAppGS = t.ctx.AppGS(), t.ctx.HasAppGS()
	th.Rseq = [3]uint64{t.rseq.addr, t.rseq.length, t.rseq.sig}
	th.Seccomp = encodeSeccomp(t.seccompMode.Load(), t.seccomp.Load())
	if a.Flags&unix.CLONE_SETTLS != 0 {
		th.FS = a.TLS
	} else {
		// The FS base of this thread, which is the program's: the host's answer, read
		// into golos's memory (arch_prctl(2) ARCH_GET_FS).
		fs, e := getFSBase()
		if e != 0 {
			return nil, nil, fmt.Errorf("the thread's FS base: %w", e)
		}
		th.FS = fs
	}
	if a.Flags&unix.CLONE_CHILD_CLEARTID != 0 {
		th.ClearChildTid = a.ChildTid
	}
	if a.Flags&unix.CLONE_CHILD_SETTID != 0 {
		th.SetChildTid = a.ChildTid
	}
	if a.Stack != 0 {
		th.Regs.RSP = a.Stack
	}
	maps, _, err := readMaps()
	if err != nil {
		return nil, nil, err
	}
	if st.VDSO, err = p.vdsoParts(); err != nil {
		return nil, nil, err
	}
	var advice map[[2]uint64]vmaForkFlags
	if p.mm.forkAdvised && a.Flags&unix.CLONE_VFORK == 0 {
		// (A vfork child shares its parent's memory on Linux: the advice is not for it.)
		if advice, err = readForkAdvice(); err != nil {
			return nil, nil, err
		}
	}
	var sharedFDs []int
	for _, m := range maps {
		adv := advice[[2]uint64{m.Lo, m.Hi}]
		if adv.dontCopy {
			continue // MADV_DONTFORK: not in the child (kernel/fork.c, dup_mmap: VM_DONTCOPY)
		}
		for _, r := range p.mm.owned.intersect(m.Lo, m.Hi) {
			c := m
			c.Wipe = adv.wipe && !c.Shared && c.Path == ""
			c.Grows = p.mm.growsDown(c)
			c.Offset += r[0] - m.Lo
			c.Lo, c.Hi = r[0], r[1]
			if sysvMapping(c) {
				// System V shared memory: the child attaches the segment itself
				// (attachSysV).
			} else if aioRing(c) {
				// An AIO context's ring: the child's Linux has the mapping but no
				// context (contexts are not inherited: fs/aio.c, exit_aio and
				// mm_init's ioctx_table), so it gets a copy of what is there.
				c.Shared, c.Path, c.Copy = false, "", true
			} else if c.Shared && !c.reopenable() {
				// A shared mapping of a file with no path (shared anonymous memory,
				// a memfd): the child maps the same file, reached through the mapping.
				// golos's own descriptor of it if it kept one (sharedmem.go), else
				// map_files, which only a privileged caller may open.
				fd, err := p.sharedFD(m), error(nil)
				if fd < 0 {
					fd, err = unix.Open(fmt.Sprintf("/proc/self/map_files/%x-%x", m.Lo, m.Hi), unix.O_RDWR|unix.O_CLOEXEC, 0)
				}
				if err != nil {
					fd, err = unix.Open(fmt.Sprintf("/proc/self/map_files/%x-%x", m.Lo, m.Hi), unix.O_RDONLY|unix.O_CLOEXEC, 0)
				}
				if err != nil {
					for _, fd := range sharedFDs {
						unix.Close(fd)
					}
					return nil, nil, fmt.Errorf("shared memory at %#x (%s) cannot be given to the child: %w", m.Lo, m.Path, unix.ENOMEM)
				}
				c.SharedFD = len(sharedFDs) + 1
				sharedFDs = append(sharedFDs, fd)
			} else if !c.Shared && c.Path != "" && !c.reopenable() {
				c.Path, c.Copy = "", true
			}
			st.Maps = append(st.Maps, c)
		}
	}
	st.SharedFDs = len(sharedFDs)
	st.Code = p.mm.rw.code.intersect(0, userEnd)
	for _, pg := range p.mm.rw.pages {
		data := make([]byte, pageSize)
		copyIn(pg.alias, data)
		st.Stubs = append(st.Stubs, forkStub{Addr: pg.addr, Used: pg.used, Data: data})
	}
	st.Sites = knownSites.all()
	// Not the shared mappings' files just opened: golos's, not the program's (a child
	// had each as one of its descriptors, where its parent had none).
	st.CloexecFDs = p.cloexecFDs(append([]int{conn, log}, sharedFDs...)...)
	if f, err := unix.FcntlInt(2, unix.F_GETFD, 0); err == nil && f&unix.FD_CLOEXEC == 0 && !p.ownFD(2) {
		// The child's golos starts with its start-up log at 2, not the program's stderr
		// (startLog): the descriptor goes over the socket with the others.
		st.CloexecFDs = append(st.CloexecFDs, 2)
		st.InheritStderr = true
	}
	var held []int
	held, st.CloexecFDs = holdFDs(st.CloexecFDs)
	st.InheritStderr = st.InheritStderr && slices.Contains(st.CloexecFDs, 2)
	st.OwnUTS = ownUTS.Load() || a.Flags&unix.CLONE_NEWUTS != 0
	var stack unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_STACK, &stack) == nil {
		st.StackSoft = stack.Cur
	}
	// What goes over the socket: the copies of the program's descriptors, in
	// st.CloexecFDs's order, then the shared mappings' files.
	return st, append(held, sharedFDs...), nil
}

// holdFDs copies each descriptor of fds to one of golos's own, for the fork to send:
// another thread of the program may close one meanwhile (a vfork's parent's threads run
// on, as on Linux; a Go program runs commands from several goroutines at once), which
// made the fork fail with EBADF. A descriptor already closed is left out, as if closed
// just before the fork. It returns the copies and the numbers they stand for.
func holdFDs(fds []int) (held, nums []int) {
	for _, fd := range fds {
		c, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, vfs.HighFD())
		if err == unix.EINVAL || err == unix.EMFILE {
			c, err = unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0) // as vfs.MoveHigh
		}
		if err != nil {
			continue
		}
		vfs.NoteHigh(c) // golos's while the fork lasts (ownFDsNow)
		held = append(held, c)
		nums = append(nums, fd)
	}
	return held, nums
}

// reopenable says whether the child can map the file again by its path.
func (m *forkMapping) reopenable() bool {
	if !strings.HasPrefix(m.Path, "/") || strings.HasSuffix(m.Path, " (deleted)") {
		return false
	}
	var s unix.Stat_t
	return unix.Stat(m.Path, &s) == nil && s.Dev == m.Dev && s.Ino == m.Ino &&
		s.Mode&unix.S_IFMT == unix.S_IFREG
}

// readMaps reads the process's mappings from /proc/self/maps; the vDSO's (with the data
// pages before it) come apart.
func readMaps() (maps, vdso []forkMapping, err error) {
	data, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return nil, nil, fmt.Errorf("read the memory map: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		var m forkMapping
		lo, hi, _ := strings.Cut(f[0], "-")
		m.Lo, _ = strconv.ParseUint(lo, 16, 64)
		m.Hi, _ = strconv.ParseUint(hi, 16, 64)
		perm := f[1]
		if perm[0] == 'r' {
			m.Prot |= unix.PROT_READ
		}
		if perm[1] == 'w' {
			m.Prot |= unix.PROT_WRITE
		}
		if perm[2] == 'x' {
			m.Prot |= unix.PROT_EXEC
		}
		m.Shared = perm[3] == 's'
		m.Offset, _ = strconv.ParseUint(f[2], 16, 64)
		maj, min, _ := strings.Cut(f[3], ":")
		ma, _ := strconv.ParseUint(maj, 16, 32)
		mi, _ := strconv.ParseUint(min, 16, 32)
		m.Dev = unix.Mkdev(uint32(ma), uint32(mi))
		m.Ino, _ = strconv.ParseUint(f[4], 10, 64)
		if len(f) > 5 {
			m.Path = strings.Join(f[5:], " ")
		}
		if m.Ino == 0 {
			if strings.HasPrefix(m.Path, "[vvar") || m.Path == "[vdso]" {
				vdso = append(vdso, m)
			}
			if !m.Shared {
				m.Path = "" // anonymous: [heap], [stack] and unnamed regions
			}
		}
		maps = append(maps, m)
	}
	return maps, vdso, nil
}

// growsDown reports whether the program's private anonymous mapping m is a region that
// grows down: the main stack, or a part of it an mprotect split off or an mremap moved
// (dup_mmap and mremap keep VM_GROWSDOWN). Neither maps nor the fork's copy can tell, so
// the host is asked, for mappings in the stack's room alone: mprotect(2) with
// PROT_GROWSDOWN and the mapping's own protection changes nothing, and fails with EINVAL
// unless the region grows down (mm/mprotect.c, do_mprotect_pkey). Caller holds m.mu.
func (m *addressSpace) growsDown(c forkMapping) bool {
	if c.Shared || c.Path != "" || c.Copy || c.Hi <= m.stack[0] || c.Lo >= m.stack[1] {
		return false
	}
	_, _, e := unix.RawSyscall(unix.SYS_MPROTECT, uintptr(c.Lo), pageSize, uintptr(c.Prot|unix.PROT_GROWSDOWN))
	return e == 0
}

// cloexecFDs lists the program's descriptors with FD_CLOEXEC (not golos's, nor skip):
// the child's golos does not inherit them through execve(2) as it does the others, and an
// execve closes them.
func (p *Process) cloexecFDs(skip ...int) []int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil
	}
	var fds []int
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || p.ownFD(fd) || slices.Contains(skip, fd) {
			continue
		}
		if f, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && f&unix.FD_CLOEXEC != 0 {
			fds = append(fds, fd)
		}
	}
	return fds
}

// A vfork(2) child shares its parent's memory until it execs or ends; golos's child has a
// copy. What programs count on is the part of the parent's stack above its stack pointer:
// the frame vfork returns to in both (a variable the child sets there, an error code
// posix_spawn's child leaves in the parent's frame). So the child gives back what it
// changed there, once before its execve and once when it ends (vforkShare), and the
// parent, which waits meanwhile (vforkWait), copies those bytes into its own stack. Only
// the bytes the child changed: the parent's other threads run on meanwhile, as on Linux,
// and the part may hold their memory too (a Go program's goroutine stacks lie side by
// side in its heap, where the whole part given back undid their writes and crashed
// programs that ran commands from several goroutines). Other writes of the child's stay
// its own: Linux's child would have made them in the parent's memory.

// vforkStackMax bounds the part of the parent's stack a vfork child gives back: the frames
// vfork returns to are within a few KiB of the stack pointer.
const vforkStackMax = 256 << 10

// vforkStack is the part of the stack at sp that the child gives back: from the red zone
// below sp (System V ABI: 128 bytes) to the end of sp's region, vforkStackMax at most.
func vforkStack(maps []forkMapping, sp uint64) [2]uint64 {
	for _, m := range maps {
		if sp > m.Lo && sp <= m.Hi && !m.Shared {
			return [2]uint64{max(m.Lo, (sp-128)&^(pageSize-1)), min(m.Hi, (sp+vforkStackMax)&^(pageSize-1))}
		}
	}
	return [2]uint64{}
}

// vforkChanges are the runs of bytes that differ between now and atStart, the memory at
// lo as it was; runs less than 16 bytes apart are one.
func vforkChanges(lo uint64, now, atStart []byte) [][2]uint64 {
	var runs [][2]uint64
	for chunk := 0; chunk < len(now); chunk += 64 {
		end := min(chunk+64, len(now))
		if bytes.Equal(now[chunk:end], atStart[chunk:end]) {
			continue
		}
		for i := chunk; i < end; i++ {
			if now[i] == atStart[i] {
				continue
			}
			at := lo + uint64(i)
			if n := len(runs); n > 0 && at < runs[n-1][1]+16 {
				runs[n-1][1] = at + 1
			} else {
				runs = append(runs, [2]uint64{at, at + 1})
			}
		}
	}
	return runs
}

// vforkWait waits until the vfork child has called execve or ended, which closes its end
// of conn, copying in the ranges the child gives back each time it does (the part of the
// stack, and the pages it wrote: vforkmem_unsafe.go).
func vforkWait(conn, pid int) {
	for {
		b, err := readMsg(conn)
		if err != nil {
			return // the end closed: the child's execve or end
		}
		for ; len(b) >= 16; b = b[16:] {
			lo, hi := binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])
			if lo < hi && hi <= userEnd {
				copyFromChild(pid, lo, hi)
			}
		}
		if writeMsg(conn, nil) != nil {
			return
		}
	}
}

// vforkShare gives the parent of a vfork child what the child changed in the part of its
// stack (vforkChanges) since it last gave it, and the pages it wrote (writtenRanges), and
// waits until the parent has them.
func (p *Process) vforkShare() {
	r := p.vforkStack
	if p.vforkConn <= 0 || r[1] == 0 {
		return
	}
	fetchForParent(r[0], r[1]) // its pages the parent still has to serve (vforklazy_unsafe.go)
	now := make([]byte, r[1]-r[0])
	var changed [][2]uint64
	if copyIn(r[0], now) == 0 {
		changed = vforkChanges(r[0], now, p.vforkAtStart)
		p.vforkAtStart = now
	}
	var b []byte
	for _, r := range append(changed, p.writtenRanges()...) {
		b = binary.LittleEndian.AppendUint64(b, r[0])
		b = binary.LittleEndian.AppendUint64(b, r[1])
	}
	if writeMsg(p.vforkConn, b) == nil {
		readReply(p.vforkConn)
	}
}

// vdsoParts are the vDSO's parts ([vvar]…, [vdso]) as /proc/self/maps shows them, read
// once (a forked child's golos records them where it moved them).
func (p *Process) vdsoParts() ([]forkMapping, error) {
	p.mm.vdsoMu.Lock()
	defer p.mm.vdsoMu.Unlock()
	if p.mm.vdso == nil {
		_, parts, err := readMaps()
		if err != nil {
			return nil, err
		}
		if len(parts) == 0 {
			return nil, fmt.Errorf("golos's process has no vDSO")
		}
		p.mm.vdso = parts
	}
	return p.mm.vdso, nil
}

// freezeOthers keeps the process's other threads out of the program's code until the
// function it returns is called. Linux's fork gives the child the memory as it was at one
// instant (copy-on-write); golos copies it, which takes time, so no other thread may
// change it meanwhile. Each other thread is kicked out of the program's code, and one that
// was not in it does not enter it (mayRun). A thread blocked in a syscall golos made for it
// stays blocked; what the host writes into its buffer when the call ends may reach the
// child, as it could at any instant of a native fork before the call ended.
func (t *Thread) freezeOthers() (thaw func()) {
	p := t.p
	// frozen first, then the threads: one that registers after the list is taken has
	// not run the program's code yet, and mayRun stops it.
	p.frozen.Store(1)
	p.threads.mu.Lock()
	others := make([]*Thread, 0, len(p.threads.byTid))
	for _, o := range p.threads.byTid {
		if o != t {
			others = append(others, o)
		}
	}
	p.threads.mu.Unlock()
	thaw = func() {
		p.frozen.Store(0)
		futexWake(&p.frozen)
	}
	if len(others) == 0 {
		return thaw
	}
	for _, o := range others {
		entry.Kick(o.ctx, o.tid) // Pending stays set: enterApp gives up before running code
	}
	for _, o := range others {
		// The kick takes the thread back to golos (a blocking call it made from a
		// rewritten site, too); kicked again while it has not looked, as rekickLoop does,
		// for a kick lost inside one of the Go runtime's signal handlers.
		for i := 0; o.inSwitch.Load() != 0; i++ {
			if i%50 == 49 {
				entry.Rekick(o.ctx, o.tid)
			}
			time.Sleep(20 * time.Microsecond)
		}
	}
	return thaw
}

// mayRun marks the thread as about to enter the program's code, unless a fork is copying
// the process (freezeOthers): it then waits until the copy is made and reports false.
// inSwitch is set before frozen is read, and frozen before the freezing thread reads
// inSwitch, so one of the two sees the other (both atomics are sequentially consistent).
func (t *Thread) mayRun() bool {
	t.inSwitch.Store(1)
	if t.p.frozen.Load() == 0 {
		return true
	}
	t.inSwitch.Store(0)
	for t.p.frozen.Load() != 0 {
		futexWait(&t.p.frozen, 1, -1)
	}
	return false
}
