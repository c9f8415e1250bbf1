package activities

// Class is an activity's share of the cloud's API budget. Each class has
// its own task queue, whose rate limit (config.Budgets) the server
// enforces across every worker, so that polls can never starve a step's
// mutation or an approval's accept.
type Class string

// Classes of activities. ClassLocal is the workflows' own task queue:
// ticket calls, probes and reads of the server.
const (
	ClassLocal  Class = ""
	ClassRead   Class = "read"
	ClassPoll   Class = "poll"
	ClassMutate Class = "mutate"
	ClassAccept Class = "accept"
)

// CloudClasses are the classes with their own task queues.
var CloudClasses = []Class{ClassRead, ClassPoll, ClassMutate, ClassAccept}

// classes maps each activity that calls the cloud to its class. An
// activity missing here runs on the workflows' task queue; a test keeps
// every cloud-calling activity listed.
var classes = map[string]Class{
	"LookupEnvironment": ClassRead,
	"ServiceState":      ClassRead,
	"CheckPlatformSide": ClassRead,
	"Zones":             ClassRead,
	"PlatformEndpoints": ClassRead,
	"DescribeEndpoint":  ClassRead,
	"Inventory":         ClassRead,

	"AwaitConnectionRequest": ClassPoll,
	"AwaitPlatformHealthy":   ClassPoll,
	"AwaitServiceVisible":    ClassPoll,
	"AwaitZonesCovered":      ClassPoll,
	"AwaitEndpointAvailable": ClassPoll,
	"AwaitNothingLeft":       ClassPoll,
	"CheckLink":              ClassPoll,

	"OpenPorts":           ClassMutate,
	"ClosePorts":          ClassMutate,
	"AllowAccounts":       ClassMutate,
	"RevokeAccounts":      ClassMutate,
	"CreateEndpoint":      ClassMutate,
	"DeleteEndpoint":      ClassMutate,
	"WithdrawConnections": ClassMutate,

	"AcceptConnections": ClassAccept,
	"RejectConnections": ClassAccept,
}

// ClassOf is the class of an activity type.
func ClassOf(activityType string) Class { return classes[activityType] }

// QueueOf is the task queue of an activity type, given the workflows'
// task queue: "<base>-cloud-<class>", or base itself for ClassLocal.
func QueueOf(base, activityType string) string { return Queue(base, ClassOf(activityType)) }

// Queue is the task queue of a class.
func Queue(base string, c Class) string {
	if c == ClassLocal {
		return base
	}
	return base + "-cloud-" + string(c)
}
