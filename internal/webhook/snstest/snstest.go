// Package snstest signs Amazon SNS messages the way SNS does, for tests of
// POST /webhooks/sns: a Signer makes up a certificate authority (a root and
// an intermediate), a signing certificate for sns.us-east-1.amazonaws.com
// issued by the intermediate, and serves, on loopback, what AWS serves:
// the certificate alone as a .pem on the SNS endpoint (over HTTPS), its
// issuer on crt.snstest.amazontrust.com (over HTTP, named by the
// certificate), and the SubscribeURLs of subscription confirmations.
//
//	s, err := snstest.NewSigner()
//	defer s.Close()
//	s.Configure(&rc.SNSConfig) // roots and the client that reaches the servers
//	body, err := s.Notification(topicARN, snstest.EndpointNotification("Connect", "vpce-0123456789abcdef0", "vpce-svc-0123456789abcdef0", "pendingAcceptance", ""))
//	// POST body to /webhooks/sns
package snstest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/linkwright/linkwright/internal/webhook"
)

// Region is where the Signer's SNS lives: topics signed with its
// certificate must be in this region (the receiver checks that the
// certificate comes from the topic's region).
const Region = "us-east-1"

// Host is the SNS endpoint the Signer's certificate names and is served from.
const Host = "sns." + Region + ".amazonaws.com"

// issuerHost serves the intermediate's certificate, as Amazon Trust
// Services' crt.*.amazontrust.com do.
const issuerHost = "crt.snstest.amazontrust.com"

// Signer signs SNS messages with a certificate it made up, and serves the
// certificate to the receiver through its Client.
type Signer struct {
	// Now stamps the messages (time.Now by default).
	Now func() time.Time
	// SignatureVersion is what the helpers sign with: "1" (SHA1, the SNS
	// default) unless set to "2" (SHA256).
	SignatureVersion string
	// CertURL is the signing certificate's SigningCertURL.
	CertURL string

	key      *rsa.PrivateKey
	roots    *x509.CertPool
	leafPEM  []byte
	interDER []byte
	client   *http.Client
	sns      *httptest.Server // https: the SNS endpoints
	crt      *httptest.Server // http: the issuer's certificate

	mu       sync.Mutex
	files    map[string][]byte
	requests []string
}

// NewSigner makes the certificate authority and the signing certificate
// and starts the loopback servers; Close stops them.
func NewSigner() (*Signer, error) {
	notBefore, notAfter := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC)
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	root := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "snstest root CA"},
		NotBefore: notBefore, NotAfter: notAfter, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, root, root, &rootKey.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	root, _ = x509.ParseCertificate(rootDER)
	interKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	inter := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "snstest intermediate CA"},
		NotBefore: notBefore, NotAfter: notAfter, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	interDER, err := x509.CreateCertificate(rand.Reader, inter, root, &interKey.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	inter, _ = x509.ParseCertificate(interDER)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: Host}, DNSNames: []string{Host},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IssuingCertificateURL: []string{"http://" + issuerHost + "/intermediate.cer"},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, inter, &key.PublicKey, interKey)
	if err != nil {
		return nil, err
	}
	// The HTTPS servers' own certificate: every SNS endpoint a test may name.
	tlsKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	var hosts []string
	for _, r := range []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1", "ap-northeast-1"} {
		hosts = append(hosts, "sns."+r+".amazonaws.com")
	}
	hosts = append(hosts, "sns.cn-north-1.amazonaws.com.cn")
	serving := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: Host}, DNSNames: hosts,
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	servingDER, err := x509.CreateCertificate(rand.Reader, serving, root, &tlsKey.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}

	s := &Signer{
		key: key, roots: x509.NewCertPool(), interDER: interDER,
		leafPEM:          pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		CertURL:          "https://" + Host + "/SimpleNotificationService-" + randomHex(16) + ".pem",
		SignatureVersion: "1",
		files:            map[string][]byte{},
	}
	s.roots.AddCert(root)
	s.sns = httptest.NewUnstartedServer(http.HandlerFunc(s.serveSNS))
	s.sns.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{servingDER}, PrivateKey: tlsKey}}}
	s.sns.StartTLS()
	s.crt = httptest.NewServer(http.HandlerFunc(s.serveCrt))
	clientRoots := x509.NewCertPool()
	clientRoots.AddCert(root)
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	s.client = &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: clientRoots},
			// Every SNS endpoint is the HTTPS server, every
			// *.amazontrust.com the HTTP one; nothing else is reached.
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				host, port, err := net.SplitHostPort(addr)
				if err != nil {
					return nil, err
				}
				switch {
				case port == "443" && (strings.HasSuffix(host, ".amazonaws.com") || strings.HasSuffix(host, ".amazonaws.com.cn")):
					return dialer.DialContext(ctx, network, s.sns.Listener.Addr().String())
				case port == "80" && strings.HasSuffix(host, ".amazontrust.com"):
					return dialer.DialContext(ctx, network, s.crt.Listener.Addr().String())
				}
				return nil, fmt.Errorf("snstest: %s is not an AWS address the signer serves", addr)
			},
		},
	}
	return s, nil
}

// Close stops the servers.
func (s *Signer) Close() {
	s.client.CloseIdleConnections()
	s.sns.Close()
	s.crt.Close()
}

// Configure makes the receiver trust the Signer's root and fetch through
// its Client.
func (s *Signer) Configure(c *webhook.SNSConfig) {
	c.SNSRoots = s.Roots()
	c.SNSCertClient = s.client
}

// Roots holds the Signer's root certificate.
func (s *Signer) Roots() *x509.CertPool { return s.roots.Clone() }

// Client reaches the Signer's servers, whatever AWS address it is asked for.
func (s *Signer) Client() *http.Client { return s.client }

// Serve makes the SNS endpoints answer GET path with body (e.g. another
// certificate).
func (s *Signer) Serve(path string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path] = body
}

// Requests are the requests the servers took, as host and request URI,
// oldest first.
func (s *Signer) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// Confirmations are the SubscribeURLs visited (ConfirmSubscription
// requests), oldest first.
func (s *Signer) Confirmations() []string {
	var out []string
	for _, r := range s.Requests() {
		if u, err := url.Parse("https://" + r); err == nil && u.Query().Get("Action") == "ConfirmSubscription" {
			out = append(out, "https://"+r)
		}
	}
	return out
}

func (s *Signer) record(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Host+r.URL.RequestURI())
}

func (s *Signer) serveSNS(w http.ResponseWriter, r *http.Request) {
	s.record(r)
	s.mu.Lock()
	file, ok := s.files[r.URL.Path]
	s.mu.Unlock()
	switch {
	case r.Method != http.MethodGet:
		http.Error(w, "GET only", http.StatusMethodNotAllowed)
	case r.URL.Path == strings.TrimPrefix(s.CertURL, "https://"+Host) && r.Host == Host:
		w.Header().Set("Content-Type", "application/x-x509-ca-cert")
		_, _ = w.Write(s.leafPEM)
	case ok:
		_, _ = w.Write(file)
	case r.URL.Path == "/" && r.URL.Query().Get("Action") == "ConfirmSubscription":
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ConfirmSubscriptionResult><SubscriptionArn>%s:%s</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>`,
			r.URL.Query().Get("TopicArn"), randomHex(8))
	default:
		http.NotFound(w, r)
	}
}

func (s *Signer) serveCrt(w http.ResponseWriter, r *http.Request) {
	s.record(r)
	if r.Method != http.MethodGet || r.URL.Path != "/intermediate.cer" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-cert")
	_, _ = w.Write(s.interDER)
}

// Message is an SNS message as SNS posts it (the HTTP/HTTPS JSON formats).
type Message struct {
	Type             string  `json:"Type"`
	MessageID        string  `json:"MessageId"`
	Token            string  `json:"Token,omitempty"`
	TopicArn         string  `json:"TopicArn"`
	Subject          *string `json:"Subject,omitempty"`
	Message          string  `json:"Message"`
	SubscribeURL     string  `json:"SubscribeURL,omitempty"`
	Timestamp        string  `json:"Timestamp"`
	SignatureVersion string  `json:"SignatureVersion"`
	Signature        string  `json:"Signature"`
	SigningCertURL   string  `json:"SigningCertURL"`
	UnsubscribeURL   string  `json:"UnsubscribeURL,omitempty"`
}

// StringToSign is what SNS signs ("Verifying the signatures of Amazon SNS
// messages"): name and value of each field, each followed by a newline;
// for a Notification Message, MessageId, Subject (if present), Timestamp,
// TopicArn, Type; for the confirmations Message, MessageId, SubscribeURL,
// Timestamp, Token, TopicArn, Type.
func StringToSign(m Message) string {
	fields := []string{"Message", m.Message, "MessageId", m.MessageID}
	if m.Type == "Notification" {
		if m.Subject != nil {
			fields = append(fields, "Subject", *m.Subject)
		}
		fields = append(fields, "Timestamp", m.Timestamp)
	} else {
		fields = append(fields, "SubscribeURL", m.SubscribeURL, "Timestamp", m.Timestamp, "Token", m.Token)
	}
	fields = append(fields, "TopicArn", m.TopicArn, "Type", m.Type)
	return strings.Join(fields, "\n") + "\n"
}

// Signed fills what m leaves empty (MessageId, Timestamp, SignatureVersion,
// SigningCertURL) and signs it; SignatureVersion other than "1" and "2"
// signs as "2".
func (s *Signer) Signed(m Message) Message {
	if m.MessageID == "" {
		m.MessageID = uuid()
	}
	if m.Timestamp == "" {
		m.Timestamp = s.now().UTC().Format("2006-01-02T15:04:05.000Z")
	}
	if m.SignatureVersion == "" {
		m.SignatureVersion = s.SignatureVersion
	}
	if m.SigningCertURL == "" {
		m.SigningCertURL = s.CertURL
	}
	hash, sum := crypto.SHA256, sha256.Sum256([]byte(StringToSign(m)))
	digest := sum[:]
	if m.SignatureVersion == "1" {
		sum1 := sha1.Sum([]byte(StringToSign(m)))
		hash, digest = crypto.SHA1, sum1[:]
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, hash, digest)
	if err != nil {
		panic(err) // a 2048-bit key signs any digest
	}
	m.Signature = base64.StdEncoding.EncodeToString(sig)
	return m
}

// Sign is Signed, as the JSON body SNS would post.
func (s *Signer) Sign(m Message) ([]byte, error) {
	return json.MarshalIndent(s.Signed(m), "", "  ")
}

// Notification is a signed Notification of message on the topic.
func (s *Signer) Notification(topicARN string, message []byte) ([]byte, error) {
	return s.Sign(Message{
		Type: "Notification", TopicArn: topicARN, Message: string(message),
		UnsubscribeURL: "https://" + Host + "/?Action=Unsubscribe&SubscriptionArn=" + topicARN + ":" + uuid(),
	})
}

// SubscriptionConfirmation is a signed SubscriptionConfirmation for the
// topic, whose SubscribeURL is on the topic region's SNS endpoint.
func (s *Signer) SubscriptionConfirmation(topicARN string) ([]byte, error) {
	return s.Sign(s.confirmation("SubscriptionConfirmation", topicARN,
		"You have chosen to subscribe to the topic "+topicARN+".\nTo confirm the subscription, visit the SubscribeURL included in this message."))
}

// UnsubscribeConfirmation is a signed UnsubscribeConfirmation for the topic.
func (s *Signer) UnsubscribeConfirmation(topicARN string) ([]byte, error) {
	return s.Sign(s.confirmation("UnsubscribeConfirmation", topicARN,
		"You have chosen to deactivate subscription "+topicARN+":"+uuid()+".\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message."))
}

func (s *Signer) confirmation(typ, topicARN, message string) Message {
	region := Region
	if p := strings.Split(topicARN, ":"); len(p) == 6 {
		region = p[3]
	}
	suffix := ".amazonaws.com"
	if strings.HasPrefix(region, "cn-") {
		suffix += ".cn"
	}
	token := randomHex(128)
	return Message{
		Type: typ, TopicArn: topicARN, Token: token, Message: message,
		SubscribeURL: "https://sns." + region + suffix + "/?Action=ConfirmSubscription&TopicArn=" + topicARN + "&Token=" + token,
	}
}

// EndpointNotification is the Message of a VPC endpoint connection
// notification: {"endpointServiceId", "endpointId", "endpointState",
// "eventType"}, and "vpcEndpointOwner" when owner is given; empty values
// are left out.
func EndpointNotification(eventType, endpointID, serviceID, state, owner string) []byte {
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(struct {
		ServiceID  string `json:"endpointServiceId,omitempty"`
		EndpointID string `json:"endpointId,omitempty"`
		State      string `json:"endpointState,omitempty"`
		EventType  string `json:"eventType,omitempty"`
		Owner      string `json:"vpcEndpointOwner,omitempty"`
	}{serviceID, endpointID, state, eventType, owner})
	return bytes.TrimSpace(b.Bytes())
}

func (s *Signer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}

func randomHex(n int) string {
	b := make([]byte, n/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func uuid() string {
	h := randomHex(32)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}
