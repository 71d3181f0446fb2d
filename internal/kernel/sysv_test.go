package kernel

import "testing"

// TestSysvMapping: the lines of /proc/self/maps fork and shmdt take for System V segments
// and AIO rings. Linux names a segment's file "SYSV" and its key in 8 hex digits, deleted
// (ipc/shm.c, newseg: "SYSV%08x"), and an AIO ring's "[aio]", deleted (fs/aio.c,
// aio_private_file); a file of the same name elsewhere, one not deleted, or a private
// mapping is neither.
func TestSysvMapping(t *testing.T) {
	for _, c := range []struct {
		path       string
		shared     bool
		sysv, ring bool
	}{
		{"/SYSV00000000 (deleted)", true, true, false},
		{"/SYSV6105a1b2 (deleted)", true, true, false},
		{"/SYSV00000000 (deleted)", false, false, false},
		{"/SYSV00000000", true, false, false},
		{"/SYSV0000000 (deleted)", true, false, false},
		{"/SYSV0000000g (deleted)", true, false, false},
		{"/tmp/SYSV00000000 (deleted)", true, false, false},
		{"/[aio] (deleted)", true, false, true},
		{"/[aio] (deleted)", false, false, false},
		{"/[aio]", true, false, false},
		{"", true, false, false},
	} {
		m := forkMapping{Path: c.path, Shared: c.shared}
		if got := sysvMapping(m); got != c.sysv {
			t.Errorf("sysvMapping(%q, shared %v) = %v, want %v", c.path, c.shared, got, c.sysv)
		}
		if got := aioRing(m); got != c.ring {
			t.Errorf("aioRing(%q, shared %v) = %v, want %v", c.path, c.shared, got, c.ring)
		}
	}
}
