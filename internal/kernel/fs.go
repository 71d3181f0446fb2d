package kernel

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"golos/internal/vfs"
)

// The file syscalls. Without --root the application sees the host's files as they are
// and its path syscalls pass through unchanged. With --root every path it names is
// resolved inside the root and its volumes (package vfs) and the syscall is made on a
// reference golos holds (/proc/self/fd/N…), never on the application's own string. Either
// way, a few of golos's own files are virtual: /proc/self/exe names the program, and the
// /proc files that would show golos (maps, cmdline, environ, auxv) show the application.

// Setting up the root and its volumes, and the helpers the file syscalls share.

func errnoOf(err error) unix.Errno {
	if e, ok := err.(unix.Errno); ok {
		return e
	}
	return unix.EIO
}

// args returns the six syscall arguments.
func (t *Thread) args() [6]uint64 {
	r := &t.ctx.Regs
	return [6]uint64{r.RDI, r.RSI, r.RDX, r.R10, r.R8, r.R9}
}

// setupFiles opens the root and volumes (if any), and the root the program chrooted to
// (Options.Chroot, in a fork's child or an execve's new golos), and enters the working
// directory.
func (p *Process) setupFiles() error {
	o := p.opts
	if o.Root == "" && o.Chroot == "" {
		if len(o.Volumes) > 0 {
			return fmt.Errorf("--volume needs --root")
		}
		if o.Workdir != "" {
			if err := unix.Chdir(o.Workdir); err != nil {
				return fmt.Errorf("workdir %s: %w", o.Workdir, err)
			}
		}
		return nil
	}
	var fs *vfs.FS
	if o.Root != "" {
		base, err := vfs.New(o.Root, o.RootReadOnly, o.Volumes)
		if err != nil {
			return fmt.Errorf("root: %w", err)
		}
		p.fsctx.base = base
		p.files.own(base.FDs()...)
		fs = base
	}
	if o.Chroot != "" {
		sub, err := chrootView(fs, o.Chroot)
		if err != nil {
			return fmt.Errorf("root: %w", err)
		}
		p.files.own(sub.FDs()...)
		fs = sub
	}
	p.fsctx.root = fs
	wd := o.Workdir
	if strings.HasPrefix(wd, unreachable) {
		// Outside the root the program chrooted to: the host's working directory, which
		// the new golos inherited, stays (chrootTo).
		p.setCwd(wd)
		return nil
	}
	if wd == "" {
		wd = "/"
	}
	wd = vfs.Abs("/", wd)
	fd, err := fs.Open(wd, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return fmt.Errorf("workdir %s: %w", wd, err)
	}
	defer unix.Close(fd)
	if err := unix.Fchdir(fd); err != nil {
		return fmt.Errorf("workdir %s: %w", wd, err)
	}
	p.setCwd(wd)
	return nil
}

// opener opens the program and its interpreter for the loader: inside the root if there
// is one.
func (p *Process) opener(name string) (int, error) {
	if p.fsctx.root == nil {
		return loaderOpen(name)
	}
	return p.fsctx.root.Open(vfs.Abs(p.cwd(), name), unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0) // as loader.HostOpener
}

// procMounted reports whether the root has a /proc (a --volume of the host's).
func (p *Process) procMounted() bool {
	fd, err := p.fsctx.root.Open("/proc/self", unix.O_PATH, 0)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}
