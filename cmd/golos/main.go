// golos keeps no file descriptors open while the application runs, so the application's
// descriptor numbers are the ones it would have natively and it cannot close or read
// golos's: the runtime is told not to keep cgroup files open for GOMAXPROCS.

//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0

// Command golos runs an unmodified Linux x86-64 executable inside golos's own process.
//
//	golos run [--quiet] [--debug[=syscalls]] PROGRAM [ARGS...]
//
// Exit status: the program's own; 128+N when it dies of signal N; 125 when golos itself
// fails, 126 when PROGRAM cannot be executed and 127 when it is not found, as container
// runtimes do.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"golos/internal/kernel"
	"golos/internal/vfs"
)

// version is golos's version, shown by --version.
const version = "0.1.0"

const usage = `usage: golos run [flags] PROGRAM [ARGS...]
       golos --version | --help

Runs PROGRAM, an unmodified Linux x86-64 executable, inside golos's own process.
PROGRAM containing '/' is a path; otherwise it is looked up in PATH (inside the root,
with --root).

flags:
  --quiet                    no notes on syscalls golos does not implement
  --debug                    registers and the faulting address when the program dies
  --debug=syscalls           also a line per syscall on stderr
  --root DIR[:ro]            the program's root directory (":ro": read-only)
  --volume HOST:GUEST[:ro|rw]  graft host directory HOST at GUEST inside the root
                             (repeatable)
  -e, --env KEY=VALUE        set an environment variable (KEY alone: take golos's own
                             value); repeatable
  --clear-env                start from an empty environment
  -w, --workdir DIR          the program's working directory
  --stats                    at exit, per-syscall counts and the time spent in golos
  --argv0 NAME               the program's argv[0] (PROGRAM as given by default)
  --no-rewrite               leave every syscall site to Syscall User Dispatch (for
                             comparison: by default common sites jump straight in)
  --no-fsgsbase              switch the program's own GS base with arch_prctl, as on
                             CPUs without FSGSBASE, even where the CPU has it (tests)

exit status: the program's own; 128+N if it dies of signal N; 125 if golos fails;
126 if PROGRAM cannot be executed; 127 if it is not found.
`

func init() {
	// The application's main thread runs on the process's main thread, as on Linux
	// (its tid is the pid).
	runtime.LockOSThread()
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
	}
	fmt.Fprintf(os.Stderr, "golos: unknown command %q (try golos --help)\n", args[0])
	return 125
}

func run(args []string) int {
	var opts kernel.Options
	var err error
	env := os.Environ()
	var setEnv []string
	clearEnv := false
	var argv0 *string // what the program gets as argv[0], if not PROGRAM as given
	// value returns the value of a flag given as --flag=VALUE or --flag VALUE.
	value := func(flag string) (string, bool) {
		if name, v, ok := strings.Cut(flag, "="); ok && strings.HasPrefix(name, "--") {
			return v, true
		}
		if len(args) == 0 {
			return "", false
		}
		v := args[0]
		args = args[1:]
		return v, true
	}
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		flag := args[0]
		args = args[1:]
		name, _, _ := strings.Cut(flag, "=")
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
		case "--no-rewrite":
			opts.NoRewrite = true
		case "--stats":
			opts.Stats = true
		case "--no-fsgsbase":
			opts.NoFSGSBase = true
		case "--root", "--volume", "-e", "--env", "-w", "--workdir", "--argv0":
			v, ok := value(flag)
			if !ok {
				return usageError("%s needs a value", name)
			}
			switch name {
			case "--root":
				dir, mode, _ := strings.Cut(v, ":")
				if mode != "" && mode != "ro" && mode != "rw" {
					return usageError("--root %s: the mode is ro or rw", v)
				}
				opts.Root, opts.RootReadOnly = dir, mode == "ro"
			case "--volume":
				parts := strings.Split(v, ":")
				if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" ||
					len(parts) == 3 && parts[2] != "ro" && parts[2] != "rw" {
					return usageError("--volume %s: want HOST:GUEST[:ro|rw]", v)
				}
				opts.Volumes = append(opts.Volumes, vfs.Mount{Host: parts[0], Guest: parts[1],
					ReadOnly: len(parts) == 3 && parts[2] == "ro"})
			case "-e", "--env":
				if !strings.Contains(v, "=") {
					if hv, ok := os.LookupEnv(v); ok {
						v += "=" + hv
					} else {
						continue // docker run -e KEY: unset on the host, nothing to pass
					}
				}
				setEnv = append(setEnv, v)
			case "-w", "--workdir":
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
	if len(opts.Volumes) > 0 && opts.Root == "" {
		return usageError("--volume needs --root")
	}
	if clearEnv {
		env = nil
	}
	env = mergeEnv(env, setEnv)
	argv := args
	if argv0 != nil {
		argv = append([]string{*argv0}, args[1:]...)
	}
	if opts.HostFDs, err = placeRuntimeFDs(); err != nil {
		fmt.Fprintf(os.Stderr, "golos: %v\n", err)
		return 125
	}
	if fd, ok := ownStderr(); ok {
		opts.HostFDs = append(opts.HostFDs, fd)
		opts.Stderr = os.NewFile(uintptr(fd), "/dev/stderr")
	}
	nofile := appNofile()
	opts.Nofile = &nofile
	code, err := kernel.Run(args[0], argv, env, opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "golos: %v\n", err)
		var ee *kernel.ExitError
		if errors.As(err, &ee) {
			return ee.Status
		}
		return 125
	}
	return code
}

func usageError(format string, a ...any) int {
	fmt.Fprintf(os.Stderr, "golos: "+format+"\n", a...)
	return 125
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
