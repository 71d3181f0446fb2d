package tests

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The root and the volumes' mount points as tools that walk a tree see them: "/" and
// "/data" are directories (lstat(2) of a mount point describes the mounted directory's
// root), listed, counted and archived as in a chroot(2) with bind mounts.

// bbTree builds a root holding a copy of the static busybox in /bin, a few files, a
// symlink and the mount point /data, and a volume to graft there; every time is fixed, so
// that two runs list and archive the same bytes.
func bbTree(t *testing.T) (root, vol string) {
	t.Helper()
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Fatalf("/bin/busybox: %v (%s)", err, installHint)
	}
	h := t.TempDir()
	root, vol = filepath.Join(h, "root"), filepath.Join(h, "vol")
	rootCopy(t, "/bin/busybox", filepath.Join(root, "bin/busybox"), 0o755)
	files := map[string]string{
		"root/etc/hostname": "guest\n", "root/sub/a": "a\n", "root/sub/deep/b": "bb\n",
		"vol/f": "volume file\n", "vol/d/g": "in a volume directory\n",
	}
	for p, content := range files {
		rootCopy(t, "/dev/null", filepath.Join(h, p), 0o644)
		if err := os.WriteFile(filepath.Join(h, p), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"root/data", "root/tmp", "root/empty"} {
		if err := os.MkdirAll(filepath.Join(h, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/etc/hostname", filepath.Join(root, "lnk")); err != nil {
		t.Fatal(err)
	}
	fixTimes(t, h)
	return root, vol
}

// fixTimes sets the mtime and atime of everything under dir (symlinks included) to one
// instant, children before their directories.
func fixTimes(t *testing.T, dir string) {
	t.Helper()
	when := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	var paths []string
	filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err == nil {
			paths = append(paths, p)
		}
		return nil
	})
	for i := len(paths) - 1; i >= 0; i-- {
		if err := lchtimes(paths[i], when); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRootTreeWalk: with --root R --volume V:/data, busybox's ls -la, stat, find, du and
// tar over "/" and "/data" (and "/.", "/data/..") give what they give in a chroot to R
// with V bind-mounted at /data: "/" and the mount point are directories, not the
// /proc/self/fd/N links golos reaches them through. rmdir(2) and rename(2) of "/" and of
// the mount point fail with EBUSY, as on Linux (rmdir(2): the root directory of the
// calling process or a mount point). Also with the root read-only (:ro) and the volume too.
func TestRootTreeWalk(t *testing.T) {
	if why := needNativeRoot(); why != "" {
		t.Skip(why)
	}
	bb := "/bin/busybox"
	cmds := [][]string{
		{bb, "ls", "-la", "/", "/data", "/data/d"},
		{bb, "ls", "-laR", "/"},
		{bb, "stat", "-c", "%F %N %s %h %i %a", "/", "/data", "/.", "/..", "/data/.", "/data/..", "/data/d/../..", "/lnk", "/empty"},
		{bb, "stat", "-L", "-c", "%F %N %s %h %i", "/", "/data", "/lnk"},
		{bb, "find", "/", "-maxdepth", "2"},
		{bb, "find", "/", "-type", "d"},
		{bb, "find", "/data", "/", "-type", "f"},
		{bb, "du", "-s", "/", "/data"},
		{bb, "du", "-a", "/data", "/"},
		{bb, "tar", "c", "/"},
		{bb, "tar", "c", "-C", "/", "."},
		{bb, "tar", "c", "-C", "/data", "."},
		{bb, "readlink", "/"},
		{bb, "rmdir", "/"},
		{bb, "rmdir", "/data"},
		{bb, "rmdir", "/data/"},
		{bb, "mv", "/data", "/moved"},
		{bb, "mv", "/", "/moved"},
	}
	for _, c := range []struct {
		name          string
		rootRO, volRO bool
	}{{"rw", false, false}, {"ro", true, true}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, argv := range cmds {
				root, vol := bbTree(t)
				binds := []volBind{{host: vol, guest: "/data", ro: c.volRO}}
				nat := runNativeRoot(&runOpts{}, root, c.rootRO, binds, "", argv...)
				if nat.err != nil || nat.timedOut {
					t.Fatalf("%s natively: %s", strings.Join(argv, " "), nat)
				}
				fixTimes(t, filepath.Dir(root)) // rmdir and mv may have failed after an access
				g := runGolosRoot(t, &runOpts{}, root, c.rootRO, binds, "", argv...)
				what := "golos run --root R --volume V:/data " + strings.Join(argv, " ")
				if g.err != nil || g.timedOut || crashed(g.stderr) {
					t.Errorf("%s: %s\nstderr:\n%s", what, g, clip(g.stderr))
					continue
				}
				if g.code != nat.code || !bytes.Equal(g.stdout, nat.stdout) || !bytes.Equal(g.stderr, nat.stderr) {
					t.Errorf("%s: %s, native (chroot, bind mount) %s\nstdout (native | golos):\n%s\nstderr native:\n%sstderr golos:\n%s",
						what, g, nat, strings.Join(wildLineDiffs(nat.stdout, g.stdout), "\n"), clip(nat.stderr), clip(g.stderr))
				}
			}
		})
	}
}

// lchtimes sets a file's atime and mtime without following a symlink.
func lchtimes(p string, when time.Time) error {
	ts := []unix.Timespec{unix.NsecToTimespec(when.UnixNano()), unix.NsecToTimespec(when.UnixNano())}
	return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
}
