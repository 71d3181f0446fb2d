package tests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Volumes of a single file (--volume FILE:/etc/hosts), as container engines bind their
// /etc/hosts, /etc/resolv.conf and /run/.containerenv: the guest path is the host file
// itself, as a bind mount of a file shows it. The native half bind-mounts the same
// files in a chroot (runNativeRoot), over the file the root has (/etc/hosts) or over a
// mount point made in a copy of the root (/run/x/cfg, whose directories the root lacks:
// golos shows them as virtual directories).

// fileVolumeTree builds a root with its own /etc/hosts and no /run, two host files to
// graft, and a native copy of the root with /run/x/cfg made.
func fileVolumeTree(t *testing.T) (root, native string, files []string) {
	t.Helper()
	h := t.TempDir()
	root, native = filepath.Join(h, "root"), filepath.Join(h, "native")
	rootCopy(t, "/bin/busybox", filepath.Join(root, "bin/busybox"), 0o755)
	for p, content := range map[string]string{
		"root/etc/hosts": "the root's own\n", "root/etc/hostname": "guest\n",
		"hosts": "127.0.0.1 localhost from the host\n", "cfg": "config from the host\n",
	} {
		rootCopy(t, "/dev/null", filepath.Join(h, p), 0o644)
		if err := os.WriteFile(filepath.Join(h, p), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fixTimes(t, h)
	if out, err := exec.Command("cp", "-a", root, native).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v: %s", err, out)
	}
	rootCopy(t, "/dev/null", filepath.Join(native, "run/x/cfg"), 0o644)
	for _, d := range []string{"run", "run/x"} {
		os.Chmod(filepath.Join(native, d), 0o755)
	}
	return root, native, []string{filepath.Join(h, "hosts"), filepath.Join(h, "cfg")}
}

// TestRootFileVolume: reads and writes through a file volume, stat and listings of it
// and of the virtual directories above it, and what Linux refuses on a mount point
// (unlink, rename either way: EBUSY; a path below the file: ENOTDIR; a write to a
// read-only one: EROFS) give what they give natively, and the host file holds what it
// holds natively afterwards; a write to the host file while the program runs is seen
// inside. (An unlink of /run/x/cfg is not compared: its directory is virtual, read-only
// in golos (EROFS, internal/vfs/virtual.go), where the engine's is a real one (EBUSY).)
func TestRootFileVolume(t *testing.T) {
	if why := needNativeRoot(); why != "" {
		t.Skip(why)
	}
	bb := "/bin/busybox"
	cmds := [][]string{
		{bb, "cat", "/etc/hosts", "/run/x/cfg"},
		{bb, "sh", "-c", "echo inside >> /etc/hosts; echo more >> /run/x/cfg; busybox cat /etc/hosts /run/x/cfg"},
		{bb, "ls", "-la", "/etc", "/run", "/run/x"},
		{bb, "stat", "-c", "%F %n %h %s %a", "/etc/hosts", "/run/x/cfg", "/etc/hosts/", "/etc/hosts/."},
		{bb, "stat", "-c", "%F %n %h %a", "/run/x", "/run"},
		{bb, "find", "/run", "/etc"},
		{bb, "find", "/", "-type", "f"},
		{bb, "sh", "-c", "busybox rm /etc/hosts; busybox mv /etc/hosts /etc/h2; busybox mv /etc/hostname /etc/hosts; " +
			"busybox cat /etc/hosts/x; busybox ls /etc"},
		{bb, "sh", "-c", "cd /run/x && busybox cat cfg ../x/cfg && busybox cat /etc/../etc/hosts"},
	}
	runMountCases(t, mountCases{
		cmds:   cmds,
		tree:   fileVolumeTree,
		guests: []string{"/etc/hosts", "/run/x/cfg"},
		sameVols: func(t *testing.T, what string, native, golos []string) {
			for i := range golos {
				n, _ := os.ReadFile(native[i])
				gd, _ := os.ReadFile(golos[i])
				if !bytes.Equal(n, gd) {
					t.Errorf("%s: the host file %d holds %q, natively %q", what, i, gd, n)
				}
			}
		},
	})
	t.Run("outside-write", func(t *testing.T) {
		root, _, files := fileVolumeTree(t)
		os.MkdirAll(filepath.Join(root, "tmp"), 0o1777)
		go func() {
			time.Sleep(300 * time.Millisecond)
			os.WriteFile(files[0], []byte("written outside\n"), 0o644)
			os.WriteFile(filepath.Join(root, "tmp/go"), nil, 0o644)
		}()
		g := runGolosRoot(t, &runOpts{}, root, false, []volBind{{host: files[0], guest: "/etc/hosts"}}, "",
			bb, "sh", "-c", "busybox cat /etc/hosts; while [ ! -e /tmp/go ]; do busybox sleep 0.05; done; busybox cat /etc/hosts")
		if want := "127.0.0.1 localhost from the host\nwritten outside\n"; g.code != 0 || string(g.stdout) != want {
			t.Errorf("a write outside while the program runs: %s, stdout %q, want %q; stderr %q", g, g.stdout, want, g.stderr)
		}
	})
}
