package activities

import (
	"reflect"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

// local are the activities that make no cloud call: they run on the
// workflows' own task queue.
var local = []string{"LoadPolicy", "OpenTicket", "FindTicket", "PostComment", "SetTicketStatus", "Probe", "AwaitProbeOK", "ReadMemo"}

// Every activity is either a cloud call with a class (and so a budget) or
// known to call no cloud: a new activity must be placed, or its cloud
// calls would escape every budget.
func TestEveryActivityHasAClass(t *testing.T) {
	typ := reflect.TypeOf(&Activities{})
	for i := range typ.NumMethod() {
		name := typ.Method(i).Name
		if slices.Contains(local, name) {
			assert.Equal(t, ClassLocal, ClassOf(name), "%s calls no cloud", name)
			continue
		}
		assert.NotEqual(t, ClassLocal, ClassOf(name), "activity %s has no class: add it to classes (or to local if it calls no cloud)", name)
	}
	for name := range classes {
		_, ok := typ.MethodByName(name)
		assert.True(t, ok, "classes lists %s, which is no activity", name)
	}
}

func TestQueues(t *testing.T) {
	assert.Equal(t, "privatelink-cloud-accept", QueueOf("privatelink", "AcceptConnections"))
	assert.Equal(t, "privatelink-cloud-poll", QueueOf("privatelink", "AwaitConnectionRequest"))
	assert.Equal(t, "privatelink-cloud-mutate", QueueOf("privatelink", "CreateEndpoint"))
	assert.Equal(t, "privatelink-cloud-read", QueueOf("privatelink", "LookupEnvironment"))
	assert.Equal(t, "privatelink", QueueOf("privatelink", "PostComment"))
}
