package tests

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestRewriteStress: testdata/rewrite_stress.c makes the same syscalls from the same
// sites on several threads while signals arrive, so that sites are rewritten while
// threads run through them; its counts are the same under golos as natively.
func TestRewriteStress(t *testing.T) {
	forFlavours(t, "rewrite_stress", func(t *testing.T, p string) {
		runBoth(t, p)
	})
}

// TestReadSites: testdata/read_sites.c reads a file one byte per read(2), from one thread
// and then from a second one; the sums are the same under golos as natively. glibc's read
// wrapper is a site of several instructions: golos rewrites it, so that the 20,000 reads
// of the first phase do not each trap through Syscall User Dispatch (golos run --stats
// counts the calls that came as SIGSYS).
func TestReadSites(t *testing.T) {
	forFlavours(t, "read_sites", func(t *testing.T, p string) {
		dir := t.TempDir()
		runBothOpts(t, runOpts{dir: dir}, p, dir+"/data")
		needGolos(t)
		g := runGolosOpts(&runOpts{dir: dir}, "run", "--stats", p, dir+"/data", "one")
		if g.err != nil || g.timedOut || g.code != 0 || !strings.Contains(string(g.stdout), "one thread: 2549488\n") {
			t.Fatalf("golos run --stats: %s\nstdout:\n%s\nstderr:\n%s", g, clip(g.stdout), clip(g.stderr))
		}
		m := regexp.MustCompile(`(\d+) syscalls \((\d+) through rewritten sites, (\d+) as SIGSYS`).FindStringSubmatch(string(g.stderr))
		if m == nil {
			t.Fatalf("no --stats report on golos's stderr:\n%s", clip(g.stderr))
		}
		total, _ := strconv.Atoi(m[1])
		trapped, _ := strconv.Atoi(m[3])
		if total < 20000 || trapped > 1000 {
			t.Errorf("%d syscalls, %d of them as SIGSYS: read's site was not rewritten\nstderr:\n%s", total, trapped, clip(g.stderr))
		}
	})
}
