package kernel

import (
	"testing"

	"golos/internal/loader"
)

// A new mapping's place steps below the rewriter's stub pages, which lie inside the
// program's area near its code: one placed on top of a stub page would fail, and golos
// would read the host's whole map to learn what was there (learnForeign), as it did at
// the first mmap of every dynamic program (ld.so's stub page lies right below it).
func TestPlaceBelowStubPages(t *testing.T) {
	var m addressSpace
	m.area = &loader.Area{Lo: 1 << 30, Hi: 2 << 30}
	stub := m.area.Hi - 3*pageSize
	low := m.area.Hi - 64*pageSize
	m.rw.pages = []stubPage{{addr: stub}, {addr: low}}
	m.rw.pagesChanged()
	for _, size := range []uint64{pageSize, 4 * pageSize, 8 * pageSize, hugePage} {
		at, ok := m.place(size, true)
		if !ok {
			t.Fatalf("place(%#x): no place", size)
		}
		for _, s := range []uint64{stub, low} {
			if at < s+pageSize && at+size > s {
				t.Errorf("place(%#x) = %#x, over the stub page at %#x", size, at, s)
			}
		}
	}
	// Above the stub page, where there is room, it is still the highest place.
	if at, _ := m.place(2*pageSize, false); at != stub+pageSize {
		t.Errorf("place(2 pages) = %#x, want %#x, right above the stub page", at, stub+pageSize)
	}
	m.rw.pages = nil
	m.rw.pagesChanged()
	if at, _ := m.place(4*pageSize, false); at != m.area.Hi-4*pageSize {
		t.Errorf("with no stub page, place(4 pages) = %#x, want the area's top %#x", at, m.area.Hi-4*pageSize)
	}
}
