package kernel

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
)

// The lock order of the package comment, checkable: each of the process's mutexes is a
// mutex[R], whose type names its lock (R), and a golos built with the lockorder tag
// (golos-build -tags lockorder; lockorder_on.go) records the locks each goroutine holds
// and ends at the first lock taken against the order, with status 70 (EX_SOFTWARE), the
// locks and the goroutine's stack on stderr. Without the tag lockOrderCheck is a
// constant false, the recording is compiled out, and mutex is a sync.Mutex.

// lockRank names one of the locks of the package comment.
type lockRank uint8

const (
	rankFork     lockRank = iota + 1 // p.forkMu
	rankMM                           // p.mm.mu
	rankRW                           // p.mm.rw.mu
	rankForward                      // p.forwardMu
	rankKicks                        // p.kicks.mu
	rankSig                          // p.sighand.mu
	rankThreads                      // p.threads.mu
	rankCwd                          // p.fsctx.cwdMu
	rankVdso                         // p.mm.vdsoMu
	rankNofile                       // p.nofileMu
	rankNote                         // p.noteMu
	rankDirWatch                     // a dirWatch's mu
	rankStop                         // stopMu
	rankKids                         // p.kids.mu
	numRanks
)

var rankNames = [numRanks]string{"", "p.forkMu", "p.mm.mu", "p.mm.rw.mu", "p.forwardMu", "p.kicks.mu",
	"p.sighand.mu", "p.threads.mu", "p.fsctx.cwdMu", "p.mm.vdsoMu", "p.nofileMu", "p.noteMu", "a dirWatch's mu", "stopMu", "p.kids.mu"}

func (r lockRank) String() string { return rankNames[r] }

// lockOrder is the package comment's arrows: each lock, and the locks that may be taken
// while it is held. A lock with none is a leaf; stopMu is taken with no lock held.
var lockOrder = map[lockRank][]lockRank{
	rankFork:    {rankMM, rankKids},
	rankMM:      {rankRW, rankNofile},
	rankRW:      {rankCwd, rankVdso, rankSig, rankKids},
	rankForward: {rankSig, rankKicks, rankKids},
	rankKicks:   {rankThreads},
	rankSig:     {rankThreads},
}

// mayTakeWhile[held][next] is lockOrder's transitive closure: whether next may be taken
// while held is held.
var mayTakeWhile = func() (m [numRanks][numRanks]bool) {
	var visit func(from, r lockRank)
	visit = func(from, r lockRank) {
		for _, n := range lockOrder[r] {
			if !m[from][n] {
				m[from][n] = true
				visit(from, n)
			}
		}
	}
	for r := lockRank(1); r < numRanks; r++ {
		visit(r, r)
	}
	return m
}()

// lockOrderViolation says what is wrong with taking next while holding held (in the
// order taken), or "" when nothing is.
func lockOrderViolation(held []lockRank, next lockRank) string {
	for _, h := range held {
		if next == rankStop || !mayTakeWhile[h][next] {
			return next.String() + " taken while " + h.String() + " is held, against the order of package kernel's comment"
		}
	}
	return ""
}

// ranked is a type that names a lock of the order.
type ranked interface{ rank() lockRank }

type (
	forkLock     struct{}
	mmLock       struct{}
	rwLock       struct{}
	forwardLock  struct{}
	kicksLock    struct{}
	sigLock      struct{}
	threadsLock  struct{}
	cwdLock      struct{}
	vdsoLock     struct{}
	nofileLock   struct{}
	noteLock     struct{}
	dirWatchLock struct{}
	stopLock     struct{}
	kidsLock     struct{}
)

func (forkLock) rank() lockRank     { return rankFork }
func (mmLock) rank() lockRank       { return rankMM }
func (rwLock) rank() lockRank       { return rankRW }
func (forwardLock) rank() lockRank  { return rankForward }
func (kicksLock) rank() lockRank    { return rankKicks }
func (sigLock) rank() lockRank      { return rankSig }
func (threadsLock) rank() lockRank  { return rankThreads }
func (cwdLock) rank() lockRank      { return rankCwd }
func (vdsoLock) rank() lockRank     { return rankVdso }
func (nofileLock) rank() lockRank   { return rankNofile }
func (noteLock) rank() lockRank     { return rankNote }
func (dirWatchLock) rank() lockRank { return rankDirWatch }
func (stopLock) rank() lockRank     { return rankStop }
func (kidsLock) rank() lockRank     { return rankKids }

// mutex is a sync.Mutex that is the lock R of the order.
type mutex[R ranked] struct{ mu sync.Mutex }

func (m *mutex[R]) Lock() {
	if lockOrderCheck {
		var r R
		lockTaking(r.rank(), m)
	}
	m.mu.Lock()
}

func (m *mutex[R]) Unlock() {
	if lockOrderCheck {
		lockReleased(m)
	}
	m.mu.Unlock()
}

type heldLock struct {
	rank lockRank
	m    any // the mutex
}

// lockState is the locks each goroutine holds, in the order taken.
var lockState struct {
	sync.Mutex
	held map[uint64][]heldLock // by goroutine
}

// lockOrderFail is what a lock taken against the order does: golos ends (a test
// replaces it).
var lockOrderFail = func(msg string) {
	buf := make([]byte, 64<<10)
	buf = buf[:runtime.Stack(buf, false)]
	fmt.Fprintf(os.Stderr, "golos: lock order: %s\n%s\n", msg, buf)
	os.Exit(70)
}

// goid is the calling goroutine's id, from its stack's header ("goroutine N [").
func goid() uint64 {
	var b [64]byte
	s := b[:runtime.Stack(b[:], false)]
	s = bytes.TrimPrefix(s, []byte("goroutine "))
	if i := bytes.IndexByte(s, ' '); i > 0 {
		s = s[:i]
	}
	n, _ := strconv.ParseUint(string(s), 10, 64)
	return n
}

// lockTaking checks that the calling goroutine may take m, the lock r, and records it.
func lockTaking(r lockRank, m any) {
	g := goid()
	lockState.Lock()
	if lockState.held == nil {
		lockState.held = map[uint64][]heldLock{}
	}
	held := lockState.held[g]
	ranks := make([]lockRank, len(held))
	for i, h := range held {
		ranks[i] = h.rank
	}
	lockState.held[g] = append(held, heldLock{r, m})
	lockState.Unlock()
	if bad := lockOrderViolation(ranks, r); bad != "" {
		lockOrderFail(fmt.Sprintf("%s (held, in the order taken: %v)", bad, ranks))
	}
}

// lockReleased forgets m: from the calling goroutine's locks, or from another's when
// the lock was handed over (taken by one goroutine, released by another).
func lockReleased(m any) {
	g := goid()
	lockState.Lock()
	defer lockState.Unlock()
	if dropLock(g, m) {
		return
	}
	for other := range lockState.held {
		if dropLock(other, m) {
			return
		}
	}
}

// dropLock removes m from goroutine g's locks; caller holds lockState.
func dropLock(g uint64, m any) bool {
	held := lockState.held[g]
	for i := len(held) - 1; i >= 0; i-- {
		if held[i].m == m {
			held = append(held[:i], held[i+1:]...)
			if len(held) == 0 {
				delete(lockState.held, g)
			} else {
				lockState.held[g] = held
			}
			return true
		}
	}
	return false
}
