package trackertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// --- Jira Service Management

// Jira is a fake Jira Service Management site: agent Email with Token,
// service desk "10", request type "25", transitions "Pending" (id 11) and
// "Resolve this issue" (id 21).
type Jira struct {
	base
	Email, Token string
}

// NewJira returns a fake Jira Service Management.
func NewJira(t testing.TB) *Jira {
	return &Jira{base: base{t: t}, Email: "ops@platform.example", Token: "jiratoken"}
}

func (j *Jira) category(t *Ticket) string {
	switch t.Status {
	case "Resolved":
		return "DONE"
	case "Pending":
		return "INDETERMINATE"
	}
	return "NEW"
}

func (j *Jira) view(t *Ticket) map[string]any {
	return map[string]any{"issueKey": t.Key, "requestFieldValues": []map[string]any{{"fieldId": "summary", "value": t.Subject}},
		"currentStatus": map[string]any{"status": t.Status, "statusCategory": j.category(t)}}
}

func (j *Jira) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if u, p, ok := r.BasicAuth(); !ok || u != j.Email || p != j.Token {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if j.throttled(w) {
		return
	}
	var in map[string]any
	decode(&j.base, r, &in)
	p := strings.TrimPrefix(r.URL.Path, "/rest/servicedeskapi/request")
	parts := strings.Split(strings.Trim(p, "/"), "/")
	switch {
	case p == "" && r.Method == http.MethodGet:
		q := r.URL.Query()
		if q.Get("serviceDeskId") != "10" || q.Get("requestStatus") != "OPEN_REQUESTS" {
			j.t.Errorf("Jira search: serviceDeskId %q requestStatus %q", q.Get("serviceDeskId"), q.Get("requestStatus"))
		}
		var values []map[string]any
		for _, t := range j.tickets {
			if j.category(t) != "DONE" && strings.Contains(t.Subject, q.Get("searchTerm")) {
				values = append(values, j.view(t))
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"values": values, "isLastPage": true})
	case p == "" && r.Method == http.MethodPost:
		if in["serviceDeskId"] != "10" || in["requestTypeId"] != "25" {
			j.t.Errorf("Jira create: serviceDeskId %v requestTypeId %v", in["serviceDeskId"], in["requestTypeId"])
		}
		fields, _ := in["requestFieldValues"].(map[string]any)
		j.Creates++
		t := &Ticket{Key: fmt.Sprintf("PL-%d", j.Creates), Subject: fmt.Sprint(fields["summary"]), Status: "Waiting for support"}
		t.Comments = append(t.Comments, Comment{Public: true, Body: fmt.Sprint(fields["description"])})
		j.tickets = append(j.tickets, t)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(j.view(t))
	default:
		t := j.find(parts[0])
		if t == nil {
			notFound(w)
			return
		}
		switch {
		case len(parts) == 1:
			json.NewEncoder(w).Encode(j.view(t))
		case parts[1] == "comment" && r.Method == http.MethodGet:
			var values []map[string]any
			for _, c := range t.Comments {
				values = append(values, map[string]any{"body": c.Body, "public": c.Public})
			}
			json.NewEncoder(w).Encode(map[string]any{"values": values, "isLastPage": true})
		case parts[1] == "comment" && r.Method == http.MethodPost:
			public, _ := in["public"].(bool)
			t.Comments = append(t.Comments, Comment{Public: public, Body: fmt.Sprint(in["body"])})
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{}`)
		case parts[1] == "transition" && r.Method == http.MethodGet:
			json.NewEncoder(w).Encode(map[string]any{"values": []map[string]string{{"id": "11", "name": "Pending"}, {"id": "21", "name": "Resolve this issue"}, {"id": "31", "name": "Respond to customer"}}})
		case parts[1] == "transition" && r.Method == http.MethodPost:
			switch in["id"] {
			case "11":
				t.Status = "Pending"
			case "21":
				t.Status = "Resolved"
			case "31":
				t.Status = "Waiting for support"
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			j.unexpected(w, r)
		}
	}
}

// --- ServiceNow Table API (incident)

// ServiceNow is a fake ServiceNow instance: User with Password, the
// incident table and the journal.
type ServiceNow struct {
	base
	User, Password string
}

// NewServiceNow returns a fake ServiceNow.
func NewServiceNow(t testing.TB) *ServiceNow {
	return &ServiceNow{base: base{t: t}, User: "linkwright", Password: "snpass"}
}

func sysID(t *Ticket) string { return "sys-" + t.Key }

func (s *ServiceNow) record(t *Ticket) map[string]string {
	active := "true"
	if t.Status == "6" {
		active = "false"
	}
	return map[string]string{"sys_id": sysID(t), "number": t.Key, "short_description": t.Subject, "state": t.Status, "active": active}
}

func (s *ServiceNow) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, p, ok := r.BasicAuth(); !ok || u != s.User || p != s.Password {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":{"message":"User Not Authenticated"}}`)
		return
	}
	if s.throttled(w) {
		return
	}
	var in map[string]string
	decode(&s.base, r, &in)
	q := r.URL.Query().Get("sysparm_query")
	switch {
	case r.URL.Path == "/api/now/table/incident" && r.Method == http.MethodGet:
		var out []map[string]string
		for _, t := range s.tickets {
			rec := s.record(t)
			if number, ok := strings.CutPrefix(q, "number="); ok && t.Key == number ||
				q == "short_description="+t.Subject+"^active=true" && rec["active"] == "true" {
				out = append(out, rec)
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"result": out})
	case r.URL.Path == "/api/now/table/incident" && r.Method == http.MethodPost:
		s.Creates++
		t := &Ticket{Key: fmt.Sprintf("INC%07d", s.Creates), Subject: in["short_description"], Status: "1"}
		t.Comments = append(t.Comments, Comment{Public: true, Body: in["description"]})
		s.tickets = append(s.tickets, t)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"result": s.record(t)})
	case r.URL.Path == "/api/now/table/sys_journal_field" && r.Method == http.MethodGet:
		id, ref, _ := strings.Cut(strings.TrimPrefix(q, "element_id="), "^valueLIKE")
		var out []map[string]string
		for _, t := range s.tickets {
			for _, c := range t.Comments {
				if sysID(t) == id && strings.Contains(c.Body, ref) {
					out = append(out, map[string]string{"sys_id": "journal"})
				}
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"result": out})
	case strings.HasPrefix(r.URL.Path, "/api/now/table/incident/") && r.Method == http.MethodPatch:
		for _, t := range s.tickets {
			if sysID(t) != strings.TrimPrefix(r.URL.Path, "/api/now/table/incident/") {
				continue
			}
			if v, ok := in["comments"]; ok {
				t.Comments = append(t.Comments, Comment{Public: true, Body: v})
			}
			if v, ok := in["work_notes"]; ok {
				t.Comments = append(t.Comments, Comment{Public: false, Body: v})
			}
			if v, ok := in["state"]; ok {
				t.Status, t.Fields = v, in
			}
			fmt.Fprint(w, `{"result":{}}`)
			return
		}
		notFound(w)
	default:
		s.unexpected(w, r)
	}
}

// --- GitHub Issues (REST, under an enterprise /api/v3 root)

// GitHub is a fake GitHub: repository Owner/Repo, bearer Token.
type GitHub struct {
	base
	Owner, Repo, Token string
}

// NewGitHub returns a fake GitHub; point the tracker's apiUrl at
// URL + "/api/v3/".
func NewGitHub(t testing.TB) *GitHub {
	return &GitHub{base: base{t: t}, Owner: "acme", Repo: "privatelink", Token: "ghtoken"}
}

func (g *GitHub) issue(t *Ticket) map[string]any {
	n, _ := strconv.Atoi(t.Key)
	var labels []map[string]string
	for _, l := range t.Labels {
		labels = append(labels, map[string]string{"name": l})
	}
	return map[string]any{"number": n, "title": t.Subject, "state": t.Status, "labels": labels,
		"html_url": fmt.Sprintf("https://github.example/%s/%s/issues/%d", g.Owner, g.Repo, n)}
}

func (g *GitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+g.Token {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message": "Bad credentials"}`)
		return
	}
	if g.throttled(w) {
		return
	}
	prefix := "/api/v3/repos/" + g.Owner + "/" + g.Repo + "/issues"
	if !strings.HasPrefix(r.URL.Path, prefix) {
		g.unexpected(w, r)
		return
	}
	var raw json.RawMessage
	decode(&g.base, r, &raw)
	var in map[string]any
	var list []string
	if json.Unmarshal(raw, &in) != nil {
		_ = json.Unmarshal(raw, &list) // labels are sent as a bare array
	}
	p := strings.TrimPrefix(r.URL.Path, prefix)
	parts := strings.Split(strings.Trim(p, "/"), "/")
	switch {
	case p == "" && r.Method == http.MethodGet:
		var out []map[string]any
		for _, t := range g.tickets {
			if t.Status == r.URL.Query().Get("state") && strings.Contains(","+strings.Join(t.Labels, ",")+",", ","+r.URL.Query().Get("labels")+",") {
				out = append(out, g.issue(t))
			}
		}
		json.NewEncoder(w).Encode(out)
	case p == "" && r.Method == http.MethodPost:
		g.Creates++
		t := &Ticket{Key: strconv.Itoa(g.Creates), Subject: fmt.Sprint(in["title"]), Status: "open"}
		for _, l := range in["labels"].([]any) {
			t.Labels = append(t.Labels, fmt.Sprint(l))
		}
		t.Comments = append(t.Comments, Comment{Public: true, Body: fmt.Sprint(in["body"])})
		g.tickets = append(g.tickets, t)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(g.issue(t))
	default:
		t := g.find(parts[0])
		if t == nil {
			notFound(w)
			return
		}
		switch {
		case len(parts) == 1 && r.Method == http.MethodGet:
			json.NewEncoder(w).Encode(g.issue(t))
		case len(parts) == 1 && r.Method == http.MethodPatch:
			t.Status = fmt.Sprint(in["state"])
			json.NewEncoder(w).Encode(g.issue(t))
		case parts[1] == "comments" && r.Method == http.MethodGet:
			var out []map[string]any
			for i, c := range t.Comments[1:] { // the issue body is not a comment
				out = append(out, map[string]any{"id": i + 1, "body": c.Body})
			}
			json.NewEncoder(w).Encode(out)
		case parts[1] == "comments" && r.Method == http.MethodPost:
			body := fmt.Sprint(in["body"])
			t.Comments = append(t.Comments, Comment{Public: !strings.HasPrefix(body, "**Internal note"), Body: body})
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"id": 1}`)
		case parts[1] == "labels" && r.Method == http.MethodPost:
			t.Labels = append(t.Labels, list...)
			json.NewEncoder(w).Encode([]any{})
		case parts[1] == "labels" && r.Method == http.MethodDelete:
			name := strings.Join(parts[2:], "/")
			var kept []string
			for _, l := range t.Labels {
				if l != name {
					kept = append(kept, l)
				}
			}
			t.Labels = kept
			json.NewEncoder(w).Encode([]any{})
		default:
			g.unexpected(w, r)
		}
	}
}
