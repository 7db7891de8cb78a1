package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ModuleRoot is the directory of the ringback module's go.mod, wherever the
// command was started from inside the module.
func ModuleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("harness: go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("harness: not inside the ringback module: run from its directory (go run ./cmd/…)")
	}
	return filepath.Dir(gomod), nil
}

// Build builds the module's main package (the ringback binary) into dir.
func Build(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "ringback")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("harness: go build ringback: %w\n%s", err, out.Bytes())
	}
	return bin, nil
}

// ServerEnv is the environment of a child: settings ("KEY=value") and a
// minimal inherited environment, so that the operator's own DATABASE_URL,
// Slack or Twilio settings cannot leak into a run.
func ServerEnv(settings ...string) []string {
	env := append([]string(nil), settings...)
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "TZ", "GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GODEBUG", "RINGBACK_CPU_PROFILE", "RINGBACK_ALLOC_PROFILE"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// Server is one `ringback serve` child process.
type Server struct {
	Cmd     *exec.Cmd
	BaseURL string // http://127.0.0.1:<port>
	Log     *TailBuffer
	exited  chan struct{}
	waitErr error
}

// Start runs bin serve with env in dir and waits up to healthy for
// BaseURL/readyz to answer 200 (the store reachable and migrated).
func Start(ctx context.Context, bin, dir string, env []string, baseURL string, logTo io.Writer, healthy time.Duration) (*Server, error) {
	s := &Server{BaseURL: baseURL, Log: &TailBuffer{Max: 64 << 10}, exited: make(chan struct{})}
	s.Cmd = exec.Command(bin, "serve")
	s.Cmd.Dir = dir
	s.Cmd.Env = env
	var out io.Writer = s.Log
	if logTo != nil {
		out = io.MultiWriter(s.Log, logTo)
	}
	s.Cmd.Stdout, s.Cmd.Stderr = out, out
	if err := s.Cmd.Start(); err != nil {
		return nil, fmt.Errorf("harness: start ringback serve: %w", err)
	}
	go func() {
		s.waitErr = s.Cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitHealthy(ctx, healthy); err != nil {
		_ = s.Kill()
		return nil, fmt.Errorf("%w\nserver log:\n%s", err, LastLines(s.Log.String(), 30))
	}
	return s, nil
}

func (s *Server) waitHealthy(ctx context.Context, timeout time.Duration) error {
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	probe := "/readyz"
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("harness: ringback serve exited before it was healthy: %v", s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("harness: waiting for /readyz: %w", ctx.Err())
		default:
		}
		res, err := hc.Get(s.BaseURL + probe)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			if res.StatusCode == http.StatusNotFound {
				probe = "/healthz" // a build older than /readyz (-bin)
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("harness: ringback serve: /readyz not 200 within %s", timeout)
}

// Exited is closed once the process has ended.
func (s *Server) Exited() <-chan struct{} { return s.exited }

// Stop asks the server to drain (SIGTERM) and kills it if it has not
// stopped within 30 s. It reports how the process ended.
func (s *Server) Stop() error {
	select {
	case <-s.exited:
		return s.waitErr
	default:
	}
	_ = s.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return s.waitErr
	case <-time.After(30 * time.Second):
		_ = s.Cmd.Process.Kill()
		<-s.exited
		return errors.New("harness: ringback serve did not stop within 30s of SIGTERM; killed")
	}
}

// Kill ends the process at once (SIGKILL: no draining, as a crash or the
// OOM killer would) and waits for it to be gone.
func (s *Server) Kill() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	if err := s.Cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("harness: kill ringback serve: %w", err)
	}
	<-s.exited
	return nil
}

// CPUTime is the CPU time (user + system) the server has used so far; ok is
// false where /proc is not available.
func (s *Server) CPUTime() (time.Duration, bool) { return ProcessCPU(s.Cmd.Process.Pid) }

// ProcessCPU is the CPU time (user + system) process pid has used so far,
// read from /proc; ok is false where that is not available.
func ProcessCPU(pid int) (time.Duration, bool) { return procCPU(pid, false) }

// procCPU is ProcessCPU, plus, with reaped, the time of the children pid
// has waited for.
func procCPU(pid int, reaped bool) (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name (field 2) may hold spaces; fields after ")" are fixed.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime, stime, cutime and cstime are fields
	// 14 to 17.
	if len(f) < 15 {
		return 0, false
	}
	last := 12
	if reaped {
		last = 14
	}
	var ticks int64
	for _, s := range f[11 : last+1] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, false
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / ticksPerSecond, true
}

// ticksPerSecond is USER_HZ, /proc's unit of CPU time, on every Linux port
// Go supports.
const ticksPerSecond = 100

// MachineCPU is how long this machine's CPUs have been busy since it
// booted, summed over them (/proc/stat: user, nice, system, irq, softirq
// and steal time), and how many CPUs it has: beside the processes' own
// times, whether a run had the machine to itself.
func MachineCPU() (busy time.Duration, cpus int, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		switch {
		case len(f) > 8 && f[0] == "cpu":
			var ticks int64
			for _, i := range []int{1, 2, 3, 6, 7, 8} { // not idle (4), iowait (5)
				n, err := strconv.ParseInt(f[i], 10, 64)
				if err != nil {
					return 0, 0, false
				}
				ticks += n
			}
			busy, ok = time.Duration(ticks)*time.Second/ticksPerSecond, true
		case len(f) > 0 && strings.HasPrefix(f[0], "cpu"):
			cpus++
		}
	}
	return busy, cpus, ok && cpus > 0
}

// FreeAddr is a free TCP address on 127.0.0.1.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("harness: find a free port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("harness: find a free port: %w", err)
	}
	return addr, nil
}

// TailBuffer keeps the last Max bytes written to it.
type TailBuffer struct {
	Max int
	mu  sync.Mutex
	buf []byte
}

func (t *TailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.Max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *TailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// LastLines is the last n lines of s.
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
