package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// Check is one readiness condition: nil when it holds, else why not.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

// Server answers the admin port's paths. Liveness says only that the
// process serves HTTP; readiness runs every check (at most once per
// CacheFor, so that probes from several sources cost the Temporal server
// one call per period).
type Server struct {
	// Checks are the readiness conditions, run in order (SetChecks
	// changes them while the server runs).
	Checks []Check
	// Metrics serves /metrics; nil leaves the path unanswered (404).
	Metrics http.Handler
	// CacheFor is how long a readiness answer is reused (0: 5 s).
	CacheFor time.Duration
	// Timeout bounds one round of checks (0: 5 s).
	Timeout time.Duration

	mu      sync.Mutex
	at      time.Time
	last    report
	stopped bool
}

type report struct {
	Ready  bool              `json:"ready"`
	Checks map[string]string `json:"checks"`
}

// SetChecks replaces the readiness checks (a worker starts with one that
// fails, and sets the real ones once it runs); the next probe runs them.
func (s *Server) SetChecks(checks []Check) {
	s.mu.Lock()
	s.Checks, s.at = checks, time.Time{}
	s.mu.Unlock()
}

// Stopping makes readiness fail from now on: a stopping worker takes no
// new traffic while it finishes what it runs.
func (s *Server) Stopping() {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
}

// Handler serves /healthz, /readyz and /metrics.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+HealthzPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET "+ReadyzPath, func(w http.ResponseWriter, r *http.Request) {
		rep := s.ready(r.Context())
		w.Header().Set("Content-Type", "application/json")
		if !rep.Ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(rep)
	})
	if s.Metrics != nil {
		mux.Handle("GET "+MetricsPath, s.Metrics)
	}
	return mux
}

func (s *Server) ready(ctx context.Context) report {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return report{Checks: map[string]string{"worker": "stopping"}}
	}
	cache := s.CacheFor
	if cache == 0 {
		cache = 5 * time.Second
	}
	if !s.at.IsZero() && time.Since(s.at) < cache {
		return s.last
	}
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rep := report{Ready: true, Checks: map[string]string{}}
	for _, c := range s.Checks {
		if err := c.Run(ctx); err != nil {
			rep.Ready = false
			rep.Checks[c.Name] = err.Error()
			continue
		}
		rep.Checks[c.Name] = "ok"
	}
	s.at, s.last = time.Now(), rep
	return rep
}
