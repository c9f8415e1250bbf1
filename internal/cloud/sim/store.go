package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/ondisk"
)

// state is the whole simulated cloud, kept as one JSON file.
type state struct {
	Seq          int                  `json:"seq"`
	Environments []*environment       `json:"environments"`
	Services     map[string]*service  `json:"services"`
	Endpoints    map[string]*endpoint `json:"endpoints"`
	Tokens       map[string]string    `json:"tokens"` // client token -> endpoint ID
}

type environment struct {
	cloud.Environment
	Account        string `json:"account"` // the platform's own account or subscription
	OpenPorts      []int  `json:"openPorts"`
	UnhealthyPorts []int  `json:"unhealthyPorts,omitempty"`
	// Zones are the zone IDs of the deployment's subnets (AWS) or vSwitches
	// (Alibaba), where its endpoints into customers' services go. A state
	// saved before zones were modelled has none: see zoneIDs.
	Zones []string `json:"zones,omitempty"`
}

type service struct {
	Name  string `json:"name"`
	ID    string `json:"id"`
	Cloud string `json:"cloud"`
	// Owner is the account that owns the service: the platform's for the
	// platform services, the customer's for theirs.
	Owner    string   `json:"owner"`
	Platform bool     `json:"platform"`
	Allowed  []string `json:"allowed"` // principals allowed to connect
	// Ports the service answers on (customer services; the platform's are
	// its environment's open ports).
	Ports []int `json:"ports,omitempty"`
	// Zones are the zone IDs a customer's service is offered in (AWS: the
	// zones of its load balancer's subnets); none means every zone of its
	// region, as Grant creates it (Alibaba: the region's first three).
	// See zoneIDs.
	Zones []string `json:"zones,omitempty"`
	// Regions are the other regions a customer's Alibaba service takes
	// consumers from (its supported regions, set by its owner); the
	// platform's are its environment's Regions.
	Regions []string `json:"regions,omitempty"`
	// ResourceType is the load balancer behind an Alibaba service (nlb,
	// alb or slb), which bounds the bandwidth of its connections; none
	// is an NLB.
	ResourceType string `json:"resourceType,omitempty"`
}

type endpoint struct {
	ID       string      `json:"id"`
	Cloud    string      `json:"cloud"`
	Region   string      `json:"region"`
	Owner    string      `json:"owner"`
	Platform bool        `json:"platform"` // created by the platform into a customer service
	Service  string      `json:"service"`
	State    cloud.State `json:"state"`
	Created  time.Time   `json:"created"`
	Accepted time.Time   `json:"accepted,omitzero"`
	IP       string      `json:"ip"`
	DNSName  string      `json:"dnsName"`
	Broken   []int       `json:"broken,omitempty"` // ports made to refuse connections
	// Bandwidth is the Mbps an Alibaba connection was accepted with; 0 is
	// the service's default.
	Bandwidth int `json:"bandwidth,omitempty"`
}

// store keeps the state in dir/cloud.json, shared by the worker and the
// starter (another process) through a lock on dir/cloud.lock.
type store struct {
	dir string
}

func (s store) path() string { return filepath.Join(s.dir, "cloud.json") }

func (s store) load() (*state, error) {
	data, err := os.ReadFile(s.path())
	if errors.Is(err, fs.ErrNotExist) {
		return seed(), nil
	}
	if err != nil {
		return nil, err
	}
	st := &state{}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("simulated cloud state %s is corrupt (delete it to start afresh): %w", s.path(), err)
	}
	st.addMissingClouds()
	return st, nil
}

// addMissingClouds gives a state saved before a cloud was simulated (one
// without Alibaba Cloud, say) that cloud's seeded environments and their
// services, as a new state has them. A cloud the state has any
// environment of is left as it is, and so is any service already there:
// nothing saved is changed. The seed is the same every time, so every
// process adds the same, and the next write saves it.
func (st *state) addMissingClouds() {
	if st.Services == nil {
		st.Services = map[string]*service{}
	}
	if st.Endpoints == nil {
		st.Endpoints = map[string]*endpoint{}
	}
	if st.Tokens == nil {
		st.Tokens = map[string]string{}
	}
	has := map[string]bool{}
	for _, e := range st.Environments {
		has[e.Cloud] = true
	}
	fresh := seed()
	for _, e := range fresh.Environments {
		if has[e.Cloud] || st.Services[key(e.ServiceName)] != nil {
			continue
		}
		st.Environments = append(st.Environments, e)
		st.Services[key(e.ServiceName)] = fresh.Services[key(e.ServiceName)]
	}
}

func (s store) save(st *state) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return ondisk.WriteFile(s.path(), data)
}

// update runs fn on the state under an exclusive lock and saves the result
// when fn succeeds.
func (s store) update(fn func(*state) error) error { return s.locked(true, fn) }

// view runs fn on the state under a shared lock.
func (s store) view(fn func(*state) error) error { return s.locked(false, fn) }

func (s store) locked(write bool, fn func(*state) error) error {
	return ondisk.WithLock(filepath.Join(s.dir, "cloud.lock"), write, func() error {
		st, err := s.load()
		if err != nil {
			return err
		}
		if err := fn(st); err != nil || !write {
			return err
		}
		return s.save(st)
	})
}
