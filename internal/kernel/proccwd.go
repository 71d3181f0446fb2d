package kernel

import (
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"golos/internal/entry"
)

// Without --root, golos's working directory is the program's (chdir(2) passes through),
// and a relative path is the host's to resolve, in the entry code (a plain call) as in Go.
// But /proc/self on the host is golos's process: a relative path that leads into /proc
// (from a working directory in /proc: cd /proc/self; cat status; ls fd; or from / or
// through ".." to it, or from /dev through its fd, a symlink to /proc/self/fd) must be
// seen by golos as the absolute path it names, as an absolute /proc path is
// (procPathArgRaw). golos notes after each chdir and fchdir whether the working directory is
// /, /dev or under /proc; while it is, the entry code sends relative paths of the calls
// that look at /proc paths to Go (entry.RelativeToGo), as it sends one that begins with
// "..".

// cwdNearProc is whether the working directory (without --root) is /, /dev or under /proc.
var cwdNearProc atomic.Bool

// noteHostCwd records whether the host's working directory is /, /dev or under /proc.
func noteHostCwd() {
	cwd, err := unix.Getwd()
	near := err == nil && (cwd == "/" || cwd == "/dev" || cwd == "/proc" || strings.HasPrefix(cwd, "/proc/"))
	cwdNearProc.Store(near)
	if near {
		entry.RelativeToGo = 1
	} else {
		entry.RelativeToGo = 0
	}
}

// hostCwdFor is the host's working directory when relative path p may lead into /proc
// (see above), else "".
func hostCwdFor(p string) string {
	if !cwdNearProc.Load() && !strings.Contains(p, "..") {
		return ""
	}
	cwd, err := unix.Getwd()
	if err != nil {
		return ""
	}
	return cwd
}
