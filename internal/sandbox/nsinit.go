package sandbox

import (
	"fmt"
	"strconv"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"golos/internal/kernel"
	"golos/internal/vfs"
)

// NSInitFlag is golos run's hidden flag that gives the golos inside the sandbox, the
// first process of its pid namespace, its end of the socket to Spawn (kernel's
// nsinit.go): it cannot die of or stop by a signal it sends itself, so Spawn does.
const NSInitFlag = "--sandbox-nsinit"

// IsNSInit reports whether fd may be NSInitFlag's: a seqpacket socket, in a golos that is
// the first process of its pid namespace (the only pid 1 in it).
func IsNSInit(fd int) bool {
	if fd < 3 || unix.Getpid() != 1 {
		return false
	}
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	return err == nil && typ == unix.SOCK_SEQPACKET
}

// nsInit is Spawn's side of the socket.
type nsInit struct {
	fd    int           // Spawn's end
	child int           // the end the sandboxed golos inherits, at a number of golos's own
	die   atomic.Uint32 // the signal the sandboxed golos dies of in Spawn, 0 for none yet
	stop  atomic.Uint32 // the signal it stops by, while Spawn stops it with SIGSTOP
}

// newNSInit makes the socket. The child's end goes to a high number (vfs.HighFD), without
// FD_CLOEXEC, so that it takes none of the numbers the program would have natively.
func newNSInit() (*nsInit, error) {
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("a socket to the sandbox's pid namespace: %w", err)
	}
	child, err := unix.FcntlInt(uintptr(sp[1]), unix.F_DUPFD, vfs.HighFD())
	unix.Close(sp[1])
	if err != nil {
		unix.Close(sp[0])
		return nil, fmt.Errorf("a socket to the sandbox's pid namespace: %w", err)
	}
	return &nsInit{fd: sp[0], child: child}, nil
}

// args puts NSInitFlag among the arguments of golos run in argv (after "run").
func (n *nsInit) args(argv []string) []string {
	out := append([]string{}, argv[:2]...)
	out = append(out, NSInitFlag, strconv.Itoa(n.child))
	return append(out, argv[2:]...)
}

// serve answers the sandboxed golos (pid, in the host's namespace): a death is noted for
// Spawn, which sees the exit next; a stop is noted, and made with SIGSTOP, which the
// kernel forces on a namespace's init from an ancestor namespace (pid_namespaces(7)).
// The answer follows, so that the golos inside goes on only once this is done.
func (n *nsInit) serve(pid int) {
	buf := make([]byte, 2)
	for {
		c, err := unix.Read(n.fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil || c == 0 {
			return // the golos inside and all its forks' copies are gone
		}
		if c != 2 || buf[1] == 0 || buf[1] > 64 {
			continue
		}
		switch buf[0] {
		case kernel.NSInitDie:
			n.die.Store(uint32(buf[1]))
		case kernel.NSInitStop:
			n.stop.Store(uint32(buf[1]))
			unix.Kill(pid, unix.SIGSTOP)
		default:
			continue
		}
		unix.Write(n.fd, []byte{1})
	}
}
