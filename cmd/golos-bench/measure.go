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

// runTimeout bounds one run: the longest takes a few seconds, so a run past it has hung.
const runTimeout = 30 * time.Second

// A side is one way of running a program: natively (no prefix), under golos or under
// gVisor.
type side struct {
	name    string
	prefix  []string
	ppid    int    // the parent pid a program run this way sees
	skip    bool   // not run by choice (-gvisor=false)
	err     error  // cannot run anything here; every cell of the side shows this
	version string // of the runtime, for the report
}

func (s side) command(ctx context.Context, argv []string) *exec.Cmd {
	argv = append(slices.Clone(s.prefix), argv...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	// If a child is left holding the output pipes, do not wait for it forever.
	cmd.WaitDelay = time.Second
	return cmd
}

// result holds one side's samples of one workload, or the error that stopped it.
type result struct {
	samples []float64
	err     error
	skipped bool // not run on this side
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

// A suite is the whole run: its sides, workloads and results (by workload id, then by
// side index: native, golos, gvisor).
type suite struct {
	cfg     config
	sides   []side
	work    []workload
	results map[string][]result
	runs    map[string]int // timed runs per side, by workload id
	when    time.Time
	load    string // the load average at the start
	machine machine
	elapsed time.Duration
	skipped map[string]string // rows not run, by workload id: why (a tool not installed)
}

func (s *suite) median(r ref) (float64, bool) {
	res := s.results[r.id]
	if r.side >= len(res) {
		return 0, false
	}
	return res[r.side].median()
}

// missing says why a target has no value: which of its medians is missing, and why.
func (s *suite) missing(t target) string {
	for _, r := range []ref{t.num, t.den} {
		if r.id == "" {
			continue
		}
		res, ok := s.results[r.id]
		switch {
		case !ok || r.side >= len(res):
			return "the " + r.id + " row was not run"
		case res[r.side].skipped && r.side < len(s.sides) && s.sides[r.side].skip:
			return sideNames[r.side] + " not run"
		case res[r.side].skipped:
			return "the " + r.id + " row is not run on " + sideNames[r.side]
		case r.side < len(s.sides) && s.sides[r.side].err != nil:
			return sideNames[r.side] + " does not run here: " + shorten(s.sides[r.side].err.Error(), 80)
		case res[r.side].err != nil:
			return "the " + r.id + " row failed on " + sideNames[r.side]
		}
	}
	return "no result"
}

// runSuite builds everything into dir, sets up the three sides and measures every
// workload. Nothing here stops the suite: a program that does not build, a side that
// cannot run or a run that fails becomes an error in its cells.
func runSuite(cfg config, dir string) *suite {
	work := workloads(cfg.quick)
	if cfg.only != nil {
		work = slices.DeleteFunc(work, func(w workload) bool { return !slices.Contains(cfg.only, w.id) })
	}
	s := &suite{cfg: cfg, work: work, results: map[string][]result{},
		runs: map[string]int{}, when: time.Now(), load: loadAverage(), machine: thisMachine(), skipped: map[string]string{}}
	s.machine.Date = s.when.UTC().Format("2006-01-02 15:04 MST")
	built := buildPrograms(s.work, dir)
	s.sides = []side{{name: sideNames[native], ppid: os.Getpid()}, golosSide(cfg, dir), gvisorSide(cfg)}

	for _, w := range s.work {
		sides := slices.Clone(s.sides)
		for i := range sides {
			sides[i].skip = sides[i].skip || w.only != nil && !slices.Contains(w.only, i)
		}
		sides[golos].prefix = append(slices.Clone(sides[golos].prefix), w.golosFlags...)
		runs := w.runs
		if cfg.quick {
			runs = 3
		}
		if cfg.runs > 0 {
			runs = cfg.runs
		}
		s.runs[w.id] = runs
		if w.server != nil {
			if note := w.server.missingTools(); note != "" {
				for i := range sides {
					sides[i].skip = true
				}
				s.skipped[w.id] = note
				progress("%s: not run: %s", w.name, note)
			} else {
				progress("%s: %d runs per side, interleaved", w.name, runs)
			}
			s.results[w.id] = measure(sides, runs, w.server.probe)
			continue
		}
		argv, err := w.resolve(dir, built)
		if err == nil && w.setup != nil {
			if err = w.setup(dir); err != nil {
				err = fmt.Errorf("setting up: %w", err)
			}
		}
		if err != nil {
			for i := range sides {
				sides[i].err = err
			}
		}
		cwd := ""
		if w.chdir != "" {
			cwd = filepath.Join(dir, w.chdir)
		}
		progress("%s: %d runs per side, interleaved", w.name, runs)
		s.results[w.id] = measure(sides, runs, w.probe(argv, cwd))
	}
	return s
}

// buildPrograms builds every work-directory program the workloads name and returns the
// build errors by program name.
func buildPrograms(work []workload, dir string) map[string]error {
	errs := map[string]error{}
	done := map[string]bool{}
	for _, w := range work {
		if len(w.argv) == 0 { // a server row
			continue
		}
		name := w.argv[0]
		if strings.Contains(name, "/") || done[name] {
			continue
		}
		done[name] = true
		cmd := buildCommand(name, dir)
		progress("building %s: %s", name, strings.Join(cmd.Args, " "))
		if out, err := cmd.CombinedOutput(); err != nil {
			errs[name] = fmt.Errorf("building %s: %v: %s", name, err, firstError(string(out)))
			progress("%s", out)
		} else if len(out) > 0 {
			progress("%s", out)
		}
	}
	return errs
}

// resolve turns argv[0] into a path, or returns why the program is missing.
func (w workload) resolve(dir string, built map[string]error) ([]string, error) {
	argv := slices.Clone(w.argv)
	if !strings.Contains(argv[0], "/") {
		if err := built[argv[0]]; err != nil {
			return nil, err
		}
		argv[0] = dir + "/" + argv[0]
	}
	return argv, nil
}

// golosSide builds golos into dir (go build, then the TLS move, as ./golos does), unless
// -golos names a command to use instead.
func golosSide(cfg config, dir string) side {
	s := side{name: sideNames[golos], prefix: cfg.golos, ppid: os.Getpid()}
	if len(s.prefix) > 0 {
		return s
	}
	bin := dir + "/golos"
	s.prefix = []string{bin, "run"}
	progress("building golos: go run ./cmd/golos-build -o %s", bin)
	if out, err := exec.Command("go", "run", "./cmd/golos-build", "-o", bin).CombinedOutput(); err != nil {
		s.err = fmt.Errorf("building golos: %v: %s", err, firstError(string(out)))
		progress("%s", out)
		return s
	}
	s.version = strings.TrimSpace(commandOutput(bin, "--version"))
	return s
}

// gvisorSide makes sure runsc is installed (the Debian package, with apt-get) and runs
// once here. A program run by `runsc do` is the sandbox's first process, so its parent
// pid is 0.
func gvisorSide(cfg config) side {
	s := side{name: sideNames[gvisor], ppid: 0,
		prefix: []string{"runsc", "--rootless", "--network=none", "--platform=" + cfg.platform, "do"}}
	if !cfg.gvisor {
		s.skip = true
		return s
	}
	if _, err := exec.LookPath("runsc"); err != nil {
		progress("runsc not found: installing the Debian package runsc with apt-get")
		if err := aptInstall("runsc"); err != nil {
			s.err = fmt.Errorf("installing runsc: %w", err)
			progress("%v", s.err)
			return s
		}
	}
	s.version = strings.TrimSpace(strings.SplitN(commandOutput("runsc", "--version"), "\n", 2)[0])
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	if _, err := execute(s.command(ctx, []string{"/bin/true"})); err != nil {
		s.err = fmt.Errorf("%s /bin/true: %w", strings.Join(s.prefix, " "), err)
		progress("gVisor does not work here: %v", s.err)
	}
	return s
}

func aptInstall(pkg string) error {
	for _, args := range [][]string{{"update"}, {"install", "-y", pkg}} {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get %s: %v: %s", strings.Join(args, " "), err, lastLine(string(out)))
		}
	}
	return nil
}

func commandOutput(name string, args ...string) string {
	out, _ := exec.Command(name, args...).Output()
	return string(out)
}

// A probe runs a workload once on one side and returns one sample.
type probe func(ctx context.Context, s side) (float64, error)

// measure runs p once untimed on every side (cold caches), then runs more times,
// interleaving the sides (native, golos, gVisor, native, …) so that drift in the
// machine's load hits all alike. A side that fails once is not run again: its result
// is the error, since a sometimes-broken run must not pass for a slow or fast one.
func measure(sides []side, runs int, p probe) []result {
	res := make([]result, len(sides))
	for i, s := range sides {
		res[i].skipped, res[i].err = s.skip, s.err
	}
	for round := -1; round < runs; round++ {
		for i, s := range sides {
			if res[i].err != nil || res[i].skipped {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
			v, err := p(ctx, s)
			if err != nil && ctx.Err() != nil {
				err = fmt.Errorf("timed out after %v: %w", runTimeout, err)
			}
			cancel()
			if err != nil {
				res[i].err = err
				progress("%s: %v", s.name, err)
			} else if round >= 0 {
				res[i].samples = append(res[i].samples, v)
			}
		}
	}
	return res
}

// probe runs the program once, in the directory cwd ("" for golos-bench's own). A
// self-timed program's sample is what it prints; any other's is the wall time around
// exec.Cmd.Run (fork, exec, the whole run, wait), and its output is checked so that a
// run that exits early cannot look fast.
func (w workload) probe(argv []string, cwd string) probe {
	return func(ctx context.Context, s side) (float64, error) {
		args := argv
		if w.ppid {
			args = append(slices.Clone(argv), strconv.Itoa(s.ppid))
		}
		cmd := s.command(ctx, args)
		cmd.Dir = cwd
		t0 := time.Now()
		out, err := execute(cmd)
		elapsed := time.Since(t0)
		switch {
		case err != nil:
			return 0, err
		case w.self:
			return parseResult(out, w.unit)
		case !w.anyOutput && out != w.want:
			return 0, fmt.Errorf("output %q, want %q", shorten(out, 60), w.want)
		}
		return float64(elapsed) / float64(time.Millisecond), nil
	}
}

// execute runs cmd and returns its stdout. A failure carries the exit status and the
// last three lines of stderr, which is where golos and the workloads say what went
// wrong (a program's last line is often only "exiting now"; golos's note on a syscall
// it does not implement comes before).
func execute(cmd *exec.Cmd) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if msg := strings.Join(lines[max(len(lines)-3, 0):], " | "); msg != "" {
			return "", fmt.Errorf("%v: %s", err, msg)
		}
		return "", err
	}
	return stdout.String(), nil
}

// parseResult accepts exactly one line "ns_per_call=<v>" (unit ns) or "ms=<v>" (unit
// ms) with a positive, finite value.
func parseResult(out, unit string) (float64, error) {
	key := "ms="
	if unit == "ns" {
		key = "ns_per_call="
	}
	line, ok := strings.CutSuffix(out, "\n")
	val, ok2 := strings.CutPrefix(line, key)
	if !ok || !ok2 || strings.Contains(line, "\n") {
		return 0, fmt.Errorf("unparsable output %q", shorten(out, 60))
	}
	v, err := strconv.ParseFloat(val, 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) { // !(v > 0) also rejects NaN
		return 0, fmt.Errorf("unparsable output %q", shorten(out, 60))
	}
	return v, nil
}

// firstError picks a build's first "error:" line, which names the cause; the last line
// is often a trailing note.
func firstError(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "error:") {
			return strings.TrimSpace(l)
		}
	}
	return lastLine(out)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndexByte(s, '\n')+1:]
}

func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
