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
)

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
			// golos and the program where the user reaches them.
			dir := reachableTempDir(t)
			golos := filepath.Join(dir, "golos")
			copyFile(t, golosBin, golos, 0o755)
			p := filepath.Join(dir, "proc_nproc_host")
			copyFile(t, prog(t, "proc_nproc_host."+fl.name), p, 0o755)
			cred := &syscall.Credential{Uid: uid, Gid: uid}
			runAs := func(argv ...string) *result {
				cmd := exec.Command(argv[0], argv[1:]...)
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
				r := run(cmd, &runOpts{dir: dir}, 2*time.Minute)
				if left := userProcesses(uid); len(left) > 0 {
					t.Errorf("%q left %d processes behind: %s", argv, len(left), strings.Join(left, "; "))
				}
				return r
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
			counts := regexp.MustCompile(`after (\d+) `)
			mask := func(b []byte) string { return counts.ReplaceAllString(string(b), "after N ") }
			if mask(g.stdout) != mask(nat.stdout) {
				t.Errorf("stdout, counts masked: natively\n%sunder golos\n%s", nat.stdout, g.stdout)
			}
			nc, gc := counts.FindAllSubmatch(nat.stdout, -1), counts.FindAllSubmatch(g.stdout, -1)
			for j := 0; j < len(nc) && j < len(gc); j++ {
				n, _ := strconv.Atoi(string(nc[j][1]))
				m, _ := strconv.Atoi(string(gc[j][1]))
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
	ents, _ := os.ReadDir("/proc")
	var left []string
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		var real uint32
		for line := range strings.SplitSeq(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "Uid:"); ok {
				fmt.Sscan(v, &real)
			}
		}
		if real != uid {
			continue
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		left = append(left, fmt.Sprintf("%d %s", pid, bytes.ReplaceAll(bytes.TrimRight(cmdline, "\x00"), []byte{0}, []byte{' '})))
		syscall.Kill(pid, syscall.SIGKILL)
	}
	return left
}
