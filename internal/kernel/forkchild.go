package kernel

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
	"golos/internal/entry"
)

// VDSOPause stops the Go runtime of this golos from calling into its vDSO; the function it
// returns lets it call again, the vDSO moved by delta bytes. It returns nil when golos's
// entry has moved the vDSO to the parent's place already, before the runtime started.
// (Package main reaches the runtime's variables and has the entry; see cmd/golos.)
type VDSOPause func() (resume func(delta int64))

// RunForked is the child's side of fork (fork.go): it receives the process from the
// parent's golos over conn and runs its one thread, returning as Run does.
func RunForked(conn int, vdsoAt uint64, opts Options, pause VDSOPause) (int, error) {
	runtime.LockOSThread()
	debug.SetMaxThreads(entry.MaxThreads + 1024)
	forkedNoExec.Store(true) // its parent may still move it to a process group (setpgid.go)
	unix.CloseOnExec(conn)   // open until the child execs or ends: vfork's parent waits for that
	// The runtime stops calling into its vDSO now, long before it is moved (moveVDSO):
	// by then its threads have most likely been seen outside it.
	resume := pause()
	// The vDSO goes to the parent's place (vdsoAt, given on the command line) while the
	// rest of the child is made: the move waits for the runtime's threads to leave it.
	// It starts once the program's descriptors are in place: its own opens would
	// otherwise take numbers that are the program's (dup3 over a descriptor being
	// installed fails with EBUSY).
	moved := make(chan vdsoMove, 1)
	startMove := func() {
		go func() {
			runtime.LockOSThread() // waitOutside tells its own thread from the others
			parts, err := moveVDSO(vdsoAt, resume)
			moved <- vdsoMove{parts: parts, err: err}
		}()
	}
	if resume == nil {
		// In place: no thread to wait for, nor one to start for the move.
		startMove = func() { moved <- vdsoMove{inPlace: true} }
	}
	st, err := receiveState(conn)
	if err != nil {
		return 0, err
	}
	p, t, err := buildChild(conn, st, opts, startMove, moved)
	if err != nil {
		writeMsg(conn, []byte(err.Error()))
		return 0, err
	}
	failed := 0
	t.start(func(c *Thread) unix.Errno {
		// The thread's FS, as the parent's was (or CLONE_SETTLS's); its tid where
		// CLONE_CHILD_SETTID asks; its rseq area registered again with the host.
		c.setFS(st.Thread.FS)
		if st.VforkWrites {
			p.trackWrites(st.Maps) // first: the stores below are the parent's too on Linux
		}
		if a := st.Thread.SetChildTid; a != 0 {
			setupTids(abi.CloneArgs{Flags: unix.CLONE_CHILD_SETTID, ChildTid: a}, c.tid)
		}
		if r := st.Thread.Rseq; r[0] != 0 {
			if passthroughRaw(unix.SYS_RSEQ, r[0], r[1], 0, r[2], 0, 0) == 0 {
				c.rseq = rseqArea{addr: r[0], length: r[1], sig: r[2]}
			}
		}
		return 0
	}, func(tid int) {
		if tid < 0 {
			failed = 125
			writeMsg(conn, []byte(fmt.Sprintf("the child's thread: %v", unix.Errno(-tid))))
			return
		}
		writeMsg(conn, nil)
		p.watchVforkParent(conn) // when the parent serves the memory (vforklazy_unsafe.go)
		if lazyActive() {
			p.files.own(conn)
			p.watchParent(conn) // the parent's golos ends: the rest of the memory at once
		} else if p.vforkConn == 0 {
			unix.Close(conn) // only a vfork child's parent waits for its end to close
		}
	})
	if failed != 0 {
		return failed, nil
	}
	select {}
}

// receiveState reads the parent's forkState.
func receiveState(conn int) (*forkState, error) {
	b, err := readMsg(conn)
	if err != nil {
		return nil, err
	}
	st, err := decodeForkState(b)
	if err != nil {
		return nil, fmt.Errorf("decode the process: %w", err)
	}
	return st, nil
}

// buildChild makes this golos the child: descriptors, memory, then the Process and its
// one thread, whose start tells the parent it is ready.
func buildChild(conn int, st *forkState, own Options, startMove func(), moved <-chan vdsoMove) (*Process, *Thread, error) {
	sent, err := recvFDs(conn, len(st.CloexecFDs)+st.SharedFDs)
	if err != nil {
		return nil, nil, err
	}
	seccompMode, seccomp, ok := decodeSeccomp(st.Thread.Seccomp)
	if !ok {
		return nil, nil, errors.New("the thread's seccomp filters are malformed")
	}
	shared, err := placeFDs(st.CloexecFDs, sent)
	if err != nil {
		return nil, nil, err
	}
	if err := ownStderrAfterStart(st, &own); err != nil {
		return nil, nil, err
	}
	startMove()
	if err := mapRegions(st.Maps, shared); err != nil {
		return nil, nil, err
	}
	mapped := []byte(nil) // the parent copies the private anonymous memory too
	if st.Lazy {
		holder, err := recvHolder(conn) // the parent made it meanwhile
		if err != nil {
			return nil, nil, err
		}
		if holder >= 0 && setupLazy(st.Maps, holder) {
			mapped = []byte(lazyReady)
		}
	}
	var pages []stubPage
	for _, s := range st.Stubs {
		alias, err := mapStubPageAt(s.Addr, s.Data)
		if err != nil {
			return nil, nil, err
		}
		pages = append(pages, stubPage{addr: s.Addr, alias: alias, used: s.Used})
	}
	if st.VforkLazy && setupVforkLazy(conn, st.Maps) {
		// Sent with its userfaultfd: the parent serves those pages from now on.
	} else if err := writeMsg(conn, mapped); err != nil { // mapped: the parent copies the memory
		return nil, nil, err
	}
	// While the parent copies the memory, the process is made around it: nothing of
	// this reads the program's memory, and the copy is the longer part of a small
	// process's fork (about 0.3-0.5 ms for a shell's).
	if m := <-moved; m.err != nil {
		return nil, nil, m.err
	} else if !m.inPlace && !sameParts(m.parts, st.VDSO) {
		return nil, nil, fmt.Errorf("the vDSO: the parent's is laid out otherwise than the child's")
	}
	opts := st.Opts
	opts.Stderr, opts.HostFDs = own.Stderr, own.HostFDs
	opts.Pid1 = false // a child is not its namespace's init
	if opts.Root != "" || opts.Chroot != "" {
		opts.Workdir = st.Cwd
	}
	p := newProcess(opts)
	p.mm.vdso = st.VDSO
	if opts.Stats {
		p.stats = &stats{}
	}
	if err := p.setupFiles(); err != nil {
		return nil, nil, err
	}
	p.mm.exePath, p.mm.exeGuestPath = st.ExePath, st.ExeGuestPath
	if err := p.enterKernel(); err != nil { // the area: for the child's own new mappings
		return nil, nil, err
	}
	if err := p.holdForkShared(st.Maps, shared); err != nil { // for the child's own forks
		return nil, nil, err
	}
	for _, m := range st.Maps {
		p.mm.forkAdvised = p.mm.forkAdvised || m.Wipe
		p.mm.owned.add(m.Lo, m.Hi)
		if !m.Shared && m.Prot&unix.PROT_WRITE != 0 {
			p.mm.data.add(m.Lo, m.Hi)
		}
	}
	p.mm.brkStart, p.mm.brkCur, p.mm.brkMapped = st.BrkStart, st.BrkCur, st.BrkMapped
	// A child's peak starts at its size, as Linux's dup_mm sets hiwater_vm (kernel/fork.c).
	p.mm.peak = p.mm.owned.size()
	p.mm.layout = st.Layout
	if err := p.openOwnFiles(seccompMode); err != nil {
		return nil, nil, err
	}
	for _, c := range st.Code {
		p.mm.rw.addCode(c[0], c[1])
	}
	knownSites.load(st.Sites)
	p.mm.rw.pages = pages
	p.mm.rw.pagesChanged()
	p.mm.args, p.mm.env, p.mm.auxv, p.mm.stack = st.Args, st.Env, st.Auxv, st.Stack
	p.mm.startStack = st.StartStack
	ownUTS.Store(st.OwnUTS)
	// The program's stack limit, which this golos was started above (execStackRoom).
	var stack unix.Rlimit
	if st.StackSoft != 0 && unix.Getrlimit(unix.RLIMIT_STACK, &stack) == nil && stack.Cur != st.StackSoft {
		stack.Cur = st.StackSoft
		unix.Setrlimit(unix.RLIMIT_STACK, &stack)
	}
	p.ownLazy()
	if err := p.recvVforkHolder(conn); err != nil { // sent before the copy's end
		return nil, nil, err
	}
	if err := readReply(conn); err != nil {
		return nil, nil, err
	}
	for _, m := range st.Maps {
		if !m.Shared && m.Prot != unix.PROT_READ|unix.PROT_WRITE {
			if _, _, e := unix.RawSyscall(unix.SYS_MPROTECT, uintptr(m.Lo), uintptr(m.Hi-m.Lo), uintptr(m.Prot)); e != 0 {
				return nil, nil, fmt.Errorf("protect %#x-%#x: %w", m.Lo, m.Hi, e)
			}
		}
	}
	p.publish() // for /proc/<pid> in the other processes of the tree
	if st.VforkStack[1] != 0 {
		// Open until the child execs or ends, and golos's own till then.
		p.vforkConn, p.vforkStack = conn, st.VforkStack
		p.files.own(conn)
		// As the child got it: what it gives back is what it changed (vforkChanges).
		p.vforkAtStart = make([]byte, st.VforkStack[1]-st.VforkStack[0])
		if copyIn(st.VforkStack[0], p.vforkAtStart) != 0 {
			p.vforkStack = [2]uint64{}
		}
	}
	for i, a := range st.Actions {
		p.sighand.actions[i] = abi.Sigaction{Handler: a[0], Flags: a[1], Restorer: a[2], Mask: a[3]}
		if i > 0 {
			mirrorOnHost(i, p.sighand.actions[i])
		}
	}
	if err := p.inheritSignalfds(st.Signalfds); err != nil {
		return nil, nil, err
	}
	if n := opts.Nofile; n != nil {
		// Once golos's own descriptors are open (publish's socket the last), as in Run.
		p.setHostNofile(*n)
	}
	setProcessName(st.Comm)

	t, err := p.newThread()
	if err != nil {
		return nil, nil, err
	}
	th := &st.Thread
	t.ctx.Regs = th.Regs
	r := &t.ctx.Regs
	r.RAX = 0 // fork's result in the child
	r.RCX, r.R11 = r.RIP, r.RFLAGS
	copy(t.ctx.Xsave(), th.Xsave)
	if th.HasAppGS {
		t.ctx.SetAppGS(th.AppGS)
	}
	t.sigmask = th.Sigmask
	t.altstack = abi.StackT{SP: th.Altstack[0], Flags: int32(th.Altstack[1]), Size: th.Altstack[2]}
	t.clearChildTid = th.ClearChildTid
	t.seccompMode.Store(seccompMode)
	t.seccomp.Store(seccomp)
	p.threads.byTid = map[int]*Thread{}
	p.threads.main = t
	closeStdClosedAtStart() // 0 or 1 the parent's program had closed: golos's ForkExec closed them too
	return p, t, nil
}

// ownStderrAfterStart gives the program its stderr in place of the start-up log this golos
// was started with at 2 (startLog), and golos's own stderr (own.Stderr, a copy of 2 made
// at its start) becomes the program's, as the parent's is.
func ownStderrAfterStart(st *forkState, own *Options) error {
	if st.InheritStderr {
		if _, err := unix.FcntlInt(2, unix.F_SETFD, 0); err != nil {
			return fmt.Errorf("place descriptor 2: %w", err)
		}
	} else if !slices.Contains(st.CloexecFDs, 2) {
		unix.Close(2) // closed in the parent
	}
	f, ok := own.Stderr.(*os.File)
	if !ok {
		return nil
	}
	if unix.Dup3(2, int(f.Fd()), unix.O_CLOEXEC) != nil {
		// 2 is closed: what golos has to say is lost, as the parent's would be.
		own.Stderr = io.Discard
	}
	return nil
}

// placeFDs puts the descriptors received at the numbers they had in the parent, with
// FD_CLOEXEC; the rest of what was sent (shared mappings' files) is returned.
func placeFDs(nums, sent []int) ([]int, error) {
	// First all of them out of the way, at free numbers none of them is to take: a
	// descriptor received at a number another one is to take would be closed by that
	// dup3. Low ones, where the table has room: golos's own are at its top, and above
	// that the kernel would have to grow it, which in a process with threads waits for
	// an RCU grace period (fs/file.c, expand_fdtable: synchronize_rcu; 16 ms measured
	// here), as it did when they went above vfs.HighFD.
	target := make(map[int]bool, len(nums))
	for _, n := range nums {
		target[n] = true
	}
	var hold []int // free numbers that are targets, taken meanwhile
	release := func() {
		for _, fd := range hold {
			unix.Close(fd)
		}
		hold = nil
	}
	defer release()
	high := make([]int, len(sent))
	for i, fd := range sent {
		for {
			h, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
			if err != nil {
				return nil, fmt.Errorf("place a descriptor: %w", err)
			}
			if !target[h] {
				high[i] = h
				break
			}
			hold = append(hold, h)
		}
		if !target[fd] {
			unix.Close(fd)
		} else {
			hold = append(hold, fd)
		}
	}
	release() // nothing else opens descriptors meanwhile (startMove comes after)
	for i, n := range nums {
		if err := unix.Dup3(high[i], n, unix.O_CLOEXEC); err != nil {
			return nil, fmt.Errorf("place descriptor %d: %w", n, err)
		}
		unix.Close(high[i])
	}
	return high[len(nums):], nil
}

// mapRegions maps each region at its place, writable until the parent has copied the
// contents (mapRegions' caller then gives each its protection).
func mapRegions(maps []forkMapping, shared []int) error {
	// A file is opened once for its regions in a row (a library has four or five: its
	// headers, code, read-only data, data), not once a region, and closed when the next
	// region is another file's (the mappings keep it): under a low RLIMIT_NOFILE
	// (prlimit --nofile=20) a program's dozens of mapped files, all open at once, left
	// the child EMFILE.
	type fileKey struct {
		path     string
		dev, ino uint64
		write    bool
	}
	var last fileKey
	lastFD := -1
	defer func() {
		if lastFD >= 0 {
			unix.Close(lastFD)
		}
	}()
	open := func(m forkMapping, write bool) (int, error) {
		k := fileKey{m.Path, m.Dev, m.Ino, write}
		if lastFD >= 0 && k == last {
			return lastFD, nil
		}
		if lastFD >= 0 {
			unix.Close(lastFD)
			lastFD = -1
		}
		fd, err := openMapped(m, write)
		if err == nil {
			last, lastFD = k, fd
		}
		return fd, err
	}
	for _, m := range maps {
		flags := unix.MAP_FIXED_NOREPLACE
		prot := unix.PROT_READ | unix.PROT_WRITE
		fd := -1
		switch {
		case sysvMapping(m):
			if err := attachSysV(m); err != nil {
				return err
			}
			continue
		case m.Shared:
			flags |= unix.MAP_SHARED
			prot = m.Prot
			if m.SharedFD > 0 {
				fd = shared[m.SharedFD-1]
			} else {
				f, err := open(m, true)
				if err != nil {
					return err
				}
				fd = f
			}
		case m.Path != "":
			flags |= unix.MAP_PRIVATE
			f, err := open(m, false)
			if err != nil {
				return err
			}
			fd = f
		case m.Grows:
			// The main stack: it grows down in the child too (MAP_GROWSDOWN), as
			// dup_mmap copies VM_GROWSDOWN, and is accounted as Linux's is.
			flags |= unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_GROWSDOWN
		default:
			flags |= unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_NORESERVE
		}
		off := m.Offset
		if fd < 0 {
			off = 0
		}
		if _, e := rawMmap(m.Lo, m.Hi-m.Lo, prot, flags, fd, off); e != 0 {
			if e == unix.EEXIST {
				return fmt.Errorf(placeTaken+"map %#x-%#x (%s) in the child: %w", m.Lo, m.Hi, m.Path, e)
			}
			return fmt.Errorf("map %#x-%#x (%s) in the child: %w", m.Lo, m.Hi, m.Path, e)
		}
		if m.Huge {
			unix.RawSyscall(unix.SYS_MADVISE, uintptr(m.Lo), uintptr(m.Hi-m.Lo), unix.MADV_HUGEPAGE)
		}
		if m.Wipe {
			// The child's region keeps the advice, for its own forks (dup_mmap copies
			// vm_flags; only execve clears VM_WIPEONFORK).
			unix.RawSyscall(unix.SYS_MADVISE, uintptr(m.Lo), uintptr(m.Hi-m.Lo), unix.MADV_WIPEONFORK)
		}
	}
	return nil
}

// openMapped opens the file of m again, checking that it is the same file.
func openMapped(m forkMapping, write bool) (int, error) {
	var fd int
	var err error
	if write {
		fd, err = unix.Open(m.Path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	}
	if !write || err != nil {
		fd, err = unix.Open(m.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return -1, fmt.Errorf("open %s to map it in the child: %w", m.Path, err)
	}
	var s unix.Stat_t
	if unix.Fstat(fd, &s) != nil || s.Dev != m.Dev || s.Ino != m.Ino {
		unix.Close(fd)
		return -1, fmt.Errorf("map %s in the child: %w", m.Path, unix.ESTALE)
	}
	return fd, nil
}

// vdsoMove is what moveVDSO did: the vDSO's parts where they are now, or why it failed;
// or that golos's entry put it in its place (VDSOPause).
type vdsoMove struct {
	parts   []forkMapping
	err     error
	inPlace bool
}

// sameParts reports whether the child's vDSO parts lie where the parent's do.
func sameParts(a, b []forkMapping) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Lo != b[i].Lo || a[i].Hi != b[i].Hi {
			return false
		}
	}
	return true
}

// moveVDSO moves this process's vDSO (and the data pages before it) so that it starts at
// to, where the parent has it: the program found it through its auxiliary vector and
// keeps pointers into it. The kernel lets a vDSO be moved with mremap(2), as CRIU does on
// restore; the Go runtime of this golos calls into it too, so it has stopped doing that
// (VDSOPause), and resume lets it call
// again once the vDSO is in its place. It returns the parts where they are now.
func moveVDSO(to uint64, resume func(delta int64)) ([]forkMapping, error) {
	_, own, err := readMaps()
	if err != nil {
		return nil, err
	}
	if len(own) == 0 {
		return nil, fmt.Errorf("the vDSO: this process has none")
	}
	lo, hi := own[0].Lo, own[len(own)-1].Hi
	if lo == to {
		resume(0)
		return own, nil
	}
	orig := lo
	// A thread of the runtime may have read a vDSO address just before the pause: the
	// move waits until every other thread is known to be outside the vDSO.
	waitOutside(lo, hi)
	move := func(at uint64) error {
		if _, e := rawMmap(at, hi-lo, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED_NOREPLACE, -1, 0); e != 0 {
			return fmt.Errorf(placeTaken+"the vDSO's place %#x in the child: %w", at, e)
		}
		for _, m := range own {
			if _, _, e := unix.RawSyscall6(unix.SYS_MREMAP, uintptr(m.Lo), uintptr(m.Hi-m.Lo), uintptr(m.Hi-m.Lo),
				unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, uintptr(at+(m.Lo-lo)), 0); e != 0 {
				return fmt.Errorf("move the vDSO: %w", e)
			}
		}
		// What the placeholder still covers between the parts (nothing, normally).
		for i := range own {
			end := hi
			if i+1 < len(own) {
				end = own[i+1].Lo
			}
			if own[i].Hi < end {
				unix.RawSyscall(unix.SYS_MUNMAP, uintptr(at+own[i].Hi-lo), uintptr(end-own[i].Hi), 0)
			}
		}
		d := at - lo
		for i := range own {
			own[i].Lo += d
			own[i].Hi += d
		}
		lo, hi = at, at+(hi-lo)
		return nil
	}
	var moveErr error
	if to < hi && lo < to+(hi-lo) {
		// The two places overlap: through a free place first.
		tmp, e := rawMmap(0, hi-lo, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, -1, 0)
		if e == 0 {
			unix.RawSyscall(unix.SYS_MUNMAP, uintptr(tmp), uintptr(hi-lo), 0)
			moveErr = move(tmp)
		} else {
			moveErr = fmt.Errorf("move the vDSO: %w", e)
		}
	}
	if moveErr == nil {
		moveErr = move(to)
	}
	if moveErr != nil {
		return nil, moveErr // the runtime keeps making those calls as syscalls
	}
	resume(int64(lo - orig))
	return own, nil
}

// waitOutside returns when no other thread of this process can be inside [lo, hi), the
// vDSO, with an address it read before the runtime's pointers were cleared (which the
// caller did before): each is blocked now at an address outside [lo, hi)
// (/proc/self/task/TID/syscall, proc(5)), or has blocked since this first looked at it
// (its count of voluntary context switches grew: a thread blocks in a syscall, never in
// the vDSO, and after the pause it reads cleared pointers). It gives up after a bound: a
// thread that keeps running Go code that long without a syscall is not about to call
// into the vDSO either.
func waitOutside(lo, hi uint64) {
	self := unix.Gettid()
	deadline := time.Now().Add(50 * time.Millisecond)
	safe := map[int]bool{}
	first := map[int]uint64{} // the count when first seen running
	for time.Now().Before(deadline) {
		left := 0
		for tid, n := range taskSwitches() {
			if tid == self || safe[tid] {
				continue
			}
			before, seen := first[tid]
			if seen && n > before || blockedOutside(tid, lo, hi) {
				safe[tid] = true
				continue
			}
			if !seen {
				first[tid] = n
			}
			left++
		}
		if left == 0 {
			return
		}
		// A plain nanosleep: the runtime's timers would round a sleep this short up to a
		// millisecond.
		unix.Nanosleep(&unix.Timespec{Nsec: 20000}, nil)
	}
}

// taskSwitches is each thread's count of voluntary context switches (proc(5),
// /proc/self/task/TID/status).
func taskSwitches() map[int]uint64 {
	out := map[int]uint64{}
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return out
	}
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/self/task/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		_, rest, ok := strings.Cut(string(b), "\nvoluntary_ctxt_switches:")
		if !ok {
			continue
		}
		line, _, _ := strings.Cut(rest, "\n")
		if n, err := strconv.ParseUint(strings.TrimSpace(line), 10, 64); err == nil {
			out[tid] = n
		}
	}
	return out
}

// blockedOutside reports whether thread tid is blocked in a syscall at an address outside
// [lo, hi) (/proc/self/task/TID/syscall: "running" for a thread that is not blocked).
func blockedOutside(tid int, lo, hi uint64) bool {
	b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/syscall")
	f := strings.Fields(string(b))
	if err != nil || len(f) < 3 || f[0] == "running" {
		return false
	}
	pc, err := strconv.ParseUint(strings.TrimPrefix(f[len(f)-1], "0x"), 16, 64)
	return err == nil && (pc < lo || pc >= hi)
}
