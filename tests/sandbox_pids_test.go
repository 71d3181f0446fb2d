package tests

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSandboxPidsLimit: a fork bomb (proc_forkbomb.c: fork until fork fails, then kill
// and reap every child) under golos run --sandbox --pids-limit 64 gets EAGAIN, as it
// does natively under a limit of 64 tasks (prlimit --nproc, as a user of its own), after
// fewer children (golos's own threads count too), with no traceback and no process
// left: as root (also as a shell's child), whose sandbox is a pids cgroup of its own (read back from inside, and
// gone once golos has ended), and as another user, whose sandbox gets RLIMIT_NPROC in
// its user namespace where no cgroup can be made (internal/sandbox, pids.go).
func TestSandboxPidsLimit(t *testing.T) {
	needGolos(t)
	if os.Getuid() != 0 {
		t.Fatal("needs root, to run the program as another user too")
	}
	const limit = 64
	mask := maskCounts
	count := func(b []byte) int { // the first count (nproc_test.go), -1 if none
		if c := countsIn(b); len(c) > 0 {
			return c[0]
		}
		return -1
	}
	for i, fl := range flavours {
		uid := uint32(64131 + i)
		t.Run(fl.name, func(t *testing.T) {
			t.Parallel()
			u := newUserRun(t, "proc_forkbomb."+fl.name)
			golos, p := u.golos, u.prog
			runAs := func(cred *syscall.Credential, argv ...string) *result {
				return u.run(t, cred, nil, time.Minute, argv...)
			}
			user := &syscall.Credential{Uid: uid, Gid: uid}
			nat := runAs(user, "prlimit", "--nproc="+strconv.Itoa(limit), p)
			wantNative(t, nat, 0, "fork: EAGAIN after "+strconv.Itoa(limit-1)+" children\n", "children killed and reaped: all\n")
			direct := 0 // children as root, the program run directly
			// The limit reaches every golos in the sandbox: the bomb also runs as the
			// child of a shell, whose fork's golos (the limit sent with the process)
			// execs it (the limit a flag of the new golos's).
			for _, who := range []struct {
				name string
				cred *syscall.Credential
				argv []string
			}{{"root", nil, []string{p}}, {"another user", user, []string{p}},
				{"root, from a shell", nil, []string{"/bin/sh", "-c", p + "; exit $?"}}} {
				g := runAs(who.cred, append([]string{golos, "run", "--sandbox", "--pids-limit", strconv.Itoa(limit)}, who.argv...)...)
				if g.code != 0 || g.timedOut || crashed(g.stderr) || len(g.stderr) > 0 {
					t.Errorf("as %s: golos run --sandbox --pids-limit %d: %s\nstdout:\n%sstderr:\n%s", who.name, limit, g, clip(g.stdout), clip(g.stderr))
				}
				if mask(g.stdout) != mask(nat.stdout) {
					t.Errorf("as %s: stdout, counts masked: natively\n%sunder golos\n%s", who.name, nat.stdout, g.stdout)
				}
				n := count(g.stdout)
				if n < 1 || n >= limit {
					t.Errorf("as %s: %d children under golos, want 1 to %d", who.name, n, limit-1)
				}
				// The shell's golos takes room too: a golos that did not count (one
				// without the limit) would fork on until the cgroup refused.
				if direct > 0 && n > direct {
					t.Errorf("as %s: %d children, more than the %d run directly", who.name, n, direct)
				}
				if who.name == "root" {
					direct = n
				}
			}
		})
	}
	// Root's sandbox is a pids cgroup of its own, with pids.max the limit (the host's
	// /sys/fs/cgroup is the sandbox's without --root, read-only), removed once golos has
	// ended.
	needProgram(t, "/bin/sh", "sh")
	// One fork (cat): the limit holds two golos processes and the reserve.
	// And read-only: root, who keeps CAP_DAC_OVERRIDE, cannot raise the limit.
	script := `while IFS=: read n c p; do case ",$c," in *,pids,*) echo "$p"; f=/sys/fs/cgroup/pids$p/pids.max; cat "$f"; { echo max >"$f"; } 2>/dev/null && echo raised || echo not raised;; esac; done </proc/self/cgroup`
	r := run(exec.Command(golosBin, "run", "--sandbox", "--pids-limit", strconv.Itoa(limit), "/bin/sh", "-c", script), &runOpts{}, runTimeout)
	lines := strings.Split(string(r.stdout), "\n")
	if r.code != 0 || len(lines) != 4 || !strings.Contains(lines[0], "/golos-sandbox-") || lines[1] != strconv.Itoa(limit) || lines[2] != "not raised" {
		t.Fatalf("golos run --sandbox --pids-limit %d: %s, want its pids cgroup (golos-sandbox-PID), %d and \"not raised\"\nstdout:\n%sstderr:\n%s", limit, r, limit, r.stdout, clip(r.stderr))
	}
	if _, err := os.Stat("/sys/fs/cgroup/pids" + lines[0]); !os.IsNotExist(err) {
		t.Errorf("the sandbox's pids cgroup %s is left behind (%v)", lines[0], err)
	}
}

// golosProcesses lists the processes that run the golos executable at path (pid and
// command line), and kills them.
func golosProcesses(path string) []string {
	return killProcesses(func(pid string) bool {
		exe, err := os.Readlink("/proc/" + pid + "/exe")
		return err == nil && exe == path
	})
}

// killProcesses lists the processes that match (pid and command line), and kills them.
func killProcesses(match func(pid string) bool) []string {
	ents, _ := os.ReadDir("/proc")
	var left []string
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !match(e.Name()) {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		left = append(left, strconv.Itoa(pid)+" "+string(bytes.ReplaceAll(bytes.TrimRight(cmdline, "\x00"), []byte{0}, []byte{' '})))
		syscall.Kill(pid, syscall.SIGKILL)
	}
	return left
}
