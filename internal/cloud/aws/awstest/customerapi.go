package awstest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// CustomerPath is where the extension takes customer actions over HTTP,
// for `linkwright customer` against a running moto stack.
const CustomerPath = "/_linkwright/customer/"

// CustomerReply is the customer API's answer.
type CustomerReply struct {
	ID    string   `json:"id,omitempty"`
	IDs   []string `json:"ids,omitempty"`
	Error string   `json:"error,omitempty"`
}

func (x *Extension) serveCustomer(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	account, service, id := q.Get("account"), q.Get("service"), q.Get("id")
	var reply CustomerReply
	var err error
	switch strings.TrimPrefix(r.URL.Path, CustomerPath) {
	case "connect":
		reply.ID, err = x.CreateEndpoint(account, service)
	case "delete":
		err = x.DeleteEndpoint(account, id)
	case "grant":
		var ports []int
		for _, p := range strings.Split(q.Get("ports"), ",") {
			if n, perr := strconv.Atoi(strings.TrimSpace(p)); perr == nil {
				ports = append(ports, n)
			}
		}
		err = x.Grant(account, service, q.Get("principal"), ports)
	case "endpoints":
		reply.IDs = x.Endpoints(account, service)
	case "revoke":
		err = x.Revoke(account, service, q.Get("principal"))
	case "zones":
		var names []string
		for _, z := range strings.Split(q.Get("zones"), ",") {
			if z = strings.TrimSpace(z); z != "" {
				names = append(names, z)
			}
		}
		err = x.SetServiceZones(account, service, names)
	case "pending":
		reply.IDs = x.Pending(service)
	case "accept":
		err = x.AcceptEndpoint(account, id)
	case "reject":
		err = x.RejectEndpoint(account, id)
	default:
		err = fmt.Errorf("unknown customer action %q", r.URL.Path)
	}
	if err != nil {
		reply.Error = err.Error()
		w.WriteHeader(http.StatusBadRequest)
	}
	_ = json.NewEncoder(w).Encode(reply)
}

// serveLoopback keeps a listener on the endpoint's loopback address for
// every port of its service while the endpoint is accepted, so that a
// prober dials a real socket. Called with x.mu held.
func (x *Extension) serveLoopback(ep *endpoint) {
	s := x.services[ep.service]
	if s == nil || ep.ip == "" {
		return
	}
	for _, port := range s.ports {
		ln, err := net.Listen("tcp", net.JoinHostPort(ep.ip, strconv.Itoa(port)))
		if err != nil {
			continue
		}
		ep.listeners = append(ep.listeners, ln)
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
}

func (ep *endpoint) closeListeners() {
	for _, ln := range ep.listeners {
		ln.Close()
	}
	ep.listeners = nil
}
