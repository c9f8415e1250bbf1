// Command linkwright-bench measures Linkwright on a real Temporal dev
// server and the real worker, in a process of its own, on the simulated
// cloud: throughput and CPU against a no-op workflow of the same shape,
// approval latency, the worker at a fleet of 1,000 to 10,000 waiting
// enablements and as many live links, throttling at 1,000 simultaneous
// approvals, and cloud calls per enablement for long waits. `make bench`
// runs it at full size; -quick runs it small, as its smoke test does.
//
//	go run ./bench [-levels 1000,5000,10000] [-rounds 4] [-n 50] [-approvals 200] [-quick] [-out figures.json]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		os.Exit(workerMain(os.Args[2:]))
	}
	if os.Getenv(workerEnv) != "" {
		os.Exit(workerMain(nil))
	}
	os.Exit(benchMain(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the benchmark's sizes and switches.
type options struct {
	Levels       []int         `json:"levels"`
	Rounds       int           `json:"rounds"`
	N            int           `json:"n"`
	Approvals    int           `json:"approvals"`
	Background   int           `json:"background"`
	Simultaneous int           `json:"simultaneous"`
	Samples      int           `json:"samples"`
	LevelTimeout time.Duration `json:"levelTimeout"`
	Concurrency  int           `json:"concurrency"`
	SetupBudget  float64       `json:"setupBudget"`
	Quick        bool          `json:"quick"`
	Sections     []int         `json:"sections"`
	Out          string        `json:"-"`
	Temporal     string        `json:"-"`
	Keep         bool          `json:"-"`
}

func benchMain(args []string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "linkwright-bench:", err)
		return 2
	}
	b, err := newBench(o, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "linkwright-bench:", err)
		return 1
	}
	err = b.run()
	b.close()
	if err != nil {
		fmt.Fprintln(stderr, "linkwright-bench:", err)
		return 1
	}
	return 0
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("linkwright-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	levels := fs.String("levels", "1000,5000,10000", "fleet sizes K (section 3), cumulative: K waiting enablements and K live links at each")
	rounds := fs.Int("rounds", 4, "interleaved rounds of real enablements and no-ops (section 1)")
	n := fs.Int("n", 50, "workflows per round (section 1)")
	approvals := fs.Int("approvals", 200, "approvals timed, one at a time (section 2)")
	background := fs.Int("background", 1000, "enablements waiting on customers in the background of section 2 (they stay as part of section 3's fleet)")
	simultaneous := fs.Int("simultaneous", 1000, "approvals sent at once (section 4)")
	samples := fs.Int("samples", 50, "latency samples of each kind per fleet level (section 3)")
	levelTimeout := fs.Duration("level-timeout", 20*time.Minute, "longest setup of one fleet level; what was reached is printed when it runs out")
	concurrency := fs.Int("concurrency", 16, "workflows started (and links set up) at once during setup")
	setupBudget := fs.Float64("setup-budget", 500, "activities per second of every task queue while setting up (the measurements use the shipped defaults)")
	quick := fs.Bool("quick", false, "tiny sizes, for a smoke test (levels 10, n 3, approvals 10, ...); explicit flags still apply")
	sections := fs.String("sections", "1,2,3,4,5", "sections to run")
	out := fs.String("out", "", "also write the figures to this file as JSON")
	temporal := fs.String("temporal", os.Getenv("LINKWRIGHT_TEMPORAL"), "the Temporal CLI (make bin/temporal); default $LINKWRIGHT_TEMPORAL, else bin/temporal")
	keep := fs.Bool("keep", false, "keep the state directory (logs, simulated clouds, tickets)")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *quick {
		for name, v := range map[string]string{"levels": "10", "rounds": "2", "n": "3", "approvals": "10", "background": "10",
			"simultaneous": "10", "samples": "5", "level-timeout": "3m", "concurrency": "8"} {
			if !set[name] {
				if err := fs.Set(name, v); err != nil {
					return options{}, err
				}
			}
		}
	}
	o := options{Rounds: *rounds, N: *n, Approvals: *approvals, Background: *background, Simultaneous: *simultaneous,
		Samples: *samples, LevelTimeout: *levelTimeout, Concurrency: *concurrency, SetupBudget: *setupBudget,
		Quick: *quick, Out: *out, Temporal: *temporal, Keep: *keep}
	var err error
	if o.Levels, err = intList("levels", *levels); err != nil {
		return o, err
	}
	if o.Sections, err = intList("sections", *sections); err != nil {
		return o, err
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"rounds", o.Rounds}, {"n", o.N}, {"approvals", o.Approvals}, {"background", o.Background},
		{"simultaneous", o.Simultaneous}, {"samples", o.Samples}, {"concurrency", o.Concurrency}} {
		if v.n < 1 {
			return o, fmt.Errorf("-%s must be at least 1", v.name)
		}
	}
	if o.Temporal == "" {
		if root, err := moduleRoot(); err == nil {
			o.Temporal = filepath.Join(root, "bin", "temporal")
		}
	}
	return o, nil
}

func intList(name, s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("-%s: %q is not a positive number", name, f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-%s: give at least one number", name)
	}
	return out, nil
}

// moduleRoot is the directory of the go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
