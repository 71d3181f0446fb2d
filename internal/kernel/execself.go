package kernel

import (
	"golang.org/x/sys/unix"

	"golos/internal/abi"
	"golos/internal/entry"
	"golos/internal/loader"
	"golos/internal/vfs"
)

// An execve(2) of a process with one thread, its leader, runs the new program in the same
// golos: its runtime is started already, and a new golos would cost as much again as the
// program's own start (each command of a shell's loop is a fork and an execve). The
// program's memory, its rewritten sites and the descriptors with FD_CLOEXEC go; what
// execve keeps stays as it is (pid, descriptors, working directory, limits, the signal
// mask, ignored and pending signals). Other cases (threads, --stats, whose counts belong
// to one program) start a new golos as before.

// execInPlace replaces the program with path, as execve does from its point of no return;
// it reports false, having changed nothing, when the process is not one it can do so for.
// path and argv are the program's after its "#!" interpreters (interpreters).
// A failure after the old program is gone ends the process with SIGSEGV, as Linux's does
// (fs/exec.c: "force_fatal_sig(SIGSEGV)" past the point of no return).
func (t *Thread) execInPlace(path, comm string, argv, envp []string) bool {
	p := t.p
	if p.opts.Stats || p.stress || t.tid != selfPid {
		return false
	}
	p.threads.mu.Lock()
	alone := len(p.threads.byTid) == 1 && p.threads.byTid[t.tid] == t
	p.threads.mu.Unlock()
	if !alone {
		return false
	}
	exePath, exeGuestPath, err := p.exePaths(path)
	if err != nil {
		return false
	}
	p.vforkShare()
	if p.vforkConn > 0 {
		// The parent of a vfork child goes on once the child's end is closed.
		unix.Close(p.vforkConn)
		p.dropOwnFD(p.vforkConn)
		p.vforkConn = 0
		p.stopTrackingWrites()
	}
	p.closeLazy() // the memory the holder has is replaced
	p.closeOnExec()
	t.endRseq()
	t.exitRobustList()
	t.clearChildTid = 0
	p.resetSignalsForExec(t)
	p.mm.drop()
	p.dropShared()

	p.mm.area = loader.NewArea(uint64(p.textStart)) // a new address space, placed anew
	img, err := loader.Load(path, p.opener, p.mm.area)
	if err != nil {
		p.note("execve %s: %v", path, err)
		t.killedBy(unix.SIGSEGV)
	}
	aux := loader.HostAux()
	if parts, err := p.vdsoParts(); err == nil {
		for _, m := range parts {
			if m.Path == "[vdso]" {
				aux[loader.AT_SYSINFO_EHDR] = m.Lo // where it is now (a forked child's golos moved it)
			}
		}
	}
	stack, err := loader.NewStack(img, argv, envp, path, aux, p.mm.area)
	if err != nil {
		p.note("execve %s: %v", path, err)
		t.killedBy(unix.SIGSEGV)
	}
	p.mm.takeProgram(img, stack)
	p.mm.exePath, p.mm.exeGuestPath = exePath, exeGuestPath
	p.publish() // for /proc/<pid> in the other processes of the tree
	setProcessName(comm)

	// The new program starts with the registers of a new process (zero but for its
	// stack pointer and entry point), no FS base, no GS of its own and the initial
	// extended state.
	t.setFS(0)
	entry.ResetContext(t.ctx)
	t.ctx.Regs = entry.Regs{RSP: stack.SP, RIP: img.Entry, RFLAGS: 0x202}
	t.regsSet = true
	t.pendingDue()
	if img.GoRuntime {
		p.expectThreads()
	}
	return true
}

// exePaths are what /proc/self/exe shows of the program at path: the host's file and the
// guest's name, symlinks resolved.
func (p *Process) exePaths(path string) (host, guest string, err error) {
	if p.fsctx.root == nil {
		fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return "", "", err
		}
		defer unix.Close(fd)
		host, err = vfs.HostFDPath(fd)
		return host, host, err
	}
	fd, err := p.fsctx.root.Open(vfs.Abs(p.cwd(), path), unix.O_PATH, 0)
	if err != nil {
		return "", "", err
	}
	defer unix.Close(fd)
	if guest, err = p.fsctx.root.FDPath(fd); err != nil {
		return "", "", err
	}
	host, err = vfs.HostFDPath(fd)
	return host, guest, err
}

// closeOnExec closes the program's descriptors that have FD_CLOEXEC, as execve does.
func (p *Process) closeOnExec() {
	for _, fd := range p.cloexecFDs() {
		p.unwatchFD(fd)
		unix.Close(fd)
	}
}

// resetSignalsForExec: handled signals go back to their default action, ignored ones
// stay ignored, the mask and pending signals stay, the alternate stack goes (execve(2),
// sigaltstack(2)).
func (p *Process) resetSignalsForExec(t *Thread) {
	p.sighand.mu.Lock()
	defer p.sighand.mu.Unlock()
	p.sighand.resetForExec()
	t.altstack = abi.StackT{Flags: abi.SS_DISABLE}
	t.restoreMask = nil
}

// resetForExec gives each handled signal its default action back and keeps the ignored
// ones ignored (Linux's flush_signal_handlers). Caller holds h.mu.
func (h *sigHandlers) resetForExec() {
	for sig := range h.actions {
		if h.actions[sig].Handler != abi.SIG_IGN {
			h.actions[sig] = abi.Sigaction{}
		} else {
			h.actions[sig].Flags, h.actions[sig].Mask, h.actions[sig].Restorer = 0, 0, 0
		}
	}
}

// drop unmaps all of the program's memory and the rewriter's stub pages, and forgets its
// rewritten sites: what is left is an address space with nothing of the program's in it,
// as Linux's exec_mmap leaves the old mm.
func (m *addressSpace) drop() {
	m.mu.Lock()
	m.syncStack()
	for _, r := range m.owned.intersect(0, userEnd) {
		unix.RawSyscall(unix.SYS_MUNMAP, uintptr(r[0]), uintptr(r[1]-r[0]), 0)
	}
	m.owned, m.data, m.foreign = ranges{}, ranges{}, ranges{}
	m.stack, m.startStack = [2]uint64{}, 0
	m.brkStart, m.brkCur, m.brkMapped = 0, 0, 0
	m.mu.Unlock()
	w := &m.rw
	w.mu.Lock()
	for _, pg := range w.pages {
		unix.RawSyscall(unix.SYS_MUNMAP, uintptr(pg.addr), pageSize, 0)
		unix.RawSyscall(unix.SYS_MUNMAP, uintptr(pg.alias), pageSize, 0)
	}
	w.pages = nil
	w.pagesChanged()
	w.code = ranges{}
	w.mu.Unlock()
	w.tried.Clear()
	w.patched.Clear()
	w.once.Clear()
}

// dropOwnFD forgets fd, one of golos's own descriptors that golos has closed: its number
// is the program's again.
func (p *Process) dropOwnFD(fd int) {
	kept := p.files.ownFDs[:0]
	for _, o := range p.files.ownFDs {
		if o != fd {
			kept = append(kept, o)
		}
	}
	p.files.ownFDs = kept
	p.releaseGoFD(fd)
	p.files.setSelectSlack()
	still := false
	for _, o := range kept {
		still = still || o&0xffff == fd&0xffff
	}
	if !still {
		entry.OwnFDs[fd&0xffff] = 0
	}
}
