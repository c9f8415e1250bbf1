package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/linkwright/linkwright/internal/codec"
)

// stringList is a flag that may be repeated, each value a comma list.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// cmdCodecServer serves the payload codec over HTTP for the Temporal Web UI
// and CLI: the same keys as the worker's (LINKWRIGHT_CODEC_KEYS_FILE).
func cmdCodecServer(ctx context.Context, args []string, out, logOut io.Writer) error {
	fs := newFlags("codec-server")
	listen := fs.String("listen", codec.DefaultServerListen, "the address to listen on")
	var origins stringList
	fs.Var(&origins, "allow-origin", "an origin (the Web UI's) allowed cross-origin requests; repeat, or separate with commas")
	tokenFile := fs.String("auth-token-file", os.Getenv(codec.EnvAuthTokenFile), "a file holding the bearer token encode and decode require")
	if err := parse(fs, args); err != nil {
		return err
	}
	if len(origins) == 0 {
		if env := os.Getenv(codec.EnvAllowOrigins); env != "" {
			origins = stringList{env}
		} else {
			origins = codec.DevUIOrigins
		}
	}
	allowed, err := codec.ParseOrigins(origins...)
	if err != nil {
		return usageError("codec-server: -allow-origin: %v", err)
	}
	c, err := codec.FromEnv()
	if err != nil {
		return err
	}
	if c == nil {
		return fmt.Errorf("no keys: set %s to the worker's key file (or %s); `linkwright codec-keygen` makes a key", codec.EnvKeysFile, codec.EnvKeys)
	}
	var token string
	if *tokenFile != "" {
		if token, err = codec.ReadAuthToken(*tokenFile); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (another codec server? choose one with -listen): %w", *listen, err)
	}
	logger := slog.New(slog.NewTextHandler(logOut, nil)) // one line a request, never a payload
	srv := &http.Server{
		Handler:           codec.NewServer(c, codec.ServerOptions{AllowOrigins: allowed, AuthToken: token, Log: logger}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	auth := "none (loopback only, or set -auth-token-file)"
	if token != "" {
		auth = "bearer token from " + *tokenFile
	} else if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		// It decrypts for whoever reaches it.
		logger.Warn("the codec server listens beyond loopback without a token: put it behind authentication, or set -auth-token-file", "listen", ln.Addr().String())
	}
	fmt.Fprintf(out, "Codec server on http://%s: keys %s (active %s); allowed origins %s; auth %s.\n",
		ln.Addr(), strings.Join(c.KeyIDs(), ", "), c.ActiveKeyID(), strings.Join(allowed, ", "), auth)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// cmdCodecKeygen prints a new key line for the key file.
func cmdCodecKeygen(args []string, out io.Writer) error {
	fs := newFlags("codec-keygen")
	if err := parse(fs, args); err != nil {
		return err
	}
	_, err := fmt.Fprintln(out, codec.GenerateKey())
	return err
}
