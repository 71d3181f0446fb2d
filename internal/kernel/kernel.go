// Package kernel is golos's syscall layer: it loads a program, runs its threads through
// package entry, and answers their syscalls, passing most of them through to the host
// and virtualising what golos must keep control of (threads, memory map, signals, exit).
//
// # Locks
//
// Each mutex of a Process, and what it guards (the fields say which lock is theirs):
//
//   - p.forkMu: one new process at a time (fork.go).
//   - p.mm.mu: the memory map (addressSpace), held across a whole mmap(2), munmap(2)
//     and the like, and while fork describes and copies memory.
//   - p.mm.rw.mu: the rewriter's code ranges and stub pages; held across one rewrite.
//   - p.forwardMu: held while signals from outside are taken and queued (forwardTaken).
//   - p.kicks.mu: the kicked threads being watched (kickWatch).
//   - p.sighand.mu: dispositions and pending signals, the process's and each thread's, and
//     each thread's masks (sigHandlers, sharedSignals, Thread).
//   - p.threads.mu: the set of live threads and the spare OS threads (threads).
//   - p.fsctx.cwdMu, p.mm.vdsoMu, p.nofileMu, p.noteMu, p.kids.mu: the working
//     directory, the vDSO's parts, the application's RLIMIT_NOFILE, RLIMIT_AS and
//     RLIMIT_DATA, the notes already printed, the clone children (wait.go).
//   - a dirWatch's mu: one watched directory's listing (dirs.go).
//   - stopMu (package-level): one stop of the process at a time (stopBy); taken with no
//     other lock held.
//   - lazyMem.mu, holdersMu (package-level, lazyfork_unsafe.go): a lazy fork's child side
//     (taken with no other lock held: fork, madvise and mremap take it first), and the
//     holders a parent has made.
//
// When one is taken with another held, it is in this order (an arrow: "before"):
//
//	p.forkMu → p.mm.mu → p.mm.rw.mu → p.fsctx.cwdMu, p.mm.vdsoMu, p.sighand.mu (fork: forkChild, sendProcess, forkState)
//	p.mm.mu → p.mm.rw.mu (a mapping's change adds or removes code: rw.addCode, rw.removeCode)
//	p.forwardMu → p.kids.mu (forward → childExitSignal)
//	p.forkMu → p.kids.mu (forkChild)
//	p.forkMu → p.mm.mu → p.mm.rw.mu → holdersMu → p.kids.mu (sendProcess → startHolder, startVforkHolder, reapHolders; doomed's lock is p.kids.mu's class)
//	p.mm.mu → p.nofileMu (a mapping that grows the memory checks RLIMIT_AS, RLIMIT_DATA: overLimit)
//	p.forwardMu → p.sighand.mu → p.threads.mu (forwardTaken → sendProcess, sendThread)
//	p.forwardMu → p.kicks.mu → p.threads.mu (forwardTaken → signalThread; rekickLoop → p.thread)
//	p.sighand.mu → p.threads.mu (rt_sigaction, retargetShared, flushStopCont, sendProcess, blockedByAll)
//
// p.threads.mu, p.fsctx.cwdMu, p.mm.vdsoMu, p.nofileMu, p.noteMu, p.kids.mu and a
// dirWatch's mu are leaves: nothing is locked while one is held. A thread's own fields that no lock names are
// touched only by the thread itself (its syscalls, its signal delivery), or before it
// runs by whoever starts it.
//
// lockorder.go writes this order down again as data (lockOrder), and a golos built with
// the lockorder tag (golos-build -tags lockorder) checks it at every lock it takes.
package kernel

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"golos/internal/entry"
	"golos/internal/loader"
	"golos/internal/vfs"
)

// Options are the user's choices for one run.
type Options struct {
	Quiet         bool      // no notes on unimplemented syscalls
	Debug         bool      // registers and faulting address when the program dies
	DebugSyscalls bool      // a line per syscall
	Stderr        io.Writer // where golos's own notes go

	Root         string      // the application's root directory; "" for the host's
	RootReadOnly bool        // writes under Root fail with EROFS
	Volumes      []vfs.Mount // host directories grafted into Root
	Workdir      string      // the working directory ("" keeps golos's; "/" with a root)
	// Chroot is the root the program moved to with chroot(2) (chroot.go): a directory
	// of Root's view, or a host path without Root; "" while it has not. A fork's child
	// and an execve's new golos keep it (hidden flag --exec-chroot).
	Chroot     string
	NoRewrite  bool // leave every syscall site to Syscall User Dispatch
	Stats      bool // per-syscall counts and time in golos, printed at exit
	NoFSGSBase bool // switch the application's GS with arch_prctl even where the CPU has FSGSBASE

	HostFDs []int        // golos's own descriptors, kept from the application
	Nofile  *unix.Rlimit // the RLIMIT_NOFILE the application sees, if not the host's
	// RLIMIT_AS and RLIMIT_DATA once the program has set them (proc.go, ownLimit): golos
	// applies them to the program's memory, never to its own.
	AS, Data *unix.Rlimit
	// RLIMIT_SIGPENDING, the program's (proc.go, ownLimit): golos applies it to the
	// signals the program queues (sigdeliver.go, queue), never to its own host signals,
	// whose kicks are real-time signals the host would refuse over a small limit.
	Sigpending *unix.Rlimit

	// What the program keeps across execve(2) from the program it replaces, given by the
	// golos that made the execve (hidden flags of golos run; never rendered by Flags):
	// its signal mask, and the signals it ignored, which stay ignored (signal(7)).
	SigMask, SigIgnored uint64
	SigPending          uint64 // signals pending across execve (their siginfo is not kept)
	Seccomp             []byte // the calling thread's seccomp mode and filters (seccomp.go, encodeSeccomp)
	OwnUTS              bool   // the process is in a UTS namespace of the tree's own (uts.go)

	// Pid1: the program is the init of its pid namespace, as a container's first process
	// is (golos-oci): a signal whose action is the default is not delivered to it
	// (pid_namespaces(7); kernel/signal.c, sig_task_ignored with SIGNAL_UNKILLABLE), but
	// for the faults golos forces and SIGKILL and SIGSTOP, which the host acts on. It
	// stays across execve; a fork's child is not init.
	Pid1 bool
	// NSInit: golos is the first process of a pid namespace that golos run --sandbox
	// made, and this is its descriptor (one of HostFDs) of a socket to the golos outside
	// it, which dies and stops in its place (nsinit.go); 0 for none. It stays across
	// execve; a fork's child is no namespace's init.
	NSInit int
	// TaskLimit: golos run --sandbox's --pids-limit, the most tasks (threads) the
	// sandbox's pid namespace may hold, golos's own threads included, which its pids
	// cgroup enforces (internal/sandbox); 0 for none. A fork or a thread that would come
	// near it gets EAGAIN from golos first (nproc.go). It stays across fork and execve.
	TaskLimit int
}

// Process is one application process, and golos's process: the thread group (Linux's
// signal_struct and the tasks in it) with the parts clone(2) shares or copies one by one,
// held as Linux's task_struct holds them (include/linux/sched.h: sighand, mm, files, fs).
// Every thread of a golos runs in one thread group, so the threads share all of them; a
// new process (fork.go) is a new golos, which gets a copy of each part (forkState), and
// an execve(2) in place replaces the address space and resets the handlers (execInPlace).
//
//	part          clone flag      what it holds                                       copied by
//	Process       CLONE_THREAD    threads, process-pending signals, rlimits, children  forkState
//	*sigHandlers  CLONE_SIGHAND   dispositions, and the lock of all signal state        forkActions
//	*addressSpace CLONE_VM        mappings, rewritten sites, vDSO, exe, argv/auxv      forkMaps, the memory
//	*fileTable    CLONE_FILES     golos's own descriptors, watched descriptors          the host's fork + forkFiles
//	*fsContext    CLONE_FS        the root and volumes, the working directory          forkState.Cwd, Opts
//
// The umask is the host's (golos's threads share one host fs_struct), and so is the
// descriptor table itself; fileTable holds what golos keeps about it.
type Process struct {
	// Fields without a lock named are set before the first thread runs (Run,
	// buildChild) and changed, if ever, only by an execve in place (execInPlace), which
	// golos makes only when the process has one thread left.
	opts Options // the rlimits in it (*opts.Nofile, AS, Data, Sigpending): nofileMu

	sighand *sigHandlers  // sighand.mu
	mm      *addressSpace // mm.mu
	files   *fileTable
	fsctx   *fsContext

	shared      sharedSignals      // sent to the process as a whole; sighand.mu
	kicks       kickWatch          // kicked threads that have not yet looked at their signals (kicks.mu)
	forwardMu   mutex[forwardLock] // held while signals from outside are taken and queued (forwardTaken)
	forwarding  atomic.Int32       // the forwarder goroutine is taking and queuing signals
	seccompUsed atomic.Bool        // a thread has a seccomp mode: every syscall goes to the handler (seccomp.go)
	// sigpendingCur is the soft limit of opts.Sigpending, read without nofileMu by queue,
	// which runs under sighand.mu; written under nofileMu.
	sigpendingCur atomic.Uint64

	nofileMu mutex[nofileLock]
	forkMu   mutex[forkLock] // one new process at a time (fork.go)
	kids     cloneKids       // children with an exit signal other than SIGCHLD (wait.go); kids.mu
	doomed   doomedKids      // host children the program never has: failed forks' and those under way, lazy forks' holders (forkdoomed.go)
	// A vfork child's socket to its parent's golos, the part of the parent's stack whose
	// changes it gives back (vforkShare) and that part as the child got it (vforkAtStart);
	// vforkConn is 0 otherwise.
	vforkConn    int
	vforkStack   [2]uint64
	vforkAtStart []byte

	textStart, textEnd uintptr // golos's own text: the Syscall User Dispatch allowed region

	noteMu        mutex[noteLock]
	noted         map[uint64]bool // unimplemented syscalls already named on stderr; noteMu
	notedFeatures map[string]bool // noteMu

	threads threads // threads.mu
	stress  bool    // stressEnv was set
	// credsChanged: a thread of the process changed its credentials, so a new thread
	// takes its creator's (creds.go).
	credsChanged atomic.Bool
	// schedChanged: a thread of the process may have changed its scheduling attributes,
	// so a new thread takes its creator's (threadsched_unsafe.go).
	schedChanged atomic.Bool

	stats *stats // with --stats

	startMask uint64 // the host signal mask golos's process started with (inheritSignals)

	// frozen is 1 while a fork copies the process and the other threads must stay out
	// of the program's code (freezeOthers; a futex word).
	frozen atomic.Uint32
}

// newProcess is a process with its parts, empty: Run and buildChild fill them in.
func newProcess(opts Options) *Process {
	p := &Process{
		opts:    opts,
		noted:   map[uint64]bool{},
		sighand: &sigHandlers{},
		mm:      &addressSpace{pagemap: -1},
		files:   &fileTable{},
		fsctx:   &fsContext{},
	}
	p.files.own(opts.HostFDs...)
	vfs.Hook = markTemp
	p.takeSigpending()
	return p
}

// ExitError is a failure to start the program with its own exit status: 127 for a
// program that is not there, 126 for one that cannot be executed (as a shell reports).
type ExitError struct {
	Status int
	Err    error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// maxInterpreterDepth is how many "#!" scripts Linux runs one through another: fs/exec.c,
// exec_binprm, fails with ELOOP past depth 5, so the program at the end of the chain is at
// most the sixth file (since Linux 5.8; BINPRM_MAX_RECURSION was 4 before).
const maxInterpreterDepth = 5

// Run loads the program (a path, or a name looked up in envp's PATH) and runs it with argv
// and envp on the calling goroutine, which it locks to its OS thread. It returns the exit
// status the program's parent should see (128+N for a death by signal N), or an error
// when golos could not run it (an *ExitError for a program not found or not executable).
func Run(program string, argv, envp []string, opts Options) (int, error) {
	runtime.LockOSThread()
	// Each application thread is an OS thread of golos's runtime: the runtime's limit
	// (10,000 by default, a fatal error when reached) must not stop a program before its
	// own limits do. The headroom is for the runtime's own threads.
	debug.SetMaxThreads(entry.MaxThreads + 1024)
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	p := newProcess(opts)
	if opts.NSInit > 0 {
		// Closed on a fork's exec of the child golos, let through the program's
		// (nsInitExec).
		unix.FcntlInt(uintptr(opts.NSInit), unix.F_SETFD, unix.FD_CLOEXEC)
		nsInitFD = opts.NSInit
	}
	// The mask golos's process was started with, before the main thread's is emptied
	// (entry.Enable): the program inherits it, as a program does across execve(2).
	var startMask unix.Sigset_t
	unix.PthreadSigmask(unix.SIG_BLOCK, nil, &startMask)
	p.startMask = startMask.Val[0]
	if opts.Stats {
		p.stats = &stats{}
	}
	if err := p.setupFiles(); err != nil {
		return 0, err
	}
	path, err := p.lookPath(program, envp)
	if err != nil {
		return 0, err
	}
	// The process's name is the file execve(2) was given, a script's own for a script
	// (begin_new_exec: kbasename(bprm->filename)), not its interpreter's.
	comm := base15(path)
	path, argv, err = p.interpreters(path, argv)
	if err != nil {
		return 0, err
	}
	// /proc/self/exe names the program's file, symlinks resolved, as Linux does.
	if p.mm.exePath, p.mm.exeGuestPath, err = p.exePaths(path); err != nil {
		return 0, fmt.Errorf("%s: %w", program, err)
	}
	if err := p.enterKernel(); err != nil {
		return 0, err
	}
	img, err := loader.Load(path, p.opener, p.mm.area)
	if err != nil {
		return 0, err
	}
	stack, err := loader.NewStack(img, argv, envp, path, loader.HostAux(), p.mm.area)
	if err != nil {
		return 0, fmt.Errorf("run %s: %w", path, err)
	}
	p.mm.takeProgram(img, stack)
	if opts.OwnUTS {
		ownUTS.Store(true)
	}
	seccompMode, seccomp, ok := decodeSeccomp(opts.Seccomp)
	if !ok {
		return 0, errors.New("the seccomp filters given are malformed")
	}
	if err := p.openOwnFiles(seccompMode); err != nil {
		return 0, err
	}
	p.publish() // for /proc/<pid> in the other processes of the tree
	if n := opts.Nofile; n != nil {
		// The host's soft limit back to the application's (the Go runtime raised it),
		// with room for golos's own descriptors, so that the application runs out where
		// it would natively. Not before: golos opens the program, its interpreter and
		// its own files (publish's socket the last) with the runtime's limit, as an
		// execve opens them with none (roomForGolos); under the program's limit
		// vfs.MoveHigh could not move them above it.
		p.setHostNofile(*n)
	}
	setProcessName(comm)

	t, err := p.newThread()
	if err != nil {
		return 0, err
	}
	t.ctx.Regs.RSP = stack.SP
	t.ctx.Regs.RIP = img.Entry
	t.ctx.Regs.RFLAGS = 0x202
	p.threads.byTid = map[int]*Thread{}
	p.threads.main = t
	p.inheritSignals(t)
	t.seccompMode.Store(seccompMode) // filters stay across execve (seccomp(2))
	t.seccomp.Store(seccomp)
	if os.Getenv(stressEnv) != "" {
		p.stress = true
		p.stressRuntime()
	}
	closeStdClosedAtStart()
	if img.GoRuntime {
		p.expectThreads()
	}
	failed := 0
	t.start(nil, func(tid int) {
		if tid < 0 {
			failed = 125
		}
	})
	if failed != 0 {
		return failed, nil
	}
	// The main thread exited and others run on: the process ends with the last of them.
	select {}
}

// enterKernel makes this golos the program's kernel: its own text the region whose
// syscalls Syscall User Dispatch lets through, the entry code's handlers installed,
// signals from outside forwarded to the program, and an address space for the program
// placed apart from golos's memory. Run and buildChild share it.
func (p *Process) enterKernel() error {
	var err error
	p.textStart, p.textEnd, err = selfText()
	if err != nil {
		return err
	}
	if p.opts.NoFSGSBase {
		entry.AvoidFSGSBase()
	}
	if err := entry.Install(p.textStart, p.textEnd); err != nil {
		return err
	}
	go p.forwardHostSignals(p.hostWake()) // signals sent to golos from outside go to the application
	p.mm.area = loader.NewArea(uint64(p.textStart))
	return nil
}

// openOwnFiles opens the descriptors golos keeps for itself while the program runs
// (/proc/self/mem for the rewriter, /proc/self/pagemap for fork) and tells the entry code
// which syscalls a rewritten site may make itself: none when a thread has a seccomp mode.
func (p *Process) openOwnFiles(seccompMode int32) error {
	if !p.opts.NoRewrite {
		fd, err := p.mm.rw.openMem()
		if err != nil {
			return err
		}
		p.files.own(fd)
	}
	p.mm.pagemap = openPagemap()
	if p.mm.pagemap >= 0 {
		p.files.own(p.mm.pagemap)
	}
	p.seccompUsed.Store(seccompMode != 0)
	p.setPlainSyscalls()
	return nil
}

// base15 is the last element of a path cut to the 15 bytes of a task's comm.
func base15(p string) string {
	b := filepath.Base(p)
	if len(b) > 15 {
		b = b[:15]
	}
	return b
}

// note prints one line on golos's stderr.
func (p *Process) note(format string, args ...any) {
	fmt.Fprintf(p.opts.Stderr, "golos: "+format+"\n", args...)
}

// syscallName names syscall nr for messages.
func syscallName(nr uint64) string {
	if nr < uint64(len(syscalls)) && syscalls[nr].name != "" {
		return syscalls[nr].name
	}
	return fmt.Sprintf("syscall_%d", nr)
}
