package kernel

import (
	"fmt"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"golos/internal/vfs"
)

// chroot(2): the process's root directory becomes a directory of its current view, and
// every later path lookup is confined to it (vfs: openat2 with RESOLVE_IN_ROOT from that
// directory, as for --root). The root is the fs context's (Linux's fs_struct, which
// clone shares with CLONE_FS: all of golos's threads share one), goes to a fork's child
// and across execve in Options.Chroot, and golos itself never calls the host's chroot:
// its own paths (/proc/self/exe, its descriptors' links) stay the host's.

// unreachable begins the working directory's path while it lies outside the root, as
// getcwd(2) shows it (fs/d_path.c, SYSCALL_DEFINE2(getcwd): prepend_path reached the
// namespace's root without meeting the process's, so "(unreachable)" goes before the
// path from the namespace's root).
const unreachable = "(unreachable)"

func sysChroot(t *Thread) int64 {
	p := t.p
	// fs/open.c, ksys_chroot: the lookup (LOOKUP_FOLLOW|LOOKUP_DIRECTORY: EFAULT,
	// ENAMETOOLONG, ENOENT, ENOTDIR, ELOOP, EACCES on the way), then search permission on
	// the directory itself (MAY_EXEC|MAY_CHDIR: EACCES), then CAP_SYS_CHROOT (EPERM).
	var fd int
	var err error
	if p.fsctx.root == nil || p.fsctx.base == nil && strings.HasPrefix(p.cwd(), unreachable) {
		// The host's view; or, from a working directory outside the root the program
		// chrooted to, a relative path walked from there as Linux walks it (chroot(".")
		// after fchdir to a directory outside: the way out of a chroot that Linux
		// allows a process with CAP_SYS_CHROOT), and an absolute one in the root.
		name, e := readString(t.arg(0), unix.PathMax)
		if e != 0 {
			return -int64(e)
		}
		if name == "" {
			return -int64(unix.ENOENT)
		}
		if p.fsctx.root != nil && path.IsAbs(name) {
			fd, err = p.fsctx.root.Open(name, unix.O_PATH|unix.O_DIRECTORY, 0)
		} else {
			fd, err = unix.Open(name, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		}
	} else {
		guest, e := t.pathOf(unix.AT_FDCWD, t.arg(0))
		if e != 0 {
			return -int64(e)
		}
		fd, err = p.fsctx.root.Open(guest, unix.O_PATH|unix.O_DIRECTORY, 0)
	}
	if err != nil {
		return -int64(errnoOf(err))
	}
	defer unix.Close(fd)
	if err := unix.Faccessat2(fd, "", unix.X_OK, unix.AT_EMPTY_PATH|unix.AT_EACCESS); err != nil {
		return -int64(errnoOf(err))
	}
	// golos runs the program as the user it runs as: the capability is the host
	// thread's own, as the program's would be natively.
	if !hasCap(unix.CAP_SYS_CHROOT) {
		return -int64(unix.EPERM)
	}
	if e := p.chrootTo(fd); e != nil {
		p.note("chroot: %v", e)
		return -int64(errnoOf(unwrapErrno(e)))
	}
	return 0
}

// unwrapErrno is the errno an error wraps, or EIO.
func unwrapErrno(err error) error {
	for err != nil {
		if e, ok := err.(unix.Errno); ok {
			return e
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			break
		}
		err = u.Unwrap()
	}
	return unix.EIO
}

// chrootTo makes the directory open at fd, found in the process's current view, its
// root.
func (p *Process) chrootTo(fd int) error {
	p.forkMu.Lock() // a fork in another thread sends Options.Chroot and the working directory
	defer p.forkMu.Unlock()
	// The new view is made from the outermost one (--root's, or the host's), where the
	// directory lies even when it is outside the current root; its volumes are those of
	// --root's below it, as the current view's are.
	var sub *vfs.FS
	var name string // the new root in the outermost view
	var err error
	if base := p.fsctx.base; base == nil {
		if name, err = vfs.HostFDPath(fd); err == nil {
			sub, err = vfs.New(name, false, nil)
		}
	} else {
		sub, name, err = base.Sub(fd)
	}
	if err != nil {
		return fmt.Errorf("the new root: %w", err)
	}
	// The working directory stays where it is (chroot(2): "This call does not change
	// the current working directory"): inside the new root it is named from there;
	// outside, it is unreachable, as getcwd(2) says.
	cwd, err := p.outerCwd()
	if err != nil {
		sub.Close()
		return fmt.Errorf("the working directory: %w", err)
	}
	wd := unreachable + cwd
	if rel, ok := under(cwd, name); ok {
		wd = rel
	}
	// The old view's descriptors stay open and golos's: another thread may be inside a
	// lookup on them (a few descriptors per chroot, in golos's own range).
	p.files.own(sub.FDs()...)
	wasRooted := p.fsctx.root != nil
	p.opts.Chroot = name
	p.fsctx.root = sub
	p.setCwd(wd)
	if !wasRooted {
		p.rootedPlainSyscalls()
	}
	return nil
}

// outerCwd is the working directory in the outermost view (--root's, or the host's):
// the host's, which golos keeps where the program's is, named from --root if any.
func (p *Process) outerCwd() (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Getcwd(buf)
	if err != nil {
		return "", err
	}
	host := string(buf[:n-1])
	if p.fsctx.base == nil {
		return host, nil
	}
	g, ok := p.fsctx.base.Guest(host)
	if !ok {
		return "", fmt.Errorf("%s is outside --root: %w", host, unix.ENOENT)
	}
	return g, nil
}

// under reports whether p lies at or below dir (both clean absolute paths), and its
// path from dir.
func under(p, dir string) (string, bool) {
	switch {
	case dir == "/":
		return p, true
	case p == dir:
		return "/", true
	case strings.HasPrefix(p, dir+"/"):
		return p[len(dir):], true
	}
	return "", false
}

// unreachableRel is a relative path looked up from a working directory outside the
// root, as a path inside the root. Linux walks it from the working directory, where ".."
// never meets the root; golos takes the path lexically from the working directory's
// outer name, and one that does not lead into the root fails with ENOENT (natively it
// would name a file outside, which golos does not open).
func (p *Process) unreachableRel(cwd, rel string) (string, unix.Errno) {
	outer := path.Join(strings.TrimPrefix(cwd, unreachable), rel)
	if g, ok := under(outer, p.opts.Chroot); ok {
		return g, 0
	}
	return "", unix.ENOENT
}

// chrootView opens the view of Options.Chroot in a new process of the tree (a fork's
// child, a new golos for an execve): the directory of that name in base (--root's
// view), or on the host.
func chrootView(base *vfs.FS, name string) (*vfs.FS, error) {
	var fd int
	var err error
	if base == nil {
		fd, err = unix.Open(name, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	} else {
		fd, err = base.Open(name, unix.O_PATH|unix.O_DIRECTORY, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("chroot %s: %w", name, err)
	}
	defer unix.Close(fd)
	if base == nil {
		return vfs.New(name, false, nil)
	}
	sub, _, err := base.Sub(fd)
	return sub, err
}

// outerDir is the path of the directory open at fd in the outermost view (--root's, or
// the host's), if it lies there.
func (p *Process) outerDir(fd int) (string, bool) {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return "", false
	}
	if p.fsctx.base != nil {
		g, err := p.fsctx.base.FDPath(fd)
		return g, err == nil
	}
	host, err := vfs.HostFDPath(fd)
	return host, err == nil && path.IsAbs(host)
}

// outerGuest is host path host named in --root's view when the program has chrooted
// inside it and host lies there (false without a chroot or without --root: the current
// view is the outermost one, and the host's names are the namespace's).
func (p *Process) outerGuest(host string) (string, bool) {
	base := p.fsctx.base
	if base == nil || base == p.fsctx.root {
		return "", false
	}
	return base.Guest(host)
}
