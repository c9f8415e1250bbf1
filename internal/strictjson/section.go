package strictjson

import (
	"fmt"
	"net/url"
	"os"
	"strings"
)

// DecodeSection decodes the config file's section name (raw, which may be
// empty) into v, naming the section in errors.
func DecodeSection(name string, raw []byte, v any) error {
	if len(raw) == 0 {
		return nil
	}
	if err := Decode(raw, v); err != nil {
		return fmt.Errorf("config %s: %w", name, err)
	}
	return nil
}

// FromEnv sets *dst from the environment variable, when it is set: the way
// secrets reach a section without being written in the file.
func FromEnv(dst *string, variable string) {
	if v := os.Getenv(variable); v != "" {
		*dst = v
	}
}

// IsURL reports whether s is an absolute URL with a host.
func IsURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && u.Host != ""
}

// Problems collects what is wrong with a config section, to report at once.
type Problems []string

// Add records msg when bad is true.
func (p *Problems) Add(bad bool, msg string) {
	if bad {
		*p = append(*p, msg)
	}
}

// Err is nil when nothing is wrong.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("config: %s", strings.Join(p, "; "))
}
