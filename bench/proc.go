package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/linkwright/linkwright/internal/devtest"
	"github.com/linkwright/linkwright/workflows"
)

// clockTicks is Linux's USER_HZ, the unit of /proc/<pid>/stat's times.
const clockTicks = 100

// procCPU is a process's CPU time so far, user and system
// (/proc/<pid>/stat utime + stime).
func procCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	// After "pid (comm) ": state is field 3, utime 14, stime 15.
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// procRSS is a process's resident set size in bytes (/proc/<pid>/status VmRSS).
func procRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmRSS", pid)
}

// freePort is a loopback TCP port free right now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// devServer is the Temporal dev server, started as a process of our own
// so that its PID (and CPU) is known.
type devServer struct {
	cmd     *exec.Cmd
	address string
	done    chan struct{}
}

// startDevServer starts `temporal server start-dev` on free loopback
// ports, headless, with Linkwright's search attributes and dev server
// flags (devtest.ServerFlags), and waits until it answers.
func startDevServer(path, logPath string) (*devServer, error) {
	var ports [4]int
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	args := []string{"server", "start-dev", "--headless", "--ip", "127.0.0.1",
		"--port", strconv.Itoa(ports[0]), "--ui-port", strconv.Itoa(ports[1]),
		"--http-port", strconv.Itoa(ports[2]), "--metrics-port", strconv.Itoa(ports[3]),
		"--log-level", "error"}
	// As make run and the tests start it: one partition per task queue.
	args = append(args, devtest.ServerFlags...)
	for _, sa := range workflows.SearchAttributes {
		args = append(args, "--search-attribute", sa.GetName()+"=Keyword")
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("cannot start the Temporal dev server %s: %w", path, err)
	}
	s := &devServer{cmd: cmd, address: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])), done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(s.done) }()
	deadline := time.Now().Add(90 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := client.DialContext(ctx, client.Options{HostPort: s.address, Logger: quiet{}})
		if err == nil {
			_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
			c.Close()
		}
		cancel()
		if err == nil {
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("the Temporal dev server exited at start (see %s)", logPath)
		default:
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("the Temporal dev server did not answer in 90s: %v (see %s)", err, logPath)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (s *devServer) pid() int { return s.cmd.Process.Pid }

// stop stops the server: SIGTERM, then SIGKILL after 15s.
func (s *devServer) stop() {
	stopProcess(s.cmd, s.done, 15*time.Second)
}

func stopProcess(cmd *exec.Cmd, done chan struct{}, grace time.Duration) {
	select {
	case <-done:
		return
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-done
	}
}

// workerProc is the worker, a process of its own.
type workerProc struct {
	cmd  *exec.Cmd
	addr string
	mode string
	done chan struct{}
	log  string
}

// startWorkerProc starts this binary again as the worker (`bench worker
// --config FILE`; the test binary finds the config in workerEnv) and
// waits until it polls.
func startWorkerProc(dir string, n int, wc workerConfig, mode string) (*workerProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	wc.AddrFile = filepath.Join(dir, fmt.Sprintf("worker-%d.addr", n))
	cfgPath := filepath.Join(dir, fmt.Sprintf("worker-%d.json", n))
	data, err := json.MarshalIndent(wc, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(cfgPath, data, 0o644); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, fmt.Sprintf("worker-%d.log", n))
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "worker", "--config", cfgPath)
	cmd.Env = append(os.Environ(), workerEnv+"="+cfgPath, "LINKWRIGHT_CONFIG=")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	w := &workerProc{cmd: cmd, mode: mode, done: make(chan struct{}), log: logPath}
	go func() { _ = cmd.Wait(); logf.Close(); close(w.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if data, err := os.ReadFile(wc.AddrFile); err == nil {
			w.addr = string(data)
			return w, nil
		}
		select {
		case <-w.done:
			return nil, fmt.Errorf("the worker exited at start: %s", tail(logPath))
		default:
		}
		if time.Now().After(deadline) {
			w.stop()
			return nil, fmt.Errorf("the worker did not start in 60s: %s", tail(logPath))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (w *workerProc) pid() int { return w.cmd.Process.Pid }

// stop stops the worker as SIGTERM does in production: running activities finish.
func (w *workerProc) stop() { stopProcess(w.cmd, w.done, 30*time.Second) }

func (w *workerProc) alive() bool {
	select {
	case <-w.done:
		return false
	default:
		return true
	}
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// figures reads the worker's own figures.
func (w *workerProc) figures() (workerFigures, error) {
	var f workerFigures
	resp, err := httpClient.Get("http://" + w.addr + "/figures")
	if err != nil {
		return f, err
	}
	defer resp.Body.Close()
	return f, json.NewDecoder(resp.Body).Decode(&f)
}

// records reads the worker's records of the links named.
func (w *workerProc) records(projects []string) (map[string]linkRecord, error) {
	body, err := json.Marshal(projects)
	if err != nil {
		return nil, err
	}
	resp, err := httpClient.Post("http://"+w.addr+"/records", "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]linkRecord{}
	return out, json.NewDecoder(resp.Body).Decode(&out)
}

// postScripts gives the worker the no-op scripts, by key.
func (w *workerProc) postScripts(scripts map[string]*Script) error {
	body, err := json.Marshal(scripts)
	if err != nil {
		return err
	}
	resp, err := httpClient.Post("http://"+w.addr+"/scripts", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the worker refused the scripts: %s", resp.Status)
	}
	return nil
}

// tail is the end of a log file, for an error message.
func tail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	s := strings.TrimSpace(string(data))
	if len(s) > 2000 {
		s = "..." + s[len(s)-2000:]
	}
	if s == "" {
		return "(no output; log " + path + ")"
	}
	return s
}

// quiet is an SDK logger that logs nothing.
type quiet struct{}

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (quiet) Warn(string, ...any)  {}
func (quiet) Error(string, ...any) {}
