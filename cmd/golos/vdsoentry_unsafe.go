// This file is built only by internal/build (./golos, cmd/golos-build), which sets the
// golosbuild tag and links golos with forkEntry as its entry point (-E main.forkEntry).

//go:build golosbuild

package main

import "fmt"

// A forked child's golos must have its vDSO where the parent's program found its own
// (kernel.RunForked). Moving it once the Go runtime runs means first making sure that
// none of the runtime's threads is inside it, which took 0.3–1 ms of polling
// /proc/self/task per fork (docs/performance-analysis.md). forkEntry
// (forkentry_amd64.s) moves it before the runtime starts, when there is only one thread
// and no pointer into the vDSO yet.

// forkEntry is golos's entry point: it moves a forked child's vDSO, then jumps to the
// runtime's own entry.
func forkEntry()

// forkVDSO is what forkEntry did, in [0]: 0 nothing (not a forked child, or its place was
// taken: kernel.RunForked moves the vDSO), 1 the vDSO is at the parent's place, 2 it
// failed half-way (the runtime has no vDSO). The rest holds the layout it parsed.
var forkVDSO [19]uint64

// entryVDSOMoved reports whether forkEntry has moved the vDSO; an error if it failed
// half-way.
func entryVDSOMoved() (bool, error) {
	switch forkVDSO[0] {
	case 1:
		return true, nil
	case 2:
		return false, fmt.Errorf("the vDSO could not be moved to the parent's place")
	}
	return false, nil
}

var _ = forkEntry // the entry point, which nothing in Go calls
