package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	// The first golos run may build golos (the ./golos script does so when a source
	// changed), so the untimed warm-up run gets far longer than a timed one.
	warmupTimeout = 10 * time.Minute
	runTimeout    = 2 * time.Minute
)

// buildAll compiles every src/*.c into dir/<name> with gcc -static: golos runs static
// executables, and the same binary then runs on both sides. A workload that does not
// compile is reported in its own row rather than stopping the others, so the error map
// is separate from the returned error, which is for failures that stop everything.
func buildAll(src, dir string) (map[string]error, error) {
	files, err := filepath.Glob(filepath.Join(src, "*.c"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no C workloads in %s/", src)
	}
	errs := map[string]error{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".c")
		out, err := exec.Command("gcc", "-O2", "-static", "-Wall", "-o", filepath.Join(dir, name), f).CombinedOutput()
		if err != nil {
			errs[name] = fmt.Errorf("gcc %s: %v: %s", f, err, gccError(string(out)))
			progress("gcc %s failed:\n%s", f, out)
		}
	}
	return errs, nil
}

// gccError picks gcc's first "error:" line, which names the cause; the last line is
// often a trailing note.
func gccError(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "error:") {
			return strings.TrimSpace(l)
		}
	}
	return lastLine(out)
}

// A side is one way of running a workload binary: natively (no prefix) or under golos.
type side struct {
	label  string
	prefix []string
}

func (s side) command(ctx context.Context, bin string, args ...string) *exec.Cmd {
	argv := append(append(slices.Clone(s.prefix), bin), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	// If golos leaves a child holding the output pipes, do not wait for it forever.
	cmd.WaitDelay = time.Second
	return cmd
}

// A probe runs a workload once on one side and returns one sample.
type probe func(ctx context.Context, s side) (float64, error)

// result holds one side's samples of one workload, or the error that stopped it.
type result struct {
	samples []float64
	err     error
	skipped bool // not run on this side by design
}

func (r result) median() (float64, bool) {
	if r.err != nil || len(r.samples) == 0 {
		return 0, false
	}
	s := slices.Sorted(slices.Values(r.samples))
	n := len(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}

func (r result) min() (float64, bool) {
	if r.err != nil || len(r.samples) == 0 {
		return 0, false
	}
	return slices.Min(r.samples), true
}

// measure runs p once untimed on every side (cold caches, and the first golos run may
// build golos), then runs more times, interleaving the sides (native, golos, native,
// golos, …) so that drift in the machine's load hits both alike. A side that fails
// once is not run again: its result is the error, since a sometimes-broken run must
// not pass for a slow or fast one.
func measure(sides []side, runs int, p probe) []result {
	res := make([]result, len(sides))
	for round := -1; round < runs; round++ {
		for i, s := range sides {
			if res[i].err != nil {
				continue
			}
			timeout := runTimeout
			if round < 0 {
				timeout = warmupTimeout
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			v, err := p(ctx, s)
			if err != nil && ctx.Err() != nil {
				err = fmt.Errorf("timed out after %v: %w", timeout, err)
			}
			cancel()
			if err != nil {
				res[i].err = err
				progress("%s: %v", s.label, err)
			} else if round >= 0 {
				res[i].samples = append(res[i].samples, v)
			}
		}
	}
	return res
}

// execute runs cmd and returns its stdout. A failure carries the exit status and the
// last line of stderr, which is where golos and the workloads say what went wrong.
func execute(cmd *exec.Cmd) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if msg := lastLine(stderr.String()); msg != "" {
			return "", fmt.Errorf("%v: %s", err, msg)
		}
		return "", err
	}
	return stdout.String(), nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndexByte(s, '\n')+1:]
}

// startProbe measures start to exit in ms: wall time around exec.Cmd.Run, so fork,
// exec, golos's whole life and the wait are all in it. The output is checked so that
// a run that exits early without doing its work cannot look fast.
func startProbe(bin string) probe {
	return func(ctx context.Context, s side) (float64, error) {
		cmd := s.command(ctx, bin)
		t0 := time.Now()
		out, err := execute(cmd)
		d := time.Since(t0)
		if err != nil {
			return 0, err
		}
		if out != "hello 42\n" {
			return 0, fmt.Errorf("output %q, want %q", out, "hello 42\n")
		}
		return float64(d) / float64(time.Millisecond), nil
	}
}

// loopProbe runs a loop workload that times itself and returns its ns per call. The
// workload gets our pid as the parent it must see: ./golos execs golos, and golos runs
// the program in its own process, so the parent is this command on both sides.
func loopProbe(iters int) func(string) probe {
	return func(bin string) probe {
		return func(ctx context.Context, s side) (float64, error) {
			out, err := execute(s.command(ctx, bin, strconv.Itoa(iters), strconv.Itoa(os.Getpid())))
			if err != nil {
				return 0, err
			}
			return parseNsPerCall(out)
		}
	}
}

// parseNsPerCall accepts exactly one line "ns_per_call=<float>" with a positive value.
func parseNsPerCall(out string) (float64, error) {
	line, ok := strings.CutSuffix(out, "\n")
	val, ok2 := strings.CutPrefix(line, "ns_per_call=")
	if !ok || !ok2 || strings.Contains(line, "\n") {
		return 0, fmt.Errorf("unparsable output %q", out)
	}
	v, err := strconv.ParseFloat(val, 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) { // !(v > 0) also rejects NaN
		return 0, fmt.Errorf("unparsable output %q", out)
	}
	return v, nil
}
