package aws

import (
	"errors"
	"net/http"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/linkwright/linkwright/internal/cloud"
)

// service prefixes of IAM actions, by API.
const (
	svcEC2 = "ec2"
	svcELB = "elasticloadbalancing"
	svcSTS = "sts"
)

// classify turns an SDK error from the API call svc:op into a cloud error
// whose kind says whether to retry and whose message says what to fix.
func classify(svc, op string, err error) error {
	if err == nil {
		return nil
	}
	action := svc + ":" + op
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		// No answer at all (connection refused, timeout): worth a retry.
		return &cloud.Error{Kind: cloud.Retryable, Op: action, Msg: "no answer from AWS", Err: err}
	}
	code := apiErr.ErrorCode()
	status := 0
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		status = respErr.HTTPStatusCode()
	}
	kind, msg := kindOf(code, status)
	if kind == cloud.AccessDenied {
		msg = "the platform's AWS identity may not call " + action + ": add it to the role's policy (deployments/aws/iam-policy.json)"
	}
	return &cloud.Error{Kind: kind, Op: action, Msg: msg, Err: err, Throttled: throttleCode(code)}
}

func throttleCode(code string) bool {
	return code == "RequestLimitExceeded" || code == "Throttling" || code == "ThrottlingException" || code == "TooManyRequestsException"
}

func kindOf(code string, status int) (cloud.Kind, string) {
	switch {
	case throttleCode(code):
		return cloud.Retryable, "throttled by AWS (" + code + "); retrying with backoff"
	case code == "ServiceUnavailable" || code == "Unavailable" || code == "InternalError" || code == "InternalFailure" || status >= http.StatusInternalServerError:
		// Newly created services answer 503 for a while.
		return cloud.Retryable, "AWS is unavailable for now (" + code + "); retrying"
	case code == "UnauthorizedOperation" || code == "AccessDenied" || code == "AccessDeniedException" || code == "AuthFailure" || code == "OptInRequired":
		return cloud.AccessDenied, ""
	case strings.HasSuffix(code, ".NotFound") || strings.HasSuffix(code, "NotFound") || code == "InvalidServiceName":
		return cloud.NotFound, "not found (" + code + ")"
	case code == "IncorrectState" || code == endpointStateCode || code == "DependencyViolation" || strings.HasSuffix(code, ".Duplicate") || code == "ResourceInUse":
		// InvalidVpcEndpointState is about the endpoint's state, not the
		// input, despite its "Invalid" prefix.
		return cloud.Conflict, "in a state that forbids this (" + code + ")"
	case strings.HasPrefix(code, "Invalid") || code == "ValidationError" || code == "MissingParameter" || code == "UnsupportedOperation":
		return cloud.Invalid, "AWS refused the input (" + code + ")"
	case status >= 400 && status < 500:
		return cloud.Invalid, "AWS refused the call (" + code + ")"
	}
	return cloud.Retryable, "unexpected AWS error (" + code + ")"
}

// unsuccessful turns the per-item failures of Accept or Reject into one
// error: these calls return a nil error with failures in Unsuccessful.
func unsuccessful(action string, items []itemError) error {
	if len(items) == 0 {
		return nil
	}
	var parts []string
	kind := cloud.Retryable
	for i, it := range items {
		k, _ := kindOf(it.code, 0)
		if i == 0 || k != cloud.Retryable {
			kind = k
		}
		parts = append(parts, it.id+": "+it.code+" "+it.message)
	}
	return &cloud.Error{Kind: kind, Op: action, Msg: "failed for " + strings.Join(parts, "; ")}
}

type itemError struct{ id, code, message string }
