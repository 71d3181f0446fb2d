package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// sysfuzzTimeout bounds each run of testdata/sysfuzz.c, natively and under golos (a run
// takes well under a second).
const sysfuzzTimeout = 20 * time.Second

// TestSysFuzz runs testdata/sysfuzz.c (thousands of random syscalls with wild arguments
// from a seed) natively and under golos with a few seeds: golos must not crash (no Go
// panic, fatal error or goroutine dump on its stderr), must not hang, and must end as
// the native run of the same seed ends (exit status, or death by the same signal).
func TestSysFuzz(t *testing.T) {
	const calls = 3000
	const seeds = 24 // about 3 s for both flavours
	for _, name := range []string{"sysfuzz.glibc-static", "sysfuzz.musl-static"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := prog(t, name)
			needGolos(t)
			for seed := 1; seed <= seeds; seed++ {
				arg := []string{path, strconv.Itoa(seed), strconv.Itoa(calls)}
				// Each run in an empty directory of its own: the program creates files there.
				nativeDir, golosDir := fuzzDir(t), fuzzDir(t)
				native := runNative(&runOpts{dir: nativeDir, timeout: sysfuzzTimeout}, arg...)
				golos := runGolosOpts(&runOpts{dir: golosDir, timeout: sysfuzzTimeout}, append([]string{"run", "--quiet"}, arg...)...)
				switch {
				case native.err != nil || native.timedOut:
					t.Errorf("seed %d: native run: %s", seed, native)
				case golos.err != nil:
					t.Errorf("seed %d: golos: %s", seed, golos)
				case golos.timedOut:
					t.Errorf("seed %d: golos hung: %s", seed, golos)
				case crashed(golos.stderr) && !crashed(native.stderr):
					t.Errorf("seed %d: golos crashed:\n%s", seed, clip(golos.stderr))
				case golos.code != native.code || golos.signal != native.signal:
					t.Errorf("seed %d: native %s, golos %s\ngolos stderr:\n%s", seed, native, golos, clip(golos.stderr))
				}
			}
		})
	}
}

// fuzzDir is a fresh directory that is removed at the end of the test even when the
// fuzzer has taken its permissions away.
func fuzzDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "golos-sysfuzz-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if d != nil && d.IsDir() {
				os.Chmod(p, 0o700)
			}
			return nil
		})
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintf(os.Stderr, "sysfuzz: %v\n", err)
		}
	})
	return dir
}
