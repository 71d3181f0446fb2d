package oci

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// The host-side helpers: the /dev a tmpfs mount at /dev gets, the terminal for
// process.terminal, and hooks.

// makeDev fills a directory standing for a tmpfs /dev with the devices and links runc
// makes there (config-linux.md, "Default Devices" and "Default Filesystems"; runc's
// libcontainer/rootfs_linux.go: setupDevSymlinks).
func makeDev(d string) error {
	devices := []struct {
		name         string
		major, minor uint32
	}{
		{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
	}
	for _, dev := range devices {
		p := filepath.Join(d, dev.name)
		if err := unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(dev.major, dev.minor))); err != nil {
			return fmt.Errorf("mknod %s: %w", p, err)
		}
		// mknod(2) applies the umask: the devices are 0666 as on Linux.
		os.Chmod(p, 0o666)
	}
	for _, l := range [][2]string{
		{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
		{"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},
	} {
		if err := os.Symlink(l[0], filepath.Join(d, l[1])); err != nil {
			return err
		}
	}
	for _, sub := range []string{"pts", "shm", "mqueue"} {
		if err := os.MkdirAll(filepath.Join(d, sub), 0o755); err != nil {
			return err
		}
	}
	return os.Chmod(filepath.Join(d, "shm"), 0o1777)
}

// openPTY opens a new pseudo-terminal pair (pty(7): open /dev/ptmx, unlockpt, ptsname),
// sized as the process asks.
func openPTY(size *Box) (master, slave *os.File, err error) {
	m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	master = os.NewFile(uintptr(m), "/dev/ptmx")
	if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("unlockpt: %w", err)
	}
	n, err := unix.IoctlGetInt(m, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("ptsname: %w", err)
	}
	name := fmt.Sprintf("/dev/pts/%d", n)
	s, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("open %s: %w", name, err)
	}
	slave = os.NewFile(uintptr(s), name)
	if size != nil && size.Height > 0 && size.Width > 0 {
		unix.IoctlSetWinsize(s, unix.TIOCSWINSZ, &unix.Winsize{Row: size.Height, Col: size.Width})
	}
	return master, slave, nil
}

// sendConsole sends the terminal's master side to the engine's console socket, as runc
// does (SCM_RIGHTS, unix(7); conmon and containerd's shim receive it there).
func sendConsole(socket string, master *os.File) error {
	c, err := net.DialTimeout("unix", socket, 10*time.Second)
	if err != nil {
		return fmt.Errorf("console socket: %w", err)
	}
	defer c.Close()
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return fmt.Errorf("console socket %s: not a unix socket", socket)
	}
	if _, _, err := uc.WriteMsgUnix([]byte(master.Name()), unix.UnixRights(int(master.Fd())), nil); err != nil {
		return fmt.Errorf("console socket %s: %w", socket, err)
	}
	return nil
}

// runHooks runs hooks one after the other, the container's state on their standard input
// (config.md, "POSIX-platform Hooks"); the first that fails or outlives its timeout stops
// the rest.
func runHooks(kind string, hooks []Hook, state []byte) error {
	for _, h := range hooks {
		ctx := context.Background()
		if h.Timeout != nil && *h.Timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
			defer cancel()
		}
		cmd := exec.CommandContext(ctx, h.Path)
		if len(h.Args) > 0 {
			cmd.Args = h.Args
		}
		cmd.Env = h.Env
		if cmd.Env == nil {
			cmd.Env = []string{}
		}
		cmd.Stdin = bytes.NewReader(state)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s hook %s: %v: %s", kind, h.Path, err, bytes.TrimSpace(out.Bytes()))
		}
	}
	return nil
}
