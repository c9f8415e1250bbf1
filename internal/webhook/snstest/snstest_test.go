package snstest_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/linkwright/linkwright/internal/webhook"
	"github.com/linkwright/linkwright/internal/webhook/snstest"
	"github.com/linkwright/linkwright/workflows"
)

func TestEndpointNotification(t *testing.T) {
	assert.JSONEq(t, `{"endpointServiceId": "vpce-svc-0123456789abcdef0", "endpointId": "vpce-0a1b2c3d4e5f60718",
		"endpointState": "pendingAcceptance", "eventType": "Connect"}`,
		string(snstest.EndpointNotification("Connect", "vpce-0a1b2c3d4e5f60718", "vpce-svc-0123456789abcdef0", "pendingAcceptance", "")))
	assert.JSONEq(t, `{"endpointId": "vpce-0a1b2c3d4e5f60718", "eventType": "Delete", "vpcEndpointOwner": "123456789012"}`,
		string(snstest.EndpointNotification("Delete", "vpce-0a1b2c3d4e5f60718", "", "", "123456789012")))
}

func TestStringToSign(t *testing.T) {
	subject := "S"
	assert.Equal(t, "Message\nm\nMessageId\nid\nSubject\nS\nTimestamp\nts\nTopicArn\narn\nType\nNotification\n",
		snstest.StringToSign(snstest.Message{Type: "Notification", MessageID: "id", TopicArn: "arn", Subject: &subject, Message: "m", Timestamp: "ts",
			SignatureVersion: "1", Signature: "not signed", SigningCertURL: "not signed", UnsubscribeURL: "not signed"}))
	assert.Equal(t, "Message\nm\nMessageId\nid\nTimestamp\nts\nTopicArn\narn\nType\nNotification\n",
		snstest.StringToSign(snstest.Message{Type: "Notification", MessageID: "id", TopicArn: "arn", Message: "m", Timestamp: "ts"}))
	assert.Equal(t, "Message\nm\nMessageId\nid\nSubscribeURL\nu\nTimestamp\nts\nToken\ntok\nTopicArn\narn\nType\nUnsubscribeConfirmation\n",
		snstest.StringToSign(snstest.Message{Type: "UnsubscribeConfirmation", MessageID: "id", Token: "tok", TopicArn: "arn", Message: "m", SubscribeURL: "u", Timestamp: "ts"}))
}

// The certificate comes alone, as SNS serves it, and chains to the Roots
// only through the issuer it names.
func TestSignerServesTheCertificateAlone(t *testing.T) {
	s, err := snstest.NewSigner()
	require.NoError(t, err)
	defer s.Close()
	resp, err := s.Client().Get(s.CertURL)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	block, rest := pem.Decode(data)
	require.NotNil(t, block)
	assert.Empty(t, bytes.TrimSpace(rest))
	leaf, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	assert.Equal(t, []string{snstest.Host}, leaf.DNSNames)
	_, err = leaf.Verify(x509.VerifyOptions{Roots: s.Roots()})
	assert.ErrorAs(t, err, new(x509.UnknownAuthorityError))
	require.Len(t, leaf.IssuingCertificateURL, 1)
	resp, err = s.Client().Get(leaf.IssuingCertificateURL[0])
	require.NoError(t, err)
	defer resp.Body.Close()
	der, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	issuer, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	inter := x509.NewCertPool()
	inter.AddCert(issuer)
	_, err = leaf.Verify(x509.VerifyOptions{Roots: s.Roots(), Intermediates: inter, DNSName: snstest.Host})
	assert.NoError(t, err)

	_, err = s.Client().Get("https://example.com/")
	assert.Error(t, err, "the client reaches AWS addresses only")
}

type signals struct {
	mu   sync.Mutex
	sent []string
}

func (f *signals) ListWorkflow(context.Context, *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	sa := func(v string) *commonpb.Payload { p, _ := converter.GetDefaultDataConverter().ToPayload(v); return p }
	return &workflowservice.ListWorkflowExecutionsResponse{Executions: []*workflowpb.WorkflowExecutionInfo{{
		Execution: &commonpb.WorkflowExecution{WorkflowId: "privatelink/abcd1234efgh5/production/aws"},
		Type:      &commonpb.WorkflowType{Name: workflows.EnablementWorkflow},
		SearchAttributes: &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{
			workflows.SACloud.GetName(): sa("aws"), workflows.SACustomerAccount.GetName(): sa("123456789012"),
		}},
	}}}, nil
}

func (f *signals) SignalWorkflow(_ context.Context, id, _, name string, _ any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, id+" "+name)
	return nil
}

func (f *signals) UpdateWorkflow(context.Context, client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	return nil, errors.New("no updates")
}

// A receiver behind a real HTTP server confirms the subscription and takes
// a notification, as the worker would.
func TestSignerDrivesAReceiver(t *testing.T) {
	s, err := snstest.NewSigner()
	require.NoError(t, err)
	defer s.Close()
	const topic = "arn:aws:sns:us-east-1:111122223333:linkwright-endpoint-events"
	f := &signals{}
	rc := &webhook.Receiver{Signaler: f}
	c := &webhook.SNSConfig{SNSTopicARNs: []string{topic}}
	s.Configure(c)
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/sns", rc.SNSHandler(c))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	post := func(body []byte, err error) int {
		require.NoError(t, err)
		resp, err := http.Post(srv.URL+"/webhooks/sns", "text/plain; charset=UTF-8", bytes.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		return resp.StatusCode
	}

	assert.Equal(t, http.StatusOK, post(s.SubscriptionConfirmation(topic)))
	assert.Len(t, s.Confirmations(), 1)
	s.SignatureVersion = "2"
	assert.Equal(t, http.StatusOK, post(s.Notification(topic,
		snstest.EndpointNotification("Connect", "vpce-0a1b2c3d4e5f60718", "vpce-svc-0123456789abcdef0", "pendingAcceptance", "123456789012"))))
	assert.Equal(t, []string{"privatelink/abcd1234efgh5/production/aws " + workflows.SignalCustomerEndpointCreated}, f.sent)

	s.Now = func() time.Time { return time.Now().Add(-2 * time.Hour) }
	assert.Equal(t, http.StatusUnauthorized, post(s.Notification(topic, snstest.EndpointNotification("Connect", "vpce-0a1b2c3d4e5f60718", "", "", "123456789012"))))
	assert.Len(t, f.sent, 1)
}
