package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadDefaults(t *testing.T) {
	t.Setenv("LINKWRIGHT_CONFIG", "")
	t.Setenv("LINKWRIGHT_STATE_DIR", "")
	t.Setenv("LINKWRIGHT_APPROVERS", "")
	c, err := Load()
	require.NoError(t, err)
	assert.Equal(t, "sim", c.Cloud)
	assert.Equal(t, "file", c.Tracker)
	assert.True(t, filepath.IsAbs(c.StateDir))
	assert.Empty(t, c.Policy.Approvers, "nobody may approve until approvers are configured")
	assert.Equal(t, 10*time.Minute, c.Policy.PollMax.D())
	assert.Equal(t, 5, c.Policy.TargetBusinessDays)
	assert.Equal(t, "http://localhost:8233/namespaces/default", c.Policy.WebUI)
}

func TestLoadFileAndEnv(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "linkwright.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"stateDir": "`+dir+`/s", "policy": {"approvers": [" Ops@Platform.Example "], "pollMax": "2m", "expireAfter": "240h"}}`), 0o644))
	t.Setenv("LINKWRIGHT_CONFIG", path)
	t.Setenv("LINKWRIGHT_STATE_DIR", "")
	t.Setenv("LINKWRIGHT_APPROVERS", "")
	c, err := Load()
	require.NoError(t, err)
	assert.Equal(t, []string{"ops@platform.example"}, c.Policy.Approvers)
	assert.Equal(t, 2*time.Minute, c.Policy.PollMax.D())
	assert.Equal(t, 240*time.Hour, c.Policy.ExpireAfter.D())
	assert.Equal(t, filepath.Join(dir, "s", "cloud"), c.SimDir())

	t.Setenv("LINKWRIGHT_APPROVERS", "a@x,b@x")
	c, err = Load()
	require.NoError(t, err)
	assert.Equal(t, []string{"a@x", "b@x"}, c.Policy.Approvers)
}

func TestParseErrors(t *testing.T) {
	c := Default()
	assert.ErrorContains(t, Parse([]byte(`{"approvers": []}`), &c), `unknown field "approvers"`)
	c = Default()
	assert.ErrorContains(t, Parse([]byte(`{"policy": {"pollMax": "soon"}}`), &c), `"soon" is not a duration`)
	c = Default()
	assert.ErrorContains(t, Parse([]byte(`{"policy": {"Approvers": ["a@x"]}}`), &c), `field "policy.Approvers": did you mean "approvers"?`)
	c = Default()
	assert.ErrorContains(t, Parse([]byte(`{"cloud": "gcp"}`), &c), `cloud "gcp" is not available in this build: use "sim", "aws" or "azure"`)
	c = Default()
	assert.ErrorContains(t, Parse([]byte(`{"tracker": "trello"}`), &c), `tracker "trello" is not available: use "file", "zendesk", "jira", "servicenow" or "github"`)
	c = Default()
	require.NoError(t, Parse([]byte(`{"cloud": "aws", "aws": {"vpcId": "vpc-1"}}`), &c))
	assert.JSONEq(t, `{"vpcId": "vpc-1"}`, string(c.AWS), "the aws section is the provider's to read")
}
