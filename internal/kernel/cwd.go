package kernel

import (
	"strings"

	"golang.org/x/sys/unix"

	"golos/internal/vfs"
)

// The working directory: getcwd(2), chdir(2), fchdir(2).

// fsContext is what Linux keeps in fs_struct and clone(2) shares with CLONE_FS: the root
// and the working directory. The umask stays the host's, which all of golos's threads
// share.
type fsContext struct {
	root    *vfs.FS // the confined root and its volumes, or nil for the host's files
	base    *vfs.FS // --root's view, which root is when the program has not chrooted (chroot.go); nil without --root
	cwdMu   mutex[cwdLock]
	cwdPath string // the working directory as a guest path (with a root); cwdMu
}

// getcwd(2), chdir(2), fchdir(2): with a root, the working directory is a guest path.
func sysGetcwd(t *Thread) int64 {
	if t.p.fsctx.root == nil {
		return passthroughFast(t)
	}
	if t.p.cwdRemoved() {
		return -int64(unix.ENOENT) // getcwd(2): "The current working directory has been unlinked."
	}
	cwd := append([]byte(t.p.cwd()), 0)
	if uint64(len(cwd)) > t.arg(1) {
		return -int64(unix.ERANGE)
	}
	if e := copyOut(t.arg(0), cwd); e != 0 {
		return -int64(e)
	}
	return int64(len(cwd))
}

func sysChdir(t *Thread) int64 {
	if t.p.fsctx.root == nil {
		r := passthrough(t)
		if r == 0 {
			noteHostCwd() // relative paths may now lead into /proc (proccwd.go)
		}
		return r
	}
	guest, e := t.pathOf(unix.AT_FDCWD, t.arg(0))
	if e != 0 {
		return -int64(e)
	}
	fd, err := t.p.fsctx.root.Open(guest, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return -int64(errnoOf(err))
	}
	defer unix.Close(fd)
	// The host's working directory follows, for anything that still resolves there.
	if err := unix.Fchdir(fd); err != nil {
		return -int64(errnoOf(err))
	}
	// The working directory as Linux keeps it: where the path led, symlinks resolved.
	if canon, err := t.p.fsctx.root.FDPath(fd); err == nil {
		guest = canon
	}
	t.p.setCwd(guest)
	return 0
}

func sysFchdir(t *Thread) int64 {
	if t.p.fsctx.root == nil {
		r := passthroughFast(t)
		if r == 0 {
			noteHostCwd()
		}
		return r
	}
	guest, err := t.p.fsctx.root.FDPath(int(int32(t.arg(0))))
	if err != nil && t.p.opts.Chroot != "" {
		// A directory outside the root the program chrooted to (opened before): Linux
		// goes there, and the working directory is unreachable (chroot.go).
		if outer, ok := t.p.outerDir(int(int32(t.arg(0)))); ok {
			guest, err = unreachable+outer, nil
		}
	}
	if err != nil {
		return -int64(unix.EBADF)
	}
	if r := passthroughFast(t); r < 0 {
		return r
	}
	t.p.setCwd(guest)
	return 0
}

func (p *Process) cwd() string {
	p.fsctx.cwdMu.Lock()
	defer p.fsctx.cwdMu.Unlock()
	return p.fsctx.cwdPath
}

// cwdRemoved reports whether the working directory, with a root, was removed: the host's
// follows it (sysChdir), and the host's getcwd(2) fails with ENOENT for a removed one
// (fs/d_path.c, getcwd: d_unlinked). A virtual directory of the root's (a mount
// point's parent the root lacks, internal/vfs) is a removed host directory that is
// there for the program.
func (p *Process) cwdRemoved() bool {
	buf := make([]byte, unix.PathMax)
	if _, err := unix.Getcwd(buf); err != unix.ENOENT {
		return false
	}
	fd, err := unix.Open(".", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return true
	}
	defer unix.Close(fd)
	_, virtual := p.fsctx.root.Virtual(fd)
	return !virtual
}

// cwdLink is the target of /proc/self/cwd with a root: the working directory, with
// " (deleted)" after a removed one's path (fs/d_path.c, d_path of an unlinked dentry).
func (p *Process) cwdLink() string {
	cwd := p.cwd()
	if p.cwdRemoved() {
		return cwd + " (deleted)"
	}
	// Outside a chroot's root, the link names the directory from the namespace's root
	// without getcwd's "(unreachable)" (fs/d_path.c: d_path ignores prepend_path's "not
	// reachable").
	return strings.TrimPrefix(cwd, unreachable)
}

func (p *Process) setCwd(guest string) {
	p.fsctx.cwdMu.Lock()
	p.fsctx.cwdPath = guest
	p.fsctx.cwdMu.Unlock()
}
