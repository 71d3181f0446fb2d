package kernel

import (
	"strings"
	"sync"
	"testing"
)

// The lock order as package kernel's comment writes it, and its check (lockorder.go):
// locks taken in the order pass, each inversion and each lock under a leaf fails, and a
// lock released by another goroutine than the one that took it is forgotten.
func TestLockOrder(t *testing.T) {
	var failures []string
	lockOrderFail = func(msg string) { failures = append(failures, msg) }
	defer func() { lockOrderFail = nil }()
	var (
		p        = newProcess(Options{})
		w        dirWatch
		stopLike mutex[stopLock] // stopMu's rank, not golos's own stopMu
	)
	type step struct {
		r lockRank
		m any // the mutex
	}
	// Each lock of the process has its own rank: the mutex's type names it.
	fork := step{rankOf(&p.forkMu), &p.forkMu}
	mm := step{rankOf(&p.mm.mu), &p.mm.mu}
	rw := step{rankOf(&p.mm.rw.mu), &p.mm.rw.mu}
	fwd := step{rankOf(&p.forwardMu), &p.forwardMu}
	kicks := step{rankOf(&p.kicks.mu), &p.kicks.mu}
	sig := step{rankOf(&p.sighand.mu), &p.sighand.mu}
	threads := step{rankOf(&p.threads.mu), &p.threads.mu}
	cwd := step{rankOf(&p.fsctx.cwdMu), &p.fsctx.cwdMu}
	vdso := step{rankOf(&p.mm.vdsoMu), &p.mm.vdsoMu}
	nofile := step{rankOf(&p.nofileMu), &p.nofileMu}
	note := step{rankOf(&p.noteMu), &p.noteMu}
	dir := step{rankOf(&w.mu), &w.mu}
	stop := step{rankOf(&stopMu), &stopLike}
	seen := map[lockRank]bool{}
	for _, s := range []step{fork, mm, rw, fwd, kicks, sig, threads, cwd, vdso, nofile, note, dir, stop} {
		if s.r == 0 || seen[s.r] {
			t.Errorf("%v: rank %d, given to another lock too or to none", s.m, s.r)
		}
		seen[s.r] = true
	}
	for _, tc := range []struct {
		name  string
		locks []step
		bad   string // what the failure names, or "" for none
	}{
		// The comment's arrows.
		{"fork mm rw cwd", []step{fork, mm, rw, cwd}, ""},
		{"fork mm rw vdso", []step{fork, mm, rw, vdso}, ""},
		{"fork mm rw sig threads", []step{fork, mm, rw, sig, threads}, ""},
		{"fork sig (through mm and rw)", []step{fork, sig}, ""},
		{"mm rw", []step{mm, rw}, ""},
		{"mm nofile", []step{mm, nofile}, ""},
		{"forward sig threads", []step{fwd, sig, threads}, ""},
		{"forward kicks threads", []step{fwd, kicks, threads}, ""},
		{"sig threads", []step{sig, threads}, ""},
		{"each alone", []step{nofile}, ""},
		{"stop alone", []step{stop}, ""},
		// Against them.
		{"threads sig", []step{threads, sig}, "p.sighand.mu taken while p.threads.mu is held"},
		{"sig forward", []step{sig, fwd}, "p.forwardMu taken while p.sighand.mu is held"},
		{"rw mm", []step{rw, mm}, "p.mm.mu taken while p.mm.rw.mu is held"},
		{"sig kicks", []step{sig, kicks}, "p.kicks.mu taken while p.sighand.mu is held"},
		{"kicks sig", []step{kicks, sig}, "p.sighand.mu taken while p.kicks.mu is held"},
		{"cwd under a leaf", []step{note, cwd}, "p.fsctx.cwdMu taken while p.noteMu is held"},
		{"a dirWatch under a leaf", []step{nofile, dir}, "a dirWatch's mu taken while p.nofileMu is held"},
		{"under a dirWatch", []step{dir, note}, "p.noteMu taken while a dirWatch's mu is held"},
		{"stop under any", []step{sig, stop}, "stopMu taken while p.sighand.mu is held"},
		{"sig twice", []step{sig, sig}, "p.sighand.mu taken while p.sighand.mu is held"},
	} {
		failures = nil
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // a goroutine of its own: the held locks are per goroutine
			defer wg.Done()
			var taken []step
			for _, s := range tc.locks {
				if len(failures) > 0 {
					break // a real run would have ended; sig twice would deadlock
				}
				lockTaking(s.r, s.m)
				taken = append(taken, s)
			}
			for i := len(taken) - 1; i >= 0; i-- {
				lockReleased(taken[i].m)
			}
		}()
		wg.Wait()
		switch {
		case tc.bad == "" && len(failures) > 0:
			t.Errorf("%s: failed: %q", tc.name, failures)
		case tc.bad != "" && (len(failures) != 1 || !strings.Contains(failures[0], tc.bad)):
			t.Errorf("%s: failures %q, want one naming %q", tc.name, failures, tc.bad)
		}
		if n := len(lockState.held); n != 0 {
			t.Errorf("%s: %d goroutines still hold locks after releasing them: %v", tc.name, n, lockState.held)
			lockState.held = nil
		}
	}

	// A lock taken by one goroutine and released by another is forgotten.
	failures = nil
	taken := make(chan struct{})
	go func() { lockTaking(rankSig, &p.sighand.mu); close(taken) }()
	<-taken
	lockReleased(&p.sighand.mu)
	if n := len(lockState.held); n != 0 || len(failures) != 0 {
		t.Errorf("handed-over lock: %d goroutines hold locks, failures %q", n, failures)
	}
}

// rankOf is the rank of the lock m is.
func rankOf[R ranked](*mutex[R]) lockRank {
	var r R
	return r.rank()
}
