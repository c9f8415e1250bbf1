package sim

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/ondisk"
)

// The simulated cloud keeps its state in dir/cloud.db, an SQLite database
// shared by the worker and the CLI (other processes), one record a row:
// a call reads and writes only the records it touches, in one
// transaction. Each record is its JSON (the types below) keyed by its ID,
// with the columns that are looked up beside it.

type environment struct {
	cloud.Environment
	Account        string `json:"account"` // the platform's own account or subscription
	OpenPorts      []int  `json:"openPorts"`
	UnhealthyPorts []int  `json:"unhealthyPorts,omitempty"`
	// Zones are the zone IDs of the deployment's subnets (AWS) or vSwitches
	// (Alibaba), where its endpoints into customers' services go. A state
	// saved before zones were modelled has none: see zoneIDs.
	Zones []string `json:"zones,omitempty"`

	pos int64 // its row
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
	// Deleted is when the endpoint was deleted: it is listed, as deleted,
	// for KeepDeleted after, then removed with its client token.
	Deleted time.Time `json:"deleted,omitzero"`
}

// schema is the database's tables. meta holds counters: seq (the last
// endpoint number), version (bumped by every write that changes
// something, so that readers such as Listeners know when to read again)
// and initialized (the seed or an imported cloud.json is in).
const schema = `
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS environments (
	pos         INTEGER PRIMARY KEY,
	cloud       TEXT NOT NULL,
	project     TEXT NOT NULL,
	environment TEXT NOT NULL,
	service_key TEXT NOT NULL,
	data        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS environments_ref ON environments (cloud, project, environment);
CREATE INDEX IF NOT EXISTS environments_service ON environments (service_key);
CREATE TABLE IF NOT EXISTS services (
	key   TEXT PRIMARY KEY,
	owner TEXT NOT NULL,
	data  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS services_owner ON services (owner);
CREATE TABLE IF NOT EXISTS endpoints (
	id          TEXT PRIMARY KEY,
	service_key TEXT NOT NULL,
	owner       TEXT NOT NULL,
	platform    INTEGER NOT NULL,
	state       TEXT NOT NULL,
	dns_name    TEXT NOT NULL,
	deleted_at  INTEGER,
	data        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS endpoints_service ON endpoints (service_key);
CREATE INDEX IF NOT EXISTS endpoints_owner ON endpoints (owner);
CREATE INDEX IF NOT EXISTS endpoints_dns ON endpoints (dns_name);
CREATE INDEX IF NOT EXISTS endpoints_live ON endpoints (state) WHERE platform = 1;
CREATE INDEX IF NOT EXISTS endpoints_deleted ON endpoints (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS tokens (
	token    TEXT PRIMARY KEY,
	endpoint TEXT NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tokens_endpoint ON tokens (endpoint);
INSERT INTO meta (key, value) VALUES ('seq', 0), ('version', 0), ('initialized', 0) ON CONFLICT DO NOTHING;
`

// dbFile is the database's name in the state directory.
const dbFile = "cloud.db"

// newHandle is dir's database, opened on first use and closed once c is
// no longer used (for callers that never call Close).
func newHandle(c *Cloud, dir string) *ondisk.Handle {
	h := ondisk.NewHandle(func() (*ondisk.DB, error) { return openStore(dir) })
	runtime.AddCleanup(c, func(h *ondisk.Handle) { _ = h.Close() }, h)
	return h
}

// openStore opens dir's database, creating its tables, and fills a new
// one: with the state of an earlier release's cloud.json when there is
// one (renamed cloud.json.migrated once imported), else with the seed.
func openStore(dir string) (*ondisk.DB, error) {
	path := filepath.Join(dir, dbFile)
	db, err := ondisk.OpenDB(path)
	if err != nil {
		return nil, err
	}
	imported, err := initStore(db, dir)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("simulated cloud state %s is unreadable (delete it to start afresh): %w", path, err)
	}
	if imported {
		if err := os.Rename(legacyPath(dir), legacyPath(dir)+".migrated"); err != nil {
			db.Close()
			return nil, fmt.Errorf("simulated cloud: %s is imported into %s, but could not be set aside: %w", legacyPath(dir), path, err)
		}
	}
	return db, nil
}

// initStore creates the tables and, in a database not yet filled, puts
// in the state of cloud.json or the seed; reports whether cloud.json was
// imported. Processes opening the same new directory at once fill it
// once: the first to take the write lock does.
func initStore(db *ondisk.DB, dir string) (imported bool, err error) {
	fill := func() error {
		return db.Update(context.Background(), func(sqlTx *ondisk.Tx) error {
			if _, err := sqlTx.Exec(schema); err != nil {
				return err
			}
			t := &tx{Tx: sqlTx}
			done, err := t.meta("initialized")
			if err != nil {
				return err
			}
			if done == 0 {
				st, found, err := readLegacy(dir)
				if err != nil {
					return err
				}
				if !found {
					st = seed()
				}
				if err := t.importState(st, time.Now()); err != nil {
					return err
				}
				if _, err := t.Exec(`UPDATE meta SET value = 1 WHERE key = 'initialized'`); err != nil {
					return err
				}
				imported = found
			}
			if err := t.addMissingClouds(); err != nil {
				return err
			}
			return t.bump()
		})
	}
	if _, statErr := os.Stat(legacyPath(dir)); statErr == nil {
		// An earlier release may be running: take its lock while reading
		// its file.
		err = ondisk.WithLock(filepath.Join(dir, "cloud.lock"), true, fill)
	} else {
		err = fill()
	}
	return imported, err
}

// tx is one transaction on the state: every read applies the passage of
// time to what it reads (see Cloud.settle), and leaves out what was
// deleted longer than KeepDeleted ago.
type tx struct {
	*ondisk.Tx
	c     *Cloud
	now   time.Time
	dirty bool // something was written: the version is bumped
}

// view runs fn in a read transaction: one snapshot of the state.
func (c *Cloud) view(fn func(*tx) error) error { return c.run(false, fn) }

// update runs fn in a write transaction and commits what it wrote when it
// succeeds.
func (c *Cloud) update(fn func(*tx) error) error { return c.run(true, fn) }

func (c *Cloud) run(write bool, fn func(*tx) error) error {
	defer runtime.KeepAlive(c) // its handle's cleanup must not close the database meanwhile
	db, err := c.h.Get()
	if err != nil {
		return err
	}
	body := func(sqlTx *ondisk.Tx) error {
		t := &tx{Tx: sqlTx, c: c, now: c.Now()}
		if err := fn(t); err != nil {
			return err
		}
		if !write {
			return nil
		}
		return t.finish()
	}
	if write {
		return db.Update(context.Background(), body)
	}
	return db.View(context.Background(), body)
}

// finish ends a write: it removes the endpoints deleted longer than
// KeepDeleted ago (their tokens go with them) and bumps the version when
// anything changed.
func (t *tx) finish() error {
	res, err := t.Exec(`DELETE FROM endpoints WHERE deleted_at IS NOT NULL AND deleted_at <= ?`, t.now.Add(-t.c.KeepDeleted).UnixNano())
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		t.dirty = true
	}
	return t.bump()
}

// bump bumps the version when the transaction changed something.
func (t *tx) bump() error {
	if !t.dirty {
		return nil
	}
	_, err := t.Exec(`UPDATE meta SET value = value + 1 WHERE key = 'version'`)
	return err
}

func (t *tx) meta(k string) (int64, error) {
	var v int64
	err := t.QueryRow(`SELECT value FROM meta WHERE key = ?`, k).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

// version is the state's change counter.
func (t *tx) version() (int64, error) { return t.meta("version") }

func (t *tx) exec(query string, args ...any) error {
	_, err := t.Exec(query, args...)
	if err == nil {
		t.dirty = true
	}
	return err
}

func mustJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs are marshalled here
	}
	return string(data)
}

// Environments.

const envColumns = `pos, data`

func scanEnv(s interface{ Scan(...any) error }) (*environment, error) {
	var data string
	e := &environment{}
	if err := s.Scan(&e.pos, &data); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(data), e); err != nil {
		return nil, fmt.Errorf("simulated cloud: environment record %d is corrupt: %w", e.pos, err)
	}
	return e, nil
}

// env finds the platform environment ref names (its region aside).
func (t *tx) env(ref cloud.EnvRef) (*environment, error) {
	e, err := scanEnv(t.QueryRow(`SELECT `+envColumns+` FROM environments WHERE cloud = ? AND project = ? AND environment = ? ORDER BY pos LIMIT 1`,
		ref.Cloud, ref.Project, ref.Environment))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cloud.Errorf(cloud.NotFound, "Environment", "project %q has no %s environment on %s", ref.Project, ref.Environment, ref.Cloud)
	}
	return e, err
}

// envOfService is the (last) environment whose service is the one named;
// nil when none is.
func (t *tx) envOfService(name string) (*environment, error) {
	e, err := scanEnv(t.QueryRow(`SELECT `+envColumns+` FROM environments WHERE service_key = ? ORDER BY pos DESC LIMIT 1`, key(name)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return e, err
}

func (t *tx) insertEnv(e *environment) error {
	res, err := t.Exec(`INSERT INTO environments (cloud, project, environment, service_key, data) VALUES (?, ?, ?, ?, ?)`,
		e.Cloud, e.Project, e.Environment.Environment, key(e.ServiceName), mustJSON(e))
	if err != nil {
		return err
	}
	t.dirty = true
	e.pos, err = res.LastInsertId()
	return err
}

func (t *tx) putEnv(e *environment) error {
	return t.exec(`UPDATE environments SET cloud = ?, project = ?, environment = ?, service_key = ?, data = ? WHERE pos = ?`,
		e.Cloud, e.Project, e.Environment.Environment, key(e.ServiceName), mustJSON(e), e.pos)
}

func (t *tx) platformService(ref cloud.EnvRef) (*environment, *service, error) {
	e, err := t.env(ref)
	if err != nil {
		return nil, nil, err
	}
	svc, err := t.service(e.ServiceName)
	if err == nil && svc == nil {
		err = cloud.Errorf(cloud.NotFound, "Environment", "the service %s of %s is missing from the simulated cloud", e.ServiceName, ref)
	}
	return e, svc, err
}

// Services.

// service finds a service by name, in any case; nil when there is none.
func (t *tx) service(name string) (*service, error) {
	var data string
	err := t.QueryRow(`SELECT data FROM services WHERE key = ?`, key(name)).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	svc := &service{}
	if err := json.Unmarshal([]byte(data), svc); err != nil {
		return nil, fmt.Errorf("simulated cloud: service record %s is corrupt: %w", key(name), err)
	}
	return svc, nil
}

func (t *tx) putService(svc *service) error {
	return t.exec(`INSERT INTO services (key, owner, data) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, data = excluded.data`,
		key(svc.Name), svc.Owner, mustJSON(svc))
}

func (t *tx) deleteService(name string) error {
	return t.exec(`DELETE FROM services WHERE key = ?`, key(name))
}

// Endpoints.

// scanEndpoint reads one endpoint row, settled; nil when it was deleted
// longer than KeepDeleted ago (and is only waiting to be removed).
func (t *tx) scanEndpoint(s interface{ Scan(...any) error }) (*endpoint, error) {
	var data string
	if err := s.Scan(&data); err != nil {
		return nil, err
	}
	ep := &endpoint{}
	if err := json.Unmarshal([]byte(data), ep); err != nil {
		return nil, fmt.Errorf("simulated cloud: an endpoint record is corrupt: %w", err)
	}
	if t.gone(ep) {
		return nil, nil
	}
	t.c.settle(ep, t.now)
	return ep, nil
}

// gone reports whether ep was deleted longer than KeepDeleted ago.
func (t *tx) gone(ep *endpoint) bool {
	return ep.State == cloud.StateDeleted && !ep.Deleted.IsZero() && t.now.Sub(ep.Deleted) >= t.c.KeepDeleted
}

// endpoint finds an endpoint by ID; nil when there is none.
func (t *tx) endpoint(id string) (*endpoint, error) {
	ep, err := t.scanEndpoint(t.QueryRow(`SELECT data FROM endpoints WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return ep, err
}

// endpoints lists the endpoints a query (of their data) selects.
func (t *tx) endpoints(query string, args ...any) ([]*endpoint, error) {
	rows, err := t.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*endpoint
	for rows.Next() {
		ep, err := t.scanEndpoint(rows)
		if err != nil {
			return nil, err
		}
		if ep != nil {
			out = append(out, ep)
		}
	}
	return out, rows.Err()
}

// endpointsOf lists the endpoints into the service named, in any case.
func (t *tx) endpointsOf(service string) ([]*endpoint, error) {
	return t.endpoints(`SELECT data FROM endpoints WHERE service_key = ?`, key(service))
}

func (t *tx) putEndpoint(ep *endpoint) error {
	var deleted any
	if ep.State == cloud.StateDeleted && !ep.Deleted.IsZero() {
		deleted = ep.Deleted.UnixNano()
	}
	platform := 0
	if ep.Platform {
		platform = 1
	}
	return t.exec(`INSERT INTO endpoints (id, service_key, owner, platform, state, dns_name, deleted_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET service_key = excluded.service_key, owner = excluded.owner, platform = excluded.platform,
			state = excluded.state, dns_name = excluded.dns_name, deleted_at = excluded.deleted_at, data = excluded.data`,
		ep.ID, key(ep.Service), ep.Owner, platform, string(ep.State), ep.DNSName, deleted, mustJSON(ep))
}

// markDeleted deletes ep: it stays listed, as deleted, for KeepDeleted.
func (t *tx) markDeleted(ep *endpoint) error {
	if ep.State == cloud.StateDeleted && !ep.Deleted.IsZero() {
		return nil // deleted already
	}
	ep.State, ep.Deleted = cloud.StateDeleted, t.now
	return t.putEndpoint(ep)
}

// token is the endpoint a client token created; "" when none.
func (t *tx) token(token string) (string, error) {
	var id string
	err := t.QueryRow(`SELECT endpoint FROM tokens WHERE token = ?`, token).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

func (t *tx) putToken(token, id string) error {
	return t.exec(`INSERT INTO tokens (token, endpoint) VALUES (?, ?) ON CONFLICT (token) DO UPDATE SET endpoint = excluded.endpoint`, token, id)
}

// nextSeq numbers a new endpoint.
func (t *tx) nextSeq() (int, error) {
	var n int
	err := t.QueryRow(`UPDATE meta SET value = value + 1 WHERE key = 'seq' RETURNING value`).Scan(&n)
	return n, err
}

// addMissingClouds gives a state saved before a cloud was simulated (one
// without Alibaba Cloud, say) that cloud's seeded environments and their
// services, as a new state has them. A cloud the state has any
// environment of is left as it is, and so is any service already there:
// nothing saved is changed. The seed is the same every time, so every
// process adds the same; the first to open the state does.
func (t *tx) addMissingClouds() error {
	fresh := seed()
	has := map[string]bool{}
	for _, e := range fresh.Environments {
		if _, ok := has[e.Cloud]; ok {
			continue
		}
		var n int
		if err := t.QueryRow(`SELECT count(*) FROM (SELECT 1 FROM environments WHERE cloud = ? LIMIT 1)`, e.Cloud).Scan(&n); err != nil {
			return err
		}
		has[e.Cloud] = n > 0
	}
	for _, e := range fresh.Environments {
		if has[e.Cloud] {
			continue
		}
		svc, err := t.service(e.ServiceName)
		if err != nil || svc != nil {
			if err != nil {
				return err
			}
			continue
		}
		if err := t.insertEnv(e); err != nil {
			return err
		}
		if err := t.putService(fresh.Services[key(e.ServiceName)]); err != nil {
			return err
		}
	}
	return nil
}

// legacyPath is where releases before the database kept the whole state.
func legacyPath(dir string) string { return filepath.Join(dir, "cloud.json") }

// state is the whole simulated cloud as releases before the database
// kept it, in one JSON file, cloud.json; and the seed.
type state struct {
	Seq          int                  `json:"seq"`
	Environments []*environment       `json:"environments"`
	Services     map[string]*service  `json:"services"`
	Endpoints    map[string]*endpoint `json:"endpoints"`
	Tokens       map[string]string    `json:"tokens"` // client token -> endpoint ID
}

// readLegacy reads dir/cloud.json; found is false when there is none.
func readLegacy(dir string) (st *state, found bool, err error) {
	data, err := os.ReadFile(legacyPath(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	st = &state{}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, false, fmt.Errorf("%s is corrupt (delete it to start afresh): %w", legacyPath(dir), err)
	}
	return st, true, nil
}

// importState puts a whole state into an empty database. An endpoint
// deleted before has its deletion dated now: it is listed for
// KeepDeleted, then removed.
func (t *tx) importState(st *state, now time.Time) error {
	for _, e := range st.Environments {
		if err := t.insertEnv(e); err != nil {
			return err
		}
	}
	for _, svc := range st.Services {
		if svc == nil {
			continue
		}
		if err := t.putService(svc); err != nil {
			return err
		}
	}
	for id, ep := range st.Endpoints {
		if ep == nil {
			continue
		}
		ep.ID = id
		if ep.State == cloud.StateDeleted && ep.Deleted.IsZero() {
			ep.Deleted = now
		}
		if err := t.putEndpoint(ep); err != nil {
			return err
		}
	}
	for token, id := range st.Tokens {
		if token == "" || st.Endpoints[id] == nil {
			continue // the empty token is never looked up
		}
		if err := t.putToken(token, id); err != nil {
			return err
		}
	}
	return t.exec(`UPDATE meta SET value = ? WHERE key = 'seq'`, st.Seq)
}
