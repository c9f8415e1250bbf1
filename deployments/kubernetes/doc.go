// Package kubernetes holds no code: its test builds the kustomize base and
// overlays in this directory and checks them against the worker's
// constants (admin port and paths, codec environment, stop timeout) and
// the Secrets listed in secrets.md.
package kubernetes
