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
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"golos/internal/kernel"
)

// version is golos's version, shown by --version.
const version = "0.1.0"

const usage = `usage: golos run [flags] PROGRAM [ARGS...]
       golos --version | --help

Runs PROGRAM, an unmodified Linux x86-64 executable, inside golos's own process.
PROGRAM containing '/' is a path; otherwise it is looked up in PATH.

flags:
  --quiet             no notes on syscalls golos does not implement
  --debug             registers and the faulting address when the program dies
  --debug=syscalls    also a line per syscall on stderr

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
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		flag := args[0]
		args = args[1:]
		switch flag {
		case "--":
			goto program
		case "--quiet", "-q":
			opts.Quiet = true
		case "--debug":
			opts.Debug = true
		case "--debug=syscalls":
			opts.Debug, opts.DebugSyscalls = true, true
		case "--help", "-h":
			fmt.Print(usage)
			return 0
		default:
			fmt.Fprintf(os.Stderr, "golos: unknown flag %s (try golos --help)\n", flag)
			return 125
		}
	}
program:
	if len(args) == 0 {
		fmt.Fprintf(os.Stderr, "golos: run: no program given (usage: golos run [flags] PROGRAM [ARGS...])\n")
		return 125
	}
	path, status, err := resolve(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "golos: %v\n", err)
		return status
	}
	code, err := kernel.Run(path, args, os.Environ(), opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "golos: %v\n", err)
		return 125
	}
	return code
}

// resolve finds PROGRAM as execve(2) and a shell would: a name with '/' is a path, others
// are looked up in PATH. It returns 127 for a program that is not there and 126 for one
// that cannot be executed.
func resolve(name string) (string, int, error) {
	path := name
	if !strings.Contains(name, "/") {
		p, err := exec.LookPath(name)
		if err != nil && !errors.Is(err, exec.ErrDot) {
			return "", 127, fmt.Errorf("%s: command not found", name)
		}
		path = p
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", 127, fmt.Errorf("%s: no such file or directory", name)
	case err != nil:
		return "", 126, fmt.Errorf("%s: %v", name, errors.Unwrap(err))
	case st.IsDir():
		return "", 126, fmt.Errorf("%s: is a directory", name)
	}
	if unix.Access(path, unix.X_OK) != nil {
		return "", 126, fmt.Errorf("%s: permission denied", name)
	}
	return path, 0, nil
}
