package kernel

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
	"golos/internal/entry"
	"golos/internal/loader"
	"golos/internal/vfs"
)

// loaderOpen opens a host file for the loader.
var loaderOpen = loader.HostOpener

// lookPath finds the program as execvp(3) and a shell would: a name with '/' is a path;
// others are looked up in the PATH of the program's environment (inside the root, if
// there is one). Not found is an ExitError with status 127, not executable 126.
func (p *Process) lookPath(name string, envp []string) (string, error) {
	if name == "" {
		// No file has no name (execve(2) of "": ENOENT; env '' says so, status 127),
		// where PATH's directories followed by "/" would be found, and be directories.
		return "", &ExitError{Status: 127, Err: fmt.Errorf("'': no such file or directory")}
	}
	if strings.Contains(name, "/") {
		return name, p.checkExec(name, name)
	}
	pathEnv := "/usr/local/bin:/usr/bin:/bin"
	for _, kv := range envp {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathEnv = v
		}
	}
	var denied error
	for _, dir := range strings.Split(pathEnv, ":") {
		if dir == "" {
			dir = "."
		}
		cand := dir + "/" + name
		err := p.checkExec(name, cand)
		if err == nil {
			return cand, nil
		}
		var ee *ExitError
		if errors.As(err, &ee) && ee.Status == 126 && denied == nil {
			denied = err
		}
	}
	if denied != nil {
		return "", denied
	}
	return "", &ExitError{Status: 127, Err: fmt.Errorf("%s: command not found", name)}
}

// checkExec says whether path is a file golos can execute.
func (p *Process) checkExec(name, path string) error {
	var st unix.Stat_t
	var err error
	if p.fsctx.root == nil {
		err = unix.Stat(path, &st)
		if err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			err = unix.Access(path, unix.X_OK)
		}
	} else {
		var fd int
		fd, err = p.fsctx.root.Open(vfs.Abs(p.cwd(), path), unix.O_PATH, 0)
		if err == nil {
			err = unix.Fstat(fd, &st)
			if err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
				err = unix.Faccessat2(fd, "", unix.X_OK, unix.AT_EMPTY_PATH)
			}
			unix.Close(fd)
		}
	}
	switch {
	case errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR):
		return &ExitError{Status: 127, Err: fmt.Errorf("%s: no such file or directory", name)}
	case err != nil:
		return &ExitError{Status: 126, Err: fmt.Errorf("%s: %w", name, err)}
	case st.Mode&unix.S_IFMT == unix.S_IFDIR:
		return &ExitError{Status: 126, Err: fmt.Errorf("%s: is a directory%w", name, errnoOnly{unix.EACCES})}
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		// execve(2): EACCES for anything but a regular file (a FIFO, a device, a socket),
		// which golos must not open either: opening a FIFO would wait for a writer.
		return &ExitError{Status: 126, Err: fmt.Errorf("%s: permission denied (not a regular file)%w", name, errnoOnly{unix.EACCES})}
	}
	return nil
}

// interpreters follows "#!" lines as Linux does (fs/binfmt_script.c): the interpreter
// runs with the optional argument from the line and the script's path before the
// script's own arguments, up to maxInterpreterDepth levels.
func (p *Process) interpreters(path string, argv []string) (string, []string, error) {
	for depth := 0; ; depth++ {
		head, err := p.fileHead(path)
		if err != nil {
			return "", nil, err
		}
		l, script, ok, why := parseShebang(head)
		if !script {
			return path, argv, nil
		}
		if !ok || l.interp == "" {
			if why == "" {
				why = "empty #! line"
			}
			// fs/binfmt_script.c gives up on the line (ENOEXEC) and no other format
			// takes the file.
			return "", nil, &ExitError{Status: 126, Err: fmt.Errorf("%s: %s%w", path, why, errnoOnly{unix.ENOEXEC})}
		}
		interp := l.interp
		next := []string{interp}
		if l.hasArg {
			next = append(next, l.arg)
		}
		next = append(next, path)
		argv = append(next, argv[1:]...)
		if err := p.checkExec(interp, interp); err != nil {
			return "", nil, err
		}
		if depth == maxInterpreterDepth {
			// The interpreter would be looked at one level too deep (fs/exec.c,
			// exec_binprm), after this script's handler found it.
			return "", nil, &ExitError{Status: 126, Err: fmt.Errorf("%s: too many levels of #! interpreters%w", path, errnoOnly{unix.ELOOP})}
		}
		path = interp
	}
}

// fileHead returns the first bytes of path Linux looks at to recognise a script
// (BINPRM_BUF_SIZE).
func (p *Process) fileHead(path string) ([]byte, error) {
	fd, err := p.opener(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer unix.Close(fd)
	if err := loader.CheckNoWriters(fd); err != nil {
		// A script open for writing is as busy as a program (fs/exec.c, do_open_execat).
		return nil, &ExitError{Status: 126, Err: fmt.Errorf("%s: %w", path, err)}
	}
	buf := make([]byte, binprmBufSize)
	n, _ := unix.Pread(fd, buf, 0)
	return buf[:max(n, 0)], nil
}

// execve(2) and execveat(2): the program is replaced by a new golos process that runs
// the new program with the same options, which is what execve is to golos (docs/design.md).
// The host's execve keeps the process (its pid, its descriptors without FD_CLOEXEC, its
// working directory) as Linux's does.
func sysExecve(t *Thread) int64 {
	return t.execve(unix.AT_FDCWD, t.arg(0), t.arg(1), t.arg(2), 0)
}

func sysExecveat(t *Thread) int64 {
	return t.execve(int32(t.arg(0)), t.arg(1), t.arg(2), t.arg(3), t.arg(4))
}

func (t *Thread) execve(dirfd int32, pathAddr, argvAddr, envpAddr, flags uint64) int64 {
	name, e := readString(pathAddr, unix.PathMax)
	if e != 0 {
		return -int64(e)
	}
	// A program given by descriptor (execveat(2) with AT_EMPTY_PATH, as fexecve(3) makes
	// it; a path relative to a directory descriptor; /proc/self/fd/N, glibc's and musl's
	// fexecve without execveat) is run by its path: the new golos opens the program after
	// the host's execve has closed the descriptors with FD_CLOEXEC.
	switch {
	case flags&unix.AT_EMPTY_PATH != 0 && name == "":
		if name, e = t.fdExecPath(int(dirfd)); e != 0 {
			return t.execByFDFailed(e)
		}
	case dirfd != unix.AT_FDCWD && !strings.HasPrefix(name, "/"):
		dir, e := t.fdExecPath(int(dirfd))
		if e != 0 {
			return t.execByFDFailed(e)
		}
		name = strings.TrimSuffix(dir, "/") + "/" + name
	case strings.HasPrefix(name, "/proc/"):
		if rest, ok := procRest(cleanProcPath(name)); ok && strings.HasPrefix(rest, "fd/") {
			fd, err := strconv.Atoi(strings.TrimPrefix(rest, "fd/"))
			if err != nil {
				break // not a descriptor: /proc/self/fd/ itself, or garbage (ENOENT below)
			}
			// A descriptor without such a path (a memfd) is left to the new golos, which
			// can open it through /proc/self/fd/N unless it had FD_CLOEXEC.
			if path, e := t.fdExecPath(fd); e == unix.EBADF {
				return -int64(unix.ENOENT) // as the path of a descriptor that is not open
			} else if e == 0 {
				name = path
			}
		}
	}
	room := loader.ArgLimit()
	argv, e := readStrings(argvAddr, &room)
	if e != 0 {
		return -int64(e)
	}
	envp, e := readStrings(envpAddr, &room)
	if e != 0 {
		return -int64(e)
	}
	if name == "" {
		return -int64(unix.ENOENT)
	}
	// Too much to copy is E2BIG before the point of no return, as from Linux; the new
	// stack (loader.NewStack) could only end the process.
	if err := loader.CheckArgs(argv, envp, name); err != nil {
		return -int64(unix.E2BIG)
	}
	// golos's own opens of the program, its interpreter and, in a new golos, its own
	// files, need descriptors the program's RLIMIT_NOFILE may not leave (roomForGolos).
	// The new golos is told the program's limit (execLimitFlags).
	defer t.p.roomForGolos()()
	// The new program's name is the last element of the path as given, a script's own
	// for a script (fs/exec.c, begin_new_exec: __set_task_comm(me, kbasename(bprm->filename))):
	// "exe" for /proc/self/exe, which busybox renames to its applet.
	comm := base15(name)
	if strings.HasPrefix(name, "/proc/") && isProcSelf(cleanProcPath(name), "exe") &&
		(t.p.fsctx.root == nil || t.p.procMounted()) {
		// /proc/self/exe is the program's file, not golos's (a program that runs itself
		// again through it); in a root without /proc there is none, as in a chroot.
		name = t.p.mm.exeGuestPath
	}
	if err := t.p.checkExec(name, name); err != nil {
		var ee *ExitError
		if errors.As(err, &ee) && ee.Status == 127 {
			return -int64(unix.ENOENT)
		}
		return -int64(unix.EACCES)
	}
	// What Linux checks before its point of no return, the program's "#!" interpreters
	// followed: ENOEXEC for a file that is neither a script nor an ELF executable (a shell
	// then runs it as a script of its own), ENOENT for a missing interpreter, ETXTBSY for
	// a file open for writing. golos's checks afterwards (execInPlace's Load, or a new
	// golos's start) could only end the process.
	prog, progArgv, err := t.p.interpreters(name, argv)
	if err == nil {
		err = loader.Check(prog, t.p.opener)
	}
	if err == nil && prog != name {
		// A script's: its interpreter's arguments and path come in too (fs/binfmt_script.c
		// copies them before the point of no return), as the new stack has them.
		err = loader.CheckArgs(progArgv, envp, prog)
	}
	if err != nil {
		return -int64(execErrno(err))
	}
	forkedNoExec.Store(false) // its parent's setpgid of it fails from now on, as on Linux (setpgid.go)
	if t.execInPlace(prog, comm, progArgv, envp) {
		return 0 // the registers are the new program's
	}
	args := []string{golosBinary(), "run"}
	args = append(args, t.p.opts.Flags()...)
	args = append(args, t.execSignalFlags()...)
	if b := encodeSeccomp(t.seccompMode.Load(), t.seccomp.Load()); b != nil {
		args = append(args, "--exec-seccomp", hex.EncodeToString(b))
	}
	args = append(args, t.p.execLimitFlags()...)
	if ownUTS.Load() {
		args = append(args, "--exec-own-uts") // the namespace stays the process's (uts.go)
	}
	if t.p.fsctx.root != nil {
		args = append(args, "--workdir", t.p.cwd())
	}
	argv0 := name
	if len(argv) > 0 {
		argv0 = argv[0]
		argv = argv[1:]
	}
	args = append(args, "--argv0", argv0, "--", name)
	args = append(args, argv...)
	t.p.vforkShare() // a vfork child's writes to its parent's stack, before it is replaced
	// The new golos will not know this one's holders, to reap them (lazyfork_unsafe.go).
	t.p.releaseHolders()
	nsInitExec(true)
	err = unix.Exec(selfExe, args, envp)
	nsInitExec(false)
	return -int64(errnoOf(err))
}

// fdExecPath is the path of the file open at descriptor fd, for an execve that names
// its program by descriptor: the host's /proc/self/fd/N link, when it still leads to
// that file (the same device and inode), as the guest sees it under --root. A descriptor
// that is not open, or golos's own, is EBADF (execveat(2)). A file without such a path
// (deleted, a memfd_create(2) file, outside the root) is ENOSYS.
func (t *Thread) fdExecPath(fd int) (string, unix.Errno) {
	var st, at unix.Stat_t
	if fd < 0 || t.p.ownFD(fd) || unix.Fstat(fd, &st) != nil {
		return "", unix.EBADF
	}
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlink("/proc/self/fd/"+strconv.Itoa(fd), buf)
	host := ""
	if err == nil {
		host = string(buf[:n])
	}
	if !strings.HasPrefix(host, "/") || unix.Stat(host, &at) != nil || at.Dev != st.Dev || at.Ino != st.Ino {
		return "", unix.ENOSYS
	}
	if t.p.fsctx.root == nil {
		return host, 0
	}
	guest, ok := t.p.fsctx.root.Guest(host)
	if !ok {
		return "", unix.ENOSYS
	}
	return guest, 0
}

// execByFDFailed answers an execveat whose descriptor fdExecPath could not turn into a
// path: the new golos, which opens its program by path, cannot run that file, where Linux
// runs it itself. (glibc's and musl's fexecve then try /proc/self/fd/N.)
func (t *Thread) execByFDFailed(e unix.Errno) int64 {
	if e == unix.ENOSYS {
		t.p.unsupported("execveat of a file without a path (deleted, a memfd, outside the root)", "give the program by path")
	}
	return -int64(e)
}

// execSignalFlags are the hidden flags that give the new golos what the new program
// keeps of the caller's signals (execve(2), signal(7)): the calling thread's signal mask,
// and the signals ignored, which stay ignored. Handled signals go back to their default
// action, as everything else in the new golos starts.
func (t *Thread) execSignalFlags() []string {
	hand := t.p.sighand
	shared := &t.p.shared
	hand.mu.Lock()
	mask := t.sigmask
	// Pending signals stay pending (execve(2)); only their numbers reach the new program.
	pending := t.pending | shared.pending
	var ignored uint64
	for sig := 1; sig <= 64; sig++ {
		if hand.actions[sig].Handler == abi.SIG_IGN {
			ignored |= sigBit(sig)
		}
	}
	hand.mu.Unlock()
	var f []string
	if mask != 0 {
		f = append(f, "--exec-sigmask", "0x"+strconv.FormatUint(mask, 16))
	}
	if ignored != 0 {
		f = append(f, "--exec-sigignored", "0x"+strconv.FormatUint(ignored, 16))
	}
	if pending != 0 {
		f = append(f, "--exec-sigpending", "0x"+strconv.FormatUint(pending, 16))
	}
	return f
}

// inheritSignals gives the program's main thread, before it runs, the signal state a
// program keeps across execve(2): from the program that made the execve, when golos ran
// it (Options.SigMask, Options.SigIgnored); from golos's own start otherwise, as far as
// the Go runtime kept it: the mask, but for the signals the runtime unblocks on its threads
// (SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGCHLD and the fault signals among them), and SIGHUP
// and SIGINT ignored (entry.IgnoredAtStart; nohup(1), a shell's background job); the
// other signals it was started with ignored come in Options.SigIgnored (cmd/golos,
// startIgnored: the runtime's own record of them).
func (p *Process) inheritSignals(main *Thread) {
	hand := p.sighand
	shared := &p.shared
	hand.mu.Lock()
	defer hand.mu.Unlock()
	main.sigmask = (p.opts.SigMask | p.startMask) &^ cannotCatch
	ignored := p.opts.SigIgnored | entry.IgnoredAtStart()
	for sig := 1; sig <= 64; sig++ {
		if ignored&sigBit(sig) != 0 && sigBit(sig)&cannotCatch == 0 {
			hand.actions[sig] = abi.Sigaction{Handler: abi.SIG_IGN}
			mirrorOnHost(sig, hand.actions[sig])
		}
		if p.opts.SigPending&sigBit(sig) != 0 {
			if shared.infos == nil {
				shared.infos = map[int][]siginfo{}
			}
			p.queue(&shared.pending, shared.infos, siginfo{signo: int32(sig), code: abi.SI_USER})
		}
	}
}

// errnoOnly wraps an errno into an error's chain without adding to its text: a message
// for the user that says it in words still gives execve its errno (execErrno).
type errnoOnly struct{ errno unix.Errno }

func (errnoOnly) Error() string   { return "" }
func (e errnoOnly) Unwrap() error { return e.errno }

// execErrno is the errno execve(2) fails with for err, an error of checkExec,
// interpreters or loader.Check: a program not found is ENOENT; otherwise the errno in
// err's chain, ENOEXEC for a file of no format Linux runs, or EACCES.
func execErrno(err error) unix.Errno {
	var ee *ExitError
	if errors.As(err, &ee) && ee.Status == 127 {
		return unix.ENOENT
	}
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, unix.ENOEXEC) {
		return unix.ENOEXEC // the loader's format errors (loader.formatError)
	}
	return unix.EACCES
}

// readStrings reads a NULL-terminated array of string pointers (argv, envp), each string
// and its pointer taken from *room: what does not fit is E2BIG, as from Linux, which
// takes as many strings as fit (MAX_ARG_STRINGS is 2^31-1), and golos reads no more than
// that however many pointers the array repeats.
func readStrings(addr uint64, room *uint64) ([]string, unix.Errno) {
	var out []string
	if addr == 0 {
		return nil, 0
	}
	for i := 0; ; i++ {
		var b [8]byte
		if e := copyIn(addr+uint64(8*i), b[:]); e != 0 {
			return nil, e
		}
		p := binary.LittleEndian.Uint64(b[:])
		if p == 0 {
			return out, 0
		}
		s, e := readString(p, 128<<10) // MAX_ARG_STRLEN
		if e == unix.ENAMETOOLONG {
			return nil, unix.E2BIG // fs/exec.c, copy_strings: !valid_arg_len
		}
		if e != 0 {
			return nil, e
		}
		need := 8 + uint64(len(s)) + 1
		if need > *room {
			return nil, unix.E2BIG
		}
		*room -= need
		out = append(out, s)
	}
}

// selfExe is golos's own executable, which a new program and a new process run with. It
// is reached through /proc/self/exe, which leads to the file without walking its path:
// a program that changed its user (setuid(2)) may not be able to search golos's
// directory, nor may the file still be there under its name.
const selfExe = "/proc/self/exe"

// golosBinary is golos's path, as a new golos's argv[0].
func golosBinary() string {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlink(selfExe, buf)
	if err != nil {
		return "golos"
	}
	return string(buf[:n])
}

// Flags renders the options again as golos run's flags, for a new golos process.
func (o Options) Flags() []string {
	var f []string
	if o.Quiet {
		f = append(f, "--quiet")
	}
	if o.DebugSyscalls {
		f = append(f, "--debug=syscalls")
	} else if o.Debug {
		f = append(f, "--debug")
	}
	if o.Root != "" {
		r := o.Root
		if o.RootReadOnly {
			r += ":ro"
		}
		f = append(f, "--root", r)
	}
	for _, v := range o.Volumes {
		mode := "rw"
		if v.ReadOnly {
			mode = "ro"
		}
		f = append(f, "--volume", v.Host+":"+v.Guest+":"+mode)
	}
	if o.Chroot != "" {
		f = append(f, "--exec-chroot", o.Chroot)
	}
	if o.NoRewrite {
		f = append(f, "--no-rewrite")
	}
	if o.Stats {
		f = append(f, "--stats")
	}
	if o.NoFSGSBase {
		f = append(f, "--no-fsgsbase")
	}
	if o.Pid1 {
		f = append(f, "--pid1")
	}
	if o.NSInit > 0 {
		f = append(f, "--sandbox-nsinit", strconv.Itoa(o.NSInit))
	}
	if o.TaskLimit > 0 {
		f = append(f, TaskLimitFlag, strconv.Itoa(o.TaskLimit))
	}
	return f
}

// execLimitFlags are the hidden flags that give the new golos the program's RLIMIT_AS,
// RLIMIT_DATA and RLIMIT_SIGPENDING, which execve keeps (they are golos's own, never the
// host's: ownLimit), and its RLIMIT_NOFILE, whose hard limit only golos knows
// (setHostNofile) and whose soft one the new golos's runtime would take as raised for the
// execve (roomForGolos).
func (p *Process) execLimitFlags() []string {
	p.nofileMu.Lock()
	defer p.nofileMu.Unlock()
	var f []string
	for _, l := range []struct {
		flag string
		lim  *unix.Rlimit
	}{{"--exec-rlimit-as", p.opts.AS}, {"--exec-rlimit-data", p.opts.Data}, {"--exec-rlimit-nofile", p.opts.Nofile},
		{"--exec-rlimit-sigpending", p.opts.Sigpending}} {
		if l.lim != nil {
			f = append(f, l.flag, strconv.FormatUint(l.lim.Cur, 10)+":"+strconv.FormatUint(l.lim.Max, 10))
		}
	}
	return f
}
