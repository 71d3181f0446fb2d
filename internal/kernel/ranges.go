package kernel

import "sort"

// ranges is a set of disjoint, non-adjacent half-open address ranges [lo, hi), sorted.
type ranges struct {
	r [][2]uint64
}

// add puts [lo, hi) in the set, merging with neighbours.
func (s *ranges) add(lo, hi uint64) {
	if lo >= hi {
		return
	}
	i := sort.Search(len(s.r), func(i int) bool { return s.r[i][1] >= lo })
	j := i
	for j < len(s.r) && s.r[j][0] <= hi {
		lo = min(lo, s.r[j][0])
		hi = max(hi, s.r[j][1])
		j++
	}
	s.r = append(s.r[:i], append([][2]uint64{{lo, hi}}, s.r[j:]...)...)
}

// remove takes [lo, hi) out of the set, splitting ranges as needed.
func (s *ranges) remove(lo, hi uint64) {
	if lo >= hi {
		return
	}
	var out [][2]uint64
	for _, x := range s.r {
		if x[1] <= lo || x[0] >= hi {
			out = append(out, x)
			continue
		}
		if x[0] < lo {
			out = append(out, [2]uint64{x[0], lo})
		}
		if x[1] > hi {
			out = append(out, [2]uint64{hi, x[1]})
		}
	}
	s.r = out
}

// contains reports whether all of [lo, hi) is in the set.
func (s *ranges) contains(lo, hi uint64) bool {
	if lo >= hi {
		return true
	}
	i := sort.Search(len(s.r), func(i int) bool { return s.r[i][1] > lo })
	return i < len(s.r) && s.r[i][0] <= lo && s.r[i][1] >= hi
}

// intersect returns the parts of [lo, hi) that are in the set.
func (s *ranges) intersect(lo, hi uint64) [][2]uint64 {
	var out [][2]uint64
	for _, x := range s.r {
		a, b := max(x[0], lo), min(x[1], hi)
		if a < b {
			out = append(out, [2]uint64{a, b})
		}
	}
	return out
}

// gaps returns the parts of [lo, hi) that are not in the set.
func (s *ranges) gaps(lo, hi uint64) [][2]uint64 {
	var out [][2]uint64
	at := lo
	for _, x := range s.intersect(lo, hi) {
		if x[0] > at {
			out = append(out, [2]uint64{at, x[0]})
		}
		at = x[1]
	}
	if at < hi {
		out = append(out, [2]uint64{at, hi})
	}
	return out
}

// size is how many bytes the set holds.
func (s *ranges) size() uint64 {
	var n uint64
	for _, r := range s.r {
		n += r[1] - r[0]
	}
	return n
}

// sizeIn is how many bytes of [lo, hi) the set holds.
func (s *ranges) sizeIn(lo, hi uint64) uint64 {
	var n uint64
	for _, r := range s.intersect(lo, hi) {
		n += r[1] - r[0]
	}
	return n
}

// overlapStart returns the start of the lowest range of the set that overlaps [lo, hi).
func (s *ranges) overlapStart(lo, hi uint64) (uint64, bool) {
	i := sort.Search(len(s.r), func(i int) bool { return s.r[i][1] > lo })
	if i < len(s.r) && s.r[i][0] < hi {
		return s.r[i][0], true
	}
	return 0, false
}

// highestGap returns the highest a, a multiple of align (a power of two), such that
// [a, a+size) lies in [lo, hi) and outside every range of the set.
func (s *ranges) highestGap(lo, hi, size, align uint64) (uint64, bool) {
	top := hi
	for i := len(s.r) - 1; i >= -1 && top > lo; i-- {
		bottom := lo
		if i >= 0 {
			if s.r[i][0] >= top {
				continue // wholly above what is left
			}
			bottom = max(lo, s.r[i][1])
		}
		if top > bottom && top-bottom >= size {
			if a := (top - size) &^ (align - 1); a >= bottom {
				return a, true
			}
		}
		if i >= 0 {
			top = s.r[i][0]
		}
	}
	return 0, false
}

// overlaps reports whether any of [lo, hi) is in the set.
func (s *ranges) overlaps(lo, hi uint64) bool {
	_, ok := s.overlapStart(lo, hi)
	return ok
}
