package alitest

import (
	"fmt"
	"net/http"
)

// Error is an error answer of the model: the HTTP status and the Code and
// Message of the JSON body, as the SDK's *errors.ServerError carries them
// (HttpStatus, ErrorCode, Message). The customer-side methods return it
// too.
//
// The codes, by cause (HTTP 400 unless said otherwise):
//
//   - a signature parameter missing: Missing<Name> (MissingSignatureNonce,
//     MissingTimestamp, ...), as the API gateway answers a missing
//     mandatory parameter; SignatureMethod or SignatureVersion not
//     HMAC-SHA1 and 1.0: IncompleteSignature; Timestamp malformed or more
//     than 15 minutes off: InvalidTimeStamp.Format, InvalidTimeStamp.Expired;
//     an unknown AccessKeyId: InvalidAccessKeyId.NotFound (404); a wrong
//     signature: SignatureDoesNotMatch, whose message ends with "server
//     string to sign is:" and the model's string to sign, as the real one
//     does (the SDK compares it with its own); a SignatureNonce used
//     before: SignatureNonceUsed.
//   - an unknown action: InvalidAction.NotFound (404); a version that is
//     not PrivateLink's or NLB's, or an action of the other product:
//     InvalidVersion; Format other than JSON: InvalidParameter.Format.
//   - a required parameter missing: Missing<Name> (MissingServiceId,
//     MissingEndpointId, MissingZoneId, MissingListenerPort, ...), from the
//     table of required parameters in actions.go; a parameter required only
//     in combination: MissingParam.<Name> (MissingParam.UserArn when
//     neither UserId nor UserARN is given, MissingParam.Zone,
//     MissingParam.VSwitchId, MissingParam.ServiceId when neither ServiceId
//     nor ServiceName is); a value out of its type or range:
//     IllegalParam.<Name> (IllegalParam.Bandwidth, IllegalParam.MaxResults,
//     IllegalParam.NextToken, IllegalParam.ServiceRegionId,
//     IllegalParam.ZoneId, IllegalParam.UserId, ...).
//   - a service that does not exist in the region, or that is not the
//     caller's where only its owner may act: EndpointServiceNotFound.
//   - CreateVpcEndpoint: a service that exists but does not allow the
//     caller: EndpointServiceNotAuthorized; a zone the service is not
//     offered in: EndpointServiceNotSupportedZone (the message names it);
//     a zone twice: EndpointZoneDuplicated; no security group:
//     EndpointMustContainSecurityGroup; a ClientToken reused for another
//     service: IdempotentParameterMismatch; the consumer's region not among
//     the service's supported regions: IllegalParam.ServiceRegionId.
//   - an endpoint that is not the caller's or is gone: EndpointNotFound;
//     an endpoint with no connection to the service named:
//     EndpointConnectionNotFound; enabling a connection that is Connecting
//     or Connected, disabling one that is Disconnecting or Disconnected:
//     EndpointConnectionOperationDenied; acting on an endpoint being
//     deleted (deleting it again included): EndpointOperationDenied.
//   - zone connections: an unknown zone: ResourceNotFound.VpcEndpointZone
//     (404); the connection not Connected: IncorrectStatus.VpcEndpointConnection;
//     the zone not in the state the action starts from:
//     IncorrectStatus.VpcEndpointZone.
//   - removing a user who is not on the whitelist:
//     EndpointServiceUserNotFound (the API reference documents no error
//     for it; the model answers one so that a provider does not count on
//     silence).
//   - DetachResourceFromVpcEndpointService: an unknown resource:
//     EndpointServiceResourceNotFound; a zone connection still Connected
//     in the resource's zone: EndpointServiceConnectionDependence.
//     DeleteVpcEndpointService: a connection still in play (Pending,
//     Connecting, Disconnecting or being deleted, or with a zone connection
//     Connected, Connecting or Disconnecting; a Connected connection whose
//     zone connections are all disabled, or a Disconnected one, does not
//     hold it): EndpointServiceConnectionDependence; then resources still
//     attached: EndpointServiceDependenceViolation.
//   - DryRun=true after every check: DryRunOperation.
//   - NLB: an unknown (or another account's) listener:
//     ResourceNotFound.listener (404), load balancer:
//     ResourceNotFound.loadbalancer (404), server group:
//     ResourceNotFound.serverGroup (404); a second listener on a port and
//     transport (TCP and TCPSSL share one): Conflict.Port; a protocol
//     other than TCP, UDP or TCPSSL: IllegalParam.ListenerProtocol.
//   - injected: Throttling and Throttling.User (400), ServiceUnavailable
//     (503), or whatever Fail says.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s (HTTP %d): %s", e.Code, e.Status, e.Message) }

func badRequest(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

func notFound(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Code: code, Message: fmt.Sprintf(format, args...)}
}

func missing(name string) *Error {
	return badRequest("Missing"+name, "%s is mandatory for this action.", name)
}

func missingParam(name, what string) *Error {
	return badRequest("MissingParam."+name, "The param of %s is missing.", what)
}

func illegal(name, format string, args ...any) *Error {
	return badRequest("IllegalParam."+name, "The param of %s is illegal: %s", name, fmt.Sprintf(format, args...))
}

func serviceNotFound(id string) *Error {
	return badRequest("EndpointServiceNotFound", "The specified Service does not exist: %s.", id)
}

func endpointNotFound(id string) *Error {
	return badRequest("EndpointNotFound", "The specified Endpoint does not exist: %s.", id)
}

func connectionNotFound(endpoint, service string) *Error {
	return badRequest("EndpointConnectionNotFound", "The specified endpoint connection does not exist: %s to %s.", endpoint, service)
}

var errDryRun = badRequest("DryRunOperation", "Request validation has been passed with DryRun flag set.")

// asError keeps a nil *Error a nil error.
func asError(e *Error) error {
	if e == nil {
		return nil
	}
	return e
}
