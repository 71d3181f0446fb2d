package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golos/internal/kernel"
)

// afterCounts are the counts a program that forks until EAGAIN prints ("fork: EAGAIN
// after N children"), which differ natively and under golos (golos's own threads count
// against the limit too).
var afterCounts = regexp.MustCompile(`after (\d+) `)

// maskCounts is out with those counts as N: the lines that must be alike.
func maskCounts(out []byte) string { return afterCounts.ReplaceAllString(string(out), "after N ") }

// countsIn returns the counts in out, in order.
func countsIn(out []byte) []int {
	var c []int
	for _, m := range afterCounts.FindAllSubmatch(out, -1) {
		n, _ := strconv.Atoi(string(m[1]))
		c = append(c, n)
	}
	return c
}

// TestProcNprocHost: a program that, as a user other than root, lowers its RLIMIT_NPROC
// and forks, then creates threads, until the host refuses, gets EAGAIN under golos as
// natively and reaps its children and joins its threads; golos prints no Go traceback
// (its runtime ends the process when it cannot start an OS thread), does not hang, and
// leaves no process behind. Under golos the count is lower: the golos processes' own
// threads count against the limit too (internal/kernel/nproc.go). Each flavour runs as
// a user of its own, which nothing else on the machine is (uids 64101 and up), so that
// the count of its tasks is the program's alone.
func TestProcNprocHost(t *testing.T) {
	needGolos(t)
	if os.Getuid() != 0 {
		t.Fatal("needs root, to run the program as another user")
	}
	const limit = 150
	for i, fl := range flavours {
		uid := uint32(64101 + i)
		t.Run(fl.name, func(t *testing.T) {
			t.Parallel()
			u := newUserRun(t, "proc_nproc_host."+fl.name)
			golos, p := u.golos, u.prog
			cred := &syscall.Credential{Uid: uid, Gid: uid}
			runAs := func(argv ...string) *result {
				return u.run(t, cred, []string{"TMPDIR=" + lockTmp(t, u.dir)}, 2*time.Minute, argv...)
			}
			nat := runAs(p, strconv.Itoa(limit))
			wantNative(t, nat, 0, "fork: EAGAIN after ", "children reaped: all\n",
				"pthread_create: EAGAIN after ", "threads joined: all\n", "failures: 0\n")
			g := runAs(golos, "run", p, strconv.Itoa(limit))
			if g.code != 0 || g.timedOut || bytes.Contains(g.stderr, []byte("goroutine")) || bytes.Contains(g.stderr, []byte("fatal error")) {
				t.Errorf("golos run: %s\nstdout:\n%sstderr:\n%s", g, clip(g.stdout), clip(g.stderr))
			}
			// The same lines, the counts apart: natively the limit less the program's
			// own task, under golos fewer but some.
			if maskCounts(g.stdout) != maskCounts(nat.stdout) {
				t.Errorf("stdout, counts masked: natively\n%sunder golos\n%s", nat.stdout, g.stdout)
			}
			nc, gc := countsIn(nat.stdout), countsIn(g.stdout)
			for j := 0; j < len(nc) && j < len(gc); j++ {
				n, m := nc[j], gc[j]
				if n != limit-1 || m < 1 || m > n {
					t.Errorf("count %d: natively %d (want %d), under golos %d (want 1 to the native count)", j, n, limit-1, m)
				}
			}
		})
	}
}

// userProcesses lists the processes of real user uid (pid and command line), and kills
// them: only the test's program and its golos run as that user.
func userProcesses(uid uint32) []string {
	return killProcesses(func(pid string) bool { // sandbox_pids_test.go
		status, err := os.ReadFile("/proc/" + pid + "/status")
		if err != nil {
			return false
		}
		var real uint32
		for line := range strings.SplitSeq(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "Uid:"); ok {
				fmt.Sscan(v, &real)
			}
		}
		return real == uid
	})
}

// TestProcNprocTree: a tree of processes, as a user other than root, whose workers all
// fork at once until RLIMIT_NPROC refuses (proc_nproc_tree.c), gets EAGAIN in each
// worker under golos as natively, many times in a row: the user's golos processes, each
// of which counts and forks on its own, never together pass the limit, where a Go
// runtime that cannot start a thread ends its golos with a traceback (nproc.go,
// nproclock.go); and so in a --sandbox with a root of its own. No run prints a
// traceback, hangs, or leaves a process behind. Each flavour runs as a user of its own
// (uids 64111 and up).
func TestProcNprocTree(t *testing.T) {
	needGolos(t)
	if os.Getuid() != 0 {
		t.Fatal("needs root, to run the program as another user")
	}
	const (
		limit   = 200
		workers = 4
		runs    = 25               // under golos, each flavour
		budget  = 90 * time.Second // for a flavour's runs
	)
	for i, fl := range flavours {
		uid := uint32(64111 + i)
		t.Run(fl.name, func(t *testing.T) {
			t.Parallel()
			u := newUserRun(t, "proc_nproc_tree."+fl.name)
			dir, golos, p := u.dir, u.golos, u.prog
			cred := &syscall.Credential{Uid: uid, Gid: uid}
			runAs := func(argv ...string) *result {
				return u.run(t, cred, []string{"TMPDIR=" + lockTmp(t, dir)}, time.Minute, argv...)
			}
			sum := func(out []byte) int {
				n := 0
				for _, c := range countsIn(out) {
					n += c
				}
				return n
			}
			mask := maskCounts
			nat := runAs(p, strconv.Itoa(limit), strconv.Itoa(workers))
			wantNative(t, nat, 0, "worker 0: fork: EAGAIN after ", "workers reaped all their children: yes\n", "failures: 0\n")
			// Natively the children fill the limit: it less the program and its workers.
			if n := sum(nat.stdout); n != limit-1-workers {
				t.Errorf("natively %d children in all, want %d:\n%s", n, limit-1-workers, nat.stdout)
			}
			start := time.Now()
			for run := 0; run < runs && time.Since(start) < budget; run++ {
				g := runAs(golos, "run", p, strconv.Itoa(limit), strconv.Itoa(workers))
				if g.code != 0 || g.timedOut || crashed(g.stderr) || bytes.Contains(g.stderr, []byte("fatal error")) || len(g.stderr) > 0 {
					t.Fatalf("run %d: golos run: %s\nstdout:\n%sstderr:\n%s", run, g, clip(g.stdout), clip(g.stderr))
				}
				// The same lines, the counts apart; fewer children under golos, whose
				// own threads count too, but some.
				if mask(g.stdout) != mask(nat.stdout) {
					t.Fatalf("run %d: stdout, counts masked: natively\n%sunder golos\n%s", run, nat.stdout, g.stdout)
				}
				if n := sum(g.stdout); n < 1 || n > sum(nat.stdout) {
					t.Fatalf("run %d: %d children in all under golos, want 1 to %d:\n%s", run, n, sum(nat.stdout), g.stdout)
				}
			}
			// The same in a sandbox with a root of its own, where the limit is the
			// sandbox's (--pids-limit, RLIMIT_NPROC in its user namespace for this user)
			// and so is the lock (/proc/1: the host's /tmp is out of reach).
			root := filepath.Join(dir, "root")
			if err := os.Mkdir(root, 0o755); err != nil {
				t.Fatal(err)
			}
			copyFile(t, p, filepath.Join(root, "proc_nproc_tree"), 0o755)
			start = time.Now()
			for run := 0; run < runs/2 && time.Since(start) < budget; run++ {
				g := runAs(golos, "run", "--sandbox", "--pids-limit", strconv.Itoa(limit), "--root", root,
					"/proc_nproc_tree", strconv.Itoa(limit), strconv.Itoa(workers))
				if g.code != 0 || g.timedOut || len(g.stderr) > 0 || mask(g.stdout) != mask(nat.stdout) || sum(g.stdout) < 1 {
					t.Fatalf("run %d: golos run --sandbox --pids-limit %d: %s\nstdout:\n%sstderr:\n%s", run, limit, g, clip(g.stdout), clip(g.stderr))
				}
			}
		})
	}
}

// lockTmp returns dir/tmp, made writable by everyone (mode 1777, as /tmp), for TMPDIR:
// where golos makes the directory of the user's lock (internal/kernel, nproclock.go),
// rather than in the host's /tmp.
func lockTmp(t *testing.T, dir string) string {
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil && !os.IsExist(err) {
		t.Fatal(err)
	}
	if err := os.Chmod(tmp, 0o1777); err != nil {
		t.Fatal(err)
	}
	return tmp
}

// userRun is golos and a test program copied into a directory of their own, which a user
// other than root reaches (reachableTempDir).
type userRun struct{ dir, golos, prog string }

func newUserRun(t *testing.T, progName string) userRun {
	t.Helper()
	dir := reachableTempDir(t)
	u := userRun{dir: dir, golos: filepath.Join(dir, "golos"), prog: filepath.Join(dir, strings.SplitN(progName, ".", 2)[0])}
	copyFile(t, golosBin, u.golos, 0o755)
	copyFile(t, prog(t, progName), u.prog, 0o755)
	return u
}

// run runs argv in u's directory as cred (nil: as root) with env added, within limit,
// and fails the test for a process left behind: one of this golos's, or cred's user's.
func (u userRun) run(t *testing.T, cred *syscall.Credential, env []string, limit time.Duration, argv ...string) *result {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	r := run(cmd, &runOpts{dir: u.dir, env: env}, limit)
	left := golosProcesses(u.golos)
	if cred != nil {
		left = append(left, userProcesses(cred.Uid)...)
	}
	if len(left) > 0 {
		t.Errorf("%q left %d processes behind: %s", argv, len(left), strings.Join(left, "; "))
	}
	return r
}

// TestProcGolosThreads: each golos process of a tree whose programs have one thread
// (proc_forkwait.c: 4 workers forking 8 waiting children each) starts no more OS threads
// over its whole life than the count golos takes a golos process for under a task limit
// (kernel.GolosThreads, nproc.go), which must hold them all: a runtime that cannot start
// a thread ends its golos. strace -f counts each process's clone(2)s with CLONE_THREAD
// (every thread started, the ones that ended too), with the default GOMAXPROCS and with
// 16 in the environment (Ps the runtime may start threads for). The program's output is
// the native one.
func TestProcGolosThreads(t *testing.T) {
	needGolos(t)
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Fatalf("strace: %v (run-tests installs it)", err)
	}
	forFlavours(t, "proc_forkwait", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p, "4", "8")
		wantNative(t, nat, 0, "children made: 32\n", "workers that reaped all: yes\n")
		for _, procs := range []string{"", "16"} {
			out := filepath.Join(t.TempDir(), "strace")
			o := &runOpts{dir: t.TempDir()}
			if procs != "" {
				o.env = []string{"GOMAXPROCS=" + procs}
			}
			r := run(exec.Command(strace, "-f", "-qq", "-e", "trace=clone,clone3", "-e", "signal=none", "-o", out, golosBin, "run", p, "4", "8"), o, runTimeout)
			if r.code != 0 || !bytes.Equal(r.stdout, nat.stdout) {
				t.Errorf("strace -f golos run %s 4 8 (GOMAXPROCS=%q): %s\nstdout:\n%sstderr:\n%s", p, procs, r, clip(r.stdout), clip(r.stderr))
				continue
			}
			trace, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			// A clone's line: "PID clone(…flags…) = CHILD" (clone3's flags are in its
			// struct); the process a thread is made in is its creator's.
			line := regexp.MustCompile(`^(\d+)\s+clone3?\((.*)\)\s+=\s+(\d+)`)
			group := map[int]int{}
			threads := map[int]int{}
			for _, l := range strings.Split(string(trace), "\n") {
				m := line.FindStringSubmatch(l)
				if m == nil {
					continue
				}
				pid, _ := strconv.Atoi(m[1])
				child, _ := strconv.Atoi(m[3])
				g, ok := group[pid]
				if !ok {
					g = pid
				}
				if strings.Contains(m[2], "CLONE_THREAD") {
					group[child] = g
					threads[g]++
				} else {
					group[child] = child
				}
			}
			most := 0
			for _, n := range threads {
				most = max(most, n+1) // and the process's first thread
			}
			t.Logf("GOMAXPROCS=%q: %d processes made threads, the most threads started in one: %d (counted for %d)", procs, len(threads), most, kernel.GolosThreads)
			if len(threads) < 33 {
				t.Errorf("GOMAXPROCS=%q: threads started in %d processes, want the 33 golos processes of the tree at least", procs, len(threads))
			}
			if most > kernel.GolosThreads {
				t.Errorf("GOMAXPROCS=%q: a golos process started %d threads, more than the %d golos counts it for under a task limit", procs, most, kernel.GolosThreads)
			}
		}
	})
}
