package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// Volumes whose mount points the root lacks (issue 11): --volume V:/mnt/deep/x with no
// /mnt in the root, and --volume W:/sub/v with /sub there but no /sub/v. docker run
// creates the missing directories in the container's root; golos, which writes nothing
// to the root, shows them as virtual directories (internal/vfs/virtual.go). The native
// half runs in a chroot to a copy of the root with those directories made, as docker
// makes them, and the volumes bind-mounted there; golos runs on the root itself, which
// must be left exactly as it was (its snapshot, times included, before and after).

// mountPoints are the guest paths of the volumes in these tests.
var mountPoints = []string{"/mnt/deep/x", "/sub/v"}

// missingMountTree builds a root without the mount points, two volumes, and a native
// copy of the root with the mount points made (0755, as mkdir -p makes them).
func missingMountTree(t *testing.T) (root, native string, vols []string) {
	t.Helper()
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Fatalf("/bin/busybox: %v (%s)", err, installHint)
	}
	h := t.TempDir()
	root, native = filepath.Join(h, "root"), filepath.Join(h, "native")
	vols = []string{filepath.Join(h, "vol"), filepath.Join(h, "vol2")}
	rootCopy(t, "/bin/busybox", filepath.Join(root, "bin/busybox"), 0o755)
	rootCopy(t, prog(t, "mnt_dirs.glibc-static"), filepath.Join(root, "bin/mnt_dirs"), 0o755)
	// musl's fstatat(fd, "", AT_EMPTY_PATH) is the plain fstat(2)
	rootCopy(t, prog(t, "mnt_dirs.musl-static"), filepath.Join(root, "bin/mnt_dirs_musl"), 0o755)
	files := map[string]string{
		"root/etc/hostname": "guest\n", "root/sub/a": "a\n", "root/sub/deep/b": "bb\n",
		"vol/file": "volume file\n", "vol/d/g": "in a volume directory\n", "vol2/f2": "second volume\n",
	}
	for p, content := range files {
		rootCopy(t, "/dev/null", filepath.Join(h, p), 0o644)
		if err := os.WriteFile(filepath.Join(h, p), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fixTimes(t, h)
	if out, err := exec.Command("cp", "-a", root, native).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v: %s", err, out)
	}
	for _, mp := range mountPoints {
		if err := os.MkdirAll(filepath.Join(native, mp), 0o755); err != nil {
			t.Fatal(err)
		}
		for d := mp; d != "/"; d = filepath.Dir(d) {
			if err := os.Chmod(filepath.Join(native, d), 0o755); err != nil { // not the umask's
				t.Fatal(err)
			}
		}
	}
	return root, native, vols
}

var lsLongLine = regexp.MustCompile(`^([-dlcbps][-rwxsStT]{9}) +(\d+) +(\S+) +(\S+) +\S+ +\S+ +\S+ +\S+ (.*)$`)

// normalizeMountOut leaves out of a listing what differs by design: the size and times
// of directories (a directory docker makes is made at another time, its size is the
// file system's), ls's "total" of blocks, and d_ino lines of mount points (Linux gives
// the covered directory's inode, which golos has none of); find's order is the file
// system's.
func normalizeMountOut(argv []string, out []byte) []byte {
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	var keep []string
	for _, l := range lines {
		if m := lsLongLine.FindStringSubmatch(l); m != nil {
			l = strings.Join([]string{m[1], m[2], m[3], m[4], m[5]}, " ")
		}
		if strings.HasPrefix(l, "total ") || strings.HasPrefix(l, "  x: d_ino") || strings.HasPrefix(l, "  v: d_ino") {
			continue
		}
		keep = append(keep, l)
	}
	if len(argv) > 1 && argv[1] == "find" {
		sort.Strings(keep)
	}
	return []byte(strings.Join(keep, "\n") + "\n")
}

// mountCases are commands each run on a fresh tree natively (a chroot to a copy of the
// root, the volumes bind-mounted: runNativeRoot) and under golos (--root and --volume),
// with the root and the volumes writable, the root read-only, and both read-only; output,
// status and the volumes afterwards compared.
type mountCases struct {
	cmds [][]string
	// tree makes a root, its native copy and the volumes' host paths (in guests' order).
	tree   func(t *testing.T) (root, native string, vols []string)
	guests []string
	// rootUnchanged: golos must leave the root exactly as it was (a snapshot, times
	// included, before and after each command).
	rootUnchanged bool
	// sameVols compares the native run's volumes with golos's after a command.
	sameVols func(t *testing.T, what string, native, golos []string)
}

func runMountCases(t *testing.T, mc mountCases) {
	for _, c := range []struct {
		name          string
		rootRO, volRO bool
	}{{"rw", false, false}, {"ro-root", true, false}, {"ro", true, true}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			binds := func(v []string) []volBind {
				var b []volBind
				for i, g := range mc.guests {
					b = append(b, volBind{host: v[i], guest: g, ro: c.volRO})
				}
				return b
			}
			placeholders := make([]string, len(mc.guests))
			for i := range placeholders {
				placeholders[i] = fmt.Sprintf("V%d", i+1)
			}
			for _, argv := range mc.cmds {
				root, native, vols := mc.tree(t)
				nvols := make([]string, len(vols))
				for i := range vols {
					nvols[i] = vols[i] + "-native"
					if out, err := exec.Command("cp", "-a", vols[i], nvols[i]).CombinedOutput(); err != nil {
						t.Fatalf("cp -a: %v: %s", err, out)
					}
				}
				nat := runNativeRoot(&runOpts{}, native, c.rootRO, binds(nvols), "", argv...)
				if nat.err != nil || nat.timedOut {
					t.Fatalf("%s natively: %s", strings.Join(argv, " "), nat)
				}
				before := treeSnapshot(t, root)
				g := runGolosRoot(t, &runOpts{}, root, c.rootRO, binds(vols), "", argv...)
				what := "golos run " + strings.Join(golosRootArgs("R", c.rootRO, binds(placeholders)), " ") + " " + strings.Join(argv, " ")
				if d := treeSnapshotDiff(before, treeSnapshot(t, root)); mc.rootUnchanged && len(d) > 0 {
					t.Errorf("%s: the root changed:\n%s", what, strings.Join(d, "\n"))
				}
				if g.err != nil || g.timedOut || crashed(g.stderr) {
					t.Errorf("%s: %s\nstderr:\n%s", what, g, clip(g.stderr))
					continue
				}
				nout, gout := normalizeMountOut(argv, nat.stdout), normalizeMountOut(argv, g.stdout)
				if g.code != nat.code || !bytes.Equal(gout, nout) || !bytes.Equal(g.stderr, nat.stderr) {
					t.Errorf("%s: %s, native (a chroot to a copy of the root, bind mounts) %s\nstdout (native | golos):\n%s\nstderr native:\n%sstderr golos:\n%s",
						what, g, nat, strings.Join(wildLineDiffs(nout, gout), "\n"), clip(nat.stderr), clip(g.stderr))
				}
				mc.sameVols(t, what, nvols, vols)
			}
		})
	}
}

// TestRootMissingMountPoints: with the mount points (and /mnt, /mnt/deep) missing in the
// root, ls -la, stat, find, a listing read in pieces, rewound and seeked in
// (testdata/mnt_dirs.c), cat and writes through the volume, "..", cd and pwd, and
// mkdir -p through the virtual directories give what they give natively with docker's
// directories in the root; the root is byte-for-byte unchanged. With a read-only root,
// creating a file in /mnt/deep fails with EROFS natively too; with a writable one it
// succeeds natively (docker made a real directory there) and fails under golos with
// EROFS: a virtual directory is read-only (internal/vfs/virtual.go says why EROFS).
func TestRootMissingMountPoints(t *testing.T) {
	if why := needNativeRoot(); why != "" {
		t.Skip(why)
	}
	bb := "/bin/busybox"
	cmds := [][]string{
		{bb, "ls", "-la", "/", "/mnt", "/mnt/deep", "/mnt/deep/x", "/sub", "/sub/v"},
		{bb, "ls", "-laR", "/"},
		{bb, "stat", "-c", "%F %n %h %a %u %g", "/", "/mnt", "/mnt/deep", "/mnt/deep/x", "/mnt/deep/x/..",
			"/mnt/deep/x/../..", "/mnt/deep/x/../../..", "/mnt/deep/.", "/sub", "/sub/v", "/sub/v/.."},
		{bb, "stat", "-L", "-c", "%F %n %h %a", "/mnt", "/mnt/deep/x"},
		{bb, "find", "/"},
		{bb, "find", "/", "-type", "d"},
		{bb, "find", "/mnt", "-name", "file"},
		{bb, "cat", "/mnt/deep/x/file", "/sub/v/f2", "/mnt/deep/../deep/x/d/g"},
		{bb, "ls", "-a", "/mnt/deep/x/..", "/mnt/deep/x/../..", "/mnt/deep/x/../../..", "/sub/v/.."},
		{bb, "sh", "-c", "cd /mnt/deep/x && pwd && echo * && cd .. && pwd && echo * && cd .. && pwd && echo * && cd .. && pwd && echo * && cd mnt/deep && pwd"},
		{bb, "sh", "-c", "echo written > /mnt/deep/x/new && read l < /mnt/deep/x/new && echo $l"},
		{bb, "mkdir", "-p", "/mnt/deep/x/made/sub", "/mnt/deep", "/mnt", "/sub/v/made"},
		{bb, "mkdir", "/mnt"},
		{bb, "test", "-d", "/mnt/deep"},
		{bb, "test", "-w", "/mnt/deep/x"},
		{"/bin/mnt_dirs", "/", "/mnt", "/mnt/deep", "/mnt/deep/x", "/sub"},
		{"/bin/mnt_dirs_musl", "/", "/mnt", "/mnt/deep", "/mnt/deep/x", "/sub"},
	}
	runMountCases(t, mountCases{
		cmds:          cmds,
		tree:          missingMountTree,
		guests:        mountPoints,
		rootUnchanged: true,
		sameVols: func(t *testing.T, what string, native, golos []string) {
			// The volumes hold what they hold natively after the same command.
			for i := range golos {
				if d := treeSnapshotDiff(volView(t, native[i]), volView(t, golos[i])); len(d) > 0 {
					t.Errorf("%s: volume %d differs from the native one's:\n%s", what, i, strings.Join(d, "\n"))
				}
			}
		},
	})
}

// volView is a volume's snapshot without what differs between two runs anyway: times,
// inode numbers and directory sizes.
func volView(t *testing.T, dir string) map[string]treeFileState {
	snap := treeSnapshot(t, dir)
	for p, s := range snap {
		s.mtime, s.ctime, s.ino = syscall.Timespec{}, syscall.Timespec{}, 0
		if s.mode.IsDir() {
			s.size = 0
		}
		snap[p] = s
	}
	return snap
}

// TestRootMissingMountPointsCreate: creating a file or directory in a virtual directory
// fails with EROFS, and the root stays as it was, with the root writable (natively, with
// docker's real directory there, it would succeed) and read-only (natively EROFS too).
func TestRootMissingMountPointsCreate(t *testing.T) {
	bb := "/bin/busybox"
	for _, c := range []struct {
		argv []string
		want string
	}{
		{[]string{bb, "touch", "/mnt/deep/f"}, "touch: /mnt/deep/f: Read-only file system\n"},
		{[]string{bb, "mkdir", "/mnt/d"}, "mkdir: can't create directory '/mnt/d': Read-only file system\n"},
		{[]string{bb, "sh", "-c", "echo > /mnt/deep/f"}, "sh: can't create /mnt/deep/f: Read-only file system\n"},
		{[]string{bb, "ln", "-s", "x", "/mnt/l"}, "ln: /mnt/l: Read-only file system\n"},
		{[]string{bb, "chmod", "700", "/mnt"}, "chmod: /mnt: Read-only file system\n"},
		{[]string{bb, "mv", "/sub/a", "/mnt/deep/a"}, "mv: can't rename '/sub/a': Read-only file system\n"},
		{[]string{bb, "rmdir", "/mnt/deep"}, "rmdir: '/mnt/deep': Read-only file system\n"},
		{[]string{bb, "rmdir", "/mnt"}, "rmdir: '/mnt': Device or resource busy\n"},
	} {
		for _, rootRO := range []bool{false, true} {
			root, _, vols := missingMountTree(t)
			before := treeSnapshot(t, root)
			g := runGolosRoot(t, &runOpts{}, root, rootRO, []volBind{{host: vols[0], guest: mountPoints[0]}}, "", c.argv...)
			what := "golos run --root R --volume V:/mnt/deep/x " + strings.Join(c.argv, " ")
			if rootRO {
				what = strings.Replace(what, "--root R", "--root R:ro", 1)
			}
			want := c.want
			if rootRO && c.argv[1] == "rmdir" && c.argv[2] == "/mnt" {
				want = "rmdir: '/mnt': Read-only file system\n" // rmdir(2): EROFS first
			}
			if g.err != nil || g.timedOut || g.code != 1 || string(g.stderr) != want {
				t.Errorf("%s: %s, stderr %q; want exit status 1, stderr %q", what, g, g.stderr, want)
			}
			if d := treeSnapshotDiff(before, treeSnapshot(t, root)); len(d) > 0 {
				t.Errorf("%s: the root changed:\n%s", what, strings.Join(d, "\n"))
			}
		}
	}
}
