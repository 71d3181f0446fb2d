package tests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The application's descriptors and the /proc files that describe it: golos holds no
// descriptor the application can see or take, so that a daemon that closes them all
// keeps running and a program gets the numbers it would natively; /proc/self/cmdline,
// environ, exe and comm describe the application, not golos.

// filesRoot builds a root holding the flavour's files_* programs in /bin, with mount
// points for /dev and /proc.
func filesRoot(t *testing.T, flavour string) string {
	t.Helper()
	r := t.TempDir()
	for _, name := range []string{"files_daemon", "files_fdnum", "files_proc"} {
		rootCopy(t, prog(t, name+"."+flavour), filepath.Join(r, "bin", name), 0o755)
	}
	for _, d := range []string{"dev", "proc", "tmp"} {
		if err := os.MkdirAll(filepath.Join(r, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// withLimit runs argv under prlimit(1) with RLIMIT_NOFILE set to nofile ("SOFT:HARD"),
// or as it is when nofile is empty.
func withLimit(nofile string, argv ...string) []string {
	if nofile == "" {
		return argv
	}
	return append([]string{"prlimit", "--nofile=" + nofile, "--"}, argv...)
}

// TestFilesDaemon: testdata/files_daemon.c closes descriptors 0 to 1023 and then every
// one below sysconf(_SC_OPEN_MAX), as daemons do, reopens /dev/null three times (0, 1, 2),
// and goes on making descriptor syscalls, writing what it got to a report file. Under
// golos it must run to the end and write the same report as natively: closing every
// descriptor must not break golos, and none of golos's may show (a close that succeeds
// natively only on 0, 1, 2). Also with --root (golos holds descriptors of the root and
// its volumes: /dev/null comes through --volume /dev:/dev), and with RLIMIT_NOFILE 1024,
// so that golos's descriptors, which it puts near the limit, fall in 0..1023. And all of
// it again for a daemon that has been busy first (20,000 open/close pairs) and keeps
// working (20,000 more, and a sleep) after it closed everything.
func TestFilesDaemon(t *testing.T) {
	for _, busy := range []string{"", "20000"} {
		for _, lim := range []string{"", "1024:1024"} {
			for _, root := range []bool{false, true} {
				testFilesDaemon(t, busy, lim, root)
			}
		}
	}
}

func testFilesDaemon(t *testing.T, busy, lim string, root bool) {
	name := "plain"
	if root {
		name = "root"
	}
	if lim != "" {
		name += "-nofile-" + strings.ReplaceAll(lim, ":", "-")
	}
	if busy != "" {
		name += "-busy"
	}
	t.Run(name, func(t *testing.T) {
		forFlavours(t, "files_daemon", func(t *testing.T, p string) {
			if lim != "" {
				if _, err := exec.LookPath("prlimit"); err != nil {
					t.Fatalf("prlimit (util-linux) is not installed: %v", err)
				}
			}
			pargs := []string{"report.txt"}
			if busy != "" {
				pargs = append(pargs, busy)
			}
			ndir := t.TempDir()
			nargv := withLimit(lim, append([]string{p}, pargs...)...)
			nat := run(exec.Command(nargv[0], nargv[1:]...), &runOpts{dir: ndir}, runTimeout)
			wantNative(t, nat, 0)
			want, err := os.ReadFile(filepath.Join(ndir, "report.txt"))
			if err != nil {
				t.Fatalf("test program misbehaves natively: no report: %v", err)
			}
			for _, s := range []string{"open /dev/null three times: 0 1 2\n", "open the report: 3\n", "done\n"} {
				if !bytes.Contains(want, []byte(s)) {
					t.Errorf("test program misbehaves natively: its report lacks %q\n%s", s, want)
				}
			}

			needGolos(t)
			gdir := t.TempDir()
			args := []string{golosBin, "run"}
			report := filepath.Join(gdir, "report.txt")
			what := "golos run"
			if root {
				r := filesRoot(t, progFlavour(p))
				args = append(args, "--root", r, "--volume", "/dev:/dev")
				report = filepath.Join(r, "report.txt") // the working directory is /
				what = "golos run --root R --volume /dev:/dev"
				p = "/bin/files_daemon"
			}
			if lim != "" {
				what = "prlimit --nofile=" + lim + " " + what
			}
			if busy != "" {
				what += " (busy: " + busy + " open/close pairs first)"
			}
			argv := withLimit(lim, append(append(args, p), pargs...)...)
			g := runGolosArgv(&runOpts{dir: gdir}, argv...)
			if !golosRanOK(t, what, g) {
				return
			}
			got, err := os.ReadFile(report)
			if err != nil {
				t.Fatalf("%s: no report: %v\nstderr:\n%s", what, err, clip(g.stderr))
			}
			if d := wildLineDiffs(want, got); len(d) > 0 {
				t.Errorf("%s: the report differs from the native one in %d lines (native | golos):\n%s\nstderr:\n%s",
					what, len(d), strings.Join(d, "\n"), clip(g.stderr))
			}
		})
	})
}

// progFlavour is the flavour of a built test program: "glibc-static" of .../x.glibc-static.
func progFlavour(p string) string {
	b := filepath.Base(p)
	return b[strings.IndexByte(b, '.')+1:]
}

// runGolosArgv runs argv (golos, or a command that runs golos) as runGolosOpts runs golos.
func runGolosArgv(o *runOpts, argv ...string) *result {
	if argv[0] == golosBin {
		return runGolosOpts(o, argv[1:]...)
	}
	if n := golosTimeouts.Load(); n >= maxGolosTimeouts {
		return &result{code: -1, err: errNotAttempted}
	}
	r := run(exec.Command(argv[0], argv[1:]...), o, o.timeoutOr(runTimeout))
	if r.timedOut {
		golosTimeouts.Add(1)
	}
	return r
}

// TestFilesNumbers: testdata/files_fdnum.c prints the descriptors its first open(2)s and
// other calls get, those /proc/self/fd lists, RLIMIT_NOFILE, and how many more it can
// open before EMFILE. golos holds no descriptors in the application's range, so all of it
// is the same as natively: without --root; with --root (where golos holds the root's and
// the volumes' descriptors; /dev and /proc come through volumes); and with a soft
// RLIMIT_NOFILE below the hard one, as most systems set it (1024 and 4096 here), which the
// program must see as it is (getrlimit(2); the Go runtime raises its own soft limit).
func TestFilesNumbers(t *testing.T) {
	for _, c := range []struct {
		name string
		root bool
		lim  string
	}{{"plain", false, ""}, {"root", true, ""}, {"soft-below-hard", false, "1024:4096"}, {"root-soft-below-hard", true, "1024:4096"}} {
		t.Run(c.name, func(t *testing.T) {
			forFlavours(t, "files_fdnum", func(t *testing.T, p string) {
				nat := run(exec.Command(withLimit(c.lim, p)[0], withLimit(c.lim, p)[1:]...), &runOpts{dir: t.TempDir()}, runTimeout)
				wantNative(t, nat, 0, "first opens of /dev/null: 3 4 5\n", "open before + opened == soft limit: yes\n",
					"dup2 onto the free numbers below 300 refused: 0\n")

				needGolos(t)
				args := []string{golosBin, "run"}
				what := "golos run"
				if c.root {
					r := filesRoot(t, progFlavour(p))
					args = append(args, "--root", r, "--volume", "/dev:/dev", "--volume", "/proc:/proc")
					what = "golos run --root R --volume /dev:/dev --volume /proc:/proc"
					p = "/bin/files_fdnum"
				}
				if c.lim != "" {
					what = "prlimit --nofile=" + c.lim + " " + what
				}
				g := runGolosArgv(&runOpts{dir: t.TempDir()}, withLimit(c.lim, append(args, p)...)...)
				if !golosRanOK(t, what, g) {
					return
				}
				// Known and documented (README, Status): golos keeps a few descriptors of
				// its own at the top of the descriptor table as its entry point grew it
				// (the soft limit or 4096 entries). An application that
				// opens that many skips their numbers, and where golos may not raise the
				// hard limit they count against it. Those two lines may differ by at most
				// golos's own descriptors; everything else is as natively.
				// At most golos's seven and one per mount of the root's (README: the
				// runtime's poller's two, /proc/self/mem, pagemap, its stderr, the socket
				// it answers for /proc/<pid> on, the signal forwarder's eventfd; the root,
				// /dev and /proc).
				natOut, golOut, slack := fdnumBudget(t, nat.stdout, g.stdout, nat.stderr, g.stderr)
				if slack > 10 {
					t.Errorf("%s: the application lost %d descriptors to golos's own (at most 10 expected)\nnative stderr:\n%sgolos stderr:\n%s",
						what, slack, clip(nat.stderr), clip(g.stderr))
				}
				if d := wildLineDiffs(natOut, golOut); len(d) > 0 {
					t.Errorf("%s: %d lines differ from the native run (native | golos):\n%s\nnative stderr:\n%sgolos stderr:\n%s",
						what, len(d), strings.Join(d, "\n"), clip(nat.stderr), clip(g.stderr))
				}
			})
		})
	}
}

// TestFilesProcSelf: under golos, /proc/self/cmdline, /proc/PID/cmdline and
// /proc/thread-self/cmdline are the application's argv; /proc/self/environ its envp;
// readlink /proc/self/exe names the program as Linux does (the file executed: a symlink
// resolved, an absolute path), and opening /proc/self/exe reads that file; /proc/self/comm
// and the names in /proc/self/stat and status are the program's name (proc(5): the
// basename of the file executed, cut to 15 bytes). testdata/files_proc.c prints them all,
// natively and under golos: the same output. The program is run by absolute path, by a
// relative one, through a symlink, found in PATH, and with arguments that hold spaces, an
// empty string and a newline. Dynamic programs of the host (readlink, cat) too.
func TestFilesProcSelf(t *testing.T) {
	forFlavours(t, "files_proc", func(t *testing.T, p string) {
		base := filepath.Base(p)
		comm := base
		if len(comm) > 15 {
			comm = comm[:15]
		}
		t.Run("absolute", func(t *testing.T) {
			nat, _ := runBoth(t, p, "a b", "", "x\ny")
			wantNative(t, nat, 0, "/proc/self/cmdline is argv: yes\n", "/proc/self/environ is envp: yes\n",
				"readlink /proc/self/exe: "+p+"\n", "read /proc/self/exe: 4 bytes: 7f 45 4c 46\n",
				"/proc/self/comm: "+comm+"\n")
		})
		t.Run("relative", func(t *testing.T) {
			nat, _ := runBothOpts(t, runOpts{dir: filepath.Dir(p)}, "./"+base, "arg")
			wantNative(t, nat, 0, "/proc/self/cmdline: [./"+base+"] [arg]\n", "readlink /proc/self/exe: "+p+"\n")
		})
		t.Run("symlink", func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Symlink(p, filepath.Join(dir, "proc-link")); err != nil {
				t.Fatal(err)
			}
			nat, _ := runBothOpts(t, runOpts{dir: dir}, "./proc-link")
			wantNative(t, nat, 0, "/proc/self/cmdline: [./proc-link]\n", "readlink /proc/self/exe: "+p+"\n",
				"/proc/self/comm: proc-link\n")
		})
		t.Run("path", func(t *testing.T) {
			nat, _ := runBothOpts(t, runOpts{env: []string{"PATH=/nonexistent:" + filepath.Dir(p)}, nativePath: p}, base)
			wantNative(t, nat, 0, "/proc/self/cmdline: ["+base+"]\n", "readlink /proc/self/exe: "+p+"\n")
		})
		t.Run("env", func(t *testing.T) {
			nat, _ := runBothOpts(t, runOpts{env: []string{"FILES_PROC_VAR=with spaces=and equals\nand a newline", "FILES_PROC_EMPTY="}}, p)
			wantNative(t, nat, 0, "environ: FILES_PROC_VAR=with spaces=and equals\\nand a newline\n", "environ: FILES_PROC_EMPTY=\n")
		})
	})
	t.Run("dynamic", func(t *testing.T) {
		for _, argv := range [][]string{
			{"/usr/bin/readlink", "/proc/self/exe"},
			{"/bin/readlink", "/proc/self/exe"}, // /bin is a symlink to usr/bin on merged-/usr systems
			{"/bin/cat", "/proc/self/cmdline"},
			{"/bin/cat", "/proc/self/comm"},
		} {
			if _, err := os.Stat(argv[0]); err != nil {
				t.Logf("%s: %v (skipped)", argv[0], err)
				continue
			}
			runBoth(t, argv...)
		}
	})
}

// fdnumBudget takes out of files_fdnum's output the lines about running out of
// descriptors, which golos's own descriptors may shift, and returns how many descriptors
// fewer (or numbers further) the application got under golos: from the programs'
// "open before B, opened N (F..L)" lines on stderr.
func fdnumBudget(t *testing.T, nat, gol, natErr, golErr []byte) ([]byte, []byte, int) {
	t.Helper()
	drop := func(out []byte) []byte {
		var keep []string
		for _, l := range strings.SplitAfter(string(out), "\n") {
			if strings.HasPrefix(l, "open until it fails:") || strings.HasPrefix(l, "open before + opened == soft limit:") ||
				strings.HasPrefix(l, "the last one opened is soft limit - 1:") {
				continue
			}
			keep = append(keep, l)
		}
		return []byte(strings.Join(keep, ""))
	}
	re := regexp.MustCompile(`opened (\d+) \((\d+)\.\.(\d+)\)`)
	nm, gm := re.FindSubmatch(natErr), re.FindSubmatch(golErr)
	if nm == nil || gm == nil {
		t.Errorf("no \"opened N (F..L)\" line on stderr; native:\n%sgolos:\n%s", clip(natErr), clip(golErr))
		return nat, gol, 0
	}
	atoi := func(b []byte) int { n, _ := strconv.Atoi(string(b)); return n }
	slack := max(atoi(nm[1])-atoi(gm[1]), atoi(gm[3])-atoi(nm[3]))
	if slack < 0 {
		slack = 99 // golos gave more than native: something else is wrong
	}
	return drop(nat), drop(gol), slack
}

// TestFilesOwnRefused: golos's own descriptors (the Go runtime's poller, a root's) answer
// nothing to the application: every call on them fails with EBADF, as on a descriptor
// that is not open.
func TestFilesOwnRefused(t *testing.T) {
	forFlavours(t, "files_own", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		// Natively only what the test run inherited answers; under golos the same.
		wantNative(t, nat, 0, "descriptors 3..1023 that answered: ")
	})
}

// TestFilesOwnInvisible: golos's own descriptors (the runtime's poller's two, its copy of
// stderr, /proc/self/mem), which it puts at the top of the descriptor table it starts
// with, are invisible and closed to the application whatever that table's size and the
// RLIMIT_NOFILE it runs with. testdata/files_fdscan.c asks every descriptor below its soft
// limit with fstat(3) (newfstatat with AT_EMPTY_PATH in glibc), newfstatat and statx with
// AT_EMPTY_PATH, fcntl(F_GETFD), fstatat(fd, ".") and the raw fstat(2), and lists
// /proc/self/fd, /proc/thread-self/fd, /proc/PID/fd and /proc/self/task/TID/fd; Debian's
// ls -l /proc/self/fd (dynamic; it reads /etc/passwd into the buffer it then lists the
// directory into, whose padding getdents(2) leaves as it was) lists the same, and so do
// ls -l /dev/fd/ and a bash that tests /dev/fd/N for each N. Natively and
// under golos the same output, with limits from 16 to 4096, a soft limit below the hard
// one, and a descriptor inherited at 300 or 1000 (the table golos starts with has 512 or
// 1024 entries then).
func TestFilesOwnInvisible(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash: ", err)
	}
	procPid := regexp.MustCompile(`/proc/\d+/`)
	pipeIno := regexp.MustCompile(`(pipe|socket):\[\d+\]`)
	mask := func(b []byte) []byte {
		return pipeIno.ReplaceAll(procPid.ReplaceAll(b, []byte("/proc/PID/")), []byte("$1:[N]"))
	}
	for _, c := range []struct{ name, soft, hard, high string }{
		{"as-is", "", "", ""},
		{"16", "16", "16", ""},
		{"64", "64", "64", ""},
		{"100", "100", "100", ""},
		{"1024", "1024", "1024", ""},
		{"1024-4096", "1024", "4096", ""},
		{"4096-fd300", "4096", "4096", "300"},
		{"1024-4096-fd1000", "1024", "4096", "1000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			// bash sets the limits and opens the high descriptor, then becomes the program.
			script := ""
			if c.hard != "" {
				script += "ulimit -Sn " + c.soft + " && ulimit -Hn " + c.hard + " && "
			}
			if c.high != "" {
				script += "exec " + c.high + "</dev/null && "
			}
			script += `exec "$@"`
			sh := []string{"bash", "-c", script, "sh"}
			check := func(t *testing.T, argv ...string) {
				nat := run(exec.Command(sh[0], append(sh[1:], argv...)...), &runOpts{dir: t.TempDir()}, runTimeout)
				wantNative(t, nat, 0)
				needGolos(t)
				g := runGolosArgv(&runOpts{dir: t.TempDir()}, append(sh, append([]string{golosBin, "run"}, argv...)...)...)
				if !golosRanOK(t, "golos run "+strings.Join(argv, " "), g) {
					return
				}
				if d := wildLineDiffs(mask(nat.stdout), mask(g.stdout)); len(d) > 0 {
					t.Errorf("%s %s: %d lines differ from the native run (native | golos):\n%s\ngolos stderr:\n%s",
						script, strings.Join(argv, " "), len(d), strings.Join(d, "\n"), clip(g.stderr))
				}
			}
			forFlavours(t, "files_fdscan", func(t *testing.T, p string) { check(t, p) })
			t.Run("ls", func(t *testing.T) {
				t.Parallel()
				check(t, "/bin/ls", "-l", "--time-style=+", "/proc/self/fd/")
			})
			// /dev/fd, a symlink to /proc/self/fd, lists and reaches the same (before,
			// its listing showed golos's descriptors and they could be opened there).
			t.Run("dev-fd", func(t *testing.T) {
				t.Parallel()
				check(t, "/bin/ls", "-l", "--time-style=+", "/dev/fd/", "/dev/fd/.")
				// Every spelling of it: a doubled slash, a dot, and relative to /dev.
				check(t, "/bin/ls", "-l", "--time-style=+", "/dev//fd/", "/dev/./fd/", "/dev/../dev/fd/")
				check(t, "/bin/bash", "-c", `cd /dev && ls -l --time-style=+ fd/ ./fd/ && cd / && ls -l --time-style=+ dev/fd/`)
				check(t, "/bin/bash", "-c", `n=0; for ((i = 3; i < 4200; i++)); do [ -e /dev/fd/$i ] && n=$((n+1)); done; echo "/dev/fd/N above 2 that exist: $n"`)
			})
		})
	}
}

// TestFilesOwnPoll: golos's own descriptors are closed numbers to poll(2), ppoll(2),
// select(2) and pselect(2) as well: POLLNVAL in revents, EBADF from a select (issue 12).
// testdata/files_poll.c asks every descriptor below its soft limit, one at a time, by
// each call through libc (a site golos rewrites, whose call its entry code makes
// itself), through syscall(2) and with a signal mask (calls that reach golos's Go code),
// then polls all of them at once; natively and under golos the same output, with the
// table as it is and with golos's descriptors above a smaller or larger one, with every
// call trapped (--no-rewrite), and with --root (the root's descriptors are golos's too).
func TestFilesOwnPoll(t *testing.T) {
	for _, c := range []struct {
		name, script string
		flags        []string
	}{
		{"as-is", "", nil},
		{"no-rewrite", "", []string{"--no-rewrite"}},
		{"root", "", []string{"--root", "/"}},
		{"64", "ulimit -n 64 && ", nil},
		{"1024-4096-fd1000", "ulimit -Sn 1024 && ulimit -Hn 4096 && exec 1000</dev/null && ", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			forFlavours(t, "files_poll", func(t *testing.T, p string) {
				sh := []string{"bash", "-c", c.script + `exec "$@"`, "sh"}
				nat := run(exec.Command(sh[0], append(sh[1:], p)...), &runOpts{dir: t.TempDir()}, runTimeout)
				wantNative(t, nat, 0, "poll of ")
				needGolos(t)
				argv := append(append(append(sh, golosBin, "run"), c.flags...), p)
				g := runGolosArgv(&runOpts{dir: t.TempDir()}, argv...)
				if !golosRanOK(t, strings.Join(argv, " "), g) {
					return
				}
				if d := wildLineDiffs(nat.stdout, g.stdout); len(d) > 0 {
					t.Errorf("%d lines differ from the native run (native | golos):\n%s\ngolos stderr:\n%s",
						len(d), strings.Join(d, "\n"), clip(g.stderr))
				}
			})
		})
	}
}

// TestFilesNofileLowered: a program that lowers RLIMIT_NOFILE below golos's own
// descriptors opens exactly as many files as natively (none with a limit of 3).
func TestFilesNofileLowered(t *testing.T) {
	forFlavours(t, "nofile_low", func(t *testing.T, p string) {
		for _, limit := range []string{"3", "10", "40"} {
			t.Run(limit, func(t *testing.T) {
				nat, _ := runBoth(t, p, limit)
				wantNative(t, nat, 0, "limit "+limit+": opened ")
			})
		}
	})
}

// TestExecNofile: a program that lowers RLIMIT_NOFILE to 3, 4 or 5 (with 0, 1 and 2
// open) can still execve, as natively, where the kernel's own references to the
// executable and its interpreter count against no limit (issue 12): itself again, which
// then gets EMFILE or a descriptor from its first open as natively, and Debian's dynamic
// echo, whose ld.so natively fails to open libc under a limit of 3. In place (one
// thread), in a new golos (--stats keeps each program's counts apart), and with --root.
func TestExecNofile(t *testing.T) {
	forFlavours(t, "exec_nofile", func(t *testing.T, p string) {
		for _, flags := range [][]string{nil, {"--stats"}, {"--root", "/"}} {
			for _, limit := range []string{"3", "4", "5"} {
				o := runOpts{golosFlags: flags}
				nat, _ := runBothOpts(t, o, p, limit, p, "child")
				wantNative(t, nat, 0, "child: limit "+limit+"/"+limit+", open: ")
				nat, _ = runBothOpts(t, o, p, limit, "/bin/echo", "echoed")
				if limit == "3" {
					wantNative(t, nat, 127)
				} else {
					wantNative(t, nat, 0, "echoed\n")
				}
			}
		}
	})
}

// TestForkNofile: fork(2) and posix_spawn(3) under RLIMIT_NOFILE 3, 4 or 5 work as
// natively, where a fork opens nothing (issue 12): golos's own descriptors for the child
// (the socket to it, the memory map it reads, the child's golos's own) do not count, and
// the first open of each process gets EMFILE or descriptor 3 as natively.
func TestForkNofile(t *testing.T) {
	forFlavours(t, "proc_fork_nofile", func(t *testing.T, p string) {
		for _, limit := range []string{"3", "4", "5"} {
			nat, _ := runBoth(t, p, limit)
			wantNative(t, nat, 0, "forked child: status 0\n", "parent: open: ")
		}
	})
}

// TestProcPaths: every spelling of a path to the program's own files in /proc reaches the
// view golos gives of them (issue 12): "/proc//self/maps", "/proc/./self/maps",
// "/proc/self/./maps", "/proc/self//exe", "..", /proc/thread-self, /proc/PID,
// /proc/self/task/TID, /proc/PID/task/TID, and paths relative to a descriptor of /proc or
// /proc/self; and none of them reaches golos's own descriptors through …/fd/N or
// …/fdinfo/N (open, readlink, lstat, fstatat on a /proc/self/fd descriptor): natively
// only what the test run inherited answers, under golos the same.
func TestProcPaths(t *testing.T) {
	forFlavours(t, "proc_paths", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "/proc/self/./maps                        same\n",
			"readlink /proc/self//exe                 same, stat same\n",
			"descriptors 3..1023 that answered through /proc: ")
	})
}

// TestFilesSendmsgPlain: socket calls of plain data, once golos has rewritten their
// sites and makes them in its entry code without reaching Go (a sendmsg without control
// data), behave as natively: the data arrives, a struct msghdr golos cannot read fails
// with EFAULT, golos's own descriptors answer EBADF, EPIPE raises SIGPIPE unless
// MSG_NOSIGNAL, and an SCM_RIGHTS message still passes a descriptor.
func TestFilesSendmsgPlain(t *testing.T) {
	forFlavours(t, "sendmsg_plain", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "round 4: sendmsg 32 recvmsg 32 same, sendto 32 recvfrom 32 same, unmapped msghdr -1 Bad address, msg_controllen unmapped -1 Bad address",
			"round 4: to a closed peer -1 Broken pipe, SIGPIPE 1, with MSG_NOSIGNAL -1 Broken pipe, SIGPIPE 0, send with MSG_NOSIGNAL -1 Broken pipe, SIGPIPE 0, SCM_RIGHTS 1, a descriptor came yes\n")
	})
}

// TestFilesSCMOwn: golos's own descriptors cannot leave through SCM_RIGHTS: sendmsg and
// sendmmsg naming one fail with EBADF, as with a descriptor that is not open (sendmmsg
// sends the messages before it). Natively only the socket pair and what the test run
// inherited are sent, under golos the same.
func TestFilesSCMOwn(t *testing.T) {
	forFlavours(t, "scm_own", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "sendmsg sent ", "other results 0\n")
	})
}
