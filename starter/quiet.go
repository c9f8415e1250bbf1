package main

import "go.temporal.io/sdk/log"

// quietLogger keeps the SDK's own logging off the operator's terminal.
type quietLogger struct{}

var _ log.Logger = quietLogger{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
