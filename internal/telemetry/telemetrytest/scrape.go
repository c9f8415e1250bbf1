// Package telemetrytest scrapes a metrics handler over HTTP, as Prometheus
// does, and reads the exposition, for tests.
package telemetrytest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families are the metric families of one scrape, by exposed name.
type Families map[string]*dto.MetricFamily

// Scrape serves h on a test HTTP server and scrapes it once, in the text
// format.
func Scrape(t testing.TB, h http.Handler) Families {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s %v: %s", resp.Status, err, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("scrape: the exposition does not parse: %v\n%s", err, body)
	}
	return fams
}

// Type is the family's type, or "" when there is no such family.
func (f Families) Type(name string) string {
	if m, ok := f[name]; ok {
		return m.GetType().String()
	}
	return ""
}

// Series are the family's series whose labels include every label given.
func (f Families) Series(name string, labels map[string]string) []*dto.Metric {
	var out []*dto.Metric
	for _, m := range f[name].GetMetric() {
		if matches(m, labels) {
			out = append(out, m)
		}
	}
	return out
}

// Sum adds up the matching series' values: a counter's or gauge's value,
// a histogram's count. ok is false when no series matches.
func (f Families) Sum(name string, labels map[string]string) (sum float64, ok bool) {
	for _, m := range f.Series(name, labels) {
		ok = true
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		case m.Untyped != nil:
			sum += m.GetUntyped().GetValue()
		}
	}
	return sum, ok
}

// Labels lists the label names of the family's first series, sorted.
func (f Families) Labels(name string) []string {
	ms := f[name].GetMetric()
	if len(ms) == 0 {
		return nil
	}
	var out []string
	for _, l := range ms[0].GetLabel() {
		out = append(out, l.GetName())
	}
	sort.Strings(out)
	return out
}

// Names lists the exposed names with a prefix, sorted: for failure messages.
func (f Families) Names(prefix string) []string {
	var out []string
	for n := range f {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// String describes the matching series, for failure messages.
func (f Families) String(name string) string {
	var b strings.Builder
	for _, m := range f[name].GetMetric() {
		fmt.Fprintf(&b, "%s%v ", name, labelMap(m))
	}
	return b.String()
}

func matches(m *dto.Metric, labels map[string]string) bool {
	have := labelMap(m)
	for k, v := range labels {
		if have[k] != v {
			return false
		}
	}
	return true
}

func labelMap(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}
