package tests

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// unixRootTree is a host directory H with a root H/root holding testdata/unix_root.c's
// program at /prog and an empty /tmp, and, outside the root, a listening unix socket at
// H/outside.sock.
func unixRootTree(t *testing.T, p string) (host, root, outside string) {
	t.Helper()
	host = t.TempDir()
	root = filepath.Join(host, "root")
	rootCopy(t, p, filepath.Join(root, "prog"), 0o755)
	if err := os.MkdirAll(filepath.Join(root, "tmp"), 0o1777); err != nil {
		t.Fatal(err)
	}
	outside = filepath.Join(host, "outside.sock")
	l, err := net.Listen("unix", outside)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return host, root, outside
}

// isSocket reports whether the host path names a socket file.
func isSocket(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.Mode()&os.ModeSocket != 0
}

// TestRootUnix: under golos run --root, the paths of unix domain sockets (bind, connect,
// sendto, sendmsg, sendmmsg; unix(7)) are resolved inside the root, as in a chroot: the
// program binds /tmp/NAME and NAME.d relative to /tmp, talks to them (from a forked child
// too), and the socket files are found at ROOT/tmp on the host and not at the host's
// /tmp; a socket that exists only outside the root is not found (ENOENT), even through a
// symlink; getsockname, getpeername, accept, recvfrom and recvmsg show the guest path, as
// in the chroot. The output
// is the chroot's, where the native half can run.
func TestRootUnix(t *testing.T) {
	forFlavours(t, "unix_root", func(t *testing.T, p string) {
		name := fmt.Sprintf("gu%09d", time.Now().UnixNano()%1e9)
		argv := func(outside string) []string { return []string{"/prog", name, outside} }
		for _, p := range []string{"/tmp/" + name, "/tmp/" + name + ".d"} {
			if _, err := os.Lstat(p); err == nil {
				t.Skipf("%s exists on the host already", p)
			}
		}

		var nat *result
		if why := needNativeRoot(); why == "" {
			_, nroot, nout := unixRootTree(t, p)
			nat = runNativeRoot(&runOpts{}, nroot, false, nil, "", argv(nout)...)
			wantNative(t, nat, 0, "bind /tmp/NAME: ok", "connect OUTSIDE: ENOENT")
		} else {
			t.Log(why)
		}

		_, root, outside := unixRootTree(t, p)
		g := runGolosRoot(t, &runOpts{}, root, false, nil, "/", argv(outside)...)
		if !golosRanOK(t, "golos run --root unix_root", g) {
			return
		}
		out := string(g.stdout)
		for _, want := range []string{
			"bind /tmp/NAME: ok\n",
			"getsockname: /tmp/" + name + " (len ",
			"hello from the child; its peer is /tmp/" + name + "\n",
			"accepted getsockname: /tmp/" + name + " (len ",
			"child: exit 0\n",
			"connect via symlink: ok\n",
			"bind again: EADDRINUSE\n",
			"connect /tmp/none: ENOENT\n",
			"connect OUTSIDE: ENOENT\n",
			"connect symlink to OUTSIDE: ENOENT\n",
			"getsockname dgram: " + name + ".d (len 16)\n", // relative, as given
			"sendmmsg: 2, msg_len 4 4\n",
			"accept's peer: /tmp/" + name + ".c (len 21)\n",
			"accepted getpeername: /tmp/" + name + ".c (len 21)\n",
			"recvfrom: ok one, from /tmp/" + name + ".e (len 21)\n",
			"recvmsg: ok five, from /tmp/" + name + ".e (len 21)\n",
			"recvmmsg: 2 ok\n",
			"recvmmsg 0: six, from /tmp/" + name + ".e (len 21)\n",
			"recvmmsg 1: seven, from /tmp/" + name + ".e (len 21)\n",
			"sendto none: ENOENT\n",
			"sendmsg none: ENOENT\n",
			"bind long: ok\n",
			"connect long: ok\n",
			"connect abstract: ok\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("under golos: stdout lacks %q\nstdout:\n%s", want, clip(g.stdout))
			}
		}
		if nat != nil && nat.code == 0 && string(nat.stdout) != out {
			t.Errorf("stdout differs from the chroot's\nnative:\n%sgolos:\n%s", clip(nat.stdout), clip(g.stdout))
		}
		for _, f := range []string{name, name + ".d"} {
			if !isSocket(filepath.Join(root, "tmp", f)) {
				t.Errorf("ROOT/tmp/%s is not a socket on the host", f)
			}
			if _, err := os.Lstat(filepath.Join("/tmp", f)); err == nil {
				t.Errorf("/tmp/%s exists on the host: the socket escaped the root", f)
			}
		}
		long := filepath.Join(root, "tmp", name+".long-directory-name-to-make-the-host-path-too-long-for-sun-path", "sock")
		if !isSocket(long) {
			t.Errorf("%s is not a socket on the host", long)
		}
	})
}

// TestRootUnixReadOnly: in a read-only root, binding a socket file fails with EROFS
// (EADDRINUSE where the name exists), as in a read-only bind mount; in a writable volume
// it is made, in the volume's host directory.
func TestRootUnixReadOnly(t *testing.T) {
	forFlavours(t, "unix_root", func(t *testing.T, p string) {
		const name = "s"
		setup := func() (string, []volBind) {
			host, root, _ := unixRootTree(t, p)
			vol := filepath.Join(host, "tmpvol")
			if err := os.Mkdir(vol, 0o1777); err != nil {
				t.Fatal(err)
			}
			return root, []volBind{{host: vol, guest: "/tmp"}}
		}
		const want = "bind /NAME: EROFS\nbind /etc (exists): EADDRINUSE\nbind /tmp/NAME: ok\nconnect /tmp/NAME: ok\n"
		if why := needNativeRoot(); why == "" {
			root, binds := setup()
			if err := os.Mkdir(filepath.Join(root, "etc"), 0o755); err != nil {
				t.Fatal(err)
			}
			nat := runNativeRoot(&runOpts{}, root, true, binds, "", "/prog", name, "/none", "ro")
			wantNative(t, nat, 0, want)
		} else {
			t.Log(why)
		}
		root, binds := setup()
		if err := os.Mkdir(filepath.Join(root, "etc"), 0o755); err != nil {
			t.Fatal(err)
		}
		g := runGolosRoot(t, &runOpts{}, root, true, binds, "/", "/prog", name, "/none", "ro")
		if !golosRanOK(t, "golos run --root :ro unix_root", g) {
			return
		}
		if string(g.stdout) != want {
			t.Errorf("under golos: stdout\n%swant\n%s", clip(g.stdout), want)
		}
		if !isSocket(filepath.Join(binds[0].host, name)) {
			t.Errorf("the volume's %s is not a socket on the host", name)
		}
		if _, err := os.Lstat(filepath.Join(root, name)); err == nil {
			t.Errorf("ROOT/%s exists: made in the read-only root", name)
		}
	})
}

// TestRootUnixBindRace: binds of unix sockets in a root while the program swaps a
// directory of their path with a symlink to a host directory outside the root (from a
// thread, or from a forked child): natively, in a chroot, the symlink leads nowhere; under
// golos no socket may be made outside the root either (the host looks bind's path up by
// string after golos resolved it, so golos keeps the tree's directories in place until the
// call is made: vfs.LockPaths).
func TestRootUnixBindRace(t *testing.T) {
	forFlavours(t, "unix_bindrace", func(t *testing.T, p string) {
		for _, mode := range []string{"thread", "fork"} {
			t.Run(mode, func(t *testing.T) {
				tree := func() (root, outside string) {
					host := t.TempDir()
					root = filepath.Join(host, "root")
					rootCopy(t, p, filepath.Join(root, "prog"), 0o755)
					outside = filepath.Join(host, "outside")
					for _, d := range []string{filepath.Join(root, "tmp"), outside} {
						if err := os.MkdirAll(d, 0o755); err != nil {
							t.Fatal(err)
						}
					}
					return root, outside
				}
				const want = "done, some bound\n"
				if why := needNativeRoot(); why == "" {
					root, outside := tree()
					nat := runNativeRoot(&runOpts{}, root, false, nil, "", "/prog", outside, "5000", mode)
					wantNative(t, nat, 0, want)
				} else {
					t.Log(why)
				}
				root, outside := tree()
				g := runGolosRoot(t, &runOpts{}, root, false, nil, "/", "/prog", outside, "5000", mode)
				if !golosRanOK(t, "golos run --root unix_bindrace", g) {
					return
				}
				if string(g.stdout) != want {
					t.Errorf("under golos: stdout %q, want %q", g.stdout, want)
				}
				ents, err := os.ReadDir(outside)
				if err != nil {
					t.Fatal(err)
				}
				if len(ents) > 0 {
					t.Errorf("%d sockets were made outside the root, in %s (the first: %s)", len(ents), outside, ents[0].Name())
				}
			})
		}
	})
}

// TestRootUnixProcNet: in a root with /proc, a socket bound at /tmp/NAME is listed in
// /proc/net/unix and /proc/self/net/unix under that name, as in a chroot, not under its
// host path.
func TestRootUnixProcNet(t *testing.T) {
	forFlavours(t, "unix_procnet", func(t *testing.T, p string) {
		tree := func() string {
			root := filepath.Join(t.TempDir(), "root")
			rootCopy(t, p, filepath.Join(root, "prog"), 0o755)
			for _, d := range []string{"tmp", "proc"} {
				if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			return root
		}
		binds := []volBind{{host: "/proc", guest: "/proc"}}
		const want = "/proc/net/unix: own socket listed as /tmp/s\n/proc/self/net/unix: own socket listed as /tmp/s\n"
		if why := needNativeRoot(); why == "" {
			nat := runNativeRoot(&runOpts{}, tree(), false, binds, "", "/prog", "s")
			wantNative(t, nat, 0, want)
		} else {
			t.Log(why)
		}
		g := runGolosRoot(t, &runOpts{}, tree(), false, binds, "/", "/prog", "s")
		if !golosRanOK(t, "golos run --root --volume /proc:/proc unix_procnet", g) {
			return
		}
		if string(g.stdout) != want {
			t.Errorf("under golos: stdout\n%swant\n%s", g.stdout, want)
		}
	})
}
