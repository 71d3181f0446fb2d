package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseResult(t *testing.T) {
	good := []struct {
		out, unit string
		want      float64
	}{{"ns_per_call=110.6\n", "ns", 110.6}, {"ns_per_call=2\n", "ns", 2}, {"ms=663.415\n", "ms", 663.415}}
	for _, g := range good {
		if got, err := parseResult(g.out, g.unit); err != nil || got != g.want {
			t.Errorf("parseResult(%q, %s) = %v, %v; want %v", g.out, g.unit, got, err, g.want)
		}
	}
	for _, in := range []string{"", "ns_per_call=1", "x\nns_per_call=1\n", "ns_per_call=1\nx\n",
		"ns_per_call=\n", "ns_per_call=0\n", "ns_per_call=-3\n", "ns_per_call=NaN\n", "ns_per_call=+Inf\n", "ms=5\n"} {
		if v, err := parseResult(in, "ns"); err == nil {
			t.Errorf("parseResult(%q, ns) = %v, want an error", in, v)
		}
	}
}

func TestResultMedian(t *testing.T) {
	r := result{samples: []float64{5, 1, 3, 2}}
	if m, _ := r.median(); m != 2.5 {
		t.Errorf("median = %v, want 2.5", m)
	}
	r.samples = append(r.samples, 4)
	if m, _ := r.median(); m != 3 {
		t.Errorf("median = %v, want 3", m)
	}
	r.err = errors.New("broken")
	if _, ok := r.median(); ok {
		t.Error("a failed result has a median")
	}
}

// fakeSuite has one workload with every kind of cell: numbers, an error, a skip.
func fakeSuite() *suite {
	broken := errors.New("exit status 1: <bad> & \"worse\"")
	w := workload{id: "w", name: "a <workload> & more", unit: "ms", runs: 3, targets: []target{
		toNative("w", 1.2),
		{goal: "under 5 ms", num: ref{"w", golos}, limit: 5},
		{goal: "≥ 20× faster than gVisor", num: ref{"w", gvisor}, den: ref{"w", golos}, limit: 20, atLeast: true},
	}}
	return &suite{
		cfg:   config{platform: "ptrace", command: "golos-bench -quick"},
		sides: []side{{name: "native"}, {name: "golos"}, {name: "gVisor"}},
		work:  []workload{w, {id: "floor", name: "floor", unit: "ns", only: []int{native}}},
		results: map[string][]result{
			"w":     {{samples: []float64{2, 2, 2}}, {samples: []float64{3, 4, 2}}, {err: broken}},
			"floor": {{samples: []float64{1000}}, {skipped: true}, {skipped: true}},
		},
		runs: map[string]int{"w": 3, "floor": 1},
		when: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC),
		machine: machine{Model: "Test CPU", FSGSBase: "yes", PTI: "no", PCID: "yes", Kernel: "6.18.0",
			Cores: 2, Date: "2026-11-26 00:00 UTC"},
	}
}

func TestTargets(t *testing.T) {
	s := fakeSuite()
	got := targets(s, s.work[0])
	want := "≤ 1.2× native: MISSED (1.500×); under 5 ms: met (3.00 ms); ≥ 20× faster than gVisor: not judged (the w row failed on gVisor)"
	if got != want {
		t.Errorf("targets = %q\nwant      %q", got, want)
	}

	// gVisor cannot be installed: the target says so rather than pass or fail.
	s.sides[gvisor].err = errors.New("installing runsc: apt-get install -y runsc: exit status 100")
	s.results["w"][gvisor].err = s.sides[gvisor].err
	got = targets(s, s.work[0])
	if want := "≥ 20× faster than gVisor: not judged (gVisor does not run here: installing runsc:"; !strings.Contains(got, want) {
		t.Errorf("targets = %q\nwant it to contain %q", got, want)
	}

	// A target that needs FSGSBASE is judged only where the CPU has it.
	fs := workload{id: "w", targets: []target{{goal: "≤ 2× native", num: ref{"w", golos}, den: ref{"w", native}, limit: 2, needs: "fsgsbase"}}}
	if got := targets(s, fs); got != "≤ 2× native: met (1.500×)" {
		t.Errorf("with fsgsbase: %q", got)
	}
	s.machine.FSGSBase = "no"
	if got := targets(s, fs); !strings.HasPrefix(got, "≤ 2× native: not judged (no fsgsbase here") {
		t.Errorf("without fsgsbase: %q", got)
	}
	// A target over a row the run left out (-only).
	ab := workload{id: "w", targets: []target{{goal: "g", num: ref{"w", golos}, den: ref{"absent", native}, limit: 2}}}
	if got := targets(s, ab); got != "g: not judged (the absent row was not run)" {
		t.Errorf("absent row: %q", got)
	}
}

func TestReport(t *testing.T) {
	var b bytes.Buffer
	report(&b, fakeSuite(), true)
	for _, want := range []string{"| a <workload> & more | ms | 3 | 2.00 | 3.00 | ERROR: exit status 1", "gVisor/native",
		"a <workload> & more, gVisor: exit status 1: <bad>", "| floor | ns/call | 1 | 1000 | not run | not run |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}

// TestChart checks that the chart is well-formed XML whatever the labels and errors hold,
// and that it names a failure rather than drawing nothing.
func TestChart(t *testing.T) {
	svg := chart(fakeSuite())
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("chart is not XML: %v\n%s", err, svg)
		}
	}
	for _, want := range []string{"gVisor failed: exit status 1", "1.50×", "a &lt;workload&gt; &amp; more"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q", want)
		}
	}
	if strings.Contains(svg, ">floor<") {
		t.Error("chart draws a native-only workload")
	}
}

// TestMakeProject checks that the make row's project builds and that the program it
// builds runs, so that the row times a build that works.
func TestMakeProject(t *testing.T) {
	for _, prog := range []string{"make", "gcc"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("%s is not installed", prog)
		}
	}
	dir := t.TempDir()
	if err := makeProject(dir); err != nil {
		t.Fatal(err)
	}
	proj := filepath.Join(dir, makeProjectDir)
	cmd := exec.Command("make", "-s", "-B", "-j2")
	cmd.Dir = proj
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("make -s -B -j2: %v, output %q", err, out)
	}
	out, err := exec.Command(filepath.Join(proj, "prog")).Output()
	if want := "170688 4 solog sdliub solog 6c399d01b29a9832 f9973abd 1\n"; err != nil || string(out) != want {
		t.Errorf("prog: %v, output %q, want %q", err, out, want)
	}
}
