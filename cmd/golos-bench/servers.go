package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A server row runs a server on one side (natively or under golos) and its benchmark
// client natively, against 127.0.0.1 only, and takes the client's throughput as the
// sample, as time per request (µs) so that lower is better here as in every other row:
// a target of ≥ 0.95× native throughput is ≤ 1/0.95 native time per request.
type server struct {
	// tools are the programs the row needs, with the Debian packages that have them;
	// a missing one skips the row with a note rather than failing it.
	tools []tool
	// argv is the server's command line for a port and a work directory (its own,
	// made empty for each run); setup may write files into it first.
	argv  func(port int, dir string) []string
	setup func(port int, dir string) error
	// clients are the native benchmark commands, run one after another once the server
	// accepts connections; parse reads one's output into the requests it made and the
	// seconds they took.
	clients func(port int) [][]string
	parse   func(out string) (requests, seconds float64, err error)
}

type tool struct{ name, pkg string }

// missingTools names the tools of the row that are not installed, as a note.
func (sv *server) missingTools() string {
	var miss, pkgs []string
	for _, t := range sv.tools {
		if _, err := exec.LookPath(t.name); err != nil {
			miss = append(miss, t.name)
			if !slices.Contains(pkgs, t.pkg) {
				pkgs = append(pkgs, t.pkg)
			}
		}
	}
	if len(miss) == 0 {
		return ""
	}
	return fmt.Sprintf("%s not installed (Debian: apt-get install %s)", strings.Join(miss, ", "), strings.Join(pkgs, " "))
}

// serverStartTimeout bounds the wait for a server to accept connections, and
// serverStopTimeout its orderly exit after SIGTERM, before SIGKILL.
const (
	serverStartTimeout = 15 * time.Second
	serverStopTimeout  = 5 * time.Second
)

// probe starts the server on side s, runs the clients natively and stops the server;
// the sample is µs per request over all the clients' requests.
func (sv *server) probe(ctx context.Context, s side) (float64, error) {
	port, err := freePort()
	if err != nil {
		return 0, err
	}
	dir, err := os.MkdirTemp("", "golos-bench-server-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	if sv.setup != nil {
		if err := sv.setup(port, dir); err != nil {
			return 0, fmt.Errorf("setting up the server: %w", err)
		}
	}
	argv := append(slices.Clone(s.prefix), sv.argv(port, dir)...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	var serr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &serr, &serr
	// Its own process group, so that stopping it reaches every process it started
	// (nginx's worker) and nothing else.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("starting the server: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case err := <-exited:
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // any process of its left behind
			return err
		case <-time.After(serverStopTimeout):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
			return fmt.Errorf("the server did not exit within %v of SIGTERM", serverStopTimeout)
		}
	}
	defer stop()
	serverFailed := func(what string, err error) error {
		stop()
		return fmt.Errorf("%s: %v; server output: %s", what, err, shorten(lastLines(serr.String(), 3), 300))
	}
	if err := waitListening(ctx, port, exited); err != nil {
		return 0, serverFailed("the server did not start", err)
	}
	var reqs, secs float64
	for _, c := range sv.clients(port) {
		client := exec.CommandContext(ctx, c[0], c[1:]...)
		client.WaitDelay = time.Second
		out, err := client.CombinedOutput()
		if err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("%w (%v)", err, ctx.Err())
			}
			return 0, serverFailed(filepath.Base(c[0]), fmt.Errorf("%v: %s", err, shorten(lastLines(string(out), 2), 200)))
		}
		n, t, err := sv.parse(string(out))
		if err != nil {
			return 0, serverFailed("the client's result", err)
		}
		reqs, secs = reqs+n, secs+t
	}
	if err := stop(); err != nil && !isTermination(err) {
		return 0, fmt.Errorf("stopping the server: %v; server output: %s", err, shorten(lastLines(serr.String(), 3), 300))
	}
	return secs / reqs * 1e6, nil
}

// isTermination reports whether a server's exit error is the SIGTERM it was sent, or an
// exit status a server gives when stopped that way (redis: 0; memcached: 0; nginx: 0).
func isTermination(err error) bool {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
			return true
		}
	}
	return false
}

// freePort asks the host for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitListening waits until something accepts TCP connections on 127.0.0.1:port, the
// server exits, or serverStartTimeout passes.
func waitListening(ctx context.Context, port int, exited chan error) error {
	deadline := time.Now().Add(serverStartTimeout)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-exited:
			exited <- err // for stop
			return fmt.Errorf("it exited: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s after %v", addr, serverStartTimeout)
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], " | ")
}

// The server rows' sizes: bounded request counts, a few seconds a run.
const (
	redisRequests = 20000 // per test (set, get)
	abRequests    = 5000
	abConcurrency = 8
	memcslapRuns  = 2000 // per thread, per test
	memcslapConc  = 8
)

var redisServer = &server{
	tools: []tool{{"redis-server", "redis-server"}, {"redis-benchmark", "redis-tools"}},
	argv: func(port int, dir string) []string {
		return []string{lookPath("redis-server"), "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", dir, "--logfile", ""}
	},
	clients: func(port int) [][]string {
		return [][]string{{lookPath("redis-benchmark"), "-h", "127.0.0.1", "-p", strconv.Itoa(port),
			"-n", strconv.Itoa(redisRequests), "-q", "-t", "set,get"}}
	},
	parse: parseRedisBenchmark(redisRequests),
}

// redisLine is one of redis-benchmark -q's results: "SET: 15267.18 requests per second,
// p50=1.191 msec" (its progress lines, ended by \r, say "rps=").
var redisLine = regexp.MustCompile(`(?m)^\s*([A-Z_]+): ([0-9.]+) requests per second`)

// parseRedisBenchmark reads redis-benchmark -q -t set,get: each test made n requests at
// the rate it reports.
func parseRedisBenchmark(n float64) func(string) (float64, float64, error) {
	return func(out string) (float64, float64, error) { return redisResult(out, n) }
}

func redisResult(out string, n float64) (float64, float64, error) {
	out = strings.ReplaceAll(out, "\r", "\n")
	var reqs, secs float64
	tests := 0
	for _, m := range redisLine.FindAllStringSubmatch(out, -1) {
		rps, err := strconv.ParseFloat(m[2], 64)
		if err != nil || !(rps > 0) {
			return 0, 0, fmt.Errorf("redis-benchmark: bad rate in %q", m[0])
		}
		reqs += n
		secs += n / rps
		tests++
	}
	if tests != 2 {
		return 0, 0, fmt.Errorf("redis-benchmark: %d results, want 2 (SET, GET): %q", tests, shorten(out, 120))
	}
	return reqs, secs, nil
}

var nginxServer = &server{
	tools: []tool{{"nginx", "nginx"}, {"ab", "apache2-utils"}},
	setup: func(port int, dir string) error {
		// Run as root, nginx's worker runs as nobody, who must reach the page.
		if err := os.Chmod(dir, 0o755); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, "www"), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "www", "index.html"), []byte(nginxPage), 0o644); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(nginxConf(port, dir)), 0o644)
	},
	argv: func(port int, dir string) []string {
		return []string{lookPath("nginx"), "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log")}
	},
	clients: func(port int) [][]string {
		return [][]string{{lookPath("ab"), "-q", "-n", strconv.Itoa(abRequests), "-c", strconv.Itoa(abConcurrency),
			fmt.Sprintf("http://127.0.0.1:%d/", port)}}
	},
	parse: parseAB(abRequests, len(nginxPage)),
}

const nginxPage = "hello from nginx under golos-bench\n"

// nginxConf is a foreground nginx with one worker process (a fork, under golos a second
// golos process) serving a static page on 127.0.0.1 only, everything in dir.
func nginxConf(port int, dir string) string {
	return fmt.Sprintf(`daemon off;
master_process on;
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path %[2]s/body;
	proxy_temp_path %[2]s/proxy;
	fastcgi_temp_path %[2]s/fastcgi;
	uwsgi_temp_path %[2]s/uwsgi;
	scgi_temp_path %[2]s/scgi;
	server { listen 127.0.0.1:%[1]d; root %[2]s/www; }
}
`, port, dir)
}

var (
	abComplete = regexp.MustCompile(`Complete requests:\s+(\d+)`)
	abFailed   = regexp.MustCompile(`Failed requests:\s+(\d+)`)
	abNon2xx   = regexp.MustCompile(`Non-2xx responses:\s+(\d+)`)
	abTime     = regexp.MustCompile(`Time taken for tests:\s+([0-9.]+) seconds`)
	abLength   = regexp.MustCompile(`Document Length:\s+(\d+) bytes`)
)

// parseAB reads ab's report: every one of n requests complete, none failed or answered
// otherwise than 200 with the page (size bytes), and the time they took.
func parseAB(n, size int) func(string) (float64, float64, error) {
	return func(out string) (float64, float64, error) { return abResult(out, n, size) }
}

func abResult(out string, n, size int) (float64, float64, error) {
	num := func(re *regexp.Regexp) (float64, bool) {
		m := re.FindStringSubmatch(out)
		if m == nil {
			return 0, false
		}
		v, err := strconv.ParseFloat(m[1], 64)
		return v, err == nil
	}
	done, ok1 := num(abComplete)
	failed, ok2 := num(abFailed)
	secs, ok3 := num(abTime)
	length, ok4 := num(abLength)
	non2xx, _ := num(abNon2xx)
	switch {
	case !ok1 || !ok2 || !ok3 || !ok4:
		return 0, 0, fmt.Errorf("ab: unparsable report %q", shorten(out, 120))
	case done != float64(n) || failed != 0 || non2xx != 0 || length != float64(size):
		return 0, 0, fmt.Errorf("ab: %v of %d requests complete, %v failed, %v not 2xx, document length %v (want %d)",
			done, n, failed, non2xx, length, size)
	case !(secs > 0):
		return 0, 0, fmt.Errorf("ab: took %v seconds", secs)
	}
	return done, secs, nil
}

var memcachedServer = &server{
	tools: []tool{{"memcached", "memcached"}, {"memcslap", "libmemcached-tools"}},
	argv: func(port int, dir string) []string {
		argv := []string{lookPath("memcached"), "-l", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "0", "-t", "2"}
		if os.Geteuid() == 0 {
			argv = append(argv, "-u", "root") // memcached refuses to run as root without -u
		}
		return argv
	},
	clients: func(port int) [][]string {
		c := func(test string) []string {
			return []string{lookPath("memcslap"), fmt.Sprintf("--servers=127.0.0.1:%d", port),
				"--concurrency=" + strconv.Itoa(memcslapConc), "--execute-number=" + strconv.Itoa(memcslapRuns), "--test=" + test}
		}
		return [][]string{c("set"), c("get")}
	},
	parse: parseMemcslap(memcslapRuns * memcslapConc),
}

// memcslapLine is memcslap's result: "Time to get 16000 keys by 8 threads: 0.303 seconds."
var memcslapLine = regexp.MustCompile(`Time to (set|get)\s+(\d+) keys by\s+(\d+) threads:\s+([0-9.]+) seconds`)

// parseMemcslap reads memcslap's result of n keys.
func parseMemcslap(n int) func(string) (float64, float64, error) {
	return func(out string) (float64, float64, error) { return memcslapResult(out, n) }
}

func memcslapResult(out string, n int) (float64, float64, error) {
	m := memcslapLine.FindStringSubmatch(out)
	if m == nil {
		return 0, 0, fmt.Errorf("memcslap: no result in %q", shorten(out, 120))
	}
	keys, _ := strconv.ParseFloat(m[2], 64)
	secs, _ := strconv.ParseFloat(m[4], 64)
	if keys != float64(n) || !(secs > 0) {
		return 0, 0, fmt.Errorf("memcslap: %s keys in %s seconds, want %d keys (a server that was not there gives 0)", m[2], m[4], n)
	}
	return keys, secs, nil
}
