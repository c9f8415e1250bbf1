package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/linkwright/linkwright/internal/app"
	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/cloud/sim"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/logging"
)

// workerEnv marks the benchmark's own worker process: the benchmark binary
// (or its test binary) started again by the benchmark, which runs the
// worker instead of the benchmark.
const workerEnv = "LINKWRIGHT_BENCH_WORKER_CONFIG"

// workerConfig is what the benchmark tells its worker process.
type workerConfig struct {
	// Address and Namespace are the Temporal server's.
	Address   string `json:"address"`
	Namespace string `json:"namespace"`
	// Config is the Linkwright worker configuration (LINKWRIGHT_CONFIG's
	// format), read with config.Parse over config.Default().
	Config json.RawMessage `json:"config"`
	// ShardRoot holds the links' simulated clouds (see shards).
	ShardRoot string `json:"shardRoot"`
	// Throttle puts the simulated cloud behind its token buckets (sim.NewThrottle).
	Throttle bool `json:"throttle"`
	// Settle is the simulated cloud's pending -> available delay.
	Settle time.Duration `json:"settle"`
	// AddrFile receives the figures endpoint's address once it listens.
	AddrFile string `json:"addrFile"`
}

// workerFigures is what the worker process serves on /figures.
type workerFigures struct {
	PID        int                  `json:"pid"`
	Goroutines int                  `json:"goroutines"`
	Calls      map[string]callCount `json:"calls"`
	// SimThrottled counts the simulated cloud's throttling answers
	// (sim.Throttle); Absorbed and Surfaced the provider-side retry's
	// (cloud.ThrottleStats): retried past, and handed on to the activity.
	SimThrottled int64 `json:"simThrottled"`
	Absorbed     int64 `json:"absorbed"`
	Surfaced     int64 `json:"surfaced"`
	Throttle     bool  `json:"throttle"`
}

// workerMain is `bench worker --config FILE`: the real worker, exactly as
// worker/main.go builds it (app.NewWorker), on the links' simulated
// clouds behind the recorder, with the no-op workflows and activities
// registered beside Linkwright's.
func workerMain(args []string) int {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	path := fs.String("config", os.Getenv(workerEnv), "the worker's benchmark config (JSON)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := runWorker(*path); err != nil {
		fmt.Fprintln(os.Stderr, "bench worker:", err)
		return 1
	}
	return 0
}

func runWorker(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var wc workerConfig
	if err := json.Unmarshal(data, &wc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	// The policy is this process's config, never re-read from a file.
	os.Unsetenv("LINKWRIGHT_CONFIG")
	cfg := config.Default()
	if err := config.Parse(wc.Config, &cfg); err != nil {
		return err
	}
	lc := zap.NewProductionConfig()
	lc.Level = zap.NewAtomicLevelAt(zapcore.WarnLevel)
	lc.Encoding = "console"
	lc.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	log, err := lc.Build()
	if err != nil {
		return err
	}
	defer log.Sync()

	c, err := client.Dial(client.Options{HostPort: wc.Address, Namespace: wc.Namespace, Logger: logging.Temporal(log)})
	if err != nil {
		return err
	}
	defer c.Close()

	links := newShards(wc.ShardRoot, wc.Settle)
	defer links.Close()
	ectx, stopEvicting := context.WithCancel(context.Background())
	defer stopEvicting()
	go links.evictEvery(ectx, 15*time.Second, time.Minute)
	var inner cloud.Provider = links
	var throttle *sim.Throttle
	if wc.Throttle {
		throttle = sim.NewThrottle(links)
		inner = throttle
	}
	rec := newRecorder()
	w, stop, err := app.NewWorker(c, cfg, log, app.WithProvider(rec.wrap(inner)), app.WithProber(links))
	if err != nil {
		return err
	}
	defer stop()
	registerNoop(w)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/figures", func(rw http.ResponseWriter, _ *http.Request) {
		f := workerFigures{PID: os.Getpid(), Goroutines: runtime.NumGoroutine(), Calls: rec.snapshotCalls(), Throttle: wc.Throttle}
		if throttle != nil {
			f.SimThrottled = throttle.Throttled()
		}
		f.Absorbed, f.Surfaced = cloud.ThrottleStats()
		writeJSON(rw, f)
	})
	mux.HandleFunc("/scripts", func(rw http.ResponseWriter, r *http.Request) {
		var in map[string]*Script
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		for key, s := range in {
			storeScript(key, s)
		}
		writeJSON(rw, len(in))
	})
	mux.HandleFunc("/records", func(rw http.ResponseWriter, r *http.Request) {
		var projects []string
		if r.Body != nil {
			_ = json.NewDecoder(r.Body).Decode(&projects)
		}
		writeJSON(rw, rec.recordsOf(projects))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	if err := w.Start(); err != nil {
		return err
	}
	// The address is written once the worker polls: the benchmark starts
	// its load only then.
	if err := os.WriteFile(wc.AddrFile+".tmp", []byte(ln.Addr().String()), 0o644); err != nil {
		return err
	}
	if err := os.Rename(wc.AddrFile+".tmp", wc.AddrFile); err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	w.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func writeJSON(rw http.ResponseWriter, v any) {
	rw.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rw).Encode(v)
}
