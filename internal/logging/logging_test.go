package logging

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.temporal.io/sdk/log"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func TestTemporalAdapter(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	l := Temporal(zap.New(core))
	l.Info("started", "taskQueue", "privatelink")
	l.(log.WithLogger).With("workflowId", "w1").Warn("slow", "seconds", 3)
	entries := logs.All()
	assert.Len(t, entries, 2)
	assert.Equal(t, "started", entries[0].Message)
	assert.Equal(t, "privatelink", entries[0].ContextMap()["taskQueue"])
	assert.Equal(t, "w1", entries[1].ContextMap()["workflowId"])
	assert.Equal(t, int64(3), entries[1].ContextMap()["seconds"])
}
