package rest

import (
	"context"
	"io"
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
		body, _ := io.ReadAll(r.Body)
		assert.JSONEq(t, `{"name": "x"}`, string(body), "the body is sent again on retry")
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
	require.NoError(t, c.Do(context.Background(), "Test create", http.MethodPost, "/things", map[string]string{"name": "x"}, &out))
	assert.Equal(t, 7, out.ID)
	assert.Equal(t, int32(2), calls.Load())
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "waited the Retry-After; a 429 was not processed, so even a POST is retried")
}

func TestServerErrorsRetryThenFailRetryable(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte("upstream   down"))
	}))
	defer srv.Close()
	c := &Client{Base: srv.URL, Backoff: time.Millisecond}
	err := c.Do(context.Background(), "Test list", http.MethodGet, "/things?x=1", nil, nil)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.True(t, e.Retryable())
	assert.Equal(t, int32(4), calls.Load(), "a read: one call and three retries")
	assert.Equal(t, "Test list: GET /things: HTTP 502: upstream down", err.Error(), "says which call failed, without the query")

	calls.Store(0)
	err = c.Do(context.Background(), "Test create", http.MethodPost, "/things", map[string]int{"a": 1}, nil)
	require.ErrorAs(t, err, &e)
	assert.True(t, e.Retryable(), "the activity may retry it, after reading first")
	assert.Equal(t, int32(1), calls.Load(), "a write that may have been applied is not repeated here")
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
