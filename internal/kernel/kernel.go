// Package kernel is golos's syscall layer: it loads a program, runs its threads through
// package entry, and answers their syscalls, passing most of them through to the host
// and virtualising what golos must keep control of (threads, memory map, signals, exit).
package kernel

//go:generate ./gen_names.sh

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"golos/internal/entry"
	"golos/internal/loader"
)

// Options are the user's choices for one run.
type Options struct {
	Quiet         bool      // no notes on unimplemented syscalls
	Debug         bool      // registers and faulting address when the program dies
	DebugSyscalls bool      // a line per syscall
	Stderr        io.Writer // where golos's own notes go
}

// Process is one application process: its memory map, its signal dispositions and the
// threads that run it.
type Process struct {
	opts    Options
	exePath string // what /proc/self/exe names
	mm      addressSpace
	sig     signalState

	textStart, textEnd uintptr // golos's own text: the Syscall User Dispatch allowed region

	noteMu        sync.Mutex
	noted         map[uint64]bool // unimplemented syscalls already named on stderr
	notedFeatures map[string]bool

	threads threads
	stress  bool // stressEnv was set
}

// ExitError is a failure of golos itself, before or around the program; the CLI prints it
// and exits with Status.
type ExitError struct {
	Status int
	Err    error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Run loads the program at path and runs it with argv and envp on the calling goroutine,
// which it locks to its OS thread. It returns the exit status the program's parent should
// see (128+N for a death by signal N), or an error when golos could not run it.
func Run(path string, argv, envp []string, opts Options) (int, error) {
	runtime.LockOSThread()
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return 0, fmt.Errorf("run %s: %w", path, err)
	}
	p := &Process{opts: opts, exePath: abs, noted: map[uint64]bool{}}
	p.textStart, p.textEnd, err = selfText()
	if err != nil {
		return 0, err
	}
	// Host signals for the application first: entry.Install puts its handler in front
	// of the ones signal.Notify has the Go runtime install.
	p.forwardHostSignals()
	if err := entry.Install(p.textStart, p.textEnd); err != nil {
		return 0, err
	}
	img, err := loader.Load(path, loader.HostOpener)
	if err != nil {
		return 0, err
	}
	stack, err := loader.NewStack(img, argv, envp, path, loader.HostAux())
	if err != nil {
		return 0, fmt.Errorf("run %s: %w", path, err)
	}
	for _, r := range img.Mapped {
		p.mm.owned.add(r[0], r[1])
	}
	p.mm.owned.add(stack.Mapped[0], stack.Mapped[1])
	p.mm.initBrk(img.BrkStart)

	t, err := p.newThread()
	if err != nil {
		return 0, err
	}
	t.ctx.Regs.RSP = stack.SP
	t.ctx.Regs.RIP = img.Entry
	t.ctx.Regs.RFLAGS = 0x202
	p.threads.byTid = map[int]*Thread{}
	p.threads.main = t
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

// note prints one line on golos's stderr.
func (p *Process) note(format string, args ...any) {
	fmt.Fprintf(p.opts.Stderr, "golos: "+format+"\n", args...)
}

// syscallName names syscall nr for messages.
func syscallName(nr uint64) string {
	if n, ok := syscallNames[nr]; ok {
		return n
	}
	return fmt.Sprintf("syscall_%d", nr)
}
