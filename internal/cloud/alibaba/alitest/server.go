package alitest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/nlb"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"
)

// Serve serves the model on loopback until close is called, and returns its
// host ("127.0.0.1:port") for a client's Domain.
func (m *Model) Serve() (host string, close func()) {
	srv := httptest.NewServer(m)
	return strings.TrimPrefix(srv.URL, "http://"), srv.Close
}

// Start serves the model for the rest of a test and returns its host.
func (m *Model) Start(t testing.TB) string {
	host, stop := m.Serve()
	t.Cleanup(stop)
	return host
}

// ClientConfig is the SDK configuration for the model: plain HTTP, no
// automatic retries (the caller's retries are what a test looks at).
func ClientConfig() *sdk.Config {
	return sdk.NewConfig().WithScheme("HTTP").WithAutoRetry(false)
}

// NewPrivateLinkClient is a PrivateLink client of the model at host.
func NewPrivateLinkClient(host, region, accessKeyID, secret string) (*privatelink.Client, error) {
	c, err := privatelink.NewClientWithOptions(region, ClientConfig(), credentials.NewAccessKeyCredential(accessKeyID, secret))
	if err != nil {
		return nil, err
	}
	c.Domain = host
	return c, nil
}

// NewNLBClient is an NLB client of the model at host.
func NewNLBClient(host, region, accessKeyID, secret string) (*nlb.Client, error) {
	c, err := nlb.NewClientWithOptions(region, ClientConfig(), credentials.NewAccessKeyCredential(accessKeyID, secret))
	if err != nil {
		return nil, err
	}
	c.Domain = host
	return c, nil
}

// Call is one authenticated API call, as Log lists them.
type Call struct {
	Action, Version, Account, Region string
	// Params are the call's query and form parameters but the common ones
	// (signature, Action, Version, RegionId, Format).
	Params map[string]string
	// Code is the error code answered, "" when the call succeeded.
	Code string
}

// commonParams are the parameters every RPC request has; Call.Params leaves
// them out.
var commonParams = []string{
	"Action", "Version", "RegionId", "Format", "AccessKeyId", "SignatureMethod", "SignatureVersion",
	"SignatureNonce", "Timestamp", "Signature", "SignatureType", "SecurityToken", "BearerToken",
}

// signatureParams must be on every request, in this order of checking.
var signatureParams = []string{
	"Action", "Version", "RegionId", "Format", "AccessKeyId", "SignatureMethod", "SignatureVersion",
	"SignatureNonce", "Timestamp", "Signature",
}

// Calls counts the authenticated calls by action, successful or not.
func (m *Model) Calls() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.calls)
}

// Log lists the authenticated calls in the order they were served.
func (m *Model) Log() []Call {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Call, len(m.log))
	for i, c := range m.log {
		c.Params = maps.Clone(c.Params)
		out[i] = c
	}
	return out
}

// ResetCalls forgets the calls counted and logged so far.
func (m *Model) ResetCalls() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = map[string]int{}
	m.log = nil
}

type fault struct {
	action        string
	n             int
	status        int
	code, message string
}

// Throttle makes the next n calls of action ("" for any) answer code:
// "Throttling" or "Throttling.User" (HTTP 400, as Alibaba's flow control
// answers) or "ServiceUnavailable" (503). It panics on another code.
func (m *Model) Throttle(action string, n int, code string) {
	status, message := http.StatusBadRequest, ""
	switch code {
	case "Throttling":
		message = "Request was denied due to request throttling."
	case "Throttling.User":
		message = "Request was denied due to user flow control."
	case "ServiceUnavailable":
		status, message = http.StatusServiceUnavailable, "The request has failed due to a temporary failure of the server."
	default:
		panic("alitest: Throttle takes Throttling, Throttling.User or ServiceUnavailable, not " + code)
	}
	m.Fail(action, n, status, code, message)
}

// Fail makes the next n calls of action ("" for any) fail with this HTTP
// status, code and message, before they change anything.
func (m *Model) Fail(action string, n, status int, code, message string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.faults = append(m.faults, &fault{action: action, n: n, status: status, code: code, message: message})
}

// takeFault consumes the first fault that applies to action.
func (m *Model) takeFault(action string) *Error {
	for i, f := range m.faults {
		if f.n > 0 && (f.action == "" || f.action == action) {
			f.n--
			if f.n == 0 {
				m.faults = slices.Delete(m.faults, i, i+1)
			}
			return &Error{Status: f.status, Code: f.code, Message: f.message}
		}
	}
	return nil
}

// request is one call being served.
type request struct {
	action, version, region, account string
	p                                map[string]string
}

func (r *request) get(name string) string { return r.p[name] }

// list reads a repeated parameter: name.1, name.2, ... up to the first gap.
func (r *request) list(name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := r.p[name+"."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v)
	}
}

// structs reads a repeated structure: name.N.field for each field.
func (r *request) structs(name string, fields ...string) []map[string]string {
	var out []map[string]string
	for i := 1; ; i++ {
		item, found := map[string]string{}, false
		for _, f := range fields {
			if v, ok := r.p[fmt.Sprintf("%s.%d.%s", name, i, f)]; ok {
				item[f], found = v, true
			}
		}
		if !found {
			return out
		}
		out = append(out, item)
	}
}

// integer reads an optional integer parameter.
func (r *request) integer(name string) (int64, bool, *Error) {
	v := r.p[name]
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false, illegal(name, "%q is not an integer", v)
	}
	return n, true, nil
}

// boolean reads an optional boolean parameter.
func (r *request) boolean(name string) (value, set bool, e *Error) {
	switch strings.ToLower(r.p[name]) {
	case "":
		return false, false, nil
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, false, illegal(name, "%q is not true or false", r.p[name])
}

func (r *request) dryRun() (bool, *Error) {
	v, _, e := r.boolean("DryRun")
	return v, e
}

// ServeHTTP serves one RPC request.
func (m *Model) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	if err := hr.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody("", "", "InvalidParameter", "the request cannot be parsed: "+err.Error()))
		return
	}
	params := map[string]string{}
	for k, v := range hr.URL.Query() {
		params[k] = v[0]
	}
	for k, v := range hr.PostForm {
		params[k] = v[0]
	}
	status, body := m.serve(hr.Method, params)
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func errorBody(requestID, host, code, message string) []byte {
	body, _ := json.Marshal(struct{ RequestId, HostId, Code, Message string }{requestID, host, code, message})
	return body
}

// serve authenticates, counts and answers one request: the status and the
// JSON body.
func (m *Model) serve(method string, p map[string]string) (int, []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	requestID := m.requestID()
	host := hostID(p["Version"], p["RegionId"])
	fail := func(e *Error) (int, []byte) { return e.Status, errorBody(requestID, host, e.Code, e.Message) }

	account, e := m.authenticate(method, p)
	if e != nil {
		return fail(e)
	}
	r := &request{action: p["Action"], version: p["Version"], region: p["RegionId"], account: account, p: p}
	call := Call{Action: r.action, Version: r.version, Account: account, Region: r.region, Params: map[string]string{}}
	for k, v := range p {
		if !slices.Contains(commonParams, k) {
			call.Params[k] = v
		}
	}
	m.calls[r.action]++
	answer, e := m.dispatch(r)
	if e != nil {
		call.Code = e.Code
		m.log = append(m.log, call)
		return fail(e)
	}
	m.log = append(m.log, call)
	body, err := json.Marshal(answer)
	if err != nil {
		panic(err) // the SDK's response structs always marshal
	}
	return http.StatusOK, withRequestID(body, requestID)
}

// withRequestID sets the RequestId of a JSON object answer.
func withRequestID(body []byte, id string) []byte {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return body
	}
	fields["RequestId"], _ = json.Marshal(id)
	out, _ := json.Marshal(fields)
	return out
}

func (m *Model) requestID() string {
	m.seq++
	n := uint64(m.seq)
	return fmt.Sprintf("%08X-%04X-4%03X-8%03X-%012X", n*2654435761%(1<<32), n%0x10000, n%0x1000, (n*7)%0x1000, n*0x9E3779B9%(1<<48))
}

func hostID(version, region string) string {
	product := "privatelink"
	if version == NLBVersion {
		product = "nlb"
	}
	if region == "" {
		return product + ".aliyuncs.com"
	}
	return product + "." + region + ".aliyuncs.com"
}

// authenticate checks the signature of an RPC request and returns the
// caller's account UID.
func (m *Model) authenticate(method string, p map[string]string) (string, *Error) {
	for _, name := range signatureParams {
		if p[name] == "" {
			return "", missing(name)
		}
	}
	if p["SignatureMethod"] != "HMAC-SHA1" {
		return "", badRequest("IncompleteSignature", "The request signature does not conform to Aliyun standards: SignatureMethod %q is not HMAC-SHA1.", p["SignatureMethod"])
	}
	if p["SignatureVersion"] != "1.0" {
		return "", badRequest("IncompleteSignature", "The request signature does not conform to Aliyun standards: SignatureVersion %q is not 1.0.", p["SignatureVersion"])
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", p["Timestamp"])
	if err != nil {
		return "", badRequest("InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted: %s.", p["Timestamp"])
	}
	if d := time.Since(ts); d > 15*time.Minute || d < -15*time.Minute {
		return "", badRequest("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired: %s.", p["Timestamp"])
	}
	key, ok := m.keys[p["AccessKeyId"]]
	if !ok {
		return "", notFound("InvalidAccessKeyId.NotFound", "Specified access key is not found.")
	}
	toSign := StringToSign(method, p)
	want := Sign(toSign, key.secret)
	if !hmac.Equal([]byte(want), []byte(p["Signature"])) {
		return "", badRequest("SignatureDoesNotMatch", "Specified signature is not matched with our calculation. server string to sign is:%s", toSign)
	}
	if m.nonces[p["SignatureNonce"]] {
		return "", badRequest("SignatureNonceUsed", "Specified signature nonce was used already.")
	}
	m.nonces[p["SignatureNonce"]] = true
	return key.uid, nil
}

// StringToSign is the RPC string to sign of a request's parameters (query
// and form together, Signature left out): the method, the encoded "/" and
// the encoded canonical query, sorted by name, each name and value
// percent-encoded as RFC 3986 says (space as %20, "*" as %2A, "~" kept).
func StringToSign(method string, params map[string]string) string {
	names := slices.Sorted(maps.Keys(params))
	var b strings.Builder
	for _, k := range names {
		if k == "Signature" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(percentEncode(k) + "=" + percentEncode(params[k]))
	}
	return strings.ToUpper(method) + "&" + percentEncode("/") + "&" + percentEncode(b.String())
}

// Sign is the RPC signature of a string to sign: base64 of its HMAC-SHA1
// keyed with the secret and "&".
func Sign(stringToSign, secret string) string {
	h := hmac.New(sha1.New, []byte(secret+"&"))
	h.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

func percentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// page answers one page of items for a list action: MaxResults (capped at
// PageSize) of them from NextToken on, and the token of the next page ("" on
// the last). A token is only good for the action that answered it.
func page[T any](m *Model, r *request, items []T) ([]T, string, int, *Error) {
	size := m.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	max, set, e := r.integer("MaxResults")
	if e != nil {
		return nil, "", 0, e
	}
	if set {
		if max < 1 || max > 1000 {
			return nil, "", 0, illegal("MaxResults", "%d is not between 1 and 1000", max)
		}
		size = min(size, int(max))
	}
	start := 0
	if tok := r.get("NextToken"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		action, offset, ok := strings.Cut(string(raw), ":")
		n, aerr := strconv.Atoi(offset)
		if err != nil || !ok || action != r.action || aerr != nil || n < 0 || n > len(items) {
			return nil, "", 0, illegal("NextToken", "%q is not a token of %s", tok, r.action)
		}
		start = n
	}
	end := min(start+size, len(items))
	next := ""
	if end < len(items) {
		next = base64.RawURLEncoding.EncodeToString([]byte(r.action + ":" + strconv.Itoa(end)))
	}
	return items[start:end], next, size, nil
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
