package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/admin"
	"github.com/linkwright/linkwright/internal/approval/keys"
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
	assert.ErrorContains(t, Parse([]byte(`{"cloud": "gcp"}`), &c), `cloud "gcp" is not available in this build: use "sim", "aws", "azure" or "alibaba"`)
	c = Default()
	assert.ErrorContains(t, Parse([]byte(`{"tracker": "trello"}`), &c), `tracker "trello" is not available: use "file", "zendesk", "jira", "servicenow" or "github"`)
	c = Default()
	require.NoError(t, Parse([]byte(`{"cloud": "aws", "aws": {"vpcId": "vpc-1"}}`), &c))
	assert.JSONEq(t, `{"vpcId": "vpc-1"}`, string(c.AWS), "the aws section is the provider's to read")
}

// testKey is an issuer's key pair, generated for the test.
func testKey(t *testing.T, kid string) (priv jose.JSONWebKey, jwks string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	priv = jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: "ES256", Use: "sig"}
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{priv.Public()}})
	require.NoError(t, err)
	return priv, string(b)
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestSignedApprovalsReadsKeysIntoThePolicy(t *testing.T) {
	_, jwks := testKey(t, "k1")
	indented := strings.ReplaceAll(jwks, ",", ",\n  ")
	file := writeFile(t, "jwks.json", indented)
	c := Default()
	require.NoError(t, Parse([]byte(`{"policy": {"signedApprovals": {"required": true, "maxAge": "5m",
		"issuers": [{"issuer": "https://accounts.example", "audience": "cli", "jwksFile": "`+file+`"}]}}}`), &c))
	s := c.Policy.SignedApprovals
	require.Len(t, s.Issuers, 1)
	assert.Empty(t, s.Issuers[0].JWKSFile, "history carries the keys, never a path that may differ between workers")
	assert.JSONEq(t, jwks, string(s.Issuers[0].JWKS))
	assert.Equal(t, 5*time.Minute, s.MaxAge.D())
	assert.Equal(t, time.Minute, s.Leeway.D(), "the default leeway")

	c = Default()
	require.NoError(t, Parse([]byte(`{"policy": {"signedApprovals": {"issuers": [{"issuer": "https://accounts.example", "audience": "cli", "jwks": `+jwks+`}]}}}`), &c))
	assert.Equal(t, 15*time.Minute, c.Policy.SignedApprovals.MaxAge.D(), "the default maxAge")
}

func TestPolicyRoundTripsThroughJSON(t *testing.T) {
	_, jwks := testKey(t, "k1")
	c := Default()
	c.Policy.Approvers = []string{"alice@platform.example"}
	require.NoError(t, Parse([]byte(`{"policy": {"signedApprovals": {"required": true, "leeway": "30s",
		"issuers": [{"issuer": "https://accounts.example", "audience": "cli", "jwksFile": "`+writeFile(t, "jwks.json", jwks)+`"}]}}}`), &c))
	b, err := json.Marshal(c.Policy)
	require.NoError(t, err)
	var back Policy
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, c.Policy, back, "the policy goes through history as JSON")
}

func TestSignedApprovalsErrors(t *testing.T) {
	priv, jwks := testKey(t, "k1")
	privJWK, err := priv.MarshalJSON()
	require.NoError(t, err)
	issuer := func(fields string) string {
		return `{"policy": {"signedApprovals": {"issuers": [{"issuer": "https://accounts.example", ` + fields + `}]}}}`
	}
	missing := filepath.Join(t.TempDir(), "missing.json")
	for _, tc := range []struct{ config, want string }{
		{issuer(`"audience": "cli", "jwksFile": "` + missing + `"`),
			`policy.signedApprovals.issuers[0].jwksFile: open ` + missing + `: no such file or directory: give a file holding the issuer's public key set (its jwks_uri document)`},
		{`{"policy": {"signedApprovals": {"required": true}}}`,
			`policy.signedApprovals.required is on but no issuer is trusted: add one to policy.signedApprovals.issuers (or set webhooks.approvalKeyFile)`},
		{issuer(`"jwks": ` + jwks),
			`policy.signedApprovals.issuers[0].audience is empty: set it to the client ID the ID tokens are issued for (their aud)`},
		{`{"policy": {"signedApprovals": {"issuers": [{"audience": "cli", "jwks": ` + jwks + `}]}}}`,
			`policy.signedApprovals.issuers[0].issuer is empty: set it to the ID tokens' iss exactly, e.g. "https://accounts.google.com"`},
		{issuer(`"audience": "cli"`),
			`policy.signedApprovals.issuers[0].jwks is empty: set jwks to the issuer's public key set, or jwksFile to a file holding it`},
		{issuer(`"audience": "cli", "jwks": {"keys": "none"}`),
			`policy.signedApprovals.issuers[0].jwks: not a JSON Web Key Set: give {"keys": [...]} as the issuer publishes it at its jwks_uri`},
		{issuer(`"audience": "cli", "jwks": {"keys": [` + string(privJWK) + `]}`),
			`policy.signedApprovals.issuers[0].jwks: key 0 (kid "k1") is a private or symmetric key: put only public keys in the policy`},
		{issuer(`"audience": "cli", "jwksFile": "` + writeFile(t, "private.json", string(privJWK)) + `"`),
			`policy.signedApprovals.issuers[0].jwksFile: key 0 (kid "k1") is a private or symmetric key: put only public keys in the policy`},
		{issuer(`"audience": "cli", "jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}`),
			`policy.signedApprovals.issuers[0].jwks: key 0 is a private or symmetric key: put only public keys in the policy`},
		{issuer(`"audience": "cli", "jwks": {"keys": []}`),
			`policy.signedApprovals.issuers[0].jwks: holds no usable public key: give {"keys": [...]} with the issuer's RSA, EC or Ed25519 keys`},
		{issuer(`"audience": "cli", "jwks": ` + jwks + `, "jwksFile": "x.json"`),
			`policy.signedApprovals.issuers[0]: give jwks or jwksFile, not both`},
		{`{"policy": {"signedApprovals": {"issuers": [{"issuer": "a", "audience": "cli", "jwks": ` + jwks + `}, {"issuer": "a", "audience": "web", "jwks": ` + jwks + `}]}}}`,
			`policy.signedApprovals.issuers[1].issuer a is listed twice: give each issuer once, with all its keys`},
		{`{"webhooks": {"approvalKeyFile": "` + missing + `"}}`,
			`webhooks.approvalKeyFile: open ` + missing + `: no such file or directory`},
		{`{"webhooks": {"approvalKeyFile": "` + writeFile(t, "pub.jwk", jwks) + `"}}`,
			`is not a private JWK (go-jose/go-jose: missing json web key type): give one JWK with its private parts, or a PEM private key`},
		{`{"webhooks": {"approvalKeyFile": "` + writeFile(t, "priv.jwk", string(privJWK)) + `"}, "policy": {"signedApprovals": {"issuers": [{"issuer": "linkwright-webhooks", "audience": "linkwright", "jwks": ` + jwks + `}]}}}`,
			`policy.signedApprovals.issuers[0].issuer linkwright-webhooks comes from webhooks.approvalKeyFile: remove this entry`},
		{`{"webhooks": {"agents": {"gitlab:octocat": "alice@platform.example"}}}`,
			`webhooks.agents["gitlab:octocat"]: key agents as "<system>:<id>" with system github, jira, servicenow, e.g. "github:octocat"`},
		{`{"webhooks": {"agents": {"github:octocat": "Alice"}}}`,
			`webhooks.agents["github:octocat"]: "Alice" is not an e-mail: map the agent to the approver's e-mail, as policy.approvers lists it`},
	} {
		c := Default()
		assert.ErrorContains(t, Parse([]byte(tc.config), &c), tc.want, tc.config)
	}

	c := Default()
	err = Parse([]byte(`{"policy": {"signedApprovals": {"required": true, "issuers": [{"issuer": "https://a.example"}]}}}`), &c)
	assert.ErrorContains(t, err, "issuers[0].audience is empty")
	assert.ErrorContains(t, err, "issuers[0].jwks is empty", "every problem is reported at once")
}

func TestApprovalKeyFileDerivesTheWebhookIssuer(t *testing.T) {
	priv, _ := testKey(t, "")
	b, err := priv.MarshalJSON()
	require.NoError(t, err)
	keyFile := writeFile(t, "approval.jwk", string(b))
	_, other := testKey(t, "g1")
	cfgFile := writeFile(t, "linkwright.json", `{"stateDir": "`+t.TempDir()+`", "policy": {"signedApprovals": {"issuers": [{"issuer": "https://accounts.example", "audience": "cli", "jwks": `+other+`}]}}}`)
	t.Setenv("LINKWRIGHT_CONFIG", cfgFile)
	t.Setenv("LINKWRIGHT_STATE_DIR", "")
	t.Setenv("LINKWRIGHT_APPROVERS", "")
	t.Setenv("LINKWRIGHT_WEBHOOK_APPROVAL_KEY_FILE", keyFile)
	c, err := Load()
	require.NoError(t, err)
	assert.Equal(t, keyFile, c.Webhooks.ApprovalKeyFile)
	iss := c.Policy.SignedApprovals.Issuers
	require.Len(t, iss, 2, "the webhook issuer is added once, after the configured ones")
	assert.Equal(t, "https://accounts.example", iss[0].Issuer)
	assert.Equal(t, keys.WebhookIssuer, iss[1].Issuer)
	assert.Equal(t, keys.WebhookAudience, iss[1].Audience)
	set, err := keys.ParsePublic(iss[1].JWKS)
	require.NoError(t, err, "the derived key set holds the public key only")
	require.Len(t, set.Keys, 1)
	assert.Equal(t, priv.Public().Key, set.Keys[0].Key)
	assert.NotEmpty(t, set.Keys[0].KeyID, "a kid is derived (RFC 7638 thumbprint) so that every worker names the key alike")
}

func TestAgentsAreNormalised(t *testing.T) {
	c := Default()
	require.NoError(t, Parse([]byte(`{"webhooks": {"agents": {
		"GitHub:OctoCat": " Alice@Platform.Example ",
		"jira:5b10ac8d82e05b22cc7d4ef5": "bob@platform.example",
		"servicenow:bob.smith": "bob@platform.example"}}}`), &c))
	assert.Equal(t, map[string]string{
		"github:octocat":                "alice@platform.example",
		"jira:5b10ac8d82e05b22cc7d4ef5": "bob@platform.example",
		"servicenow:bob.smith":          "bob@platform.example",
	}, c.Webhooks.Agents)
	assert.Equal(t, "github:octocat", AgentKey("github", "OctoCat"))
	assert.Equal(t, "jira:5b10AC", AgentKey("jira", "5b10AC"), "only GitHub logins are case-insensitive")
}

func TestEmail(t *testing.T) {
	for in, want := range map[string]string{" Alice@Platform.Example ": "alice@platform.example", "a@x": "a@x"} {
		got, ok := Email(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got)
	}
	for _, in := range []string{"", "alice", "Alice <alice@platform.example>", "a@b@c", "octocat"} {
		_, ok := Email(in)
		assert.False(t, ok, in)
	}
}

func TestBudgetsAndSNSTopics(t *testing.T) {
	c := Default()
	require.NoError(t, Parse([]byte(`{"budgets": {"poll": 2}}`), &c))
	assert.Equal(t, Budgets{Read: 8, Poll: 2, Mutate: 3, Accept: 3}, c.Budgets, "an unset class takes its default")
	assert.Equal(t, DefaultStickyCacheSize, c.StickyCacheSize)

	c = Default()
	err := Parse([]byte(`{"budgets": {"mutate": -1}, "stickyCacheSize": -5}`), &c)
	assert.ErrorContains(t, err, "budgets.mutate is -1")
	assert.ErrorContains(t, err, "stickyCacheSize is -5")

	c = Default()
	require.NoError(t, Parse([]byte(`{"webhooks": {"snsTopicArns": ["arn:aws:sns:us-east-1:123456789012:privatelink-connections"]}}`), &c))
	c = Default()
	err = Parse([]byte(`{"webhooks": {"snsTopicArns": ["privatelink-connections"]}}`), &c)
	assert.ErrorContains(t, err, `webhooks.snsTopicArns[0]: "privatelink-connections" is not an SNS topic ARN`)
}

func TestOpsSettings(t *testing.T) {
	for _, v := range []string{"LINKWRIGHT_CONFIG", "LINKWRIGHT_ADMIN_LISTEN", "LINKWRIGHT_METRICS", "LINKWRIGHT_TRACING",
		"LINKWRIGHT_DEPLOYMENT_NAME", "LINKWRIGHT_DEPLOYMENT_PROMOTE"} {
		t.Setenv(v, "")
	}
	c, err := Load()
	require.NoError(t, err)
	assert.Equal(t, admin.DefaultListen, c.Admin.Listen, "loopback by default")
	assert.True(t, c.Telemetry.MetricsOn())
	assert.True(t, c.Telemetry.TracingOn())
	assert.Empty(t, c.Deployment.Name, "unversioned unless named")

	t.Setenv("LINKWRIGHT_ADMIN_LISTEN", ":9090")
	t.Setenv("LINKWRIGHT_METRICS", "off")
	t.Setenv("LINKWRIGHT_DEPLOYMENT_NAME", "linkwright")
	t.Setenv("LINKWRIGHT_DEPLOYMENT_PROMOTE", "true")
	c, err = Load()
	require.NoError(t, err)
	assert.Equal(t, ":9090", c.Admin.Listen)
	assert.False(t, c.Telemetry.MetricsOn())
	assert.True(t, c.Telemetry.TracingOn())
	assert.Equal(t, Deployment{Name: "linkwright", Promote: true}, c.Deployment)

	t.Setenv("LINKWRIGHT_TRACING", "maybe")
	_, err = Load()
	assert.ErrorContains(t, err, `LINKWRIGHT_TRACING="maybe": use "on" or "off"`)

	c = Default()
	assert.ErrorContains(t, Parse([]byte(`{"admin": {"listen": "9090"}}`), &c), `admin.listen "9090": give host:port`)
	c = Default()
	assert.ErrorContains(t, Parse([]byte(`{"deployment": {"name": "linkwright.prod"}}`), &c), `deployment.name "linkwright.prod": use letters, digits`)
	c = Default()
	assert.ErrorContains(t, Parse([]byte(`{"deployment": {"promote": true}}`), &c), "deployment.promote needs deployment.name")
	c = Default()
	require.NoError(t, Parse([]byte(`{"admin": {"listen": "off"}, "telemetry": {"tracing": false}}`), &c))
	assert.False(t, c.Telemetry.TracingOn())
}
