package kernel

import (
	"sync"

	"golos/internal/syspatch"
)

// What syspatch.Before finds for a syscall instruction depends on nothing but the bytes
// it is given: the instruction and the Window bytes before it. The processes of a tree
// run the same C library and dynamic loader, whose sites each golos decoded anew: a
// rewrite took 13-15 µs, two thirds of it x86asm's decoding, where a trapped call costs
// about 2 µs, so a short program (/bin/true rewrites 6 sites and then makes 7 calls
// through them; as, 20 and 97) paid more for its rewrites than they saved. knownSites
// keeps Before's answers, keyed by those bytes, for the life of golos's process, across
// the program's execs in place, and a fork hands them to the child's golos (forkState).

// siteMemoMax bounds the answers kept: a program's sites number in the tens to hundreds.
const siteMemoMax = 2048

// siteMemo maps the bytes Before was given (the window, then the syscall instruction) to
// the offset in them of the site's first instruction, or -1 for bytes that hold no site.
type siteMemo struct {
	mu sync.Mutex
	m  map[string]int
}

// knownSites is golos's process's memo.
var knownSites siteMemo

// before is syspatch.Before(code, len(code)-2, base), answered from the memo when the
// same bytes were seen before.
func (m *siteMemo) before(code []byte, base uint64) (syspatch.Site, bool) {
	sc := len(code) - 2
	m.mu.Lock()
	start, known := m.m[string(code)]
	m.mu.Unlock()
	if !known {
		s, ok := syspatch.Before(code, sc, base)
		start = -1
		if ok {
			start = int(s.Addr - base)
		}
		m.add(string(code), start)
		return s, ok
	}
	if start < 0 {
		return syspatch.Site{}, false
	}
	return syspatch.Site{Addr: base + uint64(start), Insn: append([]byte(nil), code[start:sc]...), Syscall: base + uint64(sc)}, true
}

// add records an answer, while there is room.
func (m *siteMemo) add(code string, start int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]int{}
	}
	if len(m.m) < siteMemoMax {
		m.m[code] = start
	}
}

// forkSite is one answer of the memo, as a fork sends it.
type forkSite struct {
	Code  []byte
	Start int // -1: no site
}

// all returns the memo's answers, for a fork's child.
func (m *siteMemo) all() []forkSite {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]forkSite, 0, len(m.m))
	for code, start := range m.m {
		out = append(out, forkSite{Code: []byte(code), Start: start})
	}
	return out
}

// load takes a parent's answers. An answer that does not fit its bytes (a site's start
// outside them) is left out: the child decodes those bytes itself if it meets them.
func (m *siteMemo) load(sites []forkSite) {
	for _, s := range sites {
		if len(s.Code) >= 2 && s.Start >= -1 && s.Start < len(s.Code)-2 {
			m.add(string(s.Code), s.Start)
		}
	}
}
