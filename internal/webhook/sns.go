package webhook

// POST /webhooks/sns takes the AWS VPC endpoint connection notifications
// that the platform's endpoint service publishes to an SNS topic
// (CreateVpcEndpointConnectionNotification, events Connect, Accept, Reject
// and Delete) and SNS delivers by HTTPS. Each one only makes the customer's
// AWS links check the cloud at once: the signals carry nothing a workflow
// trusts.
//
// Every message is verified as "Verifying the signatures of Amazon SNS
// messages" says (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html):
// the topic must be allowed, the Timestamp recent, the SigningCertURL an
// https .pem on sns.<region>.amazonaws.com[.cn] (the topic's region), the
// certificate found there must chain to trusted roots and name SNS, and
// its key must have signed the string to sign of the message's type with
// RSA PKCS #1 v1.5 (SignatureVersion 1: SHA1, 2: SHA256).

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	_ "crypto/sha1"   // SignatureVersion 1
	_ "crypto/sha256" // SignatureVersion 2
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
	"go.uber.org/zap"

	"github.com/linkwright/linkwright/workflows"
)

// SNSConfig configures POST /webhooks/sns. Receiver embeds it, so that its
// fields read as the Receiver's (rc.SNSTopicARNs, ...).
type SNSConfig struct {
	// SNSTopicARNs are the topics whose messages are taken
	// (webhooks.snsTopicArns); a message from any other topic is refused.
	// Empty turns the SNS endpoint off.
	SNSTopicARNs []string
	// SNSWindow is how old a message's Timestamp may be: 1 hour by default
	// (SNS keeps the Timestamp of the publication on its retries).
	SNSWindow time.Duration
	// SNSCertClient fetches the signing certificates (and the issuers they
	// name, from *.amazontrust.com) and confirms subscriptions; nil is a
	// client with a 10-second timeout. Tests give one that reaches a
	// loopback server (snstest).
	SNSCertClient *http.Client
	// SNSRoots are the roots a signing certificate must chain to; nil is
	// the system's.
	SNSRoots *x509.CertPool
	// SNSEndpointOwner returns the AWS account that owns an endpoint
	// connected (or connecting) to the platform's endpoint service:
	// DescribeVpcEndpointConnections' VpcEndpointOwner. The connection
	// notification does not reliably name it; an owner the message names
	// (vpcEndpointOwner) is only used when this is nil or finds nothing.
	// An error answers 503, so that SNS delivers the message again.
	// region is the topic's, which is the endpoint service's.
	SNSEndpointOwner func(ctx context.Context, region, serviceID, endpointID string) (account string, err error)
}

// SNSHandler serves POST /webhooks/sns for the receiver, configured by c:
// Handler routes it as mux.Handle("POST /webhooks/sns", rc.SNSHandler(&rc.SNSConfig)).
func (rc *Receiver) SNSHandler(c *SNSConfig) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { rc.sns(c, w, r) })
}

// The SNS message types.
const (
	snsNotification = "Notification"
	snsSubscribe    = "SubscriptionConfirmation"
	snsUnsubscribe  = "UnsubscribeConfirmation"
)

// snsMessage is the JSON document SNS posts (HTTP/HTTPS Notification,
// SubscriptionConfirmation and UnsubscribeConfirmation JSON formats).
type snsMessage struct {
	Type      string `json:"Type"`
	MessageID string `json:"MessageId"`
	Token     string `json:"Token"`
	TopicArn  string `json:"TopicArn"`
	// Subject is signed only when present.
	Subject          *string `json:"Subject"`
	Message          string  `json:"Message"`
	SubscribeURL     string  `json:"SubscribeURL"`
	Timestamp        string  `json:"Timestamp"`
	SignatureVersion string  `json:"SignatureVersion"`
	Signature        string  `json:"Signature"`
	SigningCertURL   string  `json:"SigningCertURL"`
}

// snsStringToSign is the string SNS signs: each field's name and value,
// each followed by a newline, in this fixed order. A Notification signs
// Message, MessageId, Subject (only when present), Timestamp, TopicArn and
// Type; the confirmations sign Message, MessageId, SubscribeURL, Timestamp,
// Token, TopicArn and Type.
func snsStringToSign(m *snsMessage) string {
	var b strings.Builder
	add := func(name, value string) {
		b.WriteString(name)
		b.WriteByte('\n')
		b.WriteString(value)
		b.WriteByte('\n')
	}
	add("Message", m.Message)
	add("MessageId", m.MessageID)
	if m.Type == snsNotification {
		if m.Subject != nil {
			add("Subject", *m.Subject)
		}
	} else {
		add("SubscribeURL", m.SubscribeURL)
	}
	add("Timestamp", m.Timestamp)
	if m.Type != snsNotification {
		add("Token", m.Token)
	}
	add("TopicArn", m.TopicArn)
	add("Type", m.Type)
	return b.String()
}

func (c *SNSConfig) snsWindow() time.Duration {
	if c.SNSWindow > 0 {
		return c.SNSWindow
	}
	return time.Hour
}

// snsDefaultClient fetches certificates when no SNSCertClient is given.
var snsDefaultClient = &http.Client{Timeout: 10 * time.Second}

func (c *SNSConfig) snsClient() *http.Client {
	if c.SNSCertClient != nil {
		return c.SNSCertClient
	}
	return snsDefaultClient
}

// unavailableError is a failure to reach AWS, not a fault of the message:
// answered 503, so that SNS delivers it again.
type unavailableError struct{ error }

func (rc *Receiver) sns(c *SNSConfig, w http.ResponseWriter, r *http.Request) {
	if len(c.SNSTopicARNs) == 0 {
		http.Error(w, "the SNS webhook is not configured on this worker", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	var m snsMessage
	if err := json.Unmarshal(body, &m); err != nil {
		http.Error(w, "the body is not an SNS message: "+err.Error(), http.StatusBadRequest)
		return
	}
	if h := r.Header.Get("X-Amz-Sns-Message-Type"); h != "" && h != m.Type {
		http.Error(w, fmt.Sprintf("x-amz-sns-message-type %q is not the message's Type %q", h, m.Type), http.StatusBadRequest)
		return
	}
	switch m.Type {
	case snsNotification, snsSubscribe, snsUnsubscribe:
	default:
		http.Error(w, fmt.Sprintf("unknown SNS message Type %q", m.Type), http.StatusBadRequest)
		return
	}
	region, err := c.snsVerify(r.Context(), &m, rc.now())
	if err != nil {
		if _, ok := errors.AsType[unavailableError](err); ok {
			rc.log().Error("webhook: cannot verify the SNS message", zap.String("topic", m.TopicArn), zap.Error(err))
			http.Error(w, "cannot fetch the signing certificate; retry later", http.StatusServiceUnavailable)
			return
		}
		rc.refuse(w, r, err.Error())
		return
	}
	log := rc.log().With(zap.String("source", "sns"), zap.String("topic", m.TopicArn), zap.String("messageId", m.MessageID))
	switch m.Type {
	case snsSubscribe:
		rc.snsConfirm(c, w, r, &m, region, log)
	case snsUnsubscribe:
		log.Warn("SNS says this endpoint is unsubscribed from the topic: AWS notifications no longer reach the worker")
		fmt.Fprintln(w, "acknowledged: unsubscribed from "+m.TopicArn)
	default:
		rc.snsNotify(c, w, r.Context(), &m, log)
	}
}

// verify checks the message as AWS documents, cheapest checks first; it
// returns the topic's region.
func (c *SNSConfig) snsVerify(ctx context.Context, m *snsMessage, now time.Time) (string, error) {
	if m.Signature == "" || m.SignatureVersion == "" || m.SigningCertURL == "" {
		return "", errors.New("unsigned: Signature, SignatureVersion and SigningCertURL are required")
	}
	if !slices.Contains(c.SNSTopicARNs, m.TopicArn) {
		return "", fmt.Errorf("topic %q is not one of webhooks.snsTopicArns", m.TopicArn)
	}
	region, ok := topicRegion(m.TopicArn)
	if !ok {
		return "", fmt.Errorf("topic %q is not an SNS topic ARN", m.TopicArn)
	}
	at, err := time.Parse(time.RFC3339Nano, m.Timestamp)
	if err != nil || now.Sub(at).Abs() > c.snsWindow() {
		return "", fmt.Errorf("stale or unreadable Timestamp %q", m.Timestamp)
	}
	var hash crypto.Hash
	switch m.SignatureVersion {
	case "1":
		hash = crypto.SHA1
	case "2":
		hash = crypto.SHA256
	default:
		return "", fmt.Errorf("unsupported SignatureVersion %q", m.SignatureVersion)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		return "", errors.New("the Signature is not base64")
	}
	certURL, why := snsURL(m.SigningCertURL, region)
	switch {
	case why != "":
		return "", errors.New("SigningCertURL " + why)
	case !strings.HasSuffix(certURL.Path, ".pem"):
		return "", errors.New("SigningCertURL is not a .pem")
	}
	leaf, err := c.snsSigningCert(ctx, certURL, now)
	if err != nil {
		return "", err
	}
	pub, ok := leaf.PublicKey.(*rsa.PublicKey)
	if !ok {
		return "", errors.New("the signing certificate's key is not RSA")
	}
	h := hash.New()
	h.Write([]byte(snsStringToSign(m)))
	if rsa.VerifyPKCS1v15(pub, hash, h.Sum(nil), sig) != nil {
		return "", errors.New("bad signature")
	}
	return region, nil
}

// topicRegion reads the region of arn:<partition>:sns:<region>:<account>:<name>.
func topicRegion(arn string) (string, bool) {
	p := strings.Split(arn, ":")
	if len(p) != 6 || p[0] != "arn" || p[2] != "sns" || !regionRe.MatchString(p[3]) || p[5] == "" {
		return "", false
	}
	return p[3], true
}

var (
	regionRe = regexp.MustCompile(`^[a-z]{2}(-[a-z0-9]+)+$`)
	// snsHostRe is an SNS endpoint: sns.<region>.amazonaws.com, or
	// .amazonaws.com.cn in China.
	snsHostRe = regexp.MustCompile(`^sns\.([a-z]{2}(?:-[a-z0-9]+)+)\.(amazonaws\.com(?:\.cn)?)$`)
)

// snsURL checks a URL SNS gives (SigningCertURL, SubscribeURL): https on
// the SNS endpoint of the topic's region, no port, no credentials; why
// says what is wrong.
func snsURL(raw, region string) (u *url.URL, why string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, "is not a URL"
	case u.Scheme != "https":
		return nil, fmt.Sprintf("%q is not https", raw)
	case u.User != nil || u.Port() != "":
		return nil, fmt.Sprintf("%q names credentials or a port", raw)
	}
	sub := snsHostRe.FindStringSubmatch(u.Host)
	switch {
	case sub == nil:
		return nil, fmt.Sprintf("host %q is not sns.<region>.amazonaws.com", u.Host)
	case sub[1] != region:
		return nil, fmt.Sprintf("host %q is not in the topic's region %s", u.Host, region)
	case strings.HasPrefix(region, "cn-") != (sub[2] == "amazonaws.com.cn"):
		return nil, fmt.Sprintf("host %q is not in the topic's partition", u.Host)
	}
	return u, ""
}

// snsCertNames are the names a signing certificate fetched from host may
// carry. SNS's certificates name SNS, not always the endpoint they are
// served from: sns.amazonaws.com in most regions,
// sns-signing.<region>.amazonaws.com in the newer ones,
// sns-<region>.amazonaws.com.cn in China, sns-us-gov-west-1.amazonaws.com
// in GovCloud (the AWS SDK for Java v2's SnsHostProvider lists them); the
// endpoint itself is taken too.
func snsCertNames(host string) []string {
	sub := snsHostRe.FindStringSubmatch(host)
	if sub == nil {
		return nil
	}
	region, suffix := sub[1], sub[2]
	names := []string{host, "sns." + suffix, "sns-signing." + region + "." + suffix, "sns-" + region + "." + suffix}
	if strings.HasPrefix(region, "us-gov-") {
		names = append(names, "sns-us-gov-west-1.amazonaws.com")
	}
	return names
}

// signingCert fetches (or finds in the cache) the certificate at u and
// checks that it chains to the roots, is valid now and names SNS.
func (c *SNSConfig) snsSigningCert(ctx context.Context, u *url.URL, now time.Time) (*x509.Certificate, error) {
	certs, err := c.snsFetchCerts(ctx, u.String())
	if err != nil {
		return nil, err
	}
	leaf := certs[0]
	inter := x509.NewCertPool()
	for _, x := range certs[1:] {
		inter.AddCert(x)
	}
	opts := x509.VerifyOptions{Roots: c.SNSRoots, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	_, err = leaf.Verify(opts)
	// SNS serves the certificate alone: its issuer is fetched from where
	// the certificate says (Authority Information Access), as browsers
	// do, when it is an Amazon Trust Services address.
	for cur, hops := leaf, 0; err != nil && hops < 3; hops++ {
		if _, unknown := errors.AsType[x509.UnknownAuthorityError](err); !unknown {
			break
		}
		issuerURL := amazonTrustURL(cur.IssuingCertificateURL)
		if issuerURL == "" {
			break
		}
		issuers, ferr := c.snsFetchCerts(ctx, issuerURL)
		if ferr != nil {
			return nil, ferr
		}
		for _, x := range issuers {
			inter.AddCert(x)
		}
		cur = issuers[0]
		_, err = leaf.Verify(opts)
	}
	if err != nil {
		return nil, fmt.Errorf("the signing certificate at %s is not trusted: %v", u, err)
	}
	if !namesOneOf(leaf, snsCertNames(u.Host)) {
		return nil, fmt.Errorf("the signing certificate at %s is for %s, not SNS", u, strings.Join(append(leaf.DNSNames, leaf.Subject.CommonName), ", "))
	}
	return leaf, nil
}

// amazonTrustURL is the first of the issuer URLs on *.amazontrust.com
// (where Amazon's certificate authorities publish their certificates).
func amazonTrustURL(urls []string) string {
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.User == nil && strings.HasSuffix(u.Hostname(), ".amazontrust.com") {
			return raw
		}
	}
	return ""
}

// namesOneOf reports whether the certificate is valid for one of the
// names (its DNS names; its common name only when it has none).
func namesOneOf(cert *x509.Certificate, names []string) bool {
	for _, n := range names {
		if len(cert.DNSNames) == 0 && strings.EqualFold(cert.Subject.CommonName, n) {
			return true
		}
		if cert.VerifyHostname(n) == nil {
			return true
		}
	}
	return false
}

// snsCertCache keeps the certificates fetched, by client and URL (SNS
// gives each signing certificate its own URL). It holds what was fetched,
// not a verdict: every message is verified against the current roots.
var snsCertCache = struct {
	sync.Mutex
	m map[snsCertKey][]*x509.Certificate
}{m: map[snsCertKey][]*x509.Certificate{}}

type snsCertKey struct {
	client *http.Client
	url    string
}

// fetchCerts reads the certificates at rawURL (PEM, or one DER
// certificate), from the cache when there.
func (c *SNSConfig) snsFetchCerts(ctx context.Context, rawURL string) ([]*x509.Certificate, error) {
	key := snsCertKey{c.snsClient(), rawURL}
	snsCertCache.Lock()
	certs, ok := snsCertCache.m[key]
	snsCertCache.Unlock()
	if ok {
		return certs, nil
	}
	data, err := snsGet(ctx, key.client, rawURL, 64<<10)
	if err != nil {
		return nil, err
	}
	certs, err = parseCerts(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rawURL, err)
	}
	snsCertCache.Lock()
	if len(snsCertCache.m) >= 256 { // only fetches that worked are kept; bound them anyway
		clear(snsCertCache.m)
	}
	snsCertCache.m[key] = certs
	snsCertCache.Unlock()
	return certs, nil
}

func parseCerts(data []byte) ([]*x509.Certificate, error) {
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		cert, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, errors.New("not a certificate")
		}
		return []*x509.Certificate{cert}, nil
	}
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, errors.New("not a certificate")
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, errors.New("no certificate in the PEM")
	}
	return certs, nil
}

// snsGet GETs rawURL and reads at most limit bytes. Network failures and
// 5xx answers are unavailableError; redirects are not followed.
func snsGet(ctx context.Context, client *http.Client, rawURL string, limit int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	noRedirect := *client
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirect.Do(req)
	if err != nil {
		return nil, unavailableError{fmt.Errorf("GET %s: %w", req.URL.Redacted(), err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	switch {
	case resp.StatusCode >= 500:
		return nil, unavailableError{fmt.Errorf("GET %s: %s", req.URL.Redacted(), resp.Status)}
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("GET %s: %s", req.URL.Redacted(), resp.Status)
	case err != nil:
		return nil, unavailableError{fmt.Errorf("GET %s: %w", req.URL.Redacted(), err)}
	}
	return data, nil
}

// snsConfirm confirms a subscription to an allowed topic by visiting its
// SubscribeURL, which must be the SNS endpoint of the topic's region.
func (rc *Receiver) snsConfirm(c *SNSConfig, w http.ResponseWriter, r *http.Request, m *snsMessage, region string, log *zap.Logger) {
	u, why := snsURL(m.SubscribeURL, region)
	if why == "" {
		if q := u.Query(); q.Get("Action") != "ConfirmSubscription" || q.Get("TopicArn") != m.TopicArn {
			why = "is not the ConfirmSubscription of " + m.TopicArn
		}
	}
	if why != "" {
		rc.refuse(w, r, "SubscribeURL "+why)
		return
	}
	if _, err := snsGet(r.Context(), c.snsClient(), u.String(), 64<<10); err != nil {
		// The token is in the URL: log the host only.
		log.Error("webhook: cannot confirm the SNS subscription", zap.String("host", u.Host), zap.String("error", strings.ReplaceAll(err.Error(), u.RawQuery, "…")))
		http.Error(w, "cannot confirm the subscription; retry later", http.StatusBadGateway)
		return
	}
	log.Info("SNS subscription confirmed")
	fmt.Fprintln(w, "confirmed the subscription to "+m.TopicArn)
}

// endpointNotification is the Message of an endpoint connection
// notification, e.g. {"endpointServiceId": "vpce-svc-...", "endpointId":
// "vpce-...", "endpointState": "pendingAcceptance", "eventType": "Connect"}.
// Unknown fields are ignored; the EC2 API's names for the same facts
// (VpcEndpointId, ServiceId, VpcEndpointState, VpcEndpointOwner) are
// taken too.
type endpointNotification struct {
	EventType  string `json:"eventType"`
	EndpointID string `json:"endpointId"`
	ServiceID  string `json:"endpointServiceId"`
	State      string `json:"endpointState"`

	VpcEndpointID    string `json:"vpcEndpointId"`
	EC2ServiceID     string `json:"serviceId"`
	VpcEndpointState string `json:"vpcEndpointState"`
	Owner            string `json:"vpcEndpointOwner"`
}

var (
	endpointIDRe = regexp.MustCompile(`^vpce-[0-9a-f]{8,32}$`)
	serviceIDRe  = regexp.MustCompile(`^vpce-svc-[0-9a-f]{8,32}$`)
	stateRe      = regexp.MustCompile(`^[A-Za-z]{1,32}$`)
	eventTypeRe  = regexp.MustCompile(`^[A-Za-z]{1,32}$`)
	awsAccountRe = regexp.MustCompile(`^[0-9]{12}$`)
)

// enablementSignal is the signal an event makes the enablement check on:
// a refusal or a deletion is a re-check too.
var enablementSignal = map[string]string{
	"Connect": workflows.SignalCustomerEndpointCreated,
	"Accept":  workflows.SignalCustomerConnectionAccepted,
	"Reject":  workflows.SignalCustomerEndpointCreated,
	"Delete":  workflows.SignalCustomerEndpointCreated,
}

// parseEndpointNotification reads the notification, refusing what is not one.
func parseEndpointNotification(message string) (endpointNotification, error) {
	var n endpointNotification
	dec := json.NewDecoder(strings.NewReader(message))
	if err := dec.Decode(&n); err != nil {
		return n, errors.New("not a JSON object")
	}
	if dec.More() {
		return n, errors.New("more than one JSON value")
	}
	n.EndpointID = firstOf(n.EndpointID, n.VpcEndpointID)
	n.ServiceID = firstOf(n.ServiceID, n.EC2ServiceID)
	n.State = firstOf(n.State, n.VpcEndpointState)
	n.Owner = strings.ReplaceAll(strings.TrimSpace(n.Owner), "-", "")
	switch {
	case !eventTypeRe.MatchString(n.EventType):
		return n, fmt.Errorf("eventType %q", n.EventType)
	case !endpointIDRe.MatchString(n.EndpointID):
		return n, fmt.Errorf("endpointId %q is not a VPC endpoint ID", n.EndpointID)
	case n.ServiceID != "" && !serviceIDRe.MatchString(n.ServiceID):
		return n, fmt.Errorf("endpointServiceId %q is not an endpoint service ID", n.ServiceID)
	case n.State != "" && !stateRe.MatchString(n.State):
		return n, fmt.Errorf("endpointState %q", n.State)
	case n.Owner != "" && !awsAccountRe.MatchString(n.Owner):
		return n, fmt.Errorf("vpcEndpointOwner %q is not an AWS account ID", n.Owner)
	}
	for known := range enablementSignal {
		if strings.EqualFold(n.EventType, known) {
			n.EventType = known
		}
	}
	return n, nil
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// snsNotify nudges the running AWS links of the endpoint's owner.
func (rc *Receiver) snsNotify(c *SNSConfig, w http.ResponseWriter, ctx context.Context, m *snsMessage, log *zap.Logger) {
	n, err := parseEndpointNotification(m.Message)
	if err != nil {
		log.Warn("webhook: the SNS message is not a VPC endpoint connection notification", zap.Error(err))
		http.Error(w, "the Message is not a VPC endpoint connection notification: "+err.Error(), http.StatusBadRequest)
		return
	}
	log = log.With(zap.String("event", n.EventType), zap.String("endpointId", n.EndpointID), zap.String("serviceId", n.ServiceID), zap.String("state", n.State))
	signal, known := enablementSignal[n.EventType]
	if !known {
		log.Info("SNS notification ignored: not a connection event Linkwright knows")
		fmt.Fprintln(w, "ignored: event type "+n.EventType)
		return
	}
	owner := ""
	if c.SNSEndpointOwner != nil {
		region, _ := topicRegion(m.TopicArn)
		owner, err = c.SNSEndpointOwner(ctx, region, n.ServiceID, n.EndpointID)
		if err != nil {
			log.Error("webhook: cannot look up the endpoint's owner", zap.Error(err))
			http.Error(w, "cannot look up the endpoint's owner; retry later", http.StatusServiceUnavailable)
			return
		}
		owner = strings.ReplaceAll(strings.TrimSpace(owner), "-", "")
	}
	if owner == "" {
		owner = n.Owner
	}
	if !awsAccountRe.MatchString(owner) {
		log.Warn("SNS notification ignored: the endpoint's owner is unknown", zap.String("owner", owner),
			zap.Bool("lookup", c.SNSEndpointOwner != nil))
		fmt.Fprintln(w, "ignored: the owner of "+n.EndpointID+" is unknown")
		return
	}
	log = log.With(zap.String("account", owner))
	links, err := rc.awsLinks(ctx, owner)
	if err != nil {
		log.Error("webhook: cannot look up the links", zap.Error(err))
		http.Error(w, "cannot reach Temporal; retry later", http.StatusServiceUnavailable)
		return
	}
	detail := "AWS notification: " + n.EventType + " " + n.EndpointID
	if n.State != "" {
		detail += " (" + n.State + ")"
	}
	var enablements, live int
	for _, ex := range links {
		id := ex.GetExecution().GetWorkflowId()
		name, arg := signal, any(workflows.CustomerEvent{Detail: detail})
		if ex.GetType().GetName() == workflows.LiveWorkflow {
			name, arg = workflows.SignalCheckNow, nil
		}
		err := rc.Signaler.SignalWorkflow(ctx, id, "", name, arg)
		if _, gone := errors.AsType[*serviceerror.NotFound](err); gone {
			log.Info("webhook: the link ended meanwhile", zap.String("workflowId", id))
			continue
		}
		if err != nil {
			log.Error("webhook: signal failed", zap.String("workflowId", id), zap.String("signal", name), zap.Error(err))
			http.Error(w, "signal failed; retry later", http.StatusServiceUnavailable)
			return
		}
		log.Info("webhook signalled", zap.String("workflowId", id), zap.String("signal", name))
		if name == workflows.SignalCheckNow {
			live++
		} else {
			enablements++
		}
	}
	if enablements+live == 0 {
		log.Info("SNS notification ignored: no running AWS link of the account")
		fmt.Fprintln(w, "ignored: no running AWS link of account "+owner)
		return
	}
	fmt.Fprintf(w, "signalled %s to %d enablement(s) and %s to %d live link(s)\n", signal, enablements, workflows.SignalCheckNow, live)
}

// awsLinks lists the running enablements and live links on AWS of the
// customer account. The query asks for AWS only, and each answer's search
// attributes are checked again: no other cloud's workflow is signalled.
func (rc *Receiver) awsLinks(ctx context.Context, account string) ([]*workflowpb.WorkflowExecutionInfo, error) {
	query := fmt.Sprintf("%s = 'aws' AND %s = '%s' AND WorkflowType IN ('%s', '%s') AND ExecutionStatus = 'Running'",
		workflows.SACloud.GetName(), workflows.SACustomerAccount.GetName(), account, workflows.EnablementWorkflow, workflows.LiveWorkflow)
	var out []*workflowpb.WorkflowExecutionInfo
	var token []byte
	for range 20 {
		resp, err := rc.Signaler.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, NextPageToken: token})
		if err != nil {
			return nil, err
		}
		for _, ex := range resp.GetExecutions() {
			sa := ex.GetSearchAttributes().GetIndexedFields()
			t := ex.GetType().GetName()
			if (t == workflows.EnablementWorkflow || t == workflows.LiveWorkflow) &&
				saKeyword(sa[workflows.SACloud.GetName()]) == "aws" && saKeyword(sa[workflows.SACustomerAccount.GetName()]) == account {
				out = append(out, ex)
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	return out, nil
}

// saKeyword reads a keyword search attribute ("" when absent or unreadable).
func saKeyword(p *commonpb.Payload) string {
	var v string
	if p == nil || converter.GetDefaultDataConverter().FromPayload(p, &v) != nil {
		return ""
	}
	return v
}
