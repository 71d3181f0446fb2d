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
//   - p.rw.mu: the rewriter's code ranges and stub pages; held across one rewrite.
//   - p.forwardMu: held while signals from outside are taken and queued (forwardTaken).
//   - p.kicks.mu: the kicked threads being watched (kickWatch).
//   - p.sig.mu: dispositions and pending signals, the process's and each thread's, and
//     each thread's masks (signalState, Thread).
//   - p.threads.mu: the set of live threads and the spare OS threads (threads).
//   - p.cwdMu, p.vdsoMu, p.nofileMu, p.noteMu, p.kids.mu: the working directory, the
//     vDSO's parts, the application's RLIMIT_NOFILE, the notes already printed, the
//     clone children (wait.go).
//   - a dirWatch's mu: one watched directory's listing (dirs.go).
//   - stopMu (package-level): one stop of the process at a time (stopBy); taken with no
//     other lock held.
//
// When one is taken with another held, it is in this order (an arrow: "before"):
//
//	p.forkMu → p.mm.mu → p.rw.mu → p.cwdMu, p.vdsoMu, p.sig.mu (fork: forkChild, sendProcess, forkState)
//	p.mm.mu → p.rw.mu (a mapping's change adds or removes code: rw.addCode, rw.removeCode)
//	p.forwardMu → p.kids.mu (forward → childExitSignal)
//	p.forkMu → p.kids.mu (forkChild)
//	p.mm.mu → p.nofileMu (a mapping that grows the memory checks RLIMIT_AS, RLIMIT_DATA: overLimit)
//	p.forwardMu → p.sig.mu → p.threads.mu (forwardTaken → sendProcess, sendThread)
//	p.forwardMu → p.kicks.mu → p.threads.mu (forwardTaken → signalThread; rekickLoop → p.thread)
//	p.sig.mu → p.threads.mu (rt_sigaction, retargetShared, flushStopCont, sendProcess, blockedByAll)
//
// p.threads.mu, p.cwdMu, p.vdsoMu, p.nofileMu, p.noteMu, p.kids.mu and a dirWatch's mu are leaves:
// nothing is locked while one is held. A thread's own fields that no lock names are
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
	"sync"
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
	NoRewrite    bool        // leave every syscall site to Syscall User Dispatch
	Stats        bool        // per-syscall counts and time in golos, printed at exit
	NoFSGSBase   bool        // switch the application's GS with arch_prctl even where the CPU has FSGSBASE

	HostFDs []int        // golos's own descriptors, kept from the application
	Nofile  *unix.Rlimit // the RLIMIT_NOFILE the application sees, if not the host's
	// RLIMIT_AS and RLIMIT_DATA once the program has set them (proc.go, memLimit): golos
	// applies them to the program's memory, never to its own.
	AS, Data *unix.Rlimit

	// What the program keeps across execve(2) from the program it replaces, given by the
	// golos that made the execve (hidden flags of golos run; never rendered by Flags):
	// its signal mask, and the signals it ignored, which stay ignored (signal(7)).
	SigMask, SigIgnored uint64
	SigPending          uint64 // signals pending across execve (their siginfo is not kept)
	Seccomp             []byte // the calling thread's seccomp mode and filters (seccomp.go, encodeSeccomp)

	// Pid1: the program is the init of its pid namespace, as a container's first process
	// is (golos-oci): a signal whose action is the default is not delivered to it
	// (pid_namespaces(7); kernel/signal.c, sig_task_ignored with SIGNAL_UNKILLABLE), but
	// for the faults golos forces and SIGKILL and SIGSTOP, which the host acts on. It
	// stays across execve; a fork's child is not init.
	Pid1 bool
}

// Process is one application process: its memory map, its signal dispositions, its view
// of files and the threads that run it.
type Process struct {
	// Fields without a lock named are set before the first thread runs (Run,
	// buildChild) and changed, if ever, only by an execve in place (execInPlace), which
	// golos makes only when the process has one thread left.
	opts         Options            // *opts.Nofile: nofileMu
	exePath      string             // the program on the host (what opening /proc/self/exe opens)
	exeGuestPath string             // the program as the application names it (/proc/self/exe)
	mm           addressSpace       // mm.mu
	sig          signalState        // sig.mu
	kicks        kickWatch          // kicked threads that have not yet looked at their signals (kicks.mu)
	forwardMu    mutex[forwardLock] // held while signals from outside are taken and queued (forwardTaken)
	forwarding   atomic.Int32       // the forwarder goroutine is taking and queuing signals
	seccompUsed  atomic.Bool        // a thread has a seccomp mode: every syscall goes to the handler (seccomp.go)
	fs           *vfs.FS            // the confined root, or nil for the host's files
	ownFDs       []int              // golos's own descriptors (the runtime's poller's, the root's)
	fdDirs       sync.Map           // watched descriptors: *procDir, *dirWatch (sysGetdents64), *signalfd (sysRead)

	nofileMu mutex[nofileLock]
	forkMu   mutex[forkLock] // one new process at a time (fork.go)
	kids     cloneKids       // children with an exit signal other than SIGCHLD (wait.go); kids.mu
	vdsoMu   mutex[vdsoLock]
	vdso     []forkMapping // the vDSO's parts (vdsoParts); vdsoMu
	pagemap  int           // /proc/self/pagemap, open from the start (fork.go), or -1
	// A vfork child's socket to its parent's golos and the part of the parent's stack it
	// gives back (vforkShare); vforkConn is 0 otherwise.
	vforkConn  int
	vforkStack [2]uint64

	cwdMu   mutex[cwdLock]
	cwdPath string // the working directory as a guest path (with a root); cwdMu

	argv, envp []string
	auxv       []byte
	stack      [2]uint64 // the main thread's stack

	textStart, textEnd uintptr // golos's own text: the Syscall User Dispatch allowed region

	noteMu        mutex[noteLock]
	noted         map[uint64]bool // unimplemented syscalls already named on stderr; noteMu
	notedFeatures map[string]bool // noteMu

	threads threads // threads.mu
	stress  bool    // stressEnv was set

	rw    rewriter // syscall sites rewritten to enter golos directly (rw.mu)
	stats *stats   // with --stats

	startMask uint64 // the host signal mask golos's process started with (inheritSignals)
}

// ExitError is a failure to start the program with its own exit status: 127 for a
// program that is not there, 126 for one that cannot be executed (as a shell reports).
type ExitError struct {
	Status int
	Err    error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// maxInterpreterDepth is how many #! interpreters Linux follows (BINPRM_MAX_RECURSION).
const maxInterpreterDepth = 4

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
	p := &Process{opts: opts, noted: map[uint64]bool{}, ownFDs: opts.HostFDs}
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
	if n := opts.Nofile; n != nil {
		// The host's soft limit back to the application's (the Go runtime raised it),
		// with room for golos's own descriptors, so that the application runs out where
		// it would natively.
		p.setHostNofile(*n)
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
	if p.fs != nil {
		fd, err := p.fs.Open(vfs.Abs(p.cwd(), path), unix.O_PATH, 0)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", program, err)
		}
		p.exeGuestPath, err = p.fs.FDPath(fd)
		if err == nil {
			p.exePath, err = vfs.HostFDPath(fd)
		}
		unix.Close(fd)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", program, err)
		}
	} else {
		abs, err := filepath.Abs(path)
		if err == nil {
			abs, err = filepath.EvalSymlinks(abs)
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", program, err)
		}
		p.exePath, p.exeGuestPath = abs, abs
	}
	p.textStart, p.textEnd, err = selfText()
	if err != nil {
		return 0, err
	}
	if p.opts.NoFSGSBase {
		entry.AvoidFSGSBase()
	}
	if err := entry.Install(p.textStart, p.textEnd); err != nil {
		return 0, err
	}
	go p.forwardHostSignals() // signals sent to golos from outside go to the application
	p.mm.area = loader.NewArea(uint64(p.textStart))
	img, err := loader.Load(path, p.opener, p.mm.area)
	if err != nil {
		return 0, err
	}
	stack, err := loader.NewStack(img, argv, envp, path, loader.HostAux(), p.mm.area)
	if err != nil {
		return 0, fmt.Errorf("run %s: %w", path, err)
	}
	for _, r := range img.Mapped {
		p.mm.owned.add(r[0], r[1])
	}
	p.mm.owned.add(stack.Reserved[0], stack.Reserved[1])
	p.mm.initBrk(img.BrkStart)
	if !opts.NoRewrite {
		fd, err := p.rw.openMem()
		if err != nil {
			return 0, err
		}
		p.ownFDs = append(p.ownFDs, fd)
	}
	p.pagemap = openPagemap()
	if p.pagemap >= 0 {
		p.ownFDs = append(p.ownFDs, p.pagemap)
	}
	seccompMode, seccomp, ok := decodeSeccomp(opts.Seccomp)
	if !ok {
		return 0, errors.New("the seccomp filters given are malformed")
	}
	p.seccompUsed.Store(seccompMode != 0)
	p.setPlainSyscalls()
	for _, c := range img.Code {
		p.rw.addCode(c[0], c[1])
	}
	p.argv, p.envp, p.auxv, p.stack = argv, envp, stack.Auxv, stack.Mapped
	p.publish() // for /proc/<pid> in the other processes of the tree
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
