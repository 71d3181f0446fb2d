// Package vfs confines an application's paths to a root directory with grafted volumes,
// as golos run --root and --volume ask for. Every path is resolved by the host kernel with
// openat2(2) and RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS relative to the directory of the
// mount it falls in, so "..", absolute symlinks and symlinks swapped during the lookup
// never reach a host file outside, and /proc magic links (/proc/self/root,
// /proc/self/fd/N) are refused.
package vfs

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Mount is one host directory, or one host file, seen at a guest path.
type Mount struct {
	Guest    string // absolute, clean
	Host     string
	ReadOnly bool
	fd       int    // O_PATH descriptor of Host, or of the directory holding the file
	file     string // a file's mount: the file's name in fd's directory
}

// FS is a confined view of the host's files.
type FS struct {
	mounts   []*Mount            // longest guest path first
	children map[string][]string // directory → names it shows for mount points (virtual.go)
	virt     map[string]*vdir    // the virtual directories, by guest path
}

// New opens the root and the volumes. Their descriptors stay open for the life of the
// process, moved to the top of the descriptor range (HighFD) so that the application's
// own numbering starts where it would natively.
func New(root string, rootRO bool, volumes []Mount) (*FS, error) {
	fs := &FS{}
	all := append([]Mount{{Guest: "/", Host: root, ReadOnly: rootRO}}, volumes...)
	for _, m := range all {
		if !path.IsAbs(m.Guest) {
			return nil, fmt.Errorf("volume %s:%s: the guest path must be absolute", m.Host, m.Guest)
		}
		m.Guest = path.Clean(m.Guest)
		if len(fs.mounts) > 0 {
			m.Guest = fs.mounts[0].resolveGuest(m.Guest, all[1:])
		}
		fd, err := unix.Open(m.Host, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.Host, err)
		}
		real, err := HostFDPath(fd)
		var st unix.Stat_t
		if err == nil {
			err = unix.Fstat(fd, &st)
		}
		if err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			// A volume of one file (a container engine's /etc/hosts): its mount holds
			// the file's directory and names the file in it, so that every lookup of
			// the guest path opens the host file itself (fileRel), as a bind mount of a
			// file shows it, written on either side.
			unix.Close(fd)
			if m.Guest == "/" {
				return nil, fmt.Errorf("%s: the root must be a directory", m.Host)
			}
			m.file = path.Base(real)
			fd, err = unix.Open(path.Dir(real), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.Host, err)
		}
		if fd, err = MoveHigh(fd); err != nil {
			return nil, fmt.Errorf("%s: %w", m.Host, err)
		}
		m.Host = real
		m.fd = fd
		mm := m
		fs.mounts = append(fs.mounts, &mm)
	}
	sort.SliceStable(fs.mounts, func(i, j int) bool { return len(fs.mounts[i].Guest) > len(fs.mounts[j].Guest) })
	if len(fs.mounts) > 1 {
		if err := fs.setupVirtual(); err != nil {
			return nil, err
		}
		if err := fs.checkMountPoints(); err != nil {
			return nil, err
		}
	}
	return fs, nil
}

// resolveGuest is where a volume at guest lands in the root m: guest with the symlinks
// of the root it goes through followed, as mount(8) follows them in a bind mount's target
// (a volume at /var/run/x, /var/run being a link to /run, is seen at /run/x, by either
// spelling), inside the root as openat2's RESOLVE_IN_ROOT keeps them. The part of guest
// that does not exist in the root is kept as it is (golos shows the mount point, as a
// virtual directory), and so is what lies at or below another volume's guest path, which
// the root's own files there do not describe.
func (m *Mount) resolveGuest(guest string, volumes []Mount) string {
	under := func(p string) bool {
		for _, v := range volumes {
			if g := path.Clean(v.Guest); g != guest && (p == g || strings.HasPrefix(p, g+"/")) {
				return true
			}
		}
		return false
	}
	resolved, rest := "/", strings.Split(strings.TrimPrefix(guest, "/"), "/")
	for len(rest) > 0 {
		next := path.Join(resolved, rest[0])
		if under(next) {
			break
		}
		how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
		fd, err := unix.Openat2(m.fd, "."+next, &how)
		if err != nil {
			break
		}
		real, err := HostFDPath(fd)
		unix.Close(fd)
		if err != nil {
			break
		}
		switch {
		case real == m.Host:
			resolved = "/"
		case strings.HasPrefix(real, strings.TrimSuffix(m.Host, "/")+"/"):
			resolved = real[len(strings.TrimSuffix(m.Host, "/")):]
		default:
			return guest // not inside the root as the host names it: left as given
		}
		rest = rest[1:]
	}
	return path.Join(append([]string{resolved}, rest...)...)
}

// FDs are the descriptors the FS holds open.
func (fs *FS) FDs() []int {
	var fds []int
	for _, m := range fs.mounts {
		fds = append(fds, m.fd)
	}
	for _, v := range fs.virt {
		fds = append(fds, v.fd)
	}
	return fds
}

// mountOf returns the mount an absolute guest path falls in and the path inside it. The
// mount is chosen on the path with its ".." taken lexically; inside the root the path is
// given to the kernel as it is, so that ".." after a symlink means what it means on
// Linux (inside a volume it stays lexical).
func (fs *FS) mountOf(raw string) (*Mount, string) {
	guest := path.Clean(raw)
	for _, m := range fs.mounts {
		if m.Guest == "/" {
			return m, raw
		}
		if guest == m.Guest {
			return m, m.fileRel("/")
		}
		if strings.HasPrefix(guest, m.Guest+"/") {
			return m, m.fileRel(guest[len(m.Guest):])
		}
	}
	panic("vfs: no root mount")
}

// fileRel is the path inside m's directory of rel, a path inside the mount: for a file's
// mount, the file's name first (a path below it fails with ENOTDIR, as below a file).
func (m *Mount) fileRel(rel string) string {
	if m.file == "" {
		return rel
	}
	return strings.TrimSuffix("/"+m.file+rel, "/")
}

// Abs joins a guest path with the directory it is relative to, leaving ".." and symlinks
// for the kernel to resolve.
func Abs(dir, p string) string {
	if path.IsAbs(p) {
		return p
	}
	return strings.TrimSuffix(dir, "/") + "/" + p
}

// ErrReadOnly is returned for a write to a read-only part.
var ErrReadOnly = unix.EROFS

// writeFlags are the open(2) flags that modify the file or the directory (O_TMPFILE is
// __O_TMPFILE|O_DIRECTORY: only its own bit counts).
const writeFlags = unix.O_WRONLY | unix.O_RDWR | unix.O_CREAT | unix.O_TRUNC | unix.O_APPEND | (unix.O_TMPFILE &^ unix.O_DIRECTORY)

// pathFlags are the flags open(2) keeps with O_PATH; it ignores the others, which
// openat2(2) would refuse.
const pathFlags = unix.O_PATH | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC

// Open opens an absolute guest path. With volumes, symlinks may lead across mounts, so
// the path is walked a component at a time (walk); without, the kernel resolves it in one
// openat2 call.
func (fs *FS) Open(guest string, flags int, mode uint32) (int, error) {
	fd, _, err := fs.open(guest, flags, mode)
	return fd, err
}

// ErrVolumes is OpenResolve's error in a root with volumes.
var ErrVolumes = errors.New("openat2's RESOLVE_ flags in a root with volumes")

// HasVolumes reports whether host directories are grafted into the root.
func (fs *FS) HasVolumes() bool { return len(fs.mounts) > 1 }

// OpenResolve is Open with openat2(2)'s RESOLVE_ flags added to the ones that keep the
// path in the root. Only a root without volumes can take them (else ErrVolumes): there
// the kernel resolves the whole path in one call, so it applies them to every component,
// where a walk across the mounts golos grafts (walk) resolves symlinks itself.
func (fs *FS) OpenResolve(guest string, flags int, mode uint32, resolve uint64) (int, error) {
	if fs.HasVolumes() {
		return -1, ErrVolumes
	}
	return fs.openIn(guest, flags, mode, resolve)
}

// open is Open that also returns the virtual directory opened, if it is one.
func (fs *FS) open(guest string, flags int, mode uint32) (int, *vdir, error) {
	if len(fs.mounts) > 1 {
		return fs.walk(guest, flags, mode)
	}
	fd, err := fs.openIn(guest, flags, mode, 0)
	return fd, nil, err
}

// openIn opens guest in the mount it falls in, with extra resolve flags.
func (fs *FS) openIn(guest string, flags int, mode uint32, resolve uint64) (int, error) {
	m, rel := fs.mountOf(guest)
	if flags&unix.O_PATH != 0 {
		flags &= pathFlags
	}
	if m.ReadOnly && flags&writeFlags != 0 {
		return -1, ErrReadOnly
	}
	how := unix.OpenHow{
		Flags:   uint64(flags) | unix.O_LARGEFILE,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS | resolve,
	}
	if flags&(unix.O_CREAT|(unix.O_TMPFILE&^unix.O_DIRECTORY)) != 0 {
		how.Mode = uint64(mode & 0o7777)
	}
	for {
		fd, err := unix.Openat2(m.fd, "."+rel, &how)
		if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EINTR) {
			return fd, err
		}
		// EAGAIN: a rename raced with the lookup; the kernel asks to try again.
	}
}

// Ref is a host path that names a guest file safely for one syscall: through
// /proc/self/fd of a descriptor golos holds, a temporary one (tempfd.go). Close it after
// the call.
type Ref struct {
	Path     string
	ReadOnly bool // the file lies in a read-only part
	fd       int  // the file's, or its directory's when base is set; -1: none to close
	base     string
	v        *vdir // the file is this virtual directory
}

// Close releases the descriptor behind the reference.
func (r *Ref) Close() {
	if r.fd >= 0 {
		closeTemp(r.fd)
	}
}

// Dir is the descriptor of the directory an Entry reference names its last component in,
// and that component; fd is -1 for a reference of another kind (a directory itself, a
// virtual directory, a Follow reference). The descriptor stays the reference's.
func (r *Ref) Dir() (fd int, base string) {
	if r.base == "" || r.v != nil {
		return -1, ""
	}
	return r.fd, r.base
}

// Follow resolves a guest path, symlinks in the last component included, to a reference
// of the file itself.
func (fs *FS) Follow(guest string) (*Ref, error) {
	defer EnterLow()()
	fd, v, err := fs.open(guest, unix.O_PATH, 0)
	if err != nil {
		return nil, err
	}
	fd = holdTemp(fd)
	m, _ := fs.mountOf(guest)
	return &Ref{Path: "/proc/self/fd/" + strconv.Itoa(fd), ReadOnly: m.ReadOnly || v != nil, fd: fd, v: v}, nil
}

// followDir is Follow for a path that can only be a directory: its reference names the
// directory through "/." after the descriptor, so that a call that does not follow a
// symlink in the last component (lstat, AT_SYMLINK_NOFOLLOW) still goes through the
// descriptor's /proc/self/fd/N link, which is itself a symlink (proc(5)), to the
// directory.
func (fs *FS) followDir(guest string) (*Ref, error) {
	r, err := fs.Follow(guest)
	if err == nil {
		r.Path += "/."
	}
	return r, err
}

// Entry resolves the directory of a guest path and names its last component in it
// without following it: what unlink, rename, mkdir, lstat and readlink work on.
func (fs *FS) Entry(guest string) (*Ref, error) {
	defer EnterLow()()
	trimmed := strings.TrimRight(guest, "/")
	dir, base := path.Split(trimmed)
	if base == "" || base == "." || base == ".." {
		return fs.followDir(guest) // a directory itself, never a symlink
	}
	if m, rel := fs.mountOf(guest); rel == "/" {
		return fs.followDir(guest) // a mount point: the mounted directory
	} else if m.file != "" && path.Clean(guest) == m.Guest {
		// A file's mount point: the mounted file, named in its host directory.
		fd, err := unix.Openat(m.fd, ".", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		fd = holdTemp(fd)
		name := m.file + guest[len(trimmed):] // a trailing "/" stays: ENOTDIR
		return &Ref{Path: "/proc/self/fd/" + strconv.Itoa(fd) + "/" + name, ReadOnly: m.ReadOnly, fd: fd, base: name}, nil
	}
	if dir == "" {
		dir = "/"
	}
	fd, dv, err := fs.open(dir, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	fd = holdTemp(fd)
	if len(fs.virt) > 0 {
		// The entry may be a virtual directory: the directory, which holds no entry of
		// that name, stands for it.
		var dg string
		var err error
		if dv != nil {
			dg = dv.guest
		} else {
			dg, err = fs.FDPath(fd)
		}
		if v := fs.virtualAt(path.Join(dg, base), fd); err == nil && v != nil {
			closeTemp(fd)
			return virtualRef(v), nil
		}
	}
	m, _ := fs.mountOf(guest)
	return &Ref{Path: "/proc/self/fd/" + strconv.Itoa(fd) + "/" + base, ReadOnly: m.ReadOnly || dv != nil, fd: fd, base: base}, nil
}

// MountPoint reports whether a guest path names the root, a volume's mount point or a
// virtual directory itself (".." and "." taken lexically), and whether the directory
// that holds its entry lies in a read-only part or is virtual (false for the root, which
// has none).
func (fs *FS) MountPoint(guest string) (is, parentRO bool) {
	g := path.Clean(guest)
	if g == "/" {
		return true, false
	}
	is = fs.virtualAt(g, -1) != nil
	for _, m := range fs.mounts {
		is = is || m.Guest == g
	}
	if !is {
		return false, false
	}
	pm, _ := fs.mountOf(path.Dir(g))
	return true, pm.ReadOnly || fs.virtualAt(path.Dir(g), -1) != nil
}

// SameMount reports whether two guest paths lie in the same mount (rename(2) and link(2)
// across mounts fail with EXDEV).
func (fs *FS) SameMount(a, b string) bool {
	ma, _ := fs.mountOf(a)
	mb, _ := fs.mountOf(b)
	return ma == mb
}

// ReadOnlyHost reports whether a host path (of a descriptor) lies in a read-only part.
func (fs *FS) ReadOnlyHost(host string) bool {
	g, ok := fs.Guest(host)
	if !ok {
		return false
	}
	m, _ := fs.mountOf(g)
	return m.ReadOnly
}

// HasReadOnly reports whether some part of the root is read-only: the root or a volume
// (":ro"), or a virtual directory (which stands for a volume's mount point).
func (fs *FS) HasReadOnly() bool {
	for _, m := range fs.mounts {
		if m.ReadOnly {
			return true
		}
	}
	return fs.HasVolumes()
}

// Guest maps a host path (of a descriptor, from /proc/self/fd) back to the guest path
// that names it; ok is false for a file outside every mount.
func (fs *FS) Guest(host string) (string, bool) {
	best := ""
	var bm *Mount
	for _, m := range fs.mounts {
		below := m.file == "" && strings.HasPrefix(host, strings.TrimSuffix(m.Host, "/")+"/")
		if (host == m.Host || below) && len(m.Host) >= len(best) {
			best, bm = m.Host, m
		}
	}
	if bm == nil {
		return "", false
	}
	rest := strings.TrimPrefix(host, strings.TrimSuffix(bm.Host, "/"))
	return path.Join(bm.Guest, rest), true
}

// FDPath is the guest path of an open descriptor.
func (fs *FS) FDPath(fd int) (string, error) {
	if g, ok := fs.Virtual(fd); ok {
		return g, nil
	}
	host, err := HostFDPath(fd)
	if err != nil {
		return "", err
	}
	g, ok := fs.Guest(host)
	if !ok {
		return "", unix.ENOENT
	}
	return g, nil
}

// HostFDPath is the host path of an open descriptor: what /proc/self/fd/N names.
func HostFDPath(fd int) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlink("/proc/self/fd/"+strconv.Itoa(fd), buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// HighFD is where golos's own descriptors go: the top of the process's descriptor table
// as it is (as golos's entry point grew it, GrownTable; else 64 entries, or more if golos
// inherited higher descriptors), or of
// RLIMIT_NOFILE when that is lower (fcntl(2): F_DUPFD fails with EINVAL when its argument
// is not below the soft limit). Above it the kernel would have to grow the table, which
// in a process with threads waits for an RCU grace period (about 10 ms here). An
// application with more descriptors open than that finds golos's in its way: its own
// numbers skip them, and it cannot close them.
//
// A forked child's golos takes its parent's (InheritHighFD): its end of the socket to the
// parent is inherited above the parent's own descriptors, and a table size counted from
// it would double at each generation of forks (248, 504, 1016 under a limit of 1024),
// until a grandchild's few numbers between its HighFD and RLIMIT_NOFILE could not hold
// its root's and volumes' descriptors (EMFILE, the program's fork failing with ENOMEM).
var HighFD = sync.OnceValue(func() int {
	high := inheritedHighFD
	if high <= 0 {
		// Not a forked child's: the table as it is, which only /proc/self/fd lists.
		high = tableSize() - highRoom
		if grownTable > 0 {
			high = max(high, grownTable-grownRoom)
		}
	}
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil && rl.Cur < uint64(high+highRoom) {
		high = int(rl.Cur) - highRoom
	}
	return max(high, 3)
})

// grownTable is the size golos's entry point grew the table to before its runtime
// started any thread (cmd/golos/prestart_amd64.s), when it did: at most RLIMIT_NOFILE's
// soft limit or 4096. golos's own then sit in the top grownRoom numbers of that, above
// the numbers programs use (a shell's `exec 60>file` found them at 56-63 of a table of
// 64).
var grownTable int

// grownRoom is how many numbers below a grown table's top HighFD leaves for golos's own:
// where the soft limit is the table's top and the hard limit no higher (prlimit
// --nofile=1024:1024), golos's descriptors cannot go above it, and a root with many
// volumes holds one per mount.
const grownRoom = 64

// GrownTable records that the descriptor table has n entries, grown while that was cheap.
// It must come before the first HighFD.
func GrownTable(n int) {
	grownTable = n
}

// highRoom is how many numbers below the table's top HighFD leaves for golos's own.
const highRoom = 8

// inheritedHighFD is the parent golos's HighFD in a forked child's golos, 0 elsewhere.
var inheritedHighFD int

// InheritHighFD makes HighFD n, the parent golos's, in a forked child's golos (or the
// top of RLIMIT_NOFILE's range when that is lower: the program may have lowered it). It
// must come before the first HighFD.
func InheritHighFD(n int) {
	inheritedHighFD = n
}

// tableSize is the size of the process's descriptor table: 64 entries, or the power of
// two above the highest descriptor open.
func tableSize() int {
	size := 64
	fds, _ := OpenFDs()
	for _, fd := range fds {
		for fd >= size {
			size *= 2
		}
	}
	return size
}

// OpenFDs lists the process's open descriptors, as /proc/self/fd shows them (proc(5)), in
// increasing order, without the one it reads that directory through.
func OpenFDs() ([]int, error) {
	dir, err := unix.Open("/proc/self/fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("list the open descriptors: %w", err)
	}
	defer unix.Close(dir)
	var fds []int
	buf := make([]byte, 4096)
	for {
		n, err := unix.Getdents(dir, buf)
		if err != nil {
			return nil, fmt.Errorf("list the open descriptors: %w", err)
		}
		if n <= 0 {
			break
		}
		_, _, names := unix.ParseDirent(buf[:n], -1, nil)
		for _, name := range names {
			if v, err := strconv.Atoi(name); err == nil && v != dir {
				fds = append(fds, v)
			}
		}
	}
	sort.Ints(fds)
	return fds, nil
}

// MoveHigh moves a descriptor to HighFD or above (the one given is closed). When the
// program has lowered RLIMIT_NOFILE to HighFD or below since golos started, F_DUPFD
// fails with EINVAL (fcntl(2)), and when golos's own fill every number from HighFD to
// the limit (a hard limit of 64, which golos may not raise), with EMFILE; either way the
// descriptor stays where it is, with FD_CLOEXEC: golos's descriptor then takes a number
// the program could have used, where failing would fail the program's call (a fork)
// that needed it.
func MoveHigh(fd int) (int, error) {
	hi, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, HighFD())
	if err == unix.EINVAL || err == unix.EMFILE {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
			unix.Close(fd)
			return -1, err
		}
		NoteHigh(fd)
		return fd, nil
	}
	unix.Close(fd)
	if err == nil {
		NoteHigh(hi)
	}
	return hi, err
}

// highMade holds the descriptors golos placed for itself (MoveHigh, NoteHigh), by
// number, with the device and inode of the file each was open on: many are open only
// for a moment (a fork's socket to the child's golos and its start-up log) and closed
// with a plain close(2), so HighOwn checks, when asked, which still are.
var highMade sync.Map // int → [2]uint64

// NoteHigh records descriptor fd, one of golos's own, for HighOwn.
func NoteHigh(fd int) {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) == nil {
		highMade.Store(fd, [2]uint64{st.Dev, st.Ino})
	}
}

// highKept counts the callers of KeepHigh that have not yet let go.
var highKept atomic.Int32

// KeepHigh makes HighOwn list every number golos placed, whatever is open there, until
// the function it returns is called: while a fork lasts, a number golos closed and then
// took again for a new file is golos's, not a program's that took it meanwhile (which
// only a program's other thread could, in that moment).
func KeepHigh() (release func()) {
	highKept.Add(1)
	return func() { highKept.Add(-1) }
}

// HighOwn lists the numbers of the descriptors of golos's own that MoveHigh and
// NoteHigh placed, unless the number is now open on another file (the program's open
// or dup2 took it since golos closed it; but not while KeepHigh holds): one closed
// since is listed too, so that a listing of the descriptors made while it was open
// leaves it out even when it has been closed by the time golos is asked (it shows
// nothing of the program's either way).
func HighOwn() []int {
	var fds []int
	keep := highKept.Load() > 0
	highMade.Range(func(k, v any) bool {
		fd := k.(int)
		var st unix.Stat_t
		switch err := unix.Fstat(fd, &st); {
		case keep, err == unix.EBADF, err == nil && [2]uint64{st.Dev, st.Ino} == v.([2]uint64):
			fds = append(fds, fd)
		default:
			highMade.CompareAndDelete(fd, v)
		}
		return true
	})
	return fds
}

// maxSymlinks is how many symlinks a path may go through (path_resolution(7): 40).
const maxSymlinks = 40

// walk resolves an absolute guest path a component at a time, as path_resolution(7)
// describes: each step opens one canonical path inside its mount with symlinks refused
// (RESOLVE_NO_SYMLINKS), a symlink met is read and its target walked in turn (an
// absolute one from the guest's root), and ".." goes to the parent of the directory
// reached. Every step stays inside a mount, so the walk cannot leave them either. A
// component missing where a virtual directory stands for it (virtual.go) is that
// directory; the virtual directory reached, if the path ends at one, is returned too.
func (fs *FS) walk(p string, flags int, mode uint32) (int, *vdir, error) {
	follow := flags&unix.O_NOFOLLOW == 0
	rest := strings.Split(p, "/")
	cur := "/"
	var virt []*vdir // per component of cur: the virtual directory it is, or nil
	links := 0
	here := func() (int, *vdir, error) { // open cur itself
		if n := len(virt); n > 0 && virt[n-1] != nil {
			fd, err := fs.openVirtual(virt[n-1], flags)
			return fd, virt[n-1], err
		}
		fd, err := fs.openIn(cur, flags, mode, unix.RESOLVE_NO_SYMLINKS)
		return fd, nil, err
	}
	for len(rest) > 0 {
		comp := rest[0]
		rest = rest[1:]
		if comp == "" || comp == "." {
			if len(rest) == 0 {
				return here()
			}
			continue
		}
		if comp == ".." {
			cur = path.Dir(cur)
			if len(virt) > 0 {
				virt = virt[:len(virt)-1]
			}
			if len(rest) == 0 {
				return here()
			}
			continue
		}
		next := path.Join(cur, comp)
		last := len(rest) == 0
		// The descriptor of each step is a temporary one, held in the low window
		// (tempfd.go) until it is closed, or given to the caller (an O_PATH open, which
		// never blocks). The final open with the caller's flags, which may block (a
		// FIFO's), comes after the window.
		leave := EnterLow()
		fd, err := fs.openIn(next, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0, unix.RESOLVE_NO_SYMLINKS)
		if err != nil {
			leave()
			if v := fs.virt[next]; v != nil && errors.Is(err, unix.ENOENT) {
				cur, virt = next, append(virt, v)
				if last {
					return here()
				}
				continue
			}
			if last && errors.Is(err, unix.ENOENT) && flags&unix.O_CREAT != 0 {
				if n := len(virt); n > 0 && virt[n-1] != nil {
					return -1, nil, unix.EROFS // nothing is created in a virtual directory
				}
				// RESOLVE_NO_SYMLINKS refuses a symlink made there meanwhile (ELOOP);
				// O_NOFOLLOW is left to the program's flags, which F_GETFL shows.
				fd, err := fs.openIn(next, flags, mode, unix.RESOLVE_NO_SYMLINKS)
				return fd, nil, err
			}
			return -1, nil, err
		}
		var st unix.Stat_t
		err = unix.Fstat(fd, &st)
		if err == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK && (!last || follow) {
			buf := make([]byte, unix.PathMax)
			n, rerr := unix.Readlinkat(fd, "", buf)
			unix.Close(fd)
			leave()
			if rerr != nil {
				return -1, nil, rerr
			}
			if links++; links > maxSymlinks {
				return -1, nil, unix.ELOOP
			}
			target := string(buf[:n])
			if strings.HasPrefix(target, "/") {
				cur, virt = "/", nil
			}
			rest = append(strings.Split(target, "/"), rest...)
			continue
		}
		if err != nil {
			unix.Close(fd)
			leave()
			return -1, nil, err
		}
		if !last {
			unix.Close(fd)
			leave()
			if st.Mode&unix.S_IFMT != unix.S_IFDIR {
				return -1, nil, unix.ENOTDIR
			}
			cur, virt = next, append(virt, nil)
			continue
		}
		if flags&^unix.O_CLOEXEC == unix.O_PATH|unix.O_NOFOLLOW {
			// What was asked for is what we have, but for FD_CLOEXEC, which the
			// program's flags say (fcntl(F_GETFD), and the descriptor's fate at
			// execve, show it).
			if flags&unix.O_CLOEXEC == 0 {
				if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
					unix.Close(fd)
					leave()
					return -1, nil, err
				}
			}
			leave()
			return fd, nil, nil
		}
		unix.Close(fd)
		leave()
		// Not a symlink, or one the program's O_NOFOLLOW asks for: RESOLVE_NO_SYMLINKS
		// refuses one swapped in meanwhile (openat2(2): ELOOP). O_NOFOLLOW is not added,
		// so that fcntl(F_GETFL) and /proc/self/fdinfo show the program's flags alone,
		// as natively; an O_PATH descriptor too is opened again for that.
		fd, err = fs.openIn(next, flags, mode, unix.RESOLVE_NO_SYMLINKS)
		return fd, nil, err
	}
	return here()
}

// Sub is the view a chroot(2) into the directory open at fd (a descriptor of a
// directory of fs) gives: that directory is the root, and the volumes below it stay
// grafted where they were, now at their paths inside it. The root is read-only when the
// mount the directory lies in is. It returns the directory's guest path in fs too, the
// new root's name in fs's view.
func (fs *FS) Sub(fd int) (*FS, string, error) {
	if _, virtual := fs.Virtual(fd); virtual {
		// A virtual directory has no host directory to be a root: golos would have to
		// make one, and a virtual directory holds nothing but mount points.
		return nil, "", fmt.Errorf("chroot into a virtual directory (a volume's missing parent): %w", unix.ENOENT)
	}
	guest, err := fs.FDPath(fd)
	if err != nil {
		return nil, "", fmt.Errorf("chroot: the directory's path in the root: %w", err)
	}
	host, err := HostFDPath(fd)
	if err != nil {
		return nil, "", fmt.Errorf("chroot: the directory's host path: %w", err)
	}
	m, _ := fs.mountOf(guest)
	var vols []Mount
	for _, v := range fs.mounts {
		if strings.HasPrefix(v.Guest, strings.TrimSuffix(guest, "/")+"/") {
			vols = append(vols, Mount{Guest: v.Guest[len(strings.TrimSuffix(guest, "/")):], Host: v.Host, ReadOnly: v.ReadOnly})
		}
	}
	sub, err := New(host, m.ReadOnly, vols)
	return sub, guest, err
}

// Close closes the descriptors the FS holds: a view no longer used (a chroot(2) left it).
func (fs *FS) Close() {
	for _, fd := range fs.FDs() {
		unix.Close(fd)
	}
}
