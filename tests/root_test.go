package tests

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// golos run --root DIR[:ro] and --volume HOST:GUEST[:ro|rw] (README, Usage): the program's
// paths are resolved inside DIR, with HOST grafted at GUEST, and nothing outside is
// reachable. Each test builds a host directory H holding the root H/root (static test
// programs in /bin, a small tree, symlinks that point out) and, outside the root, a canary
// file with a unique marker and other host files an escape would reach.
//
// The native half of these tests is the same program in a chroot(2), with real bind
// mounts (read-only ones for ":ro") in a mount namespace of its own (unshare(1)): what
// Linux does for a process confined to that root. It needs root; without it the native
// half is skipped and golos is checked against the man pages' answers alone.

// A rootTree is a host directory with a root directory in it.
type rootTree struct {
	host   string // H
	root   string // H/root
	marker string // in H/canary
	canary string // H/canary
}

// rootCanaryTime is the canary's mtime and atime: a write to it shows.
var rootCanaryTime = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)

// makeRootTree builds a fresh tree in a new temporary directory, with the flavour's
// root_escape and root_probe in the root's /bin.
func makeRootTree(t *testing.T, flavour string) *rootTree {
	t.Helper()
	h := t.TempDir()
	rt := &rootTree{host: h, root: filepath.Join(h, "root"), canary: filepath.Join(h, "canary"),
		marker: fmt.Sprintf("GOLOS-CANARY-%d-%d", os.Getpid(), time.Now().UnixNano())}
	r := rt.root
	up := strings.Repeat("../", 12)
	mk := func(p string, mode fs.FileMode, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // not the umask's
			t.Fatal(err)
		}
	}
	dir := func(p string) {
		t.Helper()
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, p string) {
		t.Helper()
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}

	// Outside the root.
	mk(rt.canary, 0o640, rt.marker+"\nthe canary: no program in the root may read or change this file\n")
	mk(filepath.Join(h, "victim"), 0o644, "a host file outside the root\n")
	dir(filepath.Join(h, "victim_dir"))
	link("HOSTLINK-"+rt.marker, filepath.Join(h, "canary_link"))
	if err := os.Chtimes(rt.canary, rootCanaryTime, rootCanaryTime); err != nil {
		t.Fatal(err)
	}

	// The root.
	for _, name := range []string{"root_escape", "root_probe"} {
		rootCopy(t, prog(t, name+"."+flavour), filepath.Join(r, "bin", name), 0o755)
	}
	mk(filepath.Join(r, "etc/passwd"), 0o644, "guest:x:1000:1000:guest:/home/guest:/bin/sh\n")
	mk(filepath.Join(r, "etc/hostname"), 0o644, "guest\n")
	mk(filepath.Join(r, "sub/hello"), 0o644, "hello from the root\n")
	mk(filepath.Join(r, "sub/file"), 0o644, "in-root file 1\n")
	mk(filepath.Join(r, "sub/file2"), 0o644, "in-root file 2\n")
	mk(filepath.Join(r, "sub/file3"), 0o644, "in-root file 3\n")
	dir(filepath.Join(r, "sub/dir/deeper"))
	dir(filepath.Join(r, "sub/emptydir"))
	link(rt.canary, filepath.Join(r, "abs_canary"))
	link("/etc/passwd", filepath.Join(r, "abs_passwd"))
	link(h, filepath.Join(r, "abs_hostdir"))
	link(up+h[1:]+"/canary", filepath.Join(r, "sub/dir/rel_canary"))
	link(strings.TrimSuffix(up, "/"), filepath.Join(r, "sub/dir/rel_up"))
	link("sub/dir", filepath.Join(r, "lnk"))
	link("/data/f", filepath.Join(r, "tovol"))
	mk(filepath.Join(r, "race/d/canary"), 0o644, "inside\n")
	link(h, filepath.Join(r, "race/abs"))
	link(up+h[1:], filepath.Join(r, "race/rel"))
	for _, d := range []string{"data", "dev", "proc", "tmp"} {
		dir(filepath.Join(r, d)) // mount points
	}
	return rt
}

// makeVolume builds a host directory to graft at /data: files, and symlinks that point
// out of it.
func makeVolume(t *testing.T, rt *rootTree) string {
	t.Helper()
	v := filepath.Join(rt.host, "vol")
	files := map[string]string{"f": "volume file\n", "f2": "volume file 2\n", "f3": "volume file 3\n",
		"f4": "volume file 4\n", "gone": "to be removed\n"}
	for name, content := range files {
		if err := os.MkdirAll(v, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(v, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for target, name := range map[string]string{
		rt.canary: "abs", // absolute, to the canary
		strings.Repeat("../", 12) + rt.host[1:] + "/canary": "up", // a chain of ".."
		"/sub/hello":   "toroot", // into the root, absolute
		"../sub/hello": "uproot", // into the root, relative
	} {
		if err := os.Symlink(target, filepath.Join(v, name)); err != nil {
			t.Fatal(err)
		}
	}
	return v
}

func rootCopy(t *testing.T, from, to string, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, from, to, mode)
}

// devIno is "DEV:INO" of a file, as root_escape takes it.
func devIno(t *testing.T, p string) string {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}

func rootReverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// A treeFileState is what a write to a file or directory would change.
type treeFileState struct {
	mode         fs.FileMode
	size         int64
	mtime, ctime syscall.Timespec
	ino          uint64
	nlink        uint64
	content      string // sha256 of a file's content; a symlink's target
	xattrs       string
}

func (s treeFileState) String() string {
	return fmt.Sprintf("mode %v size %d mtime %d.%09d ctime %d.%09d ino %d nlink %d content %.16s xattrs %q",
		s.mode, s.size, s.mtime.Sec, s.mtime.Nsec, s.ctime.Sec, s.ctime.Nsec, s.ino, s.nlink, s.content, s.xattrs)
}

// treeSnapshot records every file under dir, except those under the paths in skip.
func treeSnapshot(t *testing.T, dir string, skip ...string) map[string]treeFileState {
	t.Helper()
	snap := map[string]treeFileState{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		for _, s := range skip {
			if p == s {
				return filepath.SkipDir
			}
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		s := treeFileState{mode: info.Mode(), size: st.Size, mtime: st.Mtim, ctime: st.Ctim, ino: st.Ino, nlink: st.Nlink}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			s.content, _ = os.Readlink(p)
		case info.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s.content = fmt.Sprintf("%x", sha256.Sum256(b))
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			buf := make([]byte, 4096)
			if n, err := syscall.Listxattr(p, buf); err == nil {
				s.xattrs = string(buf[:n])
			}
		}
		rel, _ := filepath.Rel(dir, p)
		snap[rel] = s
		return nil
	})
	if err != nil {
		t.Fatalf("treeSnapshot of %s: %v", dir, err)
	}
	return snap
}

// treeSnapshotDiff lists what changed between two snapshots.
func treeSnapshotDiff(before, after map[string]treeFileState) []string {
	var d []string
	for p, b := range before {
		a, ok := after[p]
		switch {
		case !ok:
			d = append(d, fmt.Sprintf("%s: removed (was %v)", p, b))
		case a != b:
			d = append(d, fmt.Sprintf("%s: changed\n      before: %v\n      after:  %v", p, b, a))
		}
	}
	for p, a := range after {
		if _, ok := before[p]; !ok {
			d = append(d, fmt.Sprintf("%s: created (%v)", p, a))
		}
	}
	sort.Strings(d)
	return d
}

// checkCanary fails the test if the canary's content, mode or mtime changed.
func (rt *rootTree) checkCanary(t *testing.T, what string) {
	t.Helper()
	st, err := os.Lstat(rt.canary)
	if err != nil {
		t.Errorf("%s: the canary %s is gone: %v", what, rt.canary, err)
		return
	}
	b, _ := os.ReadFile(rt.canary)
	want := rt.marker + "\nthe canary: no program in the root may read or change this file\n"
	if string(b) != want {
		t.Errorf("%s: the canary's content changed: %q", what, b)
	}
	if st.Mode() != 0o640 {
		t.Errorf("%s: the canary's mode changed: %v, want -rw-r-----", what, st.Mode())
	}
	if !st.ModTime().Equal(rootCanaryTime) {
		t.Errorf("%s: the canary's mtime changed: %v, want %v", what, st.ModTime().UTC(), rootCanaryTime)
	}
}

// A volBind is a volume: host directory host at guest, read-only or not.
type volBind struct {
	host, guest string
	ro          bool
}

// golosRootArgs are golos run's options for a root and volumes.
func golosRootArgs(root string, rootRO bool, binds []volBind) []string {
	r := root
	if rootRO {
		r += ":ro"
	}
	args := []string{"--root", r}
	for _, b := range binds {
		v := b.host + ":" + b.guest
		if b.ro {
			v += ":ro"
		}
		args = append(args, "--volume", v)
	}
	return args
}

var (
	nativeRootOnce sync.Once
	nativeRootErr  error
)

// needNativeRoot says why the native half (chroot, bind mounts in a mount namespace of
// its own) cannot run here, or "".
func needNativeRoot() string {
	nativeRootOnce.Do(func() {
		if os.Geteuid() != 0 {
			nativeRootErr = fmt.Errorf("not root")
			return
		}
		for _, tool := range []string{"unshare", "mount", "chroot"} {
			if _, err := exec.LookPath(tool); err != nil {
				nativeRootErr = err
				return
			}
		}
		if out, err := exec.Command("unshare", "--mount", "--propagation", "private", "true").CombinedOutput(); err != nil {
			nativeRootErr = fmt.Errorf("unshare --mount: %v: %s", err, out)
		}
	})
	if nativeRootErr != nil {
		return "the native half (chroot and bind mounts) cannot run here: " + nativeRootErr.Error()
	}
	return ""
}

// runNativeRoot runs argv (argv[0] a path inside the root) natively, confined to root as
// golos run --root would confine it: chroot(2), with the binds mounted (read-only where
// asked) in a mount namespace of its own, and the root itself read-only if rootRO. The
// working directory is dir inside the root ("/" when empty).
func runNativeRoot(o *runOpts, root string, rootRO bool, binds []volBind, dir string, argv ...string) *result {
	if dir == "" {
		dir = "/"
	}
	if !rootRO && len(binds) == 0 {
		// A plain chroot: the working directory is entered after it.
		cmd := &exec.Cmd{Path: argv[0], Args: argv, SysProcAttr: &syscall.SysProcAttr{Chroot: root}}
		oo := *o
		oo.dir = dir
		return run(cmd, &oo, o.timeoutOr(runTimeout))
	}
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	var script strings.Builder
	script.WriteString("set -e\n")
	if rootRO {
		fmt.Fprintf(&script, "mount --bind %s %s\nmount -o remount,bind,ro %s\n", q(root), q(root), q(root))
	}
	for _, b := range binds {
		mp := filepath.Join(root, b.guest)
		fmt.Fprintf(&script, "mount --bind %s %s\n", q(b.host), q(mp))
		if b.ro {
			fmt.Fprintf(&script, "mount -o remount,bind,ro %s\n", q(mp))
		}
	}
	fmt.Fprintf(&script, "cd %s\nexec chroot . \"$@\"\n", q(root))
	if dir != "/" {
		return &result{code: -1, err: fmt.Errorf("runNativeRoot: a working directory other than / needs a plain chroot")}
	}
	args := append([]string{"--mount", "--propagation", "private", "--", "/bin/sh", "-c", script.String(), "sh"}, argv...)
	oo := *o
	oo.dir = "/"
	return run(exec.Command("unshare", args...), &oo, o.timeoutOr(runTimeout))
}

// runGolosRoot runs golos run with a root and binds, the working directory given by -w
// when dir is not empty.
func runGolosRoot(t *testing.T, o *runOpts, root string, rootRO bool, binds []volBind, dir string, argv ...string) *result {
	t.Helper()
	needGolos(t)
	args := append([]string{"run"}, golosRootArgs(root, rootRO, binds)...)
	if dir != "" {
		args = append(args, "-w", dir)
	}
	oo := *o
	if oo.dir == "" {
		oo.dir = t.TempDir()
	}
	return runGolosOpts(&oo, append(args, argv...)...)
}

// golosRanOK fails the test unless golos ran to the end with exit status 0.
func golosRanOK(t *testing.T, what string, g *result) bool {
	t.Helper()
	switch {
	case g.err != nil || g.timedOut:
		t.Errorf("%s: %s\nstdout:\n%sstderr:\n%s", what, g, clip(g.stdout), clip(g.stderr))
		return false
	case crashed(g.stderr):
		t.Errorf("%s: golos crashed; stderr:\n%s", what, clip(g.stderr))
		return false
	case g.code != 0:
		t.Errorf("%s: %s, want exit status 0\nstdout:\n%sstderr:\n%s", what, g, clip(g.stdout), clip(g.stderr))
		return false
	}
	return true
}

// outLinesWithout returns the lines of out, without those that start with one of prefixes.
func outLinesWithout(out []byte, prefixes ...string) []string {
	var ls []string
	for _, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		skip := false
		for _, p := range prefixes {
			skip = skip || strings.HasPrefix(l, p)
		}
		if !skip {
			ls = append(ls, l)
		}
	}
	return ls
}

// TestRootEscape: testdata/root_escape.c, in a root, tries every way out it knows to the
// canary next to the root and to host files ("..", from the root and below it; absolute
// symlinks and chains of ".." in relative ones; chdir("..") 40 times; openat(2) with
// descriptors of "/" and of "../.."; /proc/self/root, /proc/self/fd/N/.., /proc/self/cwd;
// stat, readlink, access, execve, rename, unlink, rmdir, link, symlink, mkdir, chmod, truncate,
// utimensat, setxattr and open(O_CREAT|O_WRONLY) of paths out; a symlink swapped between
// a directory inside and links out during 10,000 opens). Under golos run --root, every
// attempt must be refused or land inside the root: the program reads the canary's marker
// nowhere ("escapes: 0"), no readlink in /proc shows a host path ("leaks: 0"), and on the
// host the canary's content, mode and mtime, and every other file outside the root, are as
// they were. The same with /proc grafted in (--volume /proc:/proc), where the magic links
// exist. Natively, on the host itself the program does reach the canary (it aims right),
// and in a chroot it reaches nothing; golos must give the chroot's answers.
func TestRootEscape(t *testing.T) {
	for _, fl := range flavours {
		t.Run(fl.name, func(t *testing.T) {
			t.Parallel()
			p := prog(t, "root_escape."+fl.name)
			args := func(rt *rootTree) []string {
				return []string{rt.host, rootReverse(rt.marker), devIno(t, rt.canary), devIno(t, rt.host)}
			}

			// Natively on the host, the root's paths under its host path: escapes.
			rt := makeRootTree(t, fl.name)
			before := treeSnapshot(t, rt.host, rt.root)
			nat := runNative(&runOpts{dir: t.TempDir()}, append(append([]string{p}, args(rt)...), rt.root)...)
			wantNative(t, nat, 0, "open \"<H>/canary\": ESCAPE", "\nescapes: ")
			if bytes.Contains(nat.stdout, []byte("\nescapes: 0\n")) {
				t.Errorf("test program misbehaves natively: on the host it reached nothing outside\nstdout:\n%s", clip(nat.stdout))
			}
			if len(treeSnapshotDiff(before, treeSnapshot(t, rt.host, rt.root))) == 0 {
				t.Errorf("test program misbehaves natively: on the host its writes changed nothing outside the root")
			}

			// Natively in a chroot: no escape, and the host as it was.
			var chroot *result
			if why := needNativeRoot(); why != "" {
				t.Log(why)
			} else {
				rt := makeRootTree(t, fl.name)
				before := treeSnapshot(t, rt.host, rt.root)
				chroot = runNativeRoot(&runOpts{}, rt.root, false, nil, "", append([]string{"/bin/root_escape"}, args(rt)...)...)
				wantNative(t, chroot, 0, "\nescapes: 0\n", "\nleaks: 0\n",
					"race: 10000 opens of /race/d/canary while it is swapped: escapes 0\n")
				if d := treeSnapshotDiff(before, treeSnapshot(t, rt.host, rt.root)); len(d) > 0 {
					t.Errorf("test program misbehaves natively: in a chroot it changed files outside the root:\n  %s", strings.Join(d, "\n  "))
				}
			}

			needGolos(t)
			for _, withProc := range []bool{false, true} {
				what := "golos run --root"
				var binds []volBind
				if withProc {
					what += " --volume /proc:/proc"
					binds = []volBind{{host: "/proc", guest: "/proc"}}
				}
				rt := makeRootTree(t, fl.name)
				before := treeSnapshot(t, rt.host, rt.root)
				g := runGolosRoot(t, &runOpts{}, rt.root, false, binds, "", append([]string{"/bin/root_escape"}, args(rt)...)...)
				golosRanOK(t, what, g)
				var bad []string
				for _, l := range strings.Split(string(g.stdout), "\n") {
					if strings.Contains(l, "ESCAPE") || strings.Contains(l, "LEAK") {
						bad = append(bad, l)
					}
				}
				if len(bad) > 0 {
					t.Errorf("%s: %d attempts got out of the root:\n  %s", what, len(bad), strings.Join(bad, "\n  "))
				}
				for _, want := range []string{"escapes: 0", "leaks: 0",
					"race: 10000 opens of /race/d/canary while it is swapped: escapes 0",
					"race: the swapping thread ran: yes", "race: some opens read the inside file: yes"} {
					if !bytes.Contains(g.stdout, []byte("\n"+want+"\n")) {
						t.Errorf("%s: stdout lacks %q", what, want)
					}
				}
				if d := treeSnapshotDiff(before, treeSnapshot(t, rt.host, rt.root)); len(d) > 0 {
					t.Errorf("%s: files outside the root changed:\n  %s", what, strings.Join(d, "\n  "))
				}
				rt.checkCanary(t, what)
				// Where the chroot has the same files (no /proc), the same answers. (Whether
				// some of the race's opens came between two swaps depends on timing: the
				// chroot run need not see one; golos's is checked above.)
				if chroot != nil && !withProc {
					skip := []string{"info: ", "fdscan: ", "race: some opens read the inside file: "}
					if d := wildLineDiffs([]byte(strings.Join(outLinesWithout(chroot.stdout, skip...), "\n")),
						[]byte(strings.Join(outLinesWithout(g.stdout, skip...), "\n"))); len(d) > 0 {
						t.Errorf("%s: %d attempts end differently than in a chroot (chroot | golos):\n%s",
							what, len(d), strings.Join(d, "\n"))
					}
				}
				if t.Failed() {
					t.Logf("%s stdout:\n%s--- stderr:\n%s", what, clip(g.stdout), clip(g.stderr))
				}
			}
		})
	}
}

// probeCase is one run of testdata/root_probe.c: its operations and, per output line
// (by its "OP ARGS: " prefix), the answer the man pages give.
type probeCase struct {
	ops  []string
	want map[string]string // "OP ARGS" -> result
}

// checkProbeWant checks the lines of a probe's output that the case names.
func checkProbeWant(t *testing.T, what string, out []byte, want map[string]string, native bool) {
	t.Helper()
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		if k, v, ok := strings.Cut(l, ": "); ok {
			got[k] = v
		}
	}
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var bad []string
	for _, k := range keys {
		if g, ok := got[k]; !ok {
			bad = append(bad, fmt.Sprintf("%s: missing, want %s", k, want[k]))
		} else if g != want[k] {
			bad = append(bad, fmt.Sprintf("%s: %s, want %s", k, g, want[k]))
		}
	}
	if len(bad) == 0 {
		return
	}
	if native {
		t.Errorf("test program or host misbehaves natively: %s:\n  %s", what, strings.Join(bad, "\n  "))
	} else {
		t.Errorf("%s: %d operations give the wrong answer:\n  %s", what, len(bad), strings.Join(bad, "\n  "))
	}
}

// A probeRun is the golos half of probeBoth: its tree, its result (nil when golos did not
// run to the end), and the treeSnapshot of the tree taken just before golos ran.
type probeRun struct {
	rt     *rootTree
	g      *result
	before map[string]treeFileState
}

// probeBoth runs a probe case on two fresh trees, natively (chroot and bind mounts) on one
// and under golos on the other, checks the man pages' answers, and compares the two
// outputs line for line. setup builds the volumes of a tree; dir is the working directory
// (-w) when not empty.
func probeBoth(t *testing.T, fl, what string, rootRO bool, setup func(rt *rootTree) []volBind, dir string, c probeCase) probeRun {
	t.Helper()
	argv := append([]string{"/bin/root_probe"}, c.ops...)
	var nat *result
	if why := needNativeRoot(); why != "" {
		t.Log(why)
	} else {
		rt := makeRootTree(t, fl)
		nat = runNativeRoot(&runOpts{}, rt.root, rootRO, setup(rt), dir, argv...)
		wantNative(t, nat, 0)
		if nat.code == 0 {
			checkProbeWant(t, what+" (native, chroot)", nat.stdout, c.want, true)
		}
	}
	needGolos(t)
	pr := probeRun{rt: makeRootTree(t, fl)}
	binds := setup(pr.rt)
	pr.before = treeSnapshot(t, pr.rt.host)
	g := runGolosRoot(t, &runOpts{}, pr.rt.root, rootRO, binds, dir, argv...)
	if t.Failed() || !golosRanOK(t, what, g) {
		if nat != nil {
			t.Logf("%s natively (chroot): stdout:\n%sstderr:\n%s", what, clip(nat.stdout), clip(nat.stderr))
		}
		t.Logf("%s: stdout:\n%sstderr:\n%s", what, clip(g.stdout), clip(g.stderr))
		if g.code != 0 {
			return pr
		}
	}
	pr.g = g
	checkProbeWant(t, what, g.stdout, c.want, false)
	if nat != nil && nat.code == 0 {
		if d := wildLineDiffs(nat.stdout, g.stdout); len(d) > 0 {
			t.Errorf("%s: %d operations end differently than natively in a chroot (native | golos):\n%s",
				what, len(d), strings.Join(d, "\n"))
		}
	}
	return pr
}

// probeFlavours are the flavours the probe tests run in: glibc's and musl's open(2) pass
// different flags (musl adds O_LARGEFILE).
var probeFlavours = []string{"glibc-static", "musl-static"}

// runProbe runs f as a parallel subtest named name, in a parallel subtest per flavour.
func runProbe(t *testing.T, name string, f func(t *testing.T, fl string)) {
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		forProbeFlavours(t, f)
	})
}

// forProbeFlavours runs f as a parallel subtest per flavour of probeFlavours.
func forProbeFlavours(t *testing.T, f func(t *testing.T, fl string)) {
	for _, fl := range probeFlavours {
		t.Run(fl, func(t *testing.T) {
			t.Parallel()
			f(t, fl)
		})
	}
}

// probeOps turns "OP ARGS: RESULT" lines into a case.
func probeOps(lines ...string) probeCase {
	c := probeCase{want: map[string]string{}}
	for _, l := range lines {
		k, v, ok := strings.Cut(l, ": ")
		if !ok {
			panic("probeOps: no result in " + l)
		}
		c.ops = append(c.ops, strings.Fields(k)...)
		c.want[k] = v
	}
	return c
}

// TestRootReadOnly: with --root DIR:ro every call that would change the root fails with
// EROFS, as on a read-only mount (open(2), mkdir(2), unlink(2), rename(2), chmod(2),
// truncate(2), symlink(2), link(2), utimensat(2), access(2) W_OK, chown(2), setxattr(2),
// mknod(2), and the calls on a descriptor opened read-only: fchmod(2), futimens(3),
// fchown(2), fsetxattr(2), fchownat(2) and utimensat(2) with AT_EMPTY_PATH, ioctl(2)'s
// FS_IOC_SETFLAGS and FS_IOC_FSSETXATTR); reads work; and on the host the root is as it
// was. (golos passed the ioctls through: a program could make a file of a read-only root
// immutable or append-only on the host.)
func TestRootReadOnly(t *testing.T) {
	const erofs = "EROFS"
	c := probeOps(
		`read /sub/hello: "hello from the root"`,
		"ls /sub: dir emptydir file file2 file3 hello",
		"stat /sub/hello: file 0644 size 20",
		`readlink /abs_passwd: "/etc/passwd"`,
		`read /abs_passwd: "guest:x:1000:1000:guest:/home/guest:/bin/sh"`,
		"access /sub/hello r: ok",
		"write /newfile x: "+erofs,
		"write /sub/hello x: "+erofs,
		"append /sub/hello x: "+erofs,
		"openw /sub/hello: "+erofs,
		"openrw /sub/hello: "+erofs,
		"opentrunc /sub/hello: "+erofs,
		"creat /sub/new: "+erofs,
		"tmpfile /sub: "+erofs,
		"mkdir /newdir: "+erofs,
		"rmdir /sub/emptydir: "+erofs,
		"unlink /sub/hello: "+erofs,
		"mkfifo /sub/fifo: "+erofs,
		"rename /sub/hello /sub/hello2: "+erofs,
		"link /sub/hello /sub/hello3: "+erofs,
		"symlink /etc/passwd /sub/sym: "+erofs,
		"chmod /sub/hello 600: "+erofs,
		"truncate /sub/hello 0: "+erofs,
		"utime /sub/hello: "+erofs,
		"access /sub/hello w: "+erofs,
		"chown /sub/hello: "+erofs,
		"setxattr /sub/hello: "+erofs,
		"fchmod /sub/hello 600: "+erofs,
		"futimens /sub/hello: "+erofs,
		"fchown /sub/hello: "+erofs,
		"fsetxattr /sub/hello: "+erofs,
		"chattr /sub/hello: "+erofs,
		"fsxattr /sub/hello: "+erofs,
		"fchownat_empty /sub/hello: "+erofs,
		"utimensat_empty /sub/hello: "+erofs,
		"fchmod / 700: "+erofs,
		"stat /: dir 0755",
		`read /sub/file: "in-root file 1"`,
	)
	forProbeFlavours(t, func(t *testing.T, fl string) {
		pr := probeBoth(t, fl, "golos run --root DIR:ro", true, func(*rootTree) []volBind { return nil }, "", c)
		if pr.g == nil {
			return
		}
		// Reading changes atimes only, which treeSnapshot does not record.
		if d := treeSnapshotDiff(pr.before, treeSnapshot(t, pr.rt.host)); len(d) > 0 {
			t.Errorf("golos run --root DIR:ro changed files on the host:\n  %s", strings.Join(d, "\n  "))
		}
	})
}

// TestRootVolume: --volume HOST:/data grafts HOST at /data: reads and writes there land in
// HOST (and not in the root's own /data); with ":ro" writes there fail with EROFS while the
// root stays writable; with --root DIR:ro a read-write volume stays writable. Paths in the
// volume cannot get out of it to the host: "/data/../../canary" is the root's /canary, and
// the volume's symlinks to the canary (absolute, or a chain of "..") reach nothing.
func TestRootVolume(t *testing.T) {
	vol := func(ro bool) func(rt *rootTree) []volBind {
		return func(rt *rootTree) []volBind { return []volBind{{host: makeVolume(t, rt), guest: "/data", ro: ro}} }
	}
	runProbe(t, "rw", func(t *testing.T, fl string) {
		c := probeOps(
			`read /data/f: "volume file"`,
			"ls /data: abs f f2 f3 f4 gone toroot up uproot",
			"write /data/new written-in-the-guest: ok",
			"mkdir /data/newdir: ok",
			"rename /data/f2 /data/f2-renamed: ok",
			"unlink /data/gone: ok",
			"symlink target /data/sym: ok",
			"chmod /data/f 600: ok",
			"stat /data/f: file 0600 size 12",
			"ls /data: abs f f2-renamed f3 f4 new newdir sym toroot up uproot",
			"write /sub/inroot x: ok",
			`read /data/new: "written-in-the-guest"`,
		)
		pr := probeBoth(t, fl, "golos run --root DIR --volume HOST:/data", false, vol(false), "", c)
		if pr.g == nil {
			return
		}
		rt := pr.rt
		v := filepath.Join(rt.host, "vol")
		wantFile := func(p, content string) {
			t.Helper()
			b, err := os.ReadFile(p)
			if err != nil || string(b) != content {
				t.Errorf("on the host, %s: %q, %v; want %q", p, b, err, content)
			}
		}
		wantFile(filepath.Join(v, "new"), "written-in-the-guest\n")
		wantFile(filepath.Join(v, "f2-renamed"), "volume file 2\n")
		wantFile(filepath.Join(rt.root, "sub/inroot"), "x\n")
		if st, err := os.Stat(filepath.Join(v, "newdir")); err != nil || !st.IsDir() {
			t.Errorf("on the host, %s/newdir is not a directory: %v", v, err)
		}
		if _, err := os.Lstat(filepath.Join(v, "gone")); err == nil {
			t.Errorf("on the host, %s/gone is still there", v)
		}
		if l, err := os.Readlink(filepath.Join(v, "sym")); err != nil || l != "target" {
			t.Errorf("on the host, %s/sym: %q, %v; want a symlink to \"target\"", v, l, err)
		}
		if st, err := os.Stat(filepath.Join(v, "f")); err != nil || st.Mode() != 0o600 {
			t.Errorf("on the host, %s/f: mode %v, %v; want -rw-------", v, st.Mode(), err)
		}
		if ents, _ := os.ReadDir(filepath.Join(rt.root, "data")); len(ents) > 0 {
			t.Errorf("the writes to /data landed in the root's own data directory, not in the volume: %v", ents)
		}
		rt.checkCanary(t, "golos run --root DIR --volume HOST:/data")
	})
	runProbe(t, "ro", func(t *testing.T, fl string) {
		const erofs = "EROFS"
		c := probeOps(
			`read /data/f: "volume file"`,
			"ls /data: abs f f2 f3 f4 gone toroot up uproot",
			"stat /data/f: file 0644 size 12",
			"write /data/new x: "+erofs,
			"openw /data/f: "+erofs,
			"append /data/f x: "+erofs,
			"creat /data/new2: "+erofs,
			"mkdir /data/newdir: "+erofs,
			"unlink /data/gone: "+erofs,
			"rename /data/f2 /data/f2-renamed: "+erofs,
			"link /data/f /data/f-link: "+erofs,
			"symlink target /data/sym: "+erofs,
			"chmod /data/f 600: "+erofs,
			"truncate /data/f 0: "+erofs,
			"utime /data/f: "+erofs,
			"fchmod /data/f 600: "+erofs,
			"futimens /data/f: "+erofs,
			"fchownat_empty /data/f: "+erofs,
			"utimensat_empty /data/f: "+erofs,
			"chattr /data/f: "+erofs,
			"fsxattr /data/f: "+erofs,
			"access /data/f w: "+erofs,
			"write /sub/inroot x: ok",
			`read /sub/inroot: "x"`,
		)
		pr := probeBoth(t, fl, "golos run --root DIR --volume HOST:/data:ro", false, vol(true), "", c)
		if pr.g == nil {
			return
		}
		// Nothing in the volume changed; in the root, only the new /sub/inroot.
		var d []string
		for _, l := range treeSnapshotDiff(pr.before, treeSnapshot(t, pr.rt.host)) {
			if !strings.HasPrefix(l, "root/sub/inroot:") && !strings.HasPrefix(l, "root/sub:") {
				d = append(d, l)
			}
		}
		if len(d) > 0 {
			t.Errorf("golos run --root DIR --volume HOST:/data:ro changed files on the host:\n  %s", strings.Join(d, "\n  "))
		}
	})
	runProbe(t, "root-ro-volume-rw", func(t *testing.T, fl string) {
		c := probeOps(
			"write /data/new x: ok",
			`read /data/new: "x"`,
			"mkdir /data/newdir: ok",
			"write /sub/inroot x: EROFS",
			"mkdir /newdir: EROFS",
		)
		pr := probeBoth(t, fl, "golos run --root DIR:ro --volume HOST:/data", true, vol(false), "", c)
		if pr.g != nil {
			if b, err := os.ReadFile(filepath.Join(pr.rt.host, "vol", "new")); err != nil || string(b) != "x\n" {
				t.Errorf("on the host, the volume's new: %q, %v; want \"x\\n\"", b, err)
			}
		}
	})
	runProbe(t, "no-escape", func(t *testing.T, fl string) {
		up := strings.Repeat("../", 12)
		c := probeOps(
			"read /data/../../canary: ENOENT",
			"read /data/../../../../../../canary: ENOENT",
			"read /data/abs: ENOENT",
			"read /data/up: ENOENT",
			"stat /data/abs: ENOENT",
			"stat /data/up: ENOENT",
			"chmod /data/abs 777: ENOENT",
			"truncate /data/up 0: ENOENT",
			"utime /data/abs: ENOENT",
			"write /data/../../planted x: ok",
			`read /data/../sub/hello: "hello from the root"`,
			"chdir /data: ok",
			"chdir ../../../..: ok",
			"cwd: /",
			`read sub/hello: "hello from the root"`,
			"chdir /data: ok",
			"read "+up+"canary: ENOENT",
		)
		pr := probeBoth(t, fl, "golos run --root DIR --volume HOST:/data (paths out of the volume)", false, vol(false), "", c)
		if pr.g == nil {
			return
		}
		rt := pr.rt
		if bytes.Contains(pr.g.stdout, []byte(rt.marker)) {
			t.Errorf("the program read the canary:\n%s", clip(pr.g.stdout))
		}
		rt.checkCanary(t, "golos run --root DIR --volume HOST:/data")
		// "/data/../../planted" is the root's /planted.
		if _, err := os.Stat(filepath.Join(rt.root, "planted")); err != nil {
			t.Errorf("/data/../../planted did not land in the root as /planted: %v", err)
		}
		if _, err := os.Stat(filepath.Join(rt.host, "planted")); err == nil {
			t.Errorf("/data/../../planted landed on the host, outside the root: %s", filepath.Join(rt.host, "planted"))
		}
	})
	// A volume is a mount: symlinks resolve across it as on Linux (path_resolution(7)), and
	// a file does not move or link between it and the root (rename(2), link(2): EXDEV).
	runProbe(t, "across-mounts", func(t *testing.T, fl string) {
		c := probeOps(
			`read /tovol: "volume file"`,
			`read /data/toroot: "hello from the root"`,
			`read /data/uproot: "hello from the root"`,
			"rename /data/f3 /sub/f3: EXDEV",
			"link /data/f4 /sub/f4: EXDEV",
			"rename /sub/file /data/file: EXDEV",
		)
		probeBoth(t, fl, "golos run --root DIR --volume HOST:/data (across the mount)", false, vol(false), "", c)
	})
}

// TestRootCwd: getcwd(3) shows guest paths after chdir(2) and fchdir(2), "..", and a
// symlink (the directory it leads to, as Linux records it); relative paths resolve from
// there, and ".." after a symlink is the parent of the directory the symlink leads to
// (path_resolution(7)). -w DIR starts the program in DIR inside the root.
func TestRootCwd(t *testing.T) {
	runProbe(t, "chdir", func(t *testing.T, fl string) {
		c := probeOps(
			"chdir /sub: ok",
			`read hello: "hello from the root"`,
			"chdir dir: ok",
			"chdir ..: ok",
			"chdir ../../..: ok",
			"fchdir /sub/dir/deeper: ok",
			"chdir /data: ok",
			`read f: "volume file"`,
			"chdir /lnk: ok",
			`read ../file: "in-root file 1"`,
			`read /lnk/../file: "in-root file 1"`,
			"chdir /sub/dir/rel_up: ok",
		)
		c.ops = append([]string{"cwd"}, withCwds(c.ops)...)
		pr := probeBoth(t, fl, "golos run --root DIR (chdir)", false, func(rt *rootTree) []volBind {
			return []volBind{{host: makeVolume(t, rt), guest: "/data"}}
		}, "", c)
		if pr.g == nil {
			return
		}
		// getcwd after each: /lnk is a symlink to sub/dir, /sub/dir/rel_up one to a chain
		// of ".." that ends at the root.
		want := []string{"/", "/sub", "/sub/dir", "/sub", "/", "/sub/dir/deeper", "/data", "/sub/dir", "/"}
		var got []string
		for _, l := range strings.Split(string(pr.g.stdout), "\n") {
			if v, ok := strings.CutPrefix(l, "cwd: "); ok {
				got = append(got, v)
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("getcwd at the start and after each chdir and fchdir: %q, want %q", got, want)
		}
	})
	// openat(2): a relative path from a directory descriptor, ".." included (the parent of
	// a volume is the root's directory it is grafted on); ENOTDIR when the descriptor is
	// not a directory's (stdin, /dev/null, included), EBADF when it is not open. open(2)
	// with O_PATH: the other flags are ignored (musl passes
	// O_LARGEFILE with it).
	runProbe(t, "dirfd", func(t *testing.T, fl string) {
		c := probeOps(
			`openat /sub hello: "hello from the root"`,
			`openat /sub ../etc/hostname: "guest"`,
			`openat /sub/dir ../../../../../etc/hostname: "guest"`,
			`openat /data f: "volume file"`,
			`openat /data ../sub/hello: "hello from the root"`,
			`openat / data/f: "volume file"`,
			"openat /sub/hello x: ENOTDIR",
			`openat /sub/hello /etc/hostname: "guest"`,
			"openatfd 0 x: ENOTDIR",
			"openatfd 99 x: EBADF",
			"opath /sub: dir",
			"opath /sub/hello: file",
			"opath /data: dir",
		)
		probeBoth(t, fl, "golos run --root DIR (openat)", false, func(rt *rootTree) []volBind {
			return []volBind{{host: makeVolume(t, rt), guest: "/data"}}
		}, "", c)
	})
	// A working directory that was removed: getcwd(2) fails with ENOENT, and the
	// /proc/self/cwd link has " (deleted)" after its path (fs/d_path.c).
	runProbe(t, "removed", func(t *testing.T, fl string) {
		c := probeOps(
			"mkdir /tmp/gone: ok",
			"chdir /tmp/gone: ok",
			"rmdir /tmp/gone: ok",
			"cwd: ENOENT",
			`readlink /proc/self/cwd: "/tmp/gone (deleted)"`,
		)
		probeBoth(t, fl, "golos run --root DIR --volume /proc:/proc (removed cwd)", false, func(rt *rootTree) []volBind {
			return []volBind{{host: "/proc", guest: "/proc"}}
		}, "", c)
	})
	runProbe(t, "workdir", func(t *testing.T, fl string) {
		c := probeOps(
			"cwd: /sub",
			`read hello: "hello from the root"`,
			`read ../etc/hostname: "guest"`,
		)
		probeBoth(t, fl, "golos run --root DIR -w /sub", false, func(*rootTree) []volBind { return nil }, "/sub", c)
	})
}

// TestRootOpenFlags: fcntl(F_GETFL) of a file opened in a root with a volume shows the
// flags of the open(2) alone (and O_LARGEFILE, which Linux adds on 64-bit, but not to an
// O_PATH descriptor: fs/open.c, build_open_how), not the O_NOFOLLOW of golos's own walk
// through the root (internal/vfs), and fcntl(F_GETFD) no FD_CLOEXEC the program did not
// ask for, as in a native chroot: for O_PATH descriptors too (issue 12).
func TestRootOpenFlags(t *testing.T) {
	runProbe(t, "getfl", func(t *testing.T, fl string) {
		c := probeOps(
			"getfl /sub/hello: 0100000",
			"getfl /sub: 0100000",
			"getfl /data/f: 0100000",
			"getflpath /sub/hello: 010000000/0 010400000/0",
			"getflpath /sub: 010000000/0 010400000/0",
			"getflpath /data/f: 010000000/0 010400000/0",
			"getflpath /data/abs: ENOENT 010400000/0",
		)
		probeBoth(t, fl, "golos run --root DIR --volume V:/data (F_GETFL)", false, func(rt *rootTree) []volBind {
			return []volBind{{host: makeVolume(t, rt), guest: "/data"}}
		}, "", c)
	})
}

// TestRootPathFlagsFdinfo: O_PATH descriptors (and others) opened through a volume of a
// root show the program's flags in /proc/self/fdinfo/N as in fcntl(F_GETFL), as natively
// (issue 12): testdata/root_pathfl.c opens a file, a symlink to it and a directory in a
// host directory natively, and the same through --volume DIR:/vol in a root of the host's
// / (whose /proc is there to read) under golos.
func TestRootPathFlagsFdinfo(t *testing.T) {
	forFlavours(t, "root_pathfl", func(t *testing.T, p string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "f"), []byte("file\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("f", filepath.Join(dir, "l")); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
			t.Fatal(err)
		}
		names := []string{"f", "l", "d"}
		var natArgs, golArgs []string
		for _, n := range names {
			natArgs = append(natArgs, filepath.Join(dir, n))
			golArgs = append(golArgs, "/vol/"+n)
		}
		nat := runNative(&runOpts{dir: t.TempDir()}, append([]string{p}, natArgs...)...)
		wantNative(t, nat, 0, "path 1, flags 010000000: F_GETFL 010000000, F_GETFD 0, fdinfo 010000000\n")
		needGolos(t)
		g := runGolosOpts(&runOpts{dir: t.TempDir()}, append([]string{"run", "--root", "/", "--volume", dir + ":/vol", p}, golArgs...)...)
		if !golosRanOK(t, "golos run --root / --volume DIR:/vol root_pathfl", g) {
			return
		}
		if d := wildLineDiffs(nat.stdout, g.stdout); len(d) > 0 {
			t.Errorf("%d lines differ from the native run (native | golos):\n%s", len(d), strings.Join(d, "\n"))
		}
	})
}

// TestRootVolumeOverFile: a volume that a bind mount could not mount where it is asked
// for (issue 12) — below a file of the root, a directory over a file, a file over a
// directory — makes golos refuse to start with one line naming the volume (status 125),
// where the native bind mount fails too (mount(2): ENOTDIR) and docker refuses to start
// the container; the same volumes over a directory and over a file work both ways.
func TestRootVolumeOverFile(t *testing.T) {
	forProbeFlavours(t, func(t *testing.T, fl string) {
		for _, c := range []struct {
			name, guest string
			file        bool // the volume is a host file, not a directory
			ok          bool
		}{
			{"below-a-file", "/sub/hello/b", false, false},
			{"dir-over-file", "/sub/hello", false, false},
			{"file-over-dir", "/sub", true, false},
			{"dir-over-dir", "/sub", false, true},
			{"file-over-file", "/sub/hello", true, true},
		} {
			t.Run(c.name, func(t *testing.T) {
				setup := func(rt *rootTree) []volBind {
					v := makeVolume(t, rt)
					if c.file {
						v = filepath.Join(v, "f")
					}
					return []volBind{{host: v, guest: c.guest}}
				}
				read := c.guest + "/f"
				if c.file {
					read = c.guest
				}
				argv := []string{"/bin/root_probe", "read", read}
				if why := needNativeRoot(); why != "" {
					t.Log(why)
				} else {
					rt := makeRootTree(t, fl)
					nat := runNativeRoot(&runOpts{}, rt.root, false, setup(rt), "", argv...)
					if (nat.code == 0) != c.ok {
						t.Errorf("native bind mount of a volume at %s: %s, want it to %s\nstdout:\n%sstderr:\n%s",
							c.guest, nat, map[bool]string{true: "work", false: "fail"}[c.ok], clip(nat.stdout), clip(nat.stderr))
					}
				}
				rt := makeRootTree(t, fl)
				g := runGolosRoot(t, &runOpts{}, rt.root, false, setup(rt), "", argv...)
				what := "golos run --root DIR --volume V:" + c.guest
				if c.ok {
					if golosRanOK(t, what, g) && !strings.Contains(string(g.stdout), "volume file") {
						t.Errorf("%s: read %s does not read the volume's file:\n%s", what, read, clip(g.stdout))
					}
					return
				}
				if g.code != 125 || crashed(g.stderr) || !strings.Contains(string(g.stderr), ":"+c.guest+": ") {
					t.Errorf("%s: %s, want status 125 and one line naming the volume\nstdout:\n%sstderr:\n%s",
						what, g, clip(g.stdout), clip(g.stderr))
				}
				oneLine(t, what, g.stderr)
			})
		}
	})
}

// TestRootVolumeUnderSymlink: a volume's guest path goes through the root's symlinks as a
// bind mount's target does (mount(8) follows them): /lnk is a link to sub/dir, so a volume
// at /lnk/v is seen at /sub/dir/v, by either spelling. golos used to graft it at the
// literal /lnk/v, which every lookup resolved through the link to the root's own empty
// /sub/dir/v: the volume was accepted and unreachable.
func TestRootVolumeUnderSymlink(t *testing.T) {
	runProbe(t, "link", func(t *testing.T, fl string) {
		c := probeOps(
			`read /lnk/v/f: "volume file"`,
			`read /sub/dir/v/f: "volume file"`,
			"ls /sub/dir/v: abs f f2 f3 f4 gone toroot up uproot",
			"write /lnk/v/new written-through-the-link: ok",
			`read /sub/dir/v/new: "written-through-the-link"`,
			"ls /sub/dir: deeper rel_canary rel_up v",
		)
		setup := func(rt *rootTree) []volBind {
			// The mount point a native bind mount needs, where the link leads.
			if err := os.MkdirAll(filepath.Join(rt.root, "sub/dir/v"), 0o755); err != nil {
				t.Fatal(err)
			}
			return []volBind{{host: makeVolume(t, rt), guest: "/lnk/v"}}
		}
		pr := probeBoth(t, fl, "golos run --root DIR --volume HOST:/lnk/v", false, setup, "", c)
		if pr.g == nil {
			return
		}
		if b, err := os.ReadFile(filepath.Join(pr.rt.host, "vol", "new")); err != nil || string(b) != "written-through-the-link\n" {
			t.Errorf("on the host, the volume's new file: %q, %v; want the guest's write", b, err)
		}
		if ents, _ := os.ReadDir(filepath.Join(pr.rt.root, "sub/dir/v")); len(ents) > 0 {
			t.Errorf("the writes landed in the root's own sub/dir/v, not in the volume: %v", ents)
		}
	})
}

// withCwds puts a "cwd" after every chdir and fchdir of ops.
func withCwds(ops []string) []string {
	var out []string
	for i := 0; i < len(ops); i++ {
		out = append(out, ops[i])
		if ops[i] == "chdir" || ops[i] == "fchdir" {
			out = append(out, ops[i+1], "cwd")
			i++
		}
	}
	return out
}

// TestRootProgramLookup: PROGRAM without '/' is looked up in PATH inside the root
// (README, Usage): with PATH=/bin, golos run --root R root_probe runs R/bin/root_probe,
// with argv[0] as given and /proc/self/exe naming it by its guest path; a program that
// exists in the host's /bin but not in the root's is not found (127); a relative path is
// taken from the working directory inside the root.
func TestRootProgramLookup(t *testing.T) {
	needGolos(t)
	rt := makeRootTree(t, "musl-static")
	o := &runOpts{env: []string{"PATH=/usr/local/bin:/bin"}}
	g := runGolosRoot(t, o, rt.root, false, nil, "", "root_probe", "argv0", "exe", "cwd")
	if golosRanOK(t, "golos run --root R root_probe (PATH=/usr/local/bin:/bin)", g) {
		checkProbeWant(t, "golos run --root R root_probe", g.stdout, map[string]string{
			"argv0": "root_probe", "exe": `"/bin/root_probe"`, "cwd": "/"}, false)
	}
	if _, err := os.Stat("/bin/ls"); err == nil {
		g := runGolosRoot(t, o, rt.root, false, nil, "", "ls")
		if g.code != 127 {
			t.Errorf("golos run --root R ls (in the host's /bin, not in R/bin): %s, want exit status 127\nstdout:\n%sstderr:\n%s",
				g, clip(g.stdout), clip(g.stderr))
		}
	}
	g = runGolosRoot(t, &runOpts{}, rt.root, false, nil, "/bin", "./root_probe", "argv0", "exe", "cwd")
	if golosRanOK(t, "golos run --root R -w /bin ./root_probe", g) {
		checkProbeWant(t, "golos run --root R -w /bin ./root_probe", g.stdout, map[string]string{
			"argv0": "./root_probe", "exe": `"/bin/root_probe"`, "cwd": "/bin"}, false)
	}
	// The host path of the program is not a path inside the root.
	g = runGolosRoot(t, &runOpts{}, rt.root, false, nil, "", filepath.Join(rt.root, "bin", "root_probe"), "cwd")
	if g.code != 127 {
		t.Errorf("golos run --root R R/bin/root_probe (a host path): %s, want exit status 127 (no such file in the root)\nstderr:\n%s",
			g, clip(g.stderr))
	}
}

// TestRootBad: a root or a volume that cannot be used is golos's failure: exit status 125
// and one line on stderr (README, Usage), before the program runs.
func TestRootBad(t *testing.T) {
	needGolos(t)
	rt := makeRootTree(t, "musl-static")
	cases := []struct {
		what string
		args []string
	}{
		{"a missing root", []string{"--root", filepath.Join(rt.host, "no-such-dir")}},
		{"a root that is a file", []string{"--root", rt.canary}},
		{"a missing volume", []string{"--root", rt.root, "--volume", filepath.Join(rt.host, "no-such-dir") + ":/data"}},
	}
	for _, c := range cases {
		args := append(append([]string{"run"}, c.args...), "/bin/root_probe", "cwd")
		g := runGolosOpts(&runOpts{dir: t.TempDir()}, args...)
		if g.err != nil || g.timedOut || g.code != 125 {
			t.Errorf("golos %s (%s): %s, want exit status 125\nstdout:\n%sstderr:\n%s",
				strings.Join(args, " "), c.what, g, clip(g.stdout), clip(g.stderr))
			continue
		}
		if len(g.stdout) != 0 {
			t.Errorf("golos %s (%s): the program ran: stdout:\n%s", strings.Join(args, " "), c.what, clip(g.stdout))
		}
		oneLine(t, fmt.Sprintf("golos %s (%s)", strings.Join(args, " "), c.what), g.stderr)
	}
}

// TestRootMknodDevices: inside a confined root a program cannot make device nodes (a
// character device reaches the host's memory or kernel log from any directory): EPERM, as
// in a container without CAP_MKNOD, while an overlay whiteout, a FIFO and a regular file
// are made. Natively, as root, all five are made (checked, so the program is right), and
// without --root golos does the same.
func TestRootMknodDevices(t *testing.T) {
	const confined = "chr: EPERM\nblk: EPERM\nwhiteout: made\nfifo: made\nfile: made\n"
	const all = "chr: made\nblk: made\nwhiteout: made\nfifo: made\nfile: made\n"
	forFlavours(t, "mknod_dev", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, all)
		root := t.TempDir()
		rootCopy(t, p, filepath.Join(root, "prog"), 0o755)
		g := runGolosOpts(&runOpts{dir: t.TempDir()}, "run", "--root", root, "-w", "/", "/prog")
		if !golosRanOK(t, "golos run --root mknod_dev", g) {
			return
		}
		if string(g.stdout) != confined {
			t.Errorf("under --root: stdout\n%swant\n%s", clip(g.stdout), confined)
		}
	})
}

// TestRootProcMounts: with --root and /proc grafted in, /proc/self/mounts and mountinfo
// list only the mounts inside the root, at their paths there, as Linux does for a
// chrooted process (fs/proc_namespace.c: seq_path_root skips the others), not the
// host's: here /proc alone (its submounts aside, which a container has and a bind mount
// does not bring). The same for a child's /proc/PID/mounts and mountinfo, and its
// /proc/PID/cwd link names its working directory inside the root, not on the host, and
// its /proc/PID/fd/N and map_files links a file of the root by its path there; its
// map_files lists the program's mappings only, not golos's.
func TestRootProcMounts(t *testing.T) {
	runProbe(t, "mounts", func(t *testing.T, fl string) {
		c := probeOps("mounts: /proc", `childcwd /sub: "/sub"; "/bin/root_probe"; /bin/root_probe; /proc`)
		probeBoth(t, fl, "golos run --root DIR --volume /proc:/proc (mounts)", false, func(rt *rootTree) []volBind {
			return []volBind{{host: "/proc", guest: "/proc"}}
		}, "", c)
	})
}

// TestRootProcMaps: with --root and /proc grafted in, /proc/self/maps and the links of
// /proc/self/map_files name the program's files by their paths inside the root, as Linux
// names a chrooted process's (d_path is relative to the process's root), never by the
// host's path of the root: the program's own executable, a file of the root and one of a
// volume it maps. map_files lists the program's mappings only, not golos's (its
// executable, its own memory), with --root and without.
func TestRootProcMaps(t *testing.T) {
	runProbe(t, "noroot", func(t *testing.T, fl string) {
		nat, _ := runBoth(t, prog(t, "root_probe."+fl), "mapfiles")
		wantNative(t, nat, 0, "mapfiles: "+prog(t, "root_probe."+fl)+"\n")
	})
	runProbe(t, "maps", func(t *testing.T, fl string) {
		c := probeOps(
			"maps /sub/hello: /bin/root_probe /sub/hello",
			"maps /data/f: /bin/root_probe /data/f",
			"mapfiles: /bin/root_probe",
		)
		probeBoth(t, fl, "golos run --root DIR --volume /proc:/proc (maps)", false, func(rt *rootTree) []volBind {
			return []volBind{{host: makeVolume(t, rt), guest: "/data"}, {host: "/proc", guest: "/proc"}}
		}, "", c)
	})
}
