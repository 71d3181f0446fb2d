package tests

import (
	"testing"
	"time"
)

// TestSignalsTTOUAfterKick: a process of a background group that blocks SIGTTOU writes to
// its terminal, TOSTOP set, after a signal interrupted its own code. golos mirrors the
// program's blocking of SIGTTIN and SIGTTOU on the host, where the terminal looks at it,
// and must keep it on the way back from the interruption (which unblocks golos's own
// signals); else the write sends SIGTTOU to the group again and again and never ends.
func TestSignalsTTOUAfterKick(t *testing.T) {
	forFlavours(t, "sig_ttou_kick", func(t *testing.T, p string) {
		nat, _ := runBothOpts(t, runOpts{timeout: 30 * time.Second}, p)
		wantNative(t, nat, 0, "written\n")
	})
}
