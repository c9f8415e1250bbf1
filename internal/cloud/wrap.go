package cloud

import "context"

// Around runs one provider call: op is the Provider method's name
// ("AcceptConnections"), call makes the call and may be run more than once
// (a retry) or not at all (a refusal).
type Around func(ctx context.Context, ref EnvRef, op string, call func() error) error

// Wrap returns p with every call made through around: one place for what
// applies to every call (throttle budgets, retries, counting). The result
// implements BandwidthAccepter exactly when p does.
func Wrap(p Provider, around Around) Provider {
	w := &wrapped{p: p, around: around}
	if b, ok := p.(BandwidthAccepter); ok {
		return &wrappedBandwidth{wrapped: w, b: b}
	}
	return w
}

type wrapped struct {
	p      Provider
	around Around
}

type wrappedBandwidth struct {
	*wrapped
	b BandwidthAccepter
}

func (w *wrappedBandwidth) AcceptConnectionsWithBandwidth(ctx context.Context, ref EnvRef, ids []string, mbps int) error {
	return w.around(ctx, ref, "AcceptConnections", func() error { return w.b.AcceptConnectionsWithBandwidth(ctx, ref, ids, mbps) })
}

func (w *wrapped) Environment(ctx context.Context, ref EnvRef) (out Environment, err error) {
	err = w.around(ctx, ref, "Environment", func() (e error) { out, e = w.p.Environment(ctx, ref); return })
	return
}

func (w *wrapped) OpenPorts(ctx context.Context, ref EnvRef, ports []int) error {
	return w.around(ctx, ref, "OpenPorts", func() error { return w.p.OpenPorts(ctx, ref, ports) })
}

func (w *wrapped) ClosePorts(ctx context.Context, ref EnvRef, ports []int) error {
	return w.around(ctx, ref, "ClosePorts", func() error { return w.p.ClosePorts(ctx, ref, ports) })
}

func (w *wrapped) AllowAccount(ctx context.Context, ref EnvRef, account string) error {
	return w.around(ctx, ref, "AllowAccount", func() error { return w.p.AllowAccount(ctx, ref, account) })
}

func (w *wrapped) RevokeAccount(ctx context.Context, ref EnvRef, account string) error {
	return w.around(ctx, ref, "RevokeAccount", func() error { return w.p.RevokeAccount(ctx, ref, account) })
}

func (w *wrapped) ServiceState(ctx context.Context, ref EnvRef) (out ServiceState, err error) {
	err = w.around(ctx, ref, "ServiceState", func() (e error) { out, e = w.p.ServiceState(ctx, ref); return })
	return
}

func (w *wrapped) Connections(ctx context.Context, ref EnvRef, account string) (out []Connection, err error) {
	err = w.around(ctx, ref, "Connections", func() (e error) { out, e = w.p.Connections(ctx, ref, account); return })
	return
}

func (w *wrapped) AcceptConnections(ctx context.Context, ref EnvRef, ids []string) error {
	return w.around(ctx, ref, "AcceptConnections", func() error { return w.p.AcceptConnections(ctx, ref, ids) })
}

func (w *wrapped) RejectConnections(ctx context.Context, ref EnvRef, ids []string, reason string) error {
	return w.around(ctx, ref, "RejectConnections", func() error { return w.p.RejectConnections(ctx, ref, ids, reason) })
}

func (w *wrapped) TargetHealth(ctx context.Context, ref EnvRef, ports []int) (out []Target, err error) {
	err = w.around(ctx, ref, "TargetHealth", func() (e error) { out, e = w.p.TargetHealth(ctx, ref, ports); return })
	return
}

func (w *wrapped) ServiceVisible(ctx context.Context, ref EnvRef, service string) (out bool, err error) {
	err = w.around(ctx, ref, "ServiceVisible", func() (e error) { out, e = w.p.ServiceVisible(ctx, ref, service); return })
	return
}

func (w *wrapped) CreateEndpoint(ctx context.Context, spec EndpointSpec) (out Endpoint, err error) {
	err = w.around(ctx, spec.Env, "CreateEndpoint", func() (e error) { out, e = w.p.CreateEndpoint(ctx, spec); return })
	return
}

func (w *wrapped) DescribeEndpoint(ctx context.Context, ref EnvRef, id string) (out Endpoint, err error) {
	err = w.around(ctx, ref, "DescribeEndpoint", func() (e error) { out, e = w.p.DescribeEndpoint(ctx, ref, id); return })
	return
}

func (w *wrapped) PlatformEndpoints(ctx context.Context, ref EnvRef, service string) (out []Endpoint, err error) {
	err = w.around(ctx, ref, "PlatformEndpoints", func() (e error) { out, e = w.p.PlatformEndpoints(ctx, ref, service); return })
	return
}

func (w *wrapped) DeleteEndpoint(ctx context.Context, ref EnvRef, id string) error {
	return w.around(ctx, ref, "DeleteEndpoint", func() error { return w.p.DeleteEndpoint(ctx, ref, id) })
}

func (w *wrapped) Zones(ctx context.Context, ref EnvRef, service string) (out Zones, err error) {
	err = w.around(ctx, ref, "Zones", func() (e error) { out, e = w.p.Zones(ctx, ref, service); return })
	return
}

func (w *wrapped) Inventory(ctx context.Context, ref EnvRef, services []string) (out Inventory, err error) {
	err = w.around(ctx, ref, "Inventory", func() (e error) { out, e = w.p.Inventory(ctx, ref, services); return })
	return
}
