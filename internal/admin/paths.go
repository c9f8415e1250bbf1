// Package admin is the worker's admin port: /healthz (the process is
// alive), /readyz (config loaded, connected to Temporal, polling) and
// /metrics (Prometheus). The Kubernetes manifests' probes and scrape
// annotations use these names; a test keeps them in step.
package admin

const (
	// EnvListen sets the admin port's address (admin.listen in the config).
	EnvListen = "LINKWRIGHT_ADMIN_LISTEN"
	// DefaultListen is the admin port when neither the config nor the
	// environment sets one: loopback only, so that a laptop's worker does
	// not serve its metrics to the network. Containers set ":9090".
	DefaultListen = "127.0.0.1:9090"
	// Port is the admin port the container image and manifests use.
	Port = 9090

	HealthzPath = "/healthz"
	ReadyzPath  = "/readyz"
	MetricsPath = "/metrics"
)
