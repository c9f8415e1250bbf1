package cloud

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestAWSStateIgnoresCase(t *testing.T) {
	for in, want := range map[string]State{
		"pendingAcceptance": StatePendingAcceptance, // what the API answers
		"PendingAcceptance": StatePendingAcceptance, // the Go SDK's constant
		"pending":           StateProvisioning,
		"Available":         StateAvailable,
		"rejected":          StateRejected,
		"Failed":            StateFailed,
		"expired":           StateExpired,
		"deleting":          StateDeleting,
		"Deleted":           StateDeleted,
		"partial":           StateUnknown,
	} {
		assert.Equal(t, want, AWSState(in), in)
	}
}

func TestAzureStateDiffersFromAWS(t *testing.T) {
	assert.Equal(t, StatePendingAcceptance, AzureState("Pending"), "Azure's Pending waits for approval")
	assert.Equal(t, StateProvisioning, AWSState("pending"), "AWS's pending is already accepted")
	assert.Equal(t, StateAvailable, AzureState("Approved"))
	assert.Equal(t, StateDisconnected, AzureState("Disconnected"))
	assert.True(t, AzureState("Rejected").Terminal())
	assert.False(t, StatePendingAcceptance.Terminal())
}

func TestErrorKinds(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", Errorf(AccessDenied, "AllowAccount", "missing ec2:ModifyVpcEndpointServicePermissions"))
	assert.Equal(t, AccessDenied, KindOf(err))
	assert.False(t, IsRetryable(err))
	assert.Contains(t, err.Error(), "AllowAccount: missing")
	assert.True(t, IsRetryable(errors.New("connection reset")), "unclassified errors are worth a retry")
	assert.False(t, IsRetryable(nil))
	assert.True(t, IsNotFound(Errorf(NotFound, "X", "gone")))
}

func TestCheckAcceptAgreesForEveryState(t *testing.T) {
	for _, tc := range []struct {
		state  State
		found  bool
		accept bool
		kind   Kind // "" for no error
	}{
		{StatePendingAcceptance, true, true, ""},
		{StateProvisioning, true, false, ""},
		{StateAvailable, true, false, ""},
		{"", false, false, NotFound},
		{StateDeleted, true, false, NotFound},
		{StateDeleting, true, false, Conflict},
		{StateRejected, true, false, Conflict},
		{StateDisconnected, true, false, Conflict},
		{StateFailed, true, false, Conflict},
		{StateExpired, true, false, Conflict},
		{StateUnknown, true, false, Conflict},
	} {
		accept, err := CheckAccept("Accept", "vpce-1", tc.state, tc.found)
		assert.Equal(t, tc.accept, accept, "%s found=%v", tc.state, tc.found)
		if tc.kind == "" {
			assert.NoError(t, err, tc.state)
			continue
		}
		assert.Equal(t, tc.kind, KindOf(err), "%s: %v", tc.state, err)
		assert.ErrorContains(t, err, "vpce-1")
		if tc.kind == NotFound {
			assert.ErrorContains(t, err, "the customer deleted their endpoint before it was accepted")
		}
	}
}

func TestNewServiceStateIsSortedAndNeverNil(t *testing.T) {
	assert.Equal(t, ServiceState{OpenPorts: []int{}, Accounts: []string{}}, NewServiceState(nil, nil))
	ports := []int{5432, 22, 5432}
	s := NewServiceState(ports, []string{"b", "a", "b"})
	assert.Equal(t, []int{22, 5432}, s.OpenPorts)
	assert.Equal(t, []string{"a", "b"}, s.Accounts)
	assert.Equal(t, []int{5432, 22, 5432}, ports, "the caller's slice is left alone")
}

func TestNewestFirst(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	eps := []Endpoint{{ID: "b"}, {ID: "old", Created: t0}, {ID: "a"}, {ID: "new", Created: t0.Add(time.Second)}}
	NewestFirst(eps)
	var ids []string
	for _, ep := range eps {
		ids = append(ids, ep.ID)
	}
	assert.Equal(t, []string{"new", "old", "a", "b"}, ids, "no time last, by ID")
}

func TestAWSAccountIsOnlyAnAccountsRoot(t *testing.T) {
	a, ok := AWSAccount("arn:aws:iam::123456789012:root")
	assert.True(t, ok)
	assert.Equal(t, "123456789012", a)
	for _, p := range []string{"*", "", "arn:aws:iam::123456789012:role/ops", "arn:aws:iam::12345:root", "123456789012", "arn:aws:iam::123456789012:rootx"} {
		_, ok := AWSAccount(p)
		assert.False(t, ok, p)
	}
}

func TestAlibabaFacts(t *testing.T) {
	for _, tc := range []struct {
		in     string
		lo, hi int
		kind   string
	}{{"NLB", 100, 50000, "nlb"}, {"alb", 100, 25000, "alb"}, {"slb", 100, 10240, "slb"}, {"", 100, 50000, "nlb"}, {"gwlb", 100, 50000, "nlb"}} {
		lo, hi, kind := AlibabaBandwidthRange(tc.in)
		assert.Equal(t, []any{tc.lo, tc.hi, tc.kind}, []any{lo, hi, kind}, tc.in)
	}
	region, id, ok := AlibabaServiceName("com.aliyuncs.privatelink.cn-shanghai.epsrv-bp1abc00000000")
	assert.True(t, ok)
	assert.Equal(t, "cn-shanghai", region)
	assert.Equal(t, "epsrv-bp1abc00000000", id)
	_, _, ok = AlibabaServiceName("com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0")
	assert.False(t, ok)
}
