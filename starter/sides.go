package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/linkwright/linkwright/internal/cloud"
	awsprovider "github.com/linkwright/linkwright/internal/cloud/aws"
	"github.com/linkwright/linkwright/internal/cloud/aws/awstest"
	"github.com/linkwright/linkwright/internal/cloud/sim"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/request"
)

// simCustomer is the customer on the simulated cloud.
type simCustomer struct {
	req   request.Request
	cloud *sim.Cloud
	cu    sim.Customer
}

func (s *simCustomer) platform(ctx context.Context) (cloud.Environment, error) {
	return s.cloud.Environment(ctx, envRef(s.req))
}

func (s *simCustomer) connect(service string) (cloud.Endpoint, error) {
	return s.cu.CreateEndpoint(service)
}

func (s *simCustomer) grant(service, principal string, ports []int) error {
	return s.cu.Grant(service, principal, ports)
}

func (s *simCustomer) pending(service string) ([]string, error) {
	eps, err := s.cu.PendingOnService(service)
	ids := make([]string, len(eps))
	for i, ep := range eps {
		ids[i] = ep.ID
	}
	return ids, err
}

func (s *simCustomer) decide(id string, accept bool) error {
	if accept {
		return s.cu.AcceptEndpoint(id)
	}
	return s.cu.RejectEndpoint(id)
}

func (s *simCustomer) endpointsTo(service string) ([]string, error) {
	eps, err := s.cu.Endpoints()
	var ids []string
	for _, ep := range eps {
		if !ep.Platform && strings.EqualFold(ep.Service, service) && ep.State != cloud.StateDeleted {
			ids = append(ids, ep.ID)
		}
	}
	return ids, err
}

func (s *simCustomer) deleteEndpoint(id string) error { return s.cu.DeleteEndpoint(id) }

func (s *simCustomer) revoke(service, principal string) error { return s.cu.Revoke(service, principal) }

func (s *simCustomer) setZones(service string, names []string) error {
	return s.cu.SetServiceZones(service, names)
}

// motoCustomer is the customer on the moto stack of `make run-aws`: the
// platform is read through the AWS provider, the customer's actions go to
// the stack's customer API.
type motoCustomer struct {
	req      request.Request
	provider *awsprovider.Provider
	endpoint string
	http     *http.Client
}

func newMotoCustomer(ctx context.Context, cfg config.Config, req request.Request) (*motoCustomer, error) {
	opts, err := awsprovider.ParseOptions(cfg.AWS)
	if err != nil {
		return nil, err
	}
	if opts.Endpoint == "" {
		return nil, fmt.Errorf("customer actions on AWS need the moto stack (make run-aws): a real customer acts in their own account")
	}
	p, err := awsprovider.New(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &motoCustomer{req: req, provider: p, endpoint: strings.TrimRight(opts.Endpoint, "/"), http: &http.Client{Timeout: 10 * time.Second}}, nil
}

func (m *motoCustomer) platform(ctx context.Context) (cloud.Environment, error) {
	return m.provider.Environment(ctx, envRef(m.req))
}

func (m *motoCustomer) call(action string, params url.Values) (awstest.CustomerReply, error) {
	params.Set("account", m.req.CustomerAccount)
	var reply awstest.CustomerReply
	resp, err := m.http.Post(m.endpoint+awstest.CustomerPath+action+"?"+params.Encode(), "text/plain", nil)
	if err != nil {
		return reply, fmt.Errorf("the moto stack at %s: %w", m.endpoint, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		return reply, fmt.Errorf("the moto stack at %s answered %s", m.endpoint, resp.Status)
	}
	if reply.Error != "" {
		return reply, fmt.Errorf("%s", reply.Error)
	}
	return reply, nil
}

func (m *motoCustomer) connect(service string) (cloud.Endpoint, error) {
	r, err := m.call("connect", url.Values{"service": {service}})
	return cloud.Endpoint{ID: r.ID, Service: service, State: cloud.StatePendingAcceptance}, err
}

func (m *motoCustomer) grant(service, principal string, ports []int) error {
	ps := make([]string, len(ports))
	for i, p := range ports {
		ps[i] = strconv.Itoa(p)
	}
	_, err := m.call("grant", url.Values{"service": {service}, "principal": {principal}, "ports": {strings.Join(ps, ",")}})
	return err
}

func (m *motoCustomer) pending(service string) ([]string, error) {
	r, err := m.call("pending", url.Values{"service": {service}})
	return r.IDs, err
}

func (m *motoCustomer) decide(id string, accept bool) error {
	action := "reject"
	if accept {
		action = "accept"
	}
	_, err := m.call(action, url.Values{"id": {id}})
	return err
}

func (m *motoCustomer) endpointsTo(service string) ([]string, error) {
	r, err := m.call("endpoints", url.Values{"service": {service}})
	return r.IDs, err
}

func (m *motoCustomer) deleteEndpoint(id string) error {
	_, err := m.call("delete", url.Values{"id": {id}})
	return err
}

func (m *motoCustomer) revoke(service, principal string) error {
	_, err := m.call("revoke", url.Values{"service": {service}, "principal": {principal}})
	return err
}

func (m *motoCustomer) setZones(service string, names []string) error {
	_, err := m.call("zones", url.Values{"service": {service}, "zones": {strings.Join(names, ",")}})
	return err
}
