package rest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRetriesHonourRetryAfter(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "Bearer secret", r.Header.Get("Authorization"))
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Write([]byte(`{"id": 7}`))
	}))
	defer srv.Close()
	c := &Client{Base: srv.URL, Auth: func(r *http.Request) { r.Header.Set("Authorization", "Bearer secret") }, Backoff: time.Millisecond}
	var out struct{ ID int }
	start := time.Now()
	require.NoError(t, c.Do(context.Background(), "Test get", http.MethodGet, "/things/7", nil, &out))
	assert.Equal(t, 7, out.ID)
	assert.Equal(t, int32(2), calls.Load())
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "waited the Retry-After")
}

func TestServerErrorsRetryThenFailRetryable(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte("upstream   down"))
	}))
	defer srv.Close()
	c := &Client{Base: srv.URL, Backoff: time.Millisecond, Retries: 2}
	err := c.Do(context.Background(), "Test create", http.MethodPost, "/things?x=1", map[string]int{"a": 1}, nil)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.True(t, e.Retryable())
	assert.Equal(t, int32(3), calls.Load(), "one call and two retries")
	assert.Equal(t, "Test create: POST /things: HTTP 502: upstream down", err.Error(), "says which call failed, without the query")
}

func TestClientErrorsAreFinalAndKeepSecretsOut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error": "Couldn't authenticate you"}`))
	}))
	defer srv.Close()
	c := &Client{Base: srv.URL, Auth: func(r *http.Request) { r.SetBasicAuth("ops@platform.example/token", "s3cr3t") }}
	err := c.Do(context.Background(), "Test", http.MethodGet, "/me", nil, nil)
	require.Error(t, err)
	assert.False(t, err.(*Error).Retryable())
	assert.True(t, IsStatus(err, http.StatusUnauthorized))
	assert.NotContains(t, err.Error(), "s3cr3t")
}

func TestLongRetryAfterIsLeftToTheActivity(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c := &Client{Base: srv.URL}
	start := time.Now()
	err := c.Do(context.Background(), "Test", http.MethodGet, "/x", nil, nil)
	require.Error(t, err)
	assert.True(t, err.(*Error).Retryable())
	assert.Less(t, time.Since(start), 5*time.Second, "no hour-long sleep inside an activity")
}
