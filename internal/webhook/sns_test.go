package webhook_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/linkwright/linkwright/internal/webhook"
	"github.com/linkwright/linkwright/internal/webhook/snstest"
	"github.com/linkwright/linkwright/workflows"
)

const (
	snsTopic   = "arn:aws:sns:us-east-1:111122223333:linkwright-endpoint-events"
	customer   = "123456789012"
	endpointID = "vpce-0a1b2c3d4e5f60718"
	serviceID  = "vpce-svc-0123456789abcdef0"
	enablement = "privatelink/abcd1234efgh5/production/aws"
	liveLink   = "privatelink-live/abcd1234efgh5/production/aws"
)

var snsNow = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// snsLink is a running workflow the fake lists.
type snsLink struct{ id, typ, cloud, account string }

type snsSignal struct {
	id, name string
	arg      any
}

// snsFake lists the links whose account the query names, whatever their
// cloud or type: the receiver must check those itself.
type snsFake struct {
	mu      sync.Mutex
	links   []snsLink
	queries []string
	sent    []snsSignal
	// signalErr is what SignalWorkflow answers.
	signalErr error
}

func keyword(t string) *commonpb.Payload {
	p, err := converter.GetDefaultDataConverter().ToPayload(t)
	if err != nil {
		panic(err)
	}
	return p
}

func (f *snsFake) ListWorkflow(_ context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, req.Query)
	resp := &workflowservice.ListWorkflowExecutionsResponse{}
	for _, l := range f.links {
		if strings.Contains(req.Query, "'"+l.account+"'") {
			resp.Executions = append(resp.Executions, &workflowpb.WorkflowExecutionInfo{
				Execution: &commonpb.WorkflowExecution{WorkflowId: l.id},
				Type:      &commonpb.WorkflowType{Name: l.typ},
				SearchAttributes: &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{
					workflows.SACloud.GetName(): keyword(l.cloud), workflows.SACustomerAccount.GetName(): keyword(l.account),
				}},
			})
		}
	}
	return resp, nil
}

func (f *snsFake) SignalWorkflow(_ context.Context, id, _, name string, arg any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.signalErr != nil {
		return f.signalErr
	}
	f.sent = append(f.sent, snsSignal{id, name, arg})
	return nil
}

func (f *snsFake) UpdateWorkflow(context.Context, client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	return nil, errors.New("no update on SNS messages")
}

// lookups records the SNSEndpointOwner calls.
type lookups struct {
	mu    sync.Mutex
	calls []string
}

func snsSetup(t *testing.T) (*webhook.Receiver, *webhook.SNSConfig, *snstest.Signer, *snsFake, *lookups) {
	t.Helper()
	s, err := snstest.NewSigner()
	require.NoError(t, err)
	t.Cleanup(s.Close)
	s.Now = func() time.Time { return snsNow }
	f := &snsFake{links: []snsLink{
		{enablement, workflows.EnablementWorkflow, "aws", customer},
		{liveLink, workflows.LiveWorkflow, "aws", customer},
		{"privatelink/zzzz/production/aws", workflows.EnablementWorkflow, "aws", "999988887777"},
	}}
	lk := &lookups{}
	c := &webhook.SNSConfig{
		SNSTopicARNs: []string{snsTopic},
		SNSEndpointOwner: func(_ context.Context, _, svc, ep string) (string, error) {
			lk.mu.Lock()
			defer lk.mu.Unlock()
			lk.calls = append(lk.calls, svc+" "+ep)
			if ep == endpointID {
				return customer, nil
			}
			return "", nil
		},
	}
	s.Configure(c)
	return &webhook.Receiver{Signaler: f, Now: func() time.Time { return snsNow }}, c, s, f, lk
}

func snsPost(rc *webhook.Receiver, c *webhook.SNSConfig, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/sns", bytes.NewReader(body))
	var m struct{ Type string }
	if json.Unmarshal(body, &m) == nil && m.Type != "" {
		req.Header.Set("x-amz-sns-message-type", m.Type)
	}
	rec := httptest.NewRecorder()
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/sns", rc.SNSHandler(c))
	mux.ServeHTTP(rec, req)
	return rec
}

func connect() []byte {
	return snstest.EndpointNotification("Connect", endpointID, serviceID, "pendingAcceptance", "")
}

func TestSNSNotificationNudgesTheOwnersAWSLinks(t *testing.T) {
	events := map[string]string{
		"Connect": workflows.SignalCustomerEndpointCreated,
		"Accept":  workflows.SignalCustomerConnectionAccepted,
		"Reject":  workflows.SignalCustomerEndpointCreated,
		"Delete":  workflows.SignalCustomerEndpointCreated,
	}
	for _, version := range []string{"1", "2"} {
		for event, signal := range events {
			t.Run("v"+version+" "+event, func(t *testing.T) {
				rc, c, s, f, lk := snsSetup(t)
				s.SignatureVersion = version
				body, err := s.Notification(snsTopic, snstest.EndpointNotification(event, endpointID, serviceID, "pendingAcceptance", ""))
				require.NoError(t, err)
				rec := snsPost(rc, c, body)
				require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
				assert.Equal(t, []snsSignal{
					{enablement, signal, workflows.CustomerEvent{Detail: "AWS notification: " + event + " " + endpointID + " (pendingAcceptance)"}},
					{liveLink, workflows.SignalCheckNow, nil},
				}, f.sent)
				assert.Equal(t, []string{"PrivateLinkCloud = 'aws' AND PrivateLinkCustomerAccount = '123456789012' AND " +
					"WorkflowType IN ('PrivateLinkEnablement', 'PrivateLinkLive') AND ExecutionStatus = 'Running'"}, f.queries)
				assert.Equal(t, []string{serviceID + " " + endpointID}, lk.calls, "the owner is looked up")
				assert.Contains(t, rec.Body.String(), "signalled "+signal+" to 1 enablement(s) and check-now to 1 live link(s)")
			})
		}
	}
}

func TestSNSNeverSignalsAnotherCloud(t *testing.T) {
	rc, c, s, f, _ := snsSetup(t)
	// The fake lists them whatever the query says: the receiver checks the
	// cloud (and the type and account) of each answer too.
	f.links = []snsLink{
		{"privatelink/abcd/production/azure", workflows.EnablementWorkflow, "azure", customer},
		{"privatelink-live/abcd/production/alibaba", workflows.LiveWorkflow, "alibaba", customer},
		{"privatelink-change/abcd/production/aws", workflows.ChangeWorkflow, "aws", customer},
		{enablement, workflows.EnablementWorkflow, "aws", customer},
	}
	body, err := s.Notification(snsTopic, connect())
	require.NoError(t, err)
	rec := snsPost(rc, c, body)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Len(t, f.sent, 1)
	assert.Equal(t, enablement, f.sent[0].id)

	f.links, f.sent = f.links[:3], nil
	rec = snsPost(rc, c, body) // a redelivery is harmless
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Empty(t, f.sent)
	assert.Contains(t, rec.Body.String(), "ignored: no running AWS link of account "+customer)
}

// signedWith signs a Connect notification after change alters it.
func signedWith(s *snstest.Signer, change func(*snstest.Message)) []byte {
	m := snstest.Message{Type: "Notification", TopicArn: snsTopic, Message: string(connect())}
	change(&m)
	body, err := json.Marshal(s.Signed(m))
	if err != nil {
		panic(err)
	}
	return body
}

// tampered signs a Connect notification and alters it afterwards.
func tampered(s *snstest.Signer, change func(*snstest.Message)) []byte {
	m := s.Signed(snstest.Message{Type: "Notification", TopicArn: snsTopic, Message: string(connect())})
	change(&m)
	body, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return body
}

func TestSNSRefusesWhatSNSDidNotSign(t *testing.T) {
	other, err := snstest.NewSigner()
	require.NoError(t, err)
	defer other.Close()
	other.Now = func() time.Time { return snsNow }
	subject := "hi"
	cases := map[string]func(s *snstest.Signer, c *webhook.SNSConfig) []byte{
		"another topic": func(s *snstest.Signer, _ *webhook.SNSConfig) []byte {
			return signedWith(s, func(m *snstest.Message) { m.TopicArn = "arn:aws:sns:us-east-1:111122223333:someone-elses" })
		},
		"unsigned": func(s *snstest.Signer, _ *webhook.SNSConfig) []byte {
			return tampered(s, func(m *snstest.Message) { m.Signature = "" })
		},
		"signature of another message": func(s *snstest.Signer, _ *webhook.SNSConfig) []byte {
			forged := s.Signed(snstest.Message{Type: "Notification", TopicArn: snsTopic, Message: "{}"})
			return tampered(s, func(m *snstest.Message) { m.Signature = forged.Signature })
		},
		"signed by another key, naming this certificate": func(s *snstest.Signer, _ *webhook.SNSConfig) []byte {
			return signedWith(other, func(m *snstest.Message) { m.SigningCertURL = s.CertURL })
		},
		"tampered message": func(s *snstest.Signer, _ *webhook.SNSConfig) []byte {
			return tampered(s, func(m *snstest.Message) { m.Message = strings.Replace(m.Message, "Connect", "Accept", 1) })
		},
		"tampered topic": func(s *snstest.Signer, c *webhook.SNSConfig) []byte {
			c.SNSTopicARNs = append(c.SNSTopicARNs, "arn:aws:sns:us-east-1:111122223333:second")
			return tampered(s, func(m *snstest.Message) { m.TopicArn = "arn:aws:sns:us-east-1:111122223333:second" })
		},
		"subject added": func(s *snstest.Signer, _ *webhook.SNSConfig) []byte {
			return tampered(s, func(m *snstest.Message) { m.Subject = &subject })
		},
		"version changed": func(s *snstest.Signer, _ *webhook.SNSConfig) []byte {
			return tampered(s, func(m *snstest.Message) { m.SignatureVersion = "2" })
		},
		"unknown version": func(s *snstest.Signer, _ *webhook.SNSConfig) []byte {
			return signedWith(s, func(m *snstest.Message) { m.SignatureVersion = "3" })
		},
		"stale": func(s *snstest.Signer, _ *webhook.SNSConfig) []byte {
			return signedWith(s, func(m *snstest.Message) { m.Timestamp = snsNow.Add(-61 * time.Minute).Format(time.RFC3339) })
		},
		"from the future": func(s *snstest.Signer, _ *webhook.SNSConfig) []byte {
			return signedWith(s, func(m *snstest.Message) { m.Timestamp = snsNow.Add(61 * time.Minute).Format(time.RFC3339) })
		},
		"unreadable timestamp": func(s *snstest.Signer, _ *webhook.SNSConfig) []byte {
			return signedWith(s, func(m *snstest.Message) { m.Timestamp = "yesterday" })
		},
		"certificate over http": func(s *snstest.Signer, _ *webhook.SNSConfig) []byte {
			return signedWith(s, func(m *snstest.Message) { m.SigningCertURL = strings.Replace(s.CertURL, "https:", "http:", 1) })
		},
		"certificate on a foreign host": func(s *snstest.Signer, _ *webhook.SNSConfig) []byte {
			return signedWith(s, func(m *snstest.Message) {
				m.SigningCertURL = "https://certs.example.com/SimpleNotificationService-1.pem"
			})
		},
		"certificate on a lookalike host": func(s *snstest.Signer, _ *webhook.SNSConfig) []byte {
			return signedWith(s, func(m *snstest.Message) {
				m.SigningCertURL = strings.Replace(s.CertURL, "amazonaws.com/", "amazonaws.com.example.com/", 1)
			})
		},
		"certificate on another port": func(s *snstest.Signer, _ *webhook.SNSConfig) []byte {
			return signedWith(s, func(m *snstest.Message) {
				m.SigningCertURL = strings.Replace(s.CertURL, "amazonaws.com/", "amazonaws.com:8443/", 1)
			})
		},
		"certificate from another region than the topic's": func(s *snstest.Signer, _ *webhook.SNSConfig) []byte {
			return signedWith(s, func(m *snstest.Message) { m.SigningCertURL = strings.Replace(s.CertURL, "us-east-1", "eu-west-1", 1) })
		},
		"certificate not a .pem": func(s *snstest.Signer, _ *webhook.SNSConfig) []byte {
			return signedWith(s, func(m *snstest.Message) { m.SigningCertURL = strings.TrimSuffix(s.CertURL, ".pem") + ".cer" })
		},
		"certificate not chaining to the roots": func(s *snstest.Signer, c *webhook.SNSConfig) []byte {
			c.SNSRoots = other.Roots()
			return signedWith(s, func(*snstest.Message) {})
		},
		"certificate missing": func(s *snstest.Signer, _ *webhook.SNSConfig) []byte {
			return signedWith(s, func(m *snstest.Message) {
				m.SigningCertURL = "https://" + snstest.Host + "/SimpleNotificationService-gone.pem"
			})
		},
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			rc, c, s, f, lk := snsSetup(t)
			rec := snsPost(rc, c, body(s, c))
			assert.Equal(t, http.StatusUnauthorized, rec.Code, rec.Body.String())
			assert.Empty(t, f.sent)
			assert.Empty(t, f.queries, "nothing is looked up for a refused message")
			assert.Empty(t, lk.calls)
		})
	}
}

func TestSNSRefusesCertificateURLsBeforeFetching(t *testing.T) {
	rc, c, s, _, _ := snsSetup(t)
	for _, u := range []string{
		"http://" + snstest.Host + "/SimpleNotificationService-x.pem",
		"https://" + snstest.Host + "/SimpleNotificationService-x.crt",
		"https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-x.pem",
		"https://user@" + snstest.Host + "/SimpleNotificationService-x.pem",
		"https://sns-us-east-1.amazonaws.com/SimpleNotificationService-x.pem",
	} {
		rec := snsPost(rc, c, signedWith(s, func(m *snstest.Message) { m.SigningCertURL = u }))
		assert.Equal(t, http.StatusUnauthorized, rec.Code, u)
	}
	assert.Empty(t, s.Requests(), "no such URL is fetched")
}

func TestSNSSignedNotificationThatIsNotAnEndpointEventIs400(t *testing.T) {
	for name, message := range map[string]string{
		"text":              "Hello!",
		"empty object":      "{}",
		"a list":            `["Connect"]`,
		"no endpoint":       `{"eventType": "Connect", "endpointState": "pendingAcceptance"}`,
		"not an endpoint":   `{"eventType": "Connect", "endpointId": "i-0123456789abcdef0"}`,
		"not a service":     `{"eventType": "Connect", "endpointId": "vpce-0a1b2c3d4e5f60718", "endpointServiceId": "svc-1"}`,
		"bad owner":         `{"eventType": "Connect", "endpointId": "vpce-0a1b2c3d4e5f60718", "vpcEndpointOwner": "me"}`,
		"two values":        `{"eventType": "Connect", "endpointId": "vpce-0a1b2c3d4e5f60718"} {}`,
		"event not a word":  `{"eventType": "Connect; drop", "endpointId": "vpce-0a1b2c3d4e5f60718"}`,
		"state not a word":  `{"eventType": "Connect", "endpointId": "vpce-0a1b2c3d4e5f60718", "endpointState": "a b"}`,
		"fields of numbers": `{"eventType": 1, "endpointId": 2}`,
	} {
		t.Run(name, func(t *testing.T) {
			rc, c, s, f, _ := snsSetup(t)
			body, err := s.Notification(snsTopic, []byte(message))
			require.NoError(t, err)
			rec := snsPost(rc, c, body)
			assert.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
			assert.Empty(t, f.sent)
		})
	}
}

func TestSNSEndpointNotificationToleratesWhatItDoesNotKnow(t *testing.T) {
	rc, c, s, f, _ := snsSetup(t)
	// Unknown fields, and the EC2 API's names for the facts.
	body, err := s.Notification(snsTopic, []byte(`{"VpcEndpointId": "`+endpointID+`", "ServiceId": "`+serviceID+
		`", "VpcEndpointState": "available", "eventType": "accept", "awsAccountId": "111122223333", "eventTimestamp": 1763716000}`))
	require.NoError(t, err)
	rec := snsPost(rc, c, body)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Len(t, f.sent, 2)
	assert.Equal(t, snsSignal{enablement, workflows.SignalCustomerConnectionAccepted,
		workflows.CustomerEvent{Detail: "AWS notification: Accept " + endpointID + " (available)"}}, f.sent[0])

	// An event Linkwright does not know is acknowledged and ignored.
	f.sent = nil
	body, err = s.Notification(snsTopic, snstest.EndpointNotification("Modify", endpointID, serviceID, "available", ""))
	require.NoError(t, err)
	rec = snsPost(rc, c, body)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), "ignored: event type Modify")
	assert.Empty(t, f.sent)
}

func TestSNSEndpointOwner(t *testing.T) {
	t.Run("lookup fails: 503, SNS retries", func(t *testing.T) {
		rc, c, s, f, _ := snsSetup(t)
		c.SNSEndpointOwner = func(context.Context, string, string, string) (string, error) { return "", errors.New("throttled") }
		body, err := s.Notification(snsTopic, connect())
		require.NoError(t, err)
		assert.Equal(t, http.StatusServiceUnavailable, snsPost(rc, c, body).Code)
		assert.Empty(t, f.sent)
	})
	t.Run("unknown endpoint, no owner in the message: ignored", func(t *testing.T) {
		rc, c, s, f, lk := snsSetup(t)
		body, err := s.Notification(snsTopic, snstest.EndpointNotification("Connect", "vpce-0ffffffffffffffff", serviceID, "pendingAcceptance", ""))
		require.NoError(t, err)
		rec := snsPost(rc, c, body)
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Contains(t, rec.Body.String(), "ignored: the owner of vpce-0ffffffffffffffff is unknown")
		assert.Equal(t, []string{serviceID + " vpce-0ffffffffffffffff"}, lk.calls)
		assert.Empty(t, f.queries)
		assert.Empty(t, f.sent)
	})
	t.Run("no lookup: the owner the message names", func(t *testing.T) {
		rc, c, s, f, _ := snsSetup(t)
		c.SNSEndpointOwner = nil
		body, err := s.Notification(snsTopic, snstest.EndpointNotification("Connect", endpointID, serviceID, "pendingAcceptance", "1234-5678-9012"))
		require.NoError(t, err)
		rec := snsPost(rc, c, body)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Len(t, f.sent, 2)
	})
	t.Run("the lookup wins over the message", func(t *testing.T) {
		rc, c, s, f, _ := snsSetup(t)
		body, err := s.Notification(snsTopic, snstest.EndpointNotification("Connect", endpointID, serviceID, "pendingAcceptance", "999988887777"))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, snsPost(rc, c, body).Code)
		require.Len(t, f.sent, 2)
		assert.Equal(t, enablement, f.sent[0].id)
	})
}

func TestSNSSignalFailures(t *testing.T) {
	rc, c, s, f, _ := snsSetup(t)
	body, err := s.Notification(snsTopic, connect())
	require.NoError(t, err)
	f.signalErr = errors.New("unavailable")
	assert.Equal(t, http.StatusServiceUnavailable, snsPost(rc, c, body).Code, "SNS delivers it again")
	f.signalErr = serviceerror.NewNotFound("workflow execution already completed")
	rec := snsPost(rc, c, body)
	assert.Equal(t, http.StatusOK, rec.Code, "a link that ended meanwhile needs no nudge")
	assert.Contains(t, rec.Body.String(), "ignored: no running AWS link")
}

func TestSNSOffWithoutTopics(t *testing.T) {
	rc, c, s, f, _ := snsSetup(t)
	c.SNSTopicARNs = nil
	body, err := s.Notification(snsTopic, connect())
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, snsPost(rc, c, body).Code)
	assert.Empty(t, f.sent)
}

func TestSNSMalformedEnvelope(t *testing.T) {
	rc, c, s, f, _ := snsSetup(t)
	for _, body := range []string{"", "not json", `{"Type": "Advertisement"}`} {
		assert.Equal(t, http.StatusBadRequest, snsPost(rc, c, []byte(body)).Code, body)
	}
	// The header SNS sends must agree with the Type.
	body, err := s.Notification(snsTopic, connect())
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, "/webhooks/sns", bytes.NewReader(body))
	req.Header.Set("x-amz-sns-message-type", "SubscriptionConfirmation")
	rec := httptest.NewRecorder()
	rc.SNSHandler(c).ServeHTTP(rec, req)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Empty(t, f.sent)
}

func TestSNSFetchesEachCertificateOnce(t *testing.T) {
	rc, c, s, f, _ := snsSetup(t)
	for range 3 {
		body, err := s.Notification(snsTopic, connect())
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, snsPost(rc, c, body).Code)
	}
	assert.Len(t, f.sent, 6)
	// The certificate alone, as SNS serves it; its issuer from where it says.
	assert.Equal(t, []string{strings.TrimPrefix(s.CertURL, "https://"), "crt.snstest.amazontrust.com/intermediate.cer"}, s.Requests())
}

func TestSNSSubscriptionConfirmation(t *testing.T) {
	t.Run("allowed topic: SubscribeURL visited", func(t *testing.T) {
		rc, c, s, f, _ := snsSetup(t)
		body, err := s.SubscriptionConfirmation(snsTopic)
		require.NoError(t, err)
		rec := snsPost(rc, c, body)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var m snstest.Message
		require.NoError(t, json.Unmarshal(body, &m))
		assert.Equal(t, []string{m.SubscribeURL}, s.Confirmations())
		assert.Empty(t, f.sent)
	})
	t.Run("another topic: refused, not visited", func(t *testing.T) {
		rc, c, s, _, _ := snsSetup(t)
		body, err := s.SubscriptionConfirmation("arn:aws:sns:us-east-1:111122223333:someone-elses")
		require.NoError(t, err)
		assert.Equal(t, http.StatusUnauthorized, snsPost(rc, c, body).Code)
		assert.Empty(t, s.Confirmations())
	})
	t.Run("tampered SubscribeURL: refused, not visited", func(t *testing.T) {
		rc, c, s, _, _ := snsSetup(t)
		body, err := s.SubscriptionConfirmation(snsTopic)
		require.NoError(t, err)
		body = bytes.Replace(body, []byte("Token="), []byte("Token=x"), 1)
		assert.Equal(t, http.StatusUnauthorized, snsPost(rc, c, body).Code)
		assert.Empty(t, s.Confirmations())
	})
	t.Run("signed SubscribeURL off SNS: refused, not visited", func(t *testing.T) {
		for _, u := range []string{
			"https://evil.example.com/?Action=ConfirmSubscription&TopicArn=" + snsTopic,
			"http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + snsTopic,
			"https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + snsTopic,
			"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&TopicArn=" + snsTopic,
			"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:111122223333:other",
		} {
			rc, c, s, _, _ := snsSetup(t)
			body, err := s.Sign(snstest.Message{Type: "SubscriptionConfirmation", TopicArn: snsTopic, Token: "t", Message: "m", SubscribeURL: u})
			require.NoError(t, err)
			assert.Equal(t, http.StatusUnauthorized, snsPost(rc, c, body).Code, u)
			assert.Empty(t, s.Confirmations(), u)
		}
	})
	t.Run("unsubscribe confirmation: acknowledged, not visited", func(t *testing.T) {
		rc, c, s, f, _ := snsSetup(t)
		body, err := s.UnsubscribeConfirmation(snsTopic)
		require.NoError(t, err)
		rec := snsPost(rc, c, body)
		assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Empty(t, s.Confirmations())
		assert.Empty(t, f.sent)
	})
}

// Messages AWS signed, and the certificate it signed them with: the test
// resources of the AWS SDK for Java v2's SNS message manager
// (github.com/aws/aws-sdk-java-v2, services-custom/sns-message-manager/
// src/test/resources/software/amazon/awssdk/messagemanager/sns/internal,
// Apache License 2.0). The certificate names sns.amazonaws.com, not the
// sns.us-west-2.amazonaws.com it is served from, and comes alone.
const (
	awsTopic   = "arn:aws:sns:us-west-2:131990247566:dongie-standard-topic"
	awsCertURL = "/SimpleNotificationService-7506a1e35b36ef5a444dd1a8e7cc3ed8.pem"
	awsCert    = `-----BEGIN CERTIFICATE-----
MIIFxTCCBK2gAwIBAgIQBkyRNHAyygLkObkxH5ju+zANBgkqhkiG9w0BAQsFADA8
MQswCQYDVQQGEwJVUzEPMA0GA1UEChMGQW1hem9uMRwwGgYDVQQDExNBbWF6b24g
UlNBIDIwNDggTTAxMB4XDTI1MTExMDAwMDAwMFoXDTI2MTAxNDIzNTk1OVowHDEa
MBgGA1UEAxMRc25zLmFtYXpvbmF3cy5jb20wggEiMA0GCSqGSIb3DQEBAQUAA4IB
DwAwggEKAoIBAQChbVNQ+DEaT5WN+l+bg0iEeF666Z6LDFc1KJr4lNl0odcXQSsk
KsZYCMVdp4I/Ikk9zWyckRTMkmQGYimpD+bTsMCP5C/sJIU0E9Y2OXjjl5Videkq
qnRL9VdE5N41Rvks7S/5MpYcSmCsmaHfwcv82Gvx2zm9CrA5Xu7K2ZqhzRQPCRSP
mHTHQr4ED63ujE+qTpPgQZ0TvgmcrAc08Z75Z7Zzs17aTNc3YhAtQx9WowN8uiHk
kgc+ONNdtwKvWZNmnbmxMHYtYc291WCP1K1Nh4TV5XNyjIebzQKDrqTCN0ItAr1x
e6Bl3BYS3SG9XHAy0q3ekITzQsKypcuaK6dTAgMBAAGjggLhMIIC3TAfBgNVHSME
GDAWgBSBuA5jiokSGOX6OztQlZ/m5ZAThTAdBgNVHQ4EFgQUBQEUzzzuVJAKzAlR
d0Q//W6HvZUwHAYDVR0RBBUwE4IRc25zLmFtYXpvbmF3cy5jb20wEwYDVR0gBAww
CjAIBgZngQwBAgEwDgYDVR0PAQH/BAQDAgWgMBMGA1UdJQQMMAoGCCsGAQUFBwMB
MDsGA1UdHwQ0MDIwMKAuoCyGKmh0dHA6Ly9jcmwucjJtMDEuYW1hem9udHJ1c3Qu
Y29tL3IybTAxLmNybDB1BggrBgEFBQcBAQRpMGcwLQYIKwYBBQUHMAGGIWh0dHA6
Ly9vY3NwLnIybTAxLmFtYXpvbnRydXN0LmNvbTA2BggrBgEFBQcwAoYqaHR0cDov
L2NydC5yMm0wMS5hbWF6b250cnVzdC5jb20vcjJtMDEuY2VyMAwGA1UdEwEB/wQC
MAAwggF/BgorBgEEAdZ5AgQCBIIBbwSCAWsBaQB3ANdtfRDRp/V3wsfpX9cAv/mC
yTNaZeHQswFzF8DIxWl3AAABmnAb33MAAAQDAEgwRgIhANXAgMEZWU326cqxqwnf
ntD0XcBjRbmvVMOp3hZ8boPXAiEAkI3NTMXcdLCChHak1ipOae7K7r3spMGUMk6Q
cEUKqBEAdgDCMX5XRRmjRe5/ON6ykEHrx8IhWiK/f9W1rXaa2Q5SzQAAAZpwG9+u
AAAEAwBHMEUCIQD+Qyok8NYaFuQkccW+XIMmxHxj6Yka2wjtg6UN/tbU5wIgcp4z
8MyC/dUfeLRuHAt0owtVgEu7xXqrMBOYlbXrfC4AdgDLOPcViXyEoURfW8Hd+8lu
8ppZzUcKaQWFsMsUwxRY5wAAAZpwG9+yAAAEAwBHMEUCIQCmu1jQUG9A2br7OqwM
FvQXtBX10yIvvDa6a2Ov1Zgg6gIgKlqRvN6WhX0pSHAN2bKmjRwIUI3X9kjS/A/m
DYULaV4wDQYJKoZIhvcNAQELBQADggEBAIbTQWQhqrG6SzwLq79tKCpI0aL0xlD+
/jrGPxpwTlK7rtAArHiEVh/bsmwLYRlIxPBiU+NE/kqeT0lhJA6/e3X3KRmnpJ6u
Z70PJGYwmZbSRsFom0vGFBMncX0qYx1iD0dooPeAkkSnM5j81rBh+FepV3HfF+tA
9gaglWLsU7Z/A0fdn9D32UPreVHloOut5EyEinvXRUAWZco9CRloyEXJr7Mxq9MZ
vYOK+5wuSPHnPij+fGlQsPxEgoTnCmU03PqNS49kL13jjEnYYdijqL+4rfHtuZbc
4hlVoZfttwg8wD3m5brhQ+GkBBNYN8HFtdVy/BnFi+SPJqv6BgB3Y00=
-----END CERTIFICATE-----
`
	awsWithSubject = `{
  "Type" : "Notification",
  "MessageId" : "26858270-545e-5848-82a2-e05566af3dcf",
  "TopicArn" : "arn:aws:sns:us-west-2:131990247566:dongie-standard-topic",
  "Subject" : "My message subject",
  "Message" : "Hello! This message has a subject.",
  "Timestamp" : "2026-03-06T19:53:21.424Z",
  "SignatureVersion" : "1",
  "Signature" : "jvNSgHVOF9KUOKI3bmQZhURD0kDN6txhfjiyuvnV95Dw6b2SRa7nq3AhM8agP0KUCIrRgKHqUlN6K2XBA35Lzkx1eI5RT0oXIN00pvvzGxSz0ddnuSGmDJM7bd/b1vl2RlLjz+KvkhzEtspxLnxjLsGl2EpOmztt+um7owb4475sOLdGTx1QiFV/8HqB2J0DyjeWdRZvu7Xpsf1Yd2rgmijFoz8x89Vw8pIksjczr4q16pxdh/XKWjbN2uPoC+3EeYdljL8KUvLYH9ueHSs5E9qq2iLdze4+FtANnE73XRvvSGE0KI+FGOvz1igest6qon3g1/CVy4mq3n19TsCSmA==",
  "SigningCertURL" : "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-7506a1e35b36ef5a444dd1a8e7cc3ed8.pem",
  "UnsubscribeURL" : "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:131990247566:dongie-standard-topic:b24e11a2-06bd-4e73-aa29-0ed2de3b41b5"
}`
	awsNoSubject = `{
  "Type" : "Notification",
  "MessageId" : "c0e5a280-53c9-5a98-93bb-c0a560b3d192",
  "TopicArn" : "arn:aws:sns:us-west-2:131990247566:dongie-standard-topic",
  "Message" : "This notification has no subject.",
  "Timestamp" : "2026-03-06T19:55:38.903Z",
  "SignatureVersion" : "1",
  "Signature" : "h5/2kLNyPKvMH+ipOA1kueaA1GLFlcKbO/9o6GbH7BtKk/8lM8krPFDrV+Lwuq8yZDXTxeSXHR8pG1w9MkKQ3VlsHhMigy+5ejIsb+ZfpkDDO6dOACbkTg1twy9tLeKCyPfU01OokKTR6jlKJGCgXXDQm5Q1Fs4NfUz22xGqteycG1GIioqq2Hvd1PLsDkcoyUAhciugGFcZKIGjUbBtdhMTPFX1ed8iH+Y/p6o/eD0G2i614oRSXYRJyV2iNpl54LCCiCrAafAJAM5NXAJJq9CWyTjxHFC18FnPqSukW1/6Qa502oujhPJ/pyl+6mMBoF6LjnpbIyR8/Gmm+RY6fg==",
  "SigningCertURL" : "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-7506a1e35b36ef5a444dd1a8e7cc3ed8.pem",
  "UnsubscribeURL" : "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:131990247566:dongie-standard-topic:b24e11a2-06bd-4e73-aa29-0ed2de3b41b5"
}`
	awsV2 = `{
  "Type" : "Notification",
  "MessageId" : "9d2c5580-b61d-550c-8583-37a582870907",
  "TopicArn" : "arn:aws:sns:us-west-2:131990247566:dongie-standard-topic",
  "Message" : "This message uses signature version 2.",
  "Timestamp" : "2026-03-06T20:00:26.893Z",
  "SignatureVersion" : "2",
  "Signature" : "kGNJ7FIM5DJxRv9bdoSJBty2WHpADFWrJ0ZQU/A2sALy6tBE5hqfUvPRlklTJ+PACFMguoFOO7W6ac/Bs4gR+JBRFhx4598X8/HWzrmaLrtB2f7nzViHbpzYN+u+OewXhxjj2lNsu0bLKv6fogkACytDIOhjZylbfJoPphDYAB7T3Ila7u+K3m2wLHH4k1cPYKyBf5FI/kAoQAVsY6qFHeb6CWfHsdM98I2gwyEvwJSzW0iyYBfqckmthQwH3Ex53jrhQlZylXFDYmstSJAdvbLeGqIUxKyk+O25wYgBjbbbeR+2qE2UCGEQrk1Bq018wmTxdHZmDhoBjJXiGmFkfg==",
  "SigningCertURL" : "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-7506a1e35b36ef5a444dd1a8e7cc3ed8.pem",
  "UnsubscribeURL" : "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:131990247566:dongie-standard-topic:b24e11a2-06bd-4e73-aa29-0ed2de3b41b5"
}`
	awsSubscribe = `{
  "Type" : "SubscriptionConfirmation",
  "MessageId" : "f3f2fc87-c426-4c2f-9044-b55890c0939c",
  "Token" : "2336412f37fb687f5d51e6e2425929f52e8e353134fe72d55ef8b330217d82da14007cbccefffd35b695feb8f0294d01fd9644f41e1ddfad261519a2c0bac743ff375eeb64530147d2da57f3acc54739da14c8dbd48a9d58ce996eff0d498ea6b4b9f58720d8959b52b99b8de148081720d7da17434e376614a00c992e7823e4",
  "TopicArn" : "arn:aws:sns:us-west-2:131990247566:dongie-standard-topic",
  "Message" : "You have chosen to subscribe to the topic arn:aws:sns:us-west-2:131990247566:dongie-standard-topic.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
  "SubscribeURL" : "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:131990247566:dongie-standard-topic&Token=2336412f37fb687f5d51e6e2425929f52e8e353134fe72d55ef8b330217d82da14007cbccefffd35b695feb8f0294d01fd9644f41e1ddfad261519a2c0bac743ff375eeb64530147d2da57f3acc54739da14c8dbd48a9d58ce996eff0d498ea6b4b9f58720d8959b52b99b8de148081720d7da17434e376614a00c992e7823e4",
  "Timestamp" : "2026-03-06T19:31:32.895Z",
  "SignatureVersion" : "1",
  "Signature" : "Ce2Ax8UbEq0RrVH7gsjP9WZ9bzif7dUkAY4OH99Pv7FSrvs8cK+uiH3a6ig54rXWUnZRUejk8K6KeK5Q80O9iJp8KbPRKdQ0PkJ3YASdabhfK0e7evC05YR2pFoS6nNaqNzT7HrR1d1Z9iLoFxluo2Dzb7kWVB7e9jp/y+ZBXRzRIaZgscM84kahBc6QgXOFJA1/PFA4cB5qaa6tBcUFtTE63o9vJ4wMmKk93W9MoszC+dNJeVFr8VHmt3toR+3JauBCZnGdgXgsDhni4PduSfWJJxEpuOK41iYf1hW+xFNFFsv46siTFiHdHiYDfI7/VlaY4spMgkq3EndRr7rHzQ==",
  "SigningCertURL" : "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-7506a1e35b36ef5a444dd1a8e7cc3ed8.pem"
}`
	awsUnsubscribe = `{
  "Type" : "UnsubscribeConfirmation",
  "MessageId" : "0b71e34e-42c3-486a-9e32-b1928ec994b5",
  "Token" : "2336412f37fb687f5d51e6e2425929f52e8e353134fd0284eae5672847af082a982c7dd18215a1485e04e559716f8b42054594757f42dee2d63c46fd3a0fa59b4d688de03db956f8bf9f8cb3167587a28b74c5d325e6a7594d24a43ac534de2dfca614ca89cebd490342c721c30a76ea03def13673437a6a3e450642580119d0",
  "TopicArn" : "arn:aws:sns:us-west-2:131990247566:dongie-standard-topic",
  "Message" : "You have chosen to deactivate subscription arn:aws:sns:us-west-2:131990247566:dongie-standard-topic:b24e11a2-06bd-4e73-aa29-0ed2de3b41b5.\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message.",
  "SubscribeURL" : "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:131990247566:dongie-standard-topic&Token=2336412f37fb687f5d51e6e2425929f52e8e353134fd0284eae5672847af082a982c7dd18215a1485e04e559716f8b42054594757f42dee2d63c46fd3a0fa59b4d688de03db956f8bf9f8cb3167587a28b74c5d325e6a7594d24a43ac534de2dfca614ca89cebd490342c721c30a76ea03def13673437a6a3e450642580119d0",
  "Timestamp" : "2026-03-06T20:02:25.038Z",
  "SignatureVersion" : "2",
  "Signature" : "RLW/cGWZAdY96iEcvXGmAZQ851DUyWehJIUMHT3Qa0/kX7Wu2QimI44TfE8d9hTqyYFreA6ln4AS67m225DuySpBeiUBtzB/ibiU7jdZmfSiT/I/RTEU3eD0lHHZIYW0M7HAlhHyaSXdcSAbtfnhMBMION93IVl6UOR4kWYdJaJ17/u3by3zlSRs8wCIpj06S6BzuzxrINZPJl+NKZYCVdMlrjuT4etX/UfZkC0Tjchpmu/CQcuimAgswlesm8cVue0WqNPXkOr8h7HmsiGVXPN1jjkYKf2/tVJyBxur/lSksMopER8wtAIsrqY1caAZSI8YJkIndg/b+7eCwkjTBA==",
  "SigningCertURL" : "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-7506a1e35b36ef5a444dd1a8e7cc3ed8.pem"
}`
)

// TestSNSVerifiesMessagesAWSSigned checks the strings to sign against AWS's
// own signatures, of each type and version, end to end: the certificate is
// fetched from its URL and trusted as a root (its issuer, Amazon RSA 2048
// M01, is not at hand), at a time it was valid.
func TestSNSVerifiesMessagesAWSSigned(t *testing.T) {
	s, err := snstest.NewSigner()
	require.NoError(t, err)
	defer s.Close()
	s.Serve(awsCertURL, []byte(awsCert))
	block, _ := pem.Decode([]byte(awsCert))
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	c := &webhook.SNSConfig{SNSTopicARNs: []string{awsTopic}}
	s.Configure(c)
	c.SNSRoots = x509.NewCertPool()
	c.SNSRoots.AddCert(cert)
	at := time.Date(2026, 3, 6, 20, 5, 0, 0, time.UTC)
	f := &snsFake{}
	rc := &webhook.Receiver{Signaler: f, Now: func() time.Time { return at }}

	for name, body := range map[string]string{"v1 with subject": awsWithSubject, "v1 without": awsNoSubject, "v2": awsV2} {
		rec := snsPost(rc, c, []byte(body))
		// Verified, then found not to be an endpoint notification.
		assert.Equal(t, http.StatusBadRequest, rec.Code, name+": "+rec.Body.String())
		assert.Contains(t, rec.Body.String(), "not a VPC endpoint connection notification", name)

		rec = snsPost(rc, c, []byte(strings.Replace(body, "This", "That", 1)))
		assert.Equal(t, http.StatusUnauthorized, rec.Code, name+" tampered: "+rec.Body.String())
	}
	rec := snsPost(rc, c, []byte(strings.Replace(awsWithSubject, "My message subject", "My message", 1)))
	assert.Equal(t, http.StatusUnauthorized, rec.Code, "the Subject is signed")

	rec = snsPost(rc, c, []byte(awsSubscribe))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var m snstest.Message
	require.NoError(t, json.Unmarshal([]byte(awsSubscribe), &m))
	assert.Equal(t, []string{m.SubscribeURL}, s.Confirmations())

	rec = snsPost(rc, c, []byte(awsUnsubscribe))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Len(t, s.Confirmations(), 1, "an unsubscribe confirmation is not undone")

	at = at.Add(2 * time.Hour)
	assert.Equal(t, http.StatusUnauthorized, snsPost(rc, c, []byte(awsV2)).Code, "stale")
	at = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	c.SNSWindow = 365 * 24 * time.Hour
	rec = snsPost(rc, c, []byte(awsV2))
	assert.Equal(t, http.StatusUnauthorized, rec.Code, "the certificate expired on 2026-10-14")
	assert.Contains(t, rec.Body.String(), "not trusted")
	assert.Empty(t, f.sent)
}
