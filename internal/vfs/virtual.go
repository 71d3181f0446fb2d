package vfs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Virtual directories: a volume's mount point, or a directory above it, that the root
// does not have. docker run creates such a mount point in the container's root; golos
// writes nothing to the root (it may be read-only, and it is left as it was), so it shows
// each missing directory instead as a virtual one:
//
//   - the walk (walk) goes through a missing component that is an ancestor of a mount
//     point as through a directory, and the mount point itself through its own mount;
//   - a virtual directory opened or stat'ed is an empty directory golos made at start in
//     the host's temporary directory and removed at once (rmdir(2) of a directory held
//     open): each has an inode of its own, mode 0755 and golos's owner (root, as docker
//     creates them, when golos runs as root), and nothing can ever be created in it;
//   - the listing of a directory with virtual children, or with a mount point its own
//     directory lacks, gets them appended (package kernel, getdents64), and its link count
//     counts them (ExtraLinks), as it would count the directories docker creates.
//
// A virtual directory is read-only, as if an empty read-only file system were mounted
// there: creating, removing or renaming anything in it, or changing its own mode, owner,
// times or attributes, fails with EROFS (the errno Linux gives for "a file on a read-only
// filesystem", open(2), mkdir(2), unlink(2)), whether the root is read-only or not. EROFS,
// not EACCES: golos refuses because it will not write the root, not because of the
// file's permissions, and a program running as root expects no EACCES from a 0755
// directory it owns. Removing or renaming the virtual directory itself fails with EBUSY,
// as for a mount point (rmdir(2), rename(2)), or EROFS when its parent is read-only.

// vdir is one virtual directory.
type vdir struct {
	guest    string
	fd       int // O_PATH descriptor of the removed temporary directory
	dev, ino uint64
	links    uint64 // its link count: 2 and one per child, all directories
}

// virtualParents are the directories above the volumes' mount points ("/" aside), the
// shallowest first.
func (fs *FS) virtualParents() []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range fs.mounts {
		for d := path.Dir(m.Guest); m.Guest != "/" && d != "/"; d = path.Dir(d) {
			if !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return strings.Count(out[i], "/") < strings.Count(out[j], "/") || strings.Count(out[i], "/") == strings.Count(out[j], "/") && out[i] < out[j]
	})
	return out
}

// setupVirtual notes the children each directory must show (the directories above the
// mount points, and the mount points) and makes a virtual directory for each of those
// directories the root or a volume lacks.
func (fs *FS) setupVirtual() error {
	parents := fs.virtualParents()
	fs.children = map[string][]string{}
	kids := map[string]map[string]bool{}
	add := func(p string) {
		d := path.Dir(p)
		if kids[d] == nil {
			kids[d] = map[string]bool{}
		}
		kids[d][path.Base(p)] = true
	}
	for _, p := range parents {
		add(p)
	}
	for _, m := range fs.mounts {
		if m.Guest != "/" {
			add(m.Guest)
		}
	}
	for d, names := range kids {
		for n := range names {
			fs.children[d] = append(fs.children[d], n)
		}
		sort.Strings(fs.children[d])
	}
	fs.virt = map[string]*vdir{}
	for i, p := range parents {
		fd, _, err := fs.walk(p, unix.O_PATH|unix.O_NOFOLLOW, 0)
		if err == nil {
			unix.Close(fd)
			continue
		}
		if !errors.Is(err, unix.ENOENT) {
			continue // not a directory, a loop…: the walk will fail there, as it does now
		}
		v, err := newVdir(p, i, fs.tempDirs())
		if err != nil {
			return fmt.Errorf("a directory for %s, missing in the root: %w", p, err)
		}
		v.links = 2 + fs.dirChildren(p, fs.children[p])
		fs.virt[p] = v
	}
	return nil
}

// checkMountPoints refuses a volume that could not be mounted where it is asked for, as
// a bind mount (mount(2): ENOTDIR) and so a container engine refuse it: runc creates the
// missing directories of a mount point with mkdir -p, which fails below a file ("not a
// directory"), and a directory cannot be bound over a file, nor a file over a directory.
// Such a volume would otherwise be there for the program to find and never reachable
// (ENOTDIR at each lookup). A symlink on the way is left to the walk, which follows it.
// Called once the virtual directories are set up, so that the walk goes through them.
func (fs *FS) checkMountPoints() error {
	for _, m := range fs.mounts {
		if m.Guest == "/" {
			continue
		}
		var above []string
		for d := path.Dir(m.Guest); d != "/"; d = path.Dir(d) {
			above = append([]string{d}, above...)
		}
		for _, d := range above {
			if mode, ok := fs.lmode(d, ""); ok && mode != unix.S_IFDIR && mode != unix.S_IFLNK {
				return fmt.Errorf("volume %s:%s: %s in the root is not a directory: nothing can be mounted below it", m.Host, m.Guest, d)
			}
		}
		mode, ok := fs.lmode(path.Dir(m.Guest), path.Base(m.Guest))
		switch {
		case !ok || mode == unix.S_IFLNK:
		case m.file == "" && mode != unix.S_IFDIR:
			return fmt.Errorf("volume %s:%s: %s in the root is not a directory, and a directory cannot be mounted over it", m.Host, m.Guest, m.Guest)
		case m.file != "" && mode == unix.S_IFDIR:
			return fmt.Errorf("volume %s:%s: %s in the root is a directory, and a file cannot be mounted over it", m.Host, m.Guest, m.Guest)
		}
	}
	return nil
}

// lmode is the file type (S_IFMT bits) of name in the guest directory dir, or of dir
// itself when name is empty, without following a symlink there; ok is false when there
// is none (or it cannot be reached).
func (fs *FS) lmode(dir, name string) (mode uint32, ok bool) {
	flags := unix.O_PATH | unix.O_NOFOLLOW
	if name != "" {
		flags = unix.O_PATH | unix.O_DIRECTORY
	}
	fd, _, err := fs.walk(dir, flags, 0)
	if err != nil {
		return 0, false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if name == "" {
		err = unix.Fstat(fd, &st)
	} else {
		err = unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	}
	return st.Mode & unix.S_IFMT, err == nil
}

// tempDirs are the host directories a virtual directory's removed directory may be made
// in: the temporary directories outside the root and the volumes first (making and
// removing a directory changes its parent's times), then the others.
func (fs *FS) tempDirs() []string {
	var out, inside []string
	for _, dir := range []string{os.TempDir(), "/tmp", "/dev/shm"} {
		real := dir
		if fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err == nil {
			real, _ = HostFDPath(fd)
			unix.Close(fd)
		}
		if _, in := fs.Guest(real); in {
			inside = append(inside, dir)
		} else {
			out = append(out, dir)
		}
	}
	return append(out, inside...)
}

// newVdir makes the empty, removed directory behind a virtual directory: created in one
// of dirs (0700 until golos holds it, so that no one else can enter it), opened, made
// 0755 and removed. Once removed, nothing can be created in it (lookups and creations in
// a removed directory fail with ENOENT, and its listing too).
func newVdir(guest string, i int, dirs []string) (*vdir, error) {
	var tmp string
	var err error = unix.ENOENT
	for _, dir := range dirs {
		tmp = fmt.Sprintf("%s/.golos-mnt-%d-%d-%d", dir, os.Getpid(), i, nanotime())
		if err = unix.Mkdir(tmp, 0o700); err == nil {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	defer unix.Rmdir(tmp)
	fd, err := unix.Open(tmp, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.Chmod("/proc/self/fd/"+strconv.Itoa(fd), 0o755); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := unix.Rmdir(tmp); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if fd, err = MoveHigh(fd); err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &vdir{guest: guest, fd: fd, dev: st.Dev, ino: st.Ino}, nil
}

func nanotime() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// openVirtual opens a virtual directory with the application's flags: a new descriptor
// of the removed directory, which answers open(2) as a directory would ("." exists:
// EISDIR for O_CREAT or write access, EEXIST for O_CREAT|O_EXCL). O_TMPFILE would make a
// file in the host's temporary file system: EROFS, as in a read-only directory.
func (fs *FS) openVirtual(v *vdir, flags int) (int, error) {
	if flags&(unix.O_TMPFILE&^unix.O_DIRECTORY) != 0 {
		return -1, unix.EROFS
	}
	if flags&unix.O_PATH != 0 {
		flags &= pathFlags
	}
	return unix.Openat(v.fd, ".", flags|unix.O_NOFOLLOW, 0)
}

// vdirOfFD is the virtual directory a descriptor is open on, or nil.
func (fs *FS) vdirOfFD(fd int) *vdir {
	if len(fs.virt) == 0 {
		return nil
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Nlink != 0 {
		return nil
	}
	for _, v := range fs.virt {
		if v.dev == st.Dev && v.ino == st.Ino {
			return v
		}
	}
	return nil
}

// virtualRef is a reference to a virtual directory itself, through golos's own
// descriptor of it (nothing to close).
func virtualRef(v *vdir) *Ref {
	return &Ref{Path: "/proc/self/fd/" + strconv.Itoa(v.fd) + "/.", ReadOnly: true, fd: -1, v: v}
}

// virtualAt returns the virtual directory at a canonical guest path, if the directory
// that holds it (dirfd, or the walk when dirfd < 0) has no entry of that name.
func (fs *FS) virtualAt(guest string, dirfd int) *vdir {
	v := fs.virt[guest]
	if v == nil {
		return nil
	}
	if dirfd >= 0 {
		var st unix.Stat_t
		if err := unix.Fstatat(dirfd, path.Base(guest), &st, unix.AT_SYMLINK_NOFOLLOW); !errors.Is(err, unix.ENOENT) {
			return nil
		}
		return v
	}
	fd, got, err := fs.walk(guest, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil
	}
	unix.Close(fd)
	if got != v {
		return nil
	}
	return v
}

// Child is an entry a directory listing must show that its host directory lacks.
type Child struct {
	Name string
	Ino  uint64
	File bool // a file's mount point (DT_REG), not a directory
}

// MissingChildren lists the children the directory at guest (open at fd) must show and
// its host directory lacks: virtual directories and mount points, directories but for
// the mount points of files, by name. Their inode numbers are those a stat of them gives.
func (fs *FS) MissingChildren(guest string, fd int) []Child {
	var out []Child
	for _, name := range fs.missing(guest, fd) {
		g := path.Join(guest, name)
		out = append(out, Child{Name: name, Ino: fs.Ino(g), File: fs.fileMount(g)})
	}
	return out
}

// FileMount reports whether a guest path (".." and "." taken lexically) is the mount
// point of a file.
func (fs *FS) FileMount(guest string) bool { return fs.fileMount(path.Clean(guest)) }

// fileMount reports whether guest, a clean path, is the mount point of a file.
func (fs *FS) fileMount(guest string) bool {
	for _, m := range fs.mounts {
		if m.Guest == guest && m.file != "" {
			return true
		}
	}
	return false
}

// dirChildren counts the names that are directories (a file's mount point is not): each
// adds a link to its parent directory's count, through its "..".
func (fs *FS) dirChildren(guest string, names []string) uint64 {
	var n uint64
	for _, name := range names {
		if !fs.fileMount(path.Join(guest, name)) {
			n++
		}
	}
	return n
}

// missing are the names of MissingChildren.
func (fs *FS) missing(guest string, fd int) []string {
	var out []string
	for _, name := range fs.children[guest] {
		var st unix.Stat_t
		if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); errors.Is(err, unix.ENOENT) {
			out = append(out, name)
		}
	}
	return out
}

// HasVirtual reports whether any directory may have to show entries its host directory
// lacks: whether there are volumes.
func (fs *FS) HasVirtual() bool { return len(fs.children) > 0 }

// HasChildren reports whether a directory at guest may have to show entries its host
// directory lacks (MissingChildren).
func (fs *FS) HasChildren(guest string) bool { return len(fs.children[guest]) > 0 }

// Ino is the inode number of the file at a guest path (0 if it cannot be reached).
func (fs *FS) Ino(guest string) uint64 {
	fd, _, err := fs.walk(guest, unix.O_PATH, 0)
	if err != nil {
		return 0
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return 0
	}
	return st.Ino
}

// Virtual reports whether fd is open on a virtual directory, and its guest path.
func (fs *FS) Virtual(fd int) (string, bool) {
	if v := fs.vdirOfFD(fd); v != nil {
		return v.guest, true
	}
	return "", false
}

// ExtraLinks is what to add to the link count a stat(2) of the directory behind r gives:
// for a virtual directory its whole count (a removed directory has none), for a
// directory that lacks virtual children or mount points one per such child (each a
// directory whose ".." would count, as in the directories docker creates).
func (fs *FS) ExtraLinks(r *Ref) uint64 {
	if r.v != nil {
		return r.v.links
	}
	if len(fs.children) == 0 || r.fd < 0 {
		return 0
	}
	fd := r.fd
	if r.base != "" {
		var err error
		fd, err = unix.Openat(r.fd, r.base, unix.O_PATH|unix.O_NOFOLLOW|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return 0
		}
		defer unix.Close(fd)
	}
	return fs.ExtraLinksFD(fd)
}

// ExtraLinksFD is ExtraLinks for an open descriptor.
func (fs *FS) ExtraLinksFD(fd int) uint64 {
	if len(fs.children) == 0 {
		return 0
	}
	if v := fs.vdirOfFD(fd); v != nil {
		return v.links
	}
	g, err := fs.FDPath(fd)
	if err != nil || !fs.HasChildren(g) {
		return 0
	}
	return fs.dirChildren(g, fs.missing(g, fd))
}
