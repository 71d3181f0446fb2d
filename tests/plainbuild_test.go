package tests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlainBuild: a plain `go build ./cmd/golos` (no TLS move, no -checklinkname=0)
// succeeds, and its binary says how golos must be built and exits 125 instead of running
// programs with the Go runtime's TLS on FS.
func TestPlainBuild(t *testing.T) {
	trackSources()
	out := filepath.Join(t.TempDir(), "golos")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/golos")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/golos: %v\n%s", err, o)
	}
	for _, args := range [][]string{{"run", "/bin/true"}, {"--version"}} {
		r := run(exec.Command(out, args...), &runOpts{dir: t.TempDir()}, runTimeout)
		if r.code != 125 || !bytes.Contains(r.stderr, []byte("golos must be built with ./golos (or go run ./cmd/golos-build)")) {
			t.Errorf("plainly built golos %s: %s, want status 125 and how to build golos\nstderr:\n%s",
				strings.Join(args, " "), r, clip(r.stderr))
		}
		oneLine(t, "plainly built golos", r.stderr)
	}
}
