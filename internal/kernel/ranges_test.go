package kernel

import (
	"math/rand"
	"testing"
)

// The range set is checked against a page bitmap driven by the same random operations.
func TestRangesAgainstBitmap(t *testing.T) {
	const pages = 64
	rng := rand.New(rand.NewSource(1))
	var s ranges
	var bits [pages]bool
	for i := 0; i < 5000; i++ {
		lo := uint64(rng.Intn(pages))
		hi := lo + uint64(rng.Intn(pages-int(lo))+1)
		if rng.Intn(2) == 0 {
			s.add(lo, hi)
			for p := lo; p < hi; p++ {
				bits[p] = true
			}
		} else {
			s.remove(lo, hi)
			for p := lo; p < hi; p++ {
				bits[p] = false
			}
		}
		// The set stays sorted, disjoint and merged.
		for j := 1; j < len(s.r); j++ {
			if s.r[j-1][1] >= s.r[j][0] {
				t.Fatalf("step %d: ranges %v not sorted, disjoint and merged", i, s.r)
			}
		}
		qlo := uint64(rng.Intn(pages))
		qhi := qlo + uint64(rng.Intn(pages-int(qlo))+1)
		all := true
		for p := qlo; p < qhi; p++ {
			all = all && bits[p]
		}
		if got := s.contains(qlo, qhi); got != all {
			t.Fatalf("step %d: contains(%d, %d) = %v, bitmap says %v (%v)", i, qlo, qhi, got, all, s.r)
		}
		var in, out uint64
		for _, r := range s.intersect(qlo, qhi) {
			for p := r[0]; p < r[1]; p++ {
				if !bits[p] {
					t.Fatalf("step %d: intersect gave page %d, which is not in the set", i, p)
				}
				in++
			}
		}
		for _, r := range s.gaps(qlo, qhi) {
			for p := r[0]; p < r[1]; p++ {
				if bits[p] {
					t.Fatalf("step %d: gaps gave page %d, which is in the set", i, p)
				}
				out++
			}
		}
		if in+out != qhi-qlo {
			t.Fatalf("step %d: intersect and gaps cover %d pages of %d", i, in+out, qhi-qlo)
		}
		// highestGap: the highest free run of size pages at a multiple of align, by
		// looking at every start from the top.
		size := uint64(rng.Intn(8) + 1)
		align := uint64(1) << rng.Intn(3)
		want, found := uint64(0), false
		for a := int(qhi) - int(size); a >= int(qlo) && !found; a-- {
			if uint64(a)%align != 0 {
				continue
			}
			free := true
			for p := a; p < a+int(size); p++ {
				free = free && !bits[p]
			}
			want, found = uint64(a), free
		}
		if got, ok := s.highestGap(qlo, qhi, size, align); ok != found || ok && got != want {
			t.Fatalf("step %d: highestGap(%d, %d, %d, %d) = %d, %v; bitmap says %d, %v (%v)",
				i, qlo, qhi, size, align, got, ok, want, found, s.r)
		}
		if start, ok := s.overlapStart(qlo, qhi); ok != (in > 0) || ok && (start >= qhi || !bits[max(start, qlo)]) {
			t.Fatalf("step %d: overlapStart(%d, %d) = %d, %v (%v)", i, qlo, qhi, start, ok, s.r)
		}
	}
}
