package alibaba

import (
	"context"
	"errors"
	"net/http"
	"strings"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"

	"github.com/linkwright/linkwright/internal/cloud"
)

// Products, as RAM names them in an action ("privatelink:ListVpcEndpointConnections").
const (
	productPrivateLink = "privatelink"
	productNLB         = "nlb"
)

// Actions is every API action this provider calls, as RAM actions: each
// is in deployments/alibaba/ram-policy.json, and a test keeps the two
// equal and checks, against the model, that no other action is called.
var Actions = []string{
	productPrivateLink + ":ListVpcEndpointServices",
	productPrivateLink + ":GetVpcEndpointServiceAttribute",
	productPrivateLink + ":ListVpcEndpointServiceResources",
	productPrivateLink + ":ListVpcEndpointServiceUsers",
	productPrivateLink + ":AddUserToVpcEndpointService",
	productPrivateLink + ":RemoveUserFromVpcEndpointService",
	productPrivateLink + ":ListVpcEndpointConnections",
	productPrivateLink + ":EnableVpcEndpointConnection",
	productPrivateLink + ":DisableVpcEndpointConnection",
	productPrivateLink + ":ListVpcEndpointServicesByEndUser",
	productPrivateLink + ":CreateVpcEndpoint",
	productPrivateLink + ":GetVpcEndpointAttribute",
	productPrivateLink + ":ListVpcEndpoints",
	productPrivateLink + ":DeleteVpcEndpoint",
	productNLB + ":ListListeners",
	productNLB + ":CreateListener",
	productNLB + ":DeleteListener",
	productNLB + ":GetListenerHealthStatus",
}

// classify turns an SDK error from product:action into a cloud error whose
// kind says whether to retry and whose message says what to fix. The
// SDK's own error text (request ID, headers) stays in Err, for logs and
// internal notes only.
func classify(product, action string, err error) error {
	if err == nil {
		return nil
	}
	ram := product + ":" + action
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &cloud.Error{Kind: cloud.Retryable, Op: ram, Msg: "no answer from Alibaba Cloud in time", Err: err}
	}
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		// No answer at all (connection refused, timeout): worth a retry.
		return &cloud.Error{Kind: cloud.Retryable, Op: ram, Msg: "no answer from Alibaba Cloud", Err: err}
	}
	kind, msg := kindOf(se.ErrorCode(), se.HttpStatus())
	if kind == cloud.AccessDenied {
		msg = "the platform's RAM identity may not call " + ram + " (" + se.ErrorCode() + "): add it to its policy (deployments/alibaba/ram-policy.json)"
	}
	code := se.ErrorCode()
	return &cloud.Error{Kind: kind, Op: ram, Msg: msg, Err: err,
		Throttled: code == "Throttling" || strings.HasPrefix(code, "Throttling.") || se.HttpStatus() == http.StatusTooManyRequests}
}

// throttled reports whether an SDK error is throttling or unavailability,
// which a later try of the same call may get past.
func throttled(err error) bool {
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		return false
	}
	code := se.ErrorCode()
	return code == "Throttling" || strings.HasPrefix(code, "Throttling.") || code == "ServiceUnavailable" ||
		se.HttpStatus() == http.StatusTooManyRequests || se.HttpStatus() == http.StatusServiceUnavailable
}

func kindOf(code string, status int) (cloud.Kind, string) {
	lower := strings.ToLower(code)
	switch {
	case code == "Throttling" || strings.HasPrefix(code, "Throttling.") || status == http.StatusTooManyRequests:
		return cloud.Retryable, "throttled by Alibaba Cloud (" + code + "); retrying with backoff"
	case code == "ServiceUnavailable" || strings.HasPrefix(code, "InternalError") || code == "UnknownError" || status >= http.StatusInternalServerError:
		return cloud.Retryable, "Alibaba Cloud is unavailable for now (" + code + "); retrying"
	case strings.HasPrefix(code, "Forbidden") || strings.Contains(lower, "nopermission") || code == "InvalidAccessKeyId.NotFound" ||
		code == "SignatureDoesNotMatch" || strings.HasPrefix(code, "InvalidAccessKeyId") || code == "IncompleteSignature" || status == http.StatusForbidden:
		return cloud.AccessDenied, ""
	case strings.Contains(lower, "notfound") || strings.Contains(lower, "notauthorized"):
		// NotAuthorized: the service exists but does not whitelist the
		// caller, which for the platform means "not granted yet".
		return cloud.NotFound, "not found (" + code + ")"
	case strings.Contains(lower, "operationdenied") || strings.HasPrefix(lower, "incorrectstatus") || strings.Contains(lower, "dependence") ||
		strings.HasPrefix(code, "Conflict") || strings.Contains(lower, "alreadyexist"):
		return cloud.Conflict, "in a state that forbids this (" + code + ")"
	case status >= 400 && status < 500:
		return cloud.Invalid, "Alibaba Cloud refused the input (" + code + "): check the request and the worker's alibaba config"
	}
	return cloud.Retryable, "unexpected Alibaba Cloud error (" + code + ")"
}
