package tests

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestHostTitle: from the host, the processes of a program run by golos show the
// program's command line in /proc/PID/cmdline (what ps, pgrep, podman top and
// start-stop-daemon read), as they do natively, where they showed "golos run …" and
// "golos fork-child 4040 7f…": a server that renames itself (setproctitle, as redis does)
// and its forked worker, read by the test while they run (testdata/host_title.c).
func TestHostTitle(t *testing.T) {
	needGolos(t)
	p := prog(t, "host_title.glibc-static")
	views := func(r *readyRun) string {
		l, err := r.lines.ReadString('\n')
		var child int
		if _, e := fmt.Sscanf(l, "child %d\n", &child); err != nil || e != nil {
			r.abandon()
			t.Fatalf("%v: second line %q (%v), want child PID", r.cmd.Args, l, err)
		}
		var out []string
		for _, pid := range []int{r.cmd.Process.Pid, child} {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			out = append(out, fmt.Sprintf("%q %v", b, err))
		}
		if rest, err := r.finish(t); rest != "" || err != nil {
			t.Errorf("%v: %v, stdout after the child's pid %q", r.cmd.Args, err, rest)
		}
		return strings.Join(out, "\n")
	}
	nat := views(startReadyBin(t, 30*time.Second, p, "--port", "6379"))
	if !strings.HasPrefix(nat, `"server *:6379\x00\x00`) {
		t.Fatalf("natively the server's command line is not its title:\n%s", nat)
	}
	if g := views(startReady(t, 30*time.Second, "run", p, "--port", "6379")); g != nat {
		t.Errorf("host's /proc/PID/cmdline of the server and its worker:\nnative:\n%s\ngolos:\n%s", nat, g)
	}
}
