package main

import (
	"errors"
	"testing"
)

func TestParseNsPerCall(t *testing.T) {
	good := map[string]float64{"ns_per_call=110.6\n": 110.6, "ns_per_call=2\n": 2}
	for in, want := range good {
		if got, err := parseNsPerCall(in); err != nil || got != want {
			t.Errorf("parseNsPerCall(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "ns_per_call=1", "x\nns_per_call=1\n", "ns_per_call=1\nx\n",
		"ns_per_call=\n", "ns_per_call=0\n", "ns_per_call=-3\n", "ns_per_call=NaN\n", "ns_per_call=+Inf\n"} {
		if v, err := parseNsPerCall(in); err == nil {
			t.Errorf("parseNsPerCall(%q) = %v, want an error", in, v)
		}
	}
}

func TestResultStats(t *testing.T) {
	r := result{samples: []float64{5, 1, 3, 2}}
	if m, _ := r.median(); m != 2.5 {
		t.Errorf("median = %v, want 2.5", m)
	}
	if m, _ := r.min(); m != 1 {
		t.Errorf("min = %v, want 1", m)
	}
	r.err = errors.New("broken")
	if _, ok := r.median(); ok {
		t.Error("a failed result has a median")
	}
}
