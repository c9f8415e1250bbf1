package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"

	"github.com/linkwright/linkwright/internal/devtest"
)

// The dev server speaks no TLS, so these tests put a TLS terminator in
// front of it (as a load balancer or Temporal Cloud's edge would be) and
// connect the way the worker does: envconfig.LoadDefaultClientOptions over
// a profile in TEMPORAL_CONFIG_FILE, the README's Temporal Cloud profiles.

type pki struct {
	dir                      string
	caPath, certPath, keyPth string
	ca                       *x509.CertPool
	server                   tls.Certificate
}

func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "linkwright test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, hosts []string) ([]byte, *ecdsa.PrivateKey) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, DNSNames: hosts}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		require.NoError(t, err)
		return der, key
	}
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
		return path
	}
	p := pki{dir: dir, ca: x509.NewCertPool()}
	p.ca.AddCert(caCert)
	p.caPath = write("ca.pem", "CERTIFICATE", caDER)
	srvDER, srvKey := issue(2, "temporal.test", x509.ExtKeyUsageServerAuth, []string{"temporal.test"})
	p.server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	cliDER, cliKey := issue(3, "linkwright-worker", x509.ExtKeyUsageClientAuth, nil)
	p.certPath = write("client.pem", "CERTIFICATE", cliDER)
	keyDER, err := x509.MarshalPKCS8PrivateKey(cliKey)
	require.NoError(t, err)
	p.keyPth = write("client.key", "PRIVATE KEY", keyDER)
	return p
}

// tlsFront terminates TLS (requiring a client certificate signed by the
// CA when mtls) and relays to the dev server; handshakes counts the ones
// that succeeded.
func tlsFront(t *testing.T, p pki, mtls bool) (addr string, handshakes func() int) {
	t.Helper()
	cfg := &tls.Config{Certificates: []tls.Certificate{p.server}, NextProtos: []string{"h2"}, MinVersion: tls.VersionTLS12}
	if mtls {
		cfg.ClientAuth, cfg.ClientCAs = tls.RequireAndVerifyClientCert, p.ca
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	ok := 0
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				if err := conn.(*tls.Conn).Handshake(); err != nil {
					return
				}
				mu.Lock()
				ok++
				mu.Unlock()
				up, err := net.Dial("tcp", devtest.Address())
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, conn); up.Close() }()
				_, _ = io.Copy(conn, up)
			}()
		}
	}()
	return ln.Addr().String(), func() int { mu.Lock(); defer mu.Unlock(); return ok }
}

// dialProfile loads the client options as the worker does, from profile
// in a config file holding toml, and checks the connection with a call.
func dialProfile(t *testing.T, toml string) error {
	t.Helper()
	path := filepath.Join(t.TempDir(), "temporal.toml")
	require.NoError(t, os.WriteFile(path, []byte(toml), 0o600))
	t.Setenv("TEMPORAL_CONFIG_FILE", path)
	t.Setenv("TEMPORAL_PROFILE", "cloud")
	for _, v := range []string{"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY", "TEMPORAL_TLS",
		"TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_KEY_PATH", "TEMPORAL_TLS_SERVER_CA_CERT_PATH", "TEMPORAL_TLS_SERVER_NAME"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	opts, err := envconfig.LoadDefaultClientOptions()
	require.NoError(t, err)
	opts.Logger = devtest.Quiet{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{})
	return err
}

func TestIntegrationTLSProfiles(t *testing.T) {
	devtest.Client(t) // skips without a dev server
	p := newPKI(t)

	t.Run("mTLS", func(t *testing.T) {
		addr, handshakes := tlsFront(t, p, true)
		err := dialProfile(t, fmt.Sprintf(`[profile.cloud]
address = %q
namespace = "default"
[profile.cloud.tls]
client_cert_path = %q
client_key_path = %q
server_ca_cert_path = %q
server_name = "temporal.test"
`, addr, p.certPath, p.keyPth, p.caPath))
		require.NoError(t, err)
		assert.Positive(t, handshakes())

		// Without the client certificate the front refuses the handshake.
		err = dialProfile(t, fmt.Sprintf(`[profile.cloud]
address = %q
namespace = "default"
[profile.cloud.tls]
server_ca_cert_path = %q
server_name = "temporal.test"
`, addr, p.caPath))
		require.Error(t, err)
	})

	t.Run("API key", func(t *testing.T) {
		addr, handshakes := tlsFront(t, p, false)
		// An API key turns TLS on; the CA is named here only because the
		// test's CA is not among the system's roots (Temporal Cloud's is).
		err := dialProfile(t, fmt.Sprintf(`[profile.cloud]
address = %q
namespace = "default"
api_key = "test-key"
[profile.cloud.tls]
server_ca_cert_path = %q
server_name = "temporal.test"
`, addr, p.caPath))
		require.NoError(t, err)
		assert.Positive(t, handshakes())

		// A server whose certificate the client cannot verify is refused.
		err = dialProfile(t, fmt.Sprintf(`[profile.cloud]
address = %q
namespace = "default"
api_key = "test-key"
`, addr))
		require.Error(t, err)
	})
}
