package tests

import (
	"path/filepath"
	"testing"

	"golos/internal/build"
)

// TestLockOrder: a golos built with the lockorder tag checks, at every lock it takes, the
// lock order of internal/kernel's package comment, and ends with status 70 and the two
// locks on its stderr at the first lock taken against it (internal/kernel/lockorder.go;
// TestLockOrder in internal/kernel checks the check). Programs that take the locks in
// every combination golos has (threads started and joined; signals sent between threads,
// to the process and by timers, with masks, an alternate stack and restarts; fork with
// threads, posix_spawn; syscall sites rewritten while threads run through them and
// signals arrive) run under it with the results they have natively.
func TestLockOrder(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "golos-lockorder")
	if err := build.Golos(root, bin, "lockorder"); err != nil {
		t.Fatalf("build golos with the lockorder tag: %v", err)
	}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"thr_join", nil}, {"thr_futex", nil}, {"thr_robust", nil},
		{"sig_mask", nil}, {"sig_altstack", nil}, {"sig_timer", nil}, {"sig_busy", nil},
		{"sig_restart", nil}, {"sig_info", nil}, {"sig_group", []string{"self"}},
		{"proc_forkthreads", nil}, {"proc_spawn", nil}, {"proc_threads", nil}, {"proc_other", nil},
		{"proc_vfork", nil},
		{"rewrite_stress", nil}, {"clone3", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			runBothOpts(t, runOpts{golosBin: bin}, append([]string{prog(t, c.name+".glibc-static")}, c.args...)...)
		})
	}
}
