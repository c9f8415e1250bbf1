package codec

import (
	"encoding/base64"
	"fmt"
	"os"
	"strings"
)

// ParseKeys reads key lines, "<key id>:<base64 of 32 bytes>", from text;
// blank lines and lines starting with # are skipped. source names where
// the text came from in errors (the variable, and the file); sep says how
// the entries are separated: "line" (newlines) or "entry" (newlines or
// commas). Every key is checked, and no key material ever appears in an
// error.
func ParseKeys(text, source, sep string) ([]Key, error) {
	if sep == "entry" {
		text = strings.ReplaceAll(text, ",", "\n")
	}
	entries := strings.Split(text, "\n")
	var keys []Key
	seen := map[string]int{}
	for i, e := range entries {
		n := i + 1
		e = strings.TrimSpace(e)
		if e == "" || strings.HasPrefix(e, "#") {
			continue
		}
		where := fmt.Sprintf("%s %s %d", source, sep, n)
		id, b64, ok := strings.Cut(e, ":")
		id, b64 = strings.TrimSpace(id), strings.TrimSpace(b64)
		if !ok || b64 == "" {
			return nil, fmt.Errorf("%s: want \"<key id>:<base64 of 32 bytes>\"; make a key with `linkwright codec-keygen`", where)
		}
		if err := checkKeyID(id); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if first, dup := seen[id]; dup {
			return nil, fmt.Errorf("%s: key ID %q is already used by %s %d: each key needs its own ID", where, id, sep, first)
		}
		seen[id] = n
		secret, err := decodeBase64(b64)
		if err != nil {
			return nil, fmt.Errorf("%s: key %q is not base64: it must be 32 bytes, base64; make a key with `linkwright codec-keygen`", where, id)
		}
		if len(secret) != KeySize {
			return nil, fmt.Errorf("%s: key %q must be 32 bytes, base64 (it is %d bytes); make a key with `linkwright codec-keygen`", where, id, len(secret))
		}
		keys = append(keys, Key{ID: id, Secret: secret})
	}
	return keys, nil
}

func decodeBase64(s string) ([]byte, error) {
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		var b []byte
		if b, err = enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, err
}

// FromEnv returns the codec the environment configures (env.go): the keys
// of LINKWRIGHT_CODEC_KEYS_FILE or LINKWRIGHT_CODEC_KEYS, the active one
// LINKWRIGHT_CODEC_ACTIVE_KEY. With neither variable set it returns nil
// and no error: encryption is off, which callers should say.
func FromEnv() (*Codec, error) {
	file, inline, active := os.Getenv(EnvKeysFile), os.Getenv(EnvKeys), strings.TrimSpace(os.Getenv(EnvActiveKey))
	var keys []Key
	var source string
	switch {
	case file != "" && inline != "":
		return nil, fmt.Errorf("both %s and %s are set: set one (the file, in production)", EnvKeysFile, EnvKeys)
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s: cannot read the key file: %w", EnvKeysFile, err)
		}
		source = EnvKeysFile + " " + file
		if keys, err = ParseKeys(string(data), source, "line"); err != nil {
			return nil, err
		}
	case inline != "":
		source = EnvKeys
		var err error
		if keys, err = ParseKeys(inline, source, "entry"); err != nil {
			return nil, err
		}
	case active != "":
		return nil, fmt.Errorf("%s is set to %q but there are no keys: set %s (or %s), or unset %s", EnvActiveKey, active, EnvKeysFile, EnvKeys, EnvActiveKey)
	default:
		return nil, nil // encryption off
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s holds no keys: add a line \"<key id>:<base64 of 32 bytes>\" (`linkwright codec-keygen` makes one), or unset the variable to turn encryption off", source)
	}
	c, err := New(keys, active)
	if err != nil {
		if active != "" {
			if _, ok := indexOf(keys, active); !ok {
				return nil, fmt.Errorf("%s=%q is not among the keys of %s (%s): add that key's line, or set %s to one of them",
					EnvActiveKey, active, source, strings.Join(idsOf(keys), ", "), EnvActiveKey)
			}
		}
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return c, nil
}

func indexOf(keys []Key, id string) (int, bool) {
	for i, k := range keys {
		if k.ID == id {
			return i, true
		}
	}
	return 0, false
}

func idsOf(keys []Key) []string {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	return ids
}
