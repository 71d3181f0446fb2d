// golos's own descriptors (the Go runtime's poller's epoll and eventfd, placed by
// placeRuntimeFDs; its copy of stderr, ownStderr; the root's and volumes' directories;
// /proc/self/mem for the rewriter and /proc/self/pagemap) are kept at the top of the
// descriptor table and hidden from the application (EBADF), so that the application's
// descriptor numbers are the ones it would have natively and it cannot close or read
// golos's. No others stay open: the runtime is told not to keep cgroup files open for
// GOMAXPROCS.

//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0

// Command golos runs an unmodified Linux x86-64 executable inside golos's own process.
//
//	golos run [--quiet] [--debug[=syscalls]] PROGRAM [ARGS...]
//
// Exit status: the program's own; when it dies of signal N, golos dies of signal N too
// (a shell shows 128+N; no core file is written); 125 when golos itself
// fails, 126 when PROGRAM cannot be executed and 127 when it is not found, as container
// runtimes do.
package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"golos/internal/kernel"
	"golos/internal/sandbox"
	"golos/internal/stdquiet"
	"golos/internal/vfs"
)

// version is golos's version, shown by --version.
const version = "0.1.0"

const usage = `usage: golos run [flags] PROGRAM [ARGS...]
       golos --version | --help

Runs PROGRAM, an unmodified Linux x86-64 executable, inside golos's own process.
PROGRAM containing '/' is a path; otherwise it is looked up in PATH (inside the root,
with --root).

flags (a value follows the flag or an '=': -w DIR, -w=DIR, --workdir=DIR):
  --quiet                    no notes on syscalls golos does not implement
  --debug                    registers and the faulting address when the program dies
  --debug=syscalls           also a line per syscall on stderr
  --root DIR[:ro|rw]         the program's root directory (":ro": read-only)
  --read-only                make the root read-only (without --root: the host's,
                             /dev excepted)
  --volume HOST:GUEST[:ro|rw]  graft host directory (or file) HOST at GUEST in the root
                             (repeatable)
  -e, --env KEY=VALUE        set an environment variable (KEY alone: take golos's own
                             value); repeatable
  --env-file FILE            read KEY=VALUE lines from FILE (docker's format: '#'
                             comments; -e wins); repeatable
  --clear-env                start from an empty environment
  -w, --workdir DIR          the program's working directory
  --stats                    at exit, per-syscall counts and the time spent in golos
  --argv0 NAME               the program's argv[0] (PROGRAM as given by default)
  --no-rewrite               leave every syscall site to Syscall User Dispatch (for
                             comparison: by default common sites jump straight in)
  --no-fsgsbase              switch the program's own GS base with arch_prctl, as on
                             CPUs without FSGSBASE, even where the CPU has it (tests)
  --sandbox                  confine golos itself with the host kernel (Landlock,
                             seccomp, namespaces): see "Threat model" in the README
  --net none|host            with --sandbox: "none" gives the program a network
                             namespace of its own (loopback only); "host" (the
                             default) the host's network
  --pids-limit N             with --sandbox: the most tasks (threads) the sandbox
                             holds, golos's own included (a pids cgroup, as podman's
                             --pids-limit); fork gets EAGAIN past it; at least 24,
                             0 for none (default 4096)

exit status: the program's own; if it dies of signal N, golos dies of signal N too
(a shell shows 128+N; golos writes no core file); 125 if golos fails
(a usage error, an executable golos cannot run); 126 if PROGRAM cannot be executed
(permission denied, or "exec format error": not an executable, a corrupt ELF, an ELF
for another machine); 127 if it is not found.
`

func init() {
	// A non-blocking standard descriptor back where it was, now that package os has
	// wrapped /dev/null in its place without starting the runtime's poller (stdquiet).
	stdquiet.Restore()
	// The application's main thread runs on the process's main thread, as on Linux
	// (its tid is the pid).
	runtime.LockOSThread()
	// golos's runtime gets more Ps than CPUs only when the application has threads.
	kernel.StartProcs()
}

func main() {
	os.Exit(golos(os.Args[1:]))
}

func golos(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return 125
	}
	switch args[0] {
	case "--version", "version":
		fmt.Printf("golos %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return 0
	case "--help", "-h", "help":
		fmt.Print(usage)
		return 0
	case "run":
		return run(args[1:])
	case kernel.ForkChildCommand:
		return forkChild(args[1:])
	}
	fmt.Fprintf(os.Stderr, "golos: unknown command %q (try golos --help)\n", args[0])
	return 125
}

func run(args []string) int {
	var opts kernel.Options
	var err error
	env := os.Environ()
	var setEnv, fileEnv []string // -e and --env-file, in that order of precedence
	clearEnv, readOnly := false, false
	var argv0 *string // what the program gets as argv[0], if not PROGRAM as given
	sandboxed, stage, net := false, "", sandbox.NetHost
	pidsLimit, pidsGiven, rlimitNproc := sandbox.DefaultPidsLimit, false, 0
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		flag := args[0]
		args = args[1:]
		// A flag's value follows it as the next argument or after '=', for a short flag
		// as for a long one (-w=/etc as --workdir=/etc), as docker run reads them; a
		// short flag's value may also be attached (-eKEY=VALUE).
		name, v, hasValue := strings.Cut(flag, "=")
		if len(name) > 2 && name[1] != '-' && (name[1] == 'e' || name[1] == 'w') {
			name, v, hasValue = name[:2], flag[2:], true
		}
		// value returns the flag's value, taking the next argument if need be.
		value := func() (string, bool) {
			if hasValue {
				return v, true
			}
			if len(args) == 0 {
				return "", false
			}
			v, args = args[0], args[1:]
			return v, true
		}
		switch name {
		case "--", "--quiet", "-q", "--help", "-h", "--clear-env", "--no-rewrite", "--stats", "--read-only",
			"--no-fsgsbase", "--sandbox", "--pid1", "--exec-own-uts":
			if hasValue {
				return usageError("%s takes no value (in %s)", name, flag)
			}
		}
		switch name {
		case "--":
			goto program
		case "--quiet", "-q":
			opts.Quiet = true
		case "--debug":
			opts.Debug = true
			if flag == "--debug=syscalls" {
				opts.DebugSyscalls = true
			} else if flag != "--debug" {
				return usageError("unknown --debug mode %q (try --debug or --debug=syscalls)", flag)
			}
		case "--help", "-h":
			fmt.Print(usage)
			return 0
		case "--clear-env":
			clearEnv = true
		case "--read-only":
			readOnly = true
		case "--no-rewrite":
			opts.NoRewrite = true
		case "--stats":
			opts.Stats = true
		case "--no-fsgsbase":
			opts.NoFSGSBase = true
		case "--pid1":
			// Hidden: golos-oci's container's first process is its pid namespace's init
			// (kernel.Options.Pid1).
			opts.Pid1 = true
		case "--exec-own-uts":
			// Hidden: the program's tree made the UTS namespace this process is in, whose
			// names it may set (kernel.Options.OwnUTS).
			opts.OwnUTS = true
		case "--sandbox":
			sandboxed = true
		case "--net":
			v, ok := value()
			if !ok {
				return usageError("--net needs a value (none or host)")
			}
			if v != string(sandbox.NetNone) && v != string(sandbox.NetHost) {
				return usageError("--net %s: want none or host", v)
			}
			net = sandbox.Net(v)
		case "--pids-limit":
			v, ok := value()
			n, err := strconv.Atoi(v)
			if !ok || err != nil || n < 0 {
				return usageError("--pids-limit needs a number of tasks, 0 for none")
			}
			if n > 0 && n < kernel.MinTaskLimit {
				return usageError("--pids-limit %d: golos's own threads need %d (a process's, and a reserve)", n, kernel.MinTaskLimit)
			}
			pidsLimit, pidsGiven = n, true
		case kernel.TaskLimitFlag, sandbox.RlimitNprocFlag:
			// Hidden: --pids-limit, for the golos processes inside the sandbox
			// (kernel.Options.TaskLimit) and for Enter's RLIMIT_NPROC (sandbox, pids.go).
			v, ok := value()
			n, err := strconv.Atoi(v)
			if !ok || err != nil || n <= 0 {
				return usageError("%s is golos's own", name)
			}
			if name == kernel.TaskLimitFlag {
				opts.TaskLimit = n
			} else {
				rlimitNproc = n
			}
		case sandbox.StageFlag:
			// Hidden: which step of --sandbox this golos is (sandbox.Spawn, Enter).
			v, ok := value()
			if !ok || v != sandbox.StageEnter && v != sandbox.StageInside {
				return usageError("%s is golos's own", name)
			}
			stage = v
		case sandbox.NSInitFlag:
			// Hidden: golos is the init of --sandbox's pid namespace, and this its socket
			// to the golos outside (kernel.Options.NSInit).
			v, ok := value()
			fd, err := strconv.Atoi(v)
			if !ok || err != nil || !sandbox.IsNSInit(fd) {
				return usageError("%s is golos's own", name)
			}
			opts.NSInit = fd
		case "--exec-rlimit-as", "--exec-rlimit-data", "--exec-rlimit-nofile", "--exec-rlimit-sigpending":
			// Hidden: the program's RLIMIT_AS, RLIMIT_DATA, RLIMIT_NOFILE and
			// RLIMIT_SIGPENDING across its execve(2), as CUR:MAX (kernel.Options.AS,
			// Nofile, Sigpending).
			v, ok := value()
			if !ok {
				return usageError("%s needs a value", name)
			}
			c, m, _ := strings.Cut(v, ":")
			cur, err1 := strconv.ParseUint(c, 10, 64)
			lim, err2 := strconv.ParseUint(m, 10, 64)
			if err1 != nil || err2 != nil || cur > lim {
				return usageError("%s %s: want CUR:MAX", name, v)
			}
			switch name {
			case "--exec-rlimit-as":
				opts.AS = &unix.Rlimit{Cur: cur, Max: lim}
			case "--exec-rlimit-data":
				opts.Data = &unix.Rlimit{Cur: cur, Max: lim}
			case "--exec-rlimit-sigpending":
				opts.Sigpending = &unix.Rlimit{Cur: cur, Max: lim}
			default:
				opts.Nofile = &unix.Rlimit{Cur: cur, Max: lim}
			}
		case "--exec-chroot":
			// Hidden: the root the program moved to with chroot(2), in --root's view or
			// the host's (kernel.Options.Chroot).
			v, ok := value()
			if !ok || !path.IsAbs(v) {
				return usageError("%s is golos's own", name)
			}
			opts.Chroot = v
		case "--exec-seccomp":
			// Hidden: the seccomp mode and filters of the thread that made the execve
			// (kernel.Options.Seccomp).
			v, ok := value()
			if !ok {
				return usageError("%s needs a value", name)
			}
			b, err := hex.DecodeString(v)
			if err != nil {
				return usageError("%s: %v", name, err)
			}
			opts.Seccomp = b
		case "--exec-sigmask", "--exec-sigignored", "--exec-sigpending":
			// Hidden: a golos that runs the program's execve(2) passes the signal mask,
			// the ignored and the pending signals the new program keeps
			// (kernel.Options.SigMask).
			v, ok := value()
			if !ok {
				return usageError("%s needs a value", name)
			}
			set, err := strconv.ParseUint(v, 0, 64)
			if err != nil {
				return usageError("%s %s: want a signal set (0x… for signals 1 to 64)", name, v)
			}
			switch name {
			case "--exec-sigmask":
				opts.SigMask = set
			case "--exec-sigignored":
				opts.SigIgnored = set
			default:
				opts.SigPending = set
			}
		case "--root", "--volume", "-e", "--env", "--env-file", "-w", "--workdir", "--argv0":
			v, ok := value()
			if !ok {
				return usageError("%s needs a value", name)
			}
			switch name {
			case "--root":
				dir, mode, _ := strings.Cut(v, ":")
				if dir == "" || mode != "" && mode != "ro" && mode != "rw" {
					return usageError("--root %s: want DIR[:ro|rw]", v)
				}
				opts.Root, opts.RootReadOnly = dir, mode == "ro"
			case "--volume":
				parts := strings.Split(v, ":")
				if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" ||
					len(parts) == 3 && parts[2] != "ro" && parts[2] != "rw" {
					return usageError("--volume %s: want HOST:GUEST[:ro|rw]", v)
				}
				if path.Clean(parts[1]) == "/" {
					// docker run refuses it too ("destination can't be '/'"): the root is
					// --root's.
					return usageError("--volume %s: a volume cannot be the root (use --root)", v)
				}
				opts.Volumes = append(opts.Volumes, vfs.Mount{Host: parts[0], Guest: parts[1],
					ReadOnly: len(parts) == 3 && parts[2] == "ro"})
			case "-e", "--env":
				kv, err := envVar(v)
				if err != nil {
					return usageError("%s %q: %v", name, v, err)
				}
				if kv != "" {
					setEnv = append(setEnv, kv)
				}
			case "--env-file":
				kvs, err := readEnvFile(v)
				if err != nil {
					return usageError("--env-file: %v", err)
				}
				fileEnv = append(fileEnv, kvs...)
			case "-w", "--workdir":
				if v == "" {
					return usageError("%s needs a directory", name)
				}
				opts.Workdir = v
			case "--argv0":
				argv0 = &v
			}
		default:
			return usageError("unknown flag %s (try golos --help)", flag)
		}
	}
program:
	if len(args) == 0 {
		return usageError("run: no program given (usage: golos run [flags] PROGRAM [ARGS...])")
	}
	if readOnly {
		if code := hostRootReadOnly(&opts); code != 0 {
			return code
		}
	}
	if len(opts.Volumes) > 0 && opts.Root == "" {
		return usageError("--volume needs --root")
	}
	// The root's and volumes' host paths are made absolute now: golos runs the program's
	// execve as a new golos with the same flags, from the program's working directory,
	// where a relative path would name another directory or none.
	if opts.Root, err = absPath("--root", opts.Root); err != nil {
		fmt.Fprintf(os.Stderr, "golos: %v\n", err)
		return 125
	}
	for i := range opts.Volumes {
		if opts.Volumes[i].Host, err = absPath("--volume", opts.Volumes[i].Host); err != nil {
			fmt.Fprintf(os.Stderr, "golos: %v\n", err)
			return 125
		}
	}
	if clearEnv {
		env = nil
	}
	// As docker run: the --env-file variables, then -e's, each replacing an earlier one.
	env = mergeEnv(mergeEnv(env, fileEnv), setEnv)
	if net != sandbox.NetHost && !sandboxed && stage == "" {
		return usageError("--net %s needs --sandbox", net)
	}
	if pidsGiven && !sandboxed && stage == "" {
		return usageError("--pids-limit needs --sandbox")
	}
	if sandboxed && stage == "" {
		opts.TaskLimit = pidsLimit
	}
	if sandboxed && stage == "" || stage == sandbox.StageEnter {
		return runSandboxed(opts, stage, net, argv0, args, env, rlimitNproc)
	}
	argv := args
	if argv0 != nil {
		argv = append([]string{*argv0}, args[1:]...)
	}
	if opts.HostFDs, err = placeRuntimeFDs(); err != nil {
		fmt.Fprintf(os.Stderr, "golos: %v\n", err)
		return 125
	}
	if opts.NSInit > 0 {
		opts.HostFDs = append(opts.HostFDs, opts.NSInit)
	}
	if fd, ok := ownStderr(); ok {
		opts.HostFDs = append(opts.HostFDs, fd)
		opts.Stderr = os.NewFile(uintptr(fd), "/dev/stderr")
	}
	if opts.Nofile == nil {
		nofile := appNofile()
		opts.Nofile = &nofile
	}
	opts.SigIgnored |= startIgnored()
	code, err := kernel.Run(args[0], argv, env, opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "golos: %v\n", err)
		var ee *kernel.ExitError
		if errors.As(err, &ee) {
			return ee.Status
		}
		if errors.Is(err, unix.ENOEXEC) || errors.Is(err, unix.EACCES) || errors.Is(err, unix.ETXTBSY) {
			return 126 // a file that is no executable (loader): docker run's status for ENOEXEC
		}
		return 125
	}
	return code
}

// runSandboxed runs the first two steps of --sandbox (package sandbox): the golos the
// user started spawns a golos in new namespaces (stage ""), which confines itself and
// execs the golos that runs the program (stage StageEnter). Both pass on golos's options
// as flags, and the environment the program gets as golos's own (so that the golos
// inside reads no --env-file, which may be outside what it may read).
// rlimitNproc is Spawn's RlimitNprocFlag, for Enter.
func runSandboxed(opts kernel.Options, stage string, net sandbox.Net, argv0 *string, args, env []string, rlimitNproc int) int {
	next := sandbox.StageEnter
	if stage == sandbox.StageEnter {
		next = sandbox.StageInside
	}
	argv := []string{os.Args[0], "run", sandbox.StageFlag, next, "--net", string(net)}
	argv = append(argv, opts.Flags()...)
	if ign := opts.SigIgnored | startIgnored(); ign != 0 {
		// The next stage starts with golos's handlers reset to SIG_DFL by the execve:
		// what the program inherits ignored is told (kernel.Run, inheritSignals).
		argv = append(argv, "--exec-sigignored", "0x"+strconv.FormatUint(ign, 16))
	}
	if opts.Workdir != "" {
		argv = append(argv, "--workdir", opts.Workdir)
	}
	if argv0 != nil {
		argv = append(argv, "--argv0", *argv0)
	}
	argv = append(argv, "--")
	argv = append(argv, args...)
	if stage == "" {
		code, err := sandbox.Spawn(argv, env, net, opts.TaskLimit)
		if err != nil {
			fmt.Fprintf(os.Stderr, "golos: %v\n", err)
			return 125
		}
		return code
	}
	cfg := sandbox.Config{Net: net, RlimitNproc: rlimitNproc}
	if opts.Root == "" {
		cfg.Dirs = []sandbox.Dir{{What: "root", Path: "/"}}
	} else {
		cfg.Dirs = []sandbox.Dir{{What: "root", Path: opts.Root, ReadOnly: opts.RootReadOnly}}
		for _, v := range opts.Volumes {
			cfg.Dirs = append(cfg.Dirs, sandbox.Dir{What: "volume " + v.Guest, Path: v.Host, ReadOnly: v.ReadOnly})
		}
	}
	err := sandbox.Enter(cfg, argv, env)
	fmt.Fprintf(os.Stderr, "golos: %v\n", err)
	return 125
}

// forkChild is the golos of a process the program forked: the parent's golos started it
// with the descriptor of a socket on which it sends the process (kernel.RunForked). It is
// not a command for people, and says so.
func forkChild(args []string) int {
	conn := -1
	var vdso uint64
	if len(args) == 4 { // the last, the vDSO's layout, is forkEntry's (forkentry_amd64.s)
		conn, _ = strconv.Atoi(args[0])
		vdso, _ = strconv.ParseUint(args[1], 16, 64)
		// Before placeRuntimeFDs, the first to use it.
		if high, err := strconv.Atoi(args[2]); err == nil && high > 0 {
			vfs.InheritHighFD(high)
		}
	}
	var st unix.Stat_t
	if conn < 0 || unix.Fstat(conn, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		fmt.Fprintf(os.Stderr, "golos: %s is golos's own: it runs a process a program forked\n", kernel.ForkChildCommand)
		return 125
	}
	var opts kernel.Options
	var err error
	if opts.HostFDs, err = placeRuntimeFDs(); err != nil {
		fmt.Fprintf(os.Stderr, "golos: %v\n", err)
		return 125
	}
	if opts.NSInit > 0 {
		opts.HostFDs = append(opts.HostFDs, opts.NSInit)
	}
	if fd, ok := ownStderr(); ok {
		opts.HostFDs = append(opts.HostFDs, fd)
		opts.Stderr = os.NewFile(uintptr(fd), "/dev/stderr")
	}
	pause := pauseVDSO
	if moved, err := entryVDSOMoved(); err != nil {
		fmt.Fprintf(os.Stderr, "golos: %v\n", err)
		return 125
	} else if moved {
		// In place before the runtime started: the runtime need not stop calling into
		// it, nor RunForked move it.
		pause = func() func(int64) { return nil }
	}
	code, err := kernel.RunForked(conn, vdso, opts, pause)
	if err != nil {
		return 125 // the parent's golos has the error and says what failed
	}
	return code
}

// hostRootReadOnly applies --read-only: the root becomes read-only, as docker run's; with
// no --root, that is the host's own root, seen through a confined root at "/" (the only
// way golos has to refuse writes), with the working directory kept and /dev writable
// (docker's /dev is its own mount, and programs write to /dev/null and their terminal).
func hostRootReadOnly(opts *kernel.Options) int {
	opts.RootReadOnly = true
	if opts.Root != "" {
		return 0
	}
	opts.Root = "/"
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(os.Stderr, "golos: --read-only: the working directory: %v\n", err)
		return 125
	}
	if opts.Workdir == "" {
		opts.Workdir = cwd
	} else if !filepath.IsAbs(opts.Workdir) {
		opts.Workdir = filepath.Join(cwd, opts.Workdir)
	}
	for _, v := range opts.Volumes {
		if filepath.Clean(v.Guest) == "/dev" {
			return 0 // the user's own choice for /dev
		}
	}
	opts.Volumes = append(opts.Volumes, vfs.Mount{Host: "/dev", Guest: "/dev"})
	return 0
}

// absPath makes a flag's host path absolute ("" stays "").
func absPath(flag, p string) (string, error) {
	if p == "" || filepath.IsAbs(p) {
		return p, nil
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", flag, p, err)
	}
	return abs, nil
}

func usageError(format string, a ...any) int {
	fmt.Fprintf(os.Stderr, "golos: "+format+"\n", a...)
	return 125
}

// envVar checks the value of -e as docker run does: KEY=VALUE as it is, KEY alone takes
// golos's own value, or nothing ("") when golos has none.
func envVar(v string) (string, error) {
	key, _, hasValue := strings.Cut(v, "=")
	switch {
	case key == "":
		return "", fmt.Errorf("invalid environment variable: want KEY=VALUE or KEY")
	case strings.ContainsRune(v, 0):
		return "", fmt.Errorf("invalid environment variable: contains a NUL byte")
	case hasValue:
		return v, nil
	}
	if hv, ok := os.LookupEnv(key); ok {
		return key + "=" + hv, nil
	}
	return "", nil
}

// readEnvFile reads an --env-file in docker's format: a KEY=VALUE per line, the value
// taken as it is (no quotes, no expansion); a line that is only KEY takes golos's own
// value (none if golos has none); blank lines and lines starting with '#' are skipped.
// Leading white space is ignored; a key with white space in it is an error, as in docker.
func readEnvFile(path string) ([]string, error) {
	b, err := readFileRaw(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimLeft(strings.TrimSuffix(line, "\r"), " \t\v\f")
		if i == 0 {
			line = strings.TrimPrefix(line, "\uFEFF") // a UTF-8 byte order mark
		}
		if line == "" || line[0] == '#' {
			continue
		}
		if !utf8.ValidString(line) || strings.ContainsRune(line, 0) {
			return nil, fmt.Errorf("%s:%d: not text (invalid UTF-8 or a NUL byte)", path, i+1)
		}
		key, _, hasValue := strings.Cut(line, "=")
		if !hasValue {
			key = strings.TrimRight(key, " \t\v\f")
		}
		switch {
		case key == "":
			return nil, fmt.Errorf("%s:%d: no variable name in %q", path, i+1, line)
		case strings.ContainsAny(key, " \t\v\f"):
			return nil, fmt.Errorf("%s:%d: variable %q contains white space", path, i+1, key)
		case hasValue:
			out = append(out, line)
		default:
			if hv, ok := os.LookupEnv(key); ok {
				out = append(out, key+"="+hv)
			}
		}
	}
	return out, nil
}

// mergeEnv sets each KEY=VALUE of set in env, replacing an earlier KEY.
func mergeEnv(env, set []string) []string {
	for _, kv := range set {
		key, _, _ := strings.Cut(kv, "=")
		out := env[:0:0]
		for _, e := range env {
			if k, _, _ := strings.Cut(e, "="); k != key {
				out = append(out, e)
			}
		}
		env = append(out, kv)
	}
	return env
}

// ownStderr copies the stderr golos was started with to one of golos's own descriptors,
// for golos's notes (--stats, unimplemented syscalls, --debug): the application may
// close or replace its descriptor 2, as programs that check their output at exit do.
func ownStderr() (int, bool) {
	fd, err := unix.FcntlInt(2, unix.F_DUPFD_CLOEXEC, vfs.HighFD())
	return fd, err == nil
}

// readFileRaw reads a file with plain syscalls: os.Open would start the Go runtime's
// poller (it tries to register every file it opens), whose descriptors golos must place
// itself first (placeRuntimeFDs).
func readFileRaw(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return out, nil
		}
		out = append(out, buf[:n]...)
	}
}
