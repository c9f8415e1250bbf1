// Package logging builds the zap logger and adapts it to the Temporal SDK's
// logger interface.
package logging

import (
	"os"

	"go.temporal.io/sdk/log"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// New returns a production zap logger; LINKWRIGHT_LOG_LEVEL sets the level
// (debug, info, warn, error; info by default) and LINKWRIGHT_LOG_FORMAT=json
// switches from console to JSON lines.
func New() *zap.Logger {
	level := zapcore.InfoLevel
	if v := os.Getenv("LINKWRIGHT_LOG_LEVEL"); v != "" {
		_ = level.Set(v)
	}
	cfg := zap.NewProductionConfig()
	cfg.Level = zap.NewAtomicLevelAt(level)
	cfg.Encoding = "console"
	cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	cfg.EncoderConfig.EncodeLevel = zapcore.CapitalLevelEncoder
	if os.Getenv("LINKWRIGHT_LOG_FORMAT") == "json" {
		cfg.Encoding = "json"
	}
	l, err := cfg.Build()
	if err != nil {
		return zap.NewNop()
	}
	return l
}

// Temporal adapts a zap logger to the SDK's log.Logger.
func Temporal(l *zap.Logger) log.Logger {
	return sdkLogger{l.WithOptions(zap.AddCallerSkip(1)).Sugar()}
}

type sdkLogger struct{ s *zap.SugaredLogger }

var _ log.WithLogger = sdkLogger{}

func (l sdkLogger) Debug(msg string, kv ...any) { l.s.Debugw(msg, kv...) }
func (l sdkLogger) Info(msg string, kv ...any)  { l.s.Infow(msg, kv...) }
func (l sdkLogger) Warn(msg string, kv ...any)  { l.s.Warnw(msg, kv...) }
func (l sdkLogger) Error(msg string, kv ...any) { l.s.Errorw(msg, kv...) }

// With returns a logger with fields added.
func (l sdkLogger) With(kv ...any) log.Logger { return sdkLogger{l.s.With(kv...)} }
