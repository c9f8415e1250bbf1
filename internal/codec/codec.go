// Package codec encrypts Temporal payloads with AES-256-GCM before they
// leave the worker or the CLI, so that the Temporal service stores (and its
// Web UI shows) only ciphertext; and serves the same codec over HTTP (a
// codec server) for the Web UI and the Temporal CLI to decode with.
//
// Keys come from a file or the environment (env.go), never from the config
// file. Every key decrypts; one, the active key, encrypts. A payload names
// its key's ID in its metadata, so that keys can be rotated: add a new key,
// make it active, and keep the old ones for as long as a history holds
// payloads they encrypted.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// Payload metadata.
const (
	// MetadataEncoding is the metadata field that names a payload's
	// encoding (the SDK's converter.MetadataEncoding).
	MetadataEncoding = converter.MetadataEncoding
	// EncodingEncrypted is the encoding of a payload this codec encrypted.
	EncodingEncrypted = "binary/encrypted"
	// MetadataKeyID names the key that encrypted a payload.
	MetadataKeyID = "encryption-key-id"
)

// KeySize is the size of a key in bytes: AES-256.
const KeySize = 32

const nonceSize = 12 // GCM's standard nonce

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Key is one AES-256 key and its ID.
type Key struct {
	ID     string
	Secret []byte // KeySize bytes
}

// Codec is an AES-256-GCM converter.PayloadCodec.
type Codec struct {
	active string
	ids    []string // in the order given
	aeads  map[string]cipher.AEAD
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns a codec that decrypts with every key and encrypts with the
// one whose ID is active (the first key when active is empty).
func New(keys []Key, active string) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("no keys")
	}
	c := &Codec{aeads: map[string]cipher.AEAD{}}
	for _, k := range keys {
		if err := checkKeyID(k.ID); err != nil {
			return nil, err
		}
		if _, dup := c.aeads[k.ID]; dup {
			return nil, fmt.Errorf("key ID %q appears twice: each key needs its own ID", k.ID)
		}
		if len(k.Secret) != KeySize {
			return nil, fmt.Errorf("key %q must be 32 bytes, base64 (it is %d bytes)", k.ID, len(k.Secret))
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k.ID, err)
		}
		c.aeads[k.ID] = aead
		c.ids = append(c.ids, k.ID)
	}
	c.active = c.ids[0]
	if active != "" {
		if _, ok := c.aeads[active]; !ok {
			return nil, fmt.Errorf("the active key %q is not among the keys (%s): add its line, or name one of these", active, strings.Join(c.ids, ", "))
		}
		c.active = active
	}
	return c, nil
}

func checkKeyID(id string) error {
	if !keyIDPattern.MatchString(id) {
		return fmt.Errorf("key ID %q is not valid: use 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'", clip(id))
	}
	return nil
}

// clip keeps an invalid ID short in a message (it may be a pasted key).
func clip(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}

// ActiveKeyID is the ID of the key that encrypts.
func (c *Codec) ActiveKeyID() string { return c.active }

// KeyIDs are the IDs of every key, active or retired, in the order given.
func (c *Codec) KeyIDs() []string { return slices.Clone(c.ids) }

// DataConverter is the SDK's default data converter with this codec: the
// data converter of every client and worker when encryption is on.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// Encode implements converter.PayloadCodec: each payload, marshalled whole
// (metadata and data), is encrypted with the active key under a fresh
// random nonce, the key's ID bound in as additional data.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.active]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if p == nil {
			continue
		}
		plain, err := proto.Marshal(p)
		if err != nil {
			return payloads, fmt.Errorf("encrypt payload: %w", err)
		}
		data := make([]byte, nonceSize, nonceSize+len(plain)+aead.Overhead())
		if _, err := rand.Read(data); err != nil {
			return payloads, fmt.Errorf("encrypt payload: nonce: %w", err)
		}
		data = aead.Seal(data, data[:nonceSize], plain, []byte(c.active))
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:    []byte(c.active),
			},
			Data: data,
		}
	}
	return out, nil
}

// Decode implements converter.PayloadCodec: it decrypts the payloads this
// codec encrypted, with the key their metadata names; others pass through.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if p == nil || string(p.GetMetadata()[MetadataEncoding]) != EncodingEncrypted {
			out[i] = p
			continue
		}
		q, err := c.decrypt(p)
		if err != nil {
			return payloads, err
		}
		out[i] = q
	}
	return out, nil
}

func (c *Codec) decrypt(p *commonpb.Payload) (*commonpb.Payload, error) {
	id, ok := p.GetMetadata()[MetadataKeyID]
	if !ok {
		return nil, fmt.Errorf("cannot decrypt payload: its metadata has no %s", MetadataKeyID)
	}
	aead, ok := c.aeads[string(id)]
	if !ok {
		return nil, fmt.Errorf("cannot decrypt payload: it was encrypted with key %q, which is not among the keys (%s); "+
			"add the retired key's line back to the key file (%s), and keep retired keys for as long as histories hold payloads they encrypted",
			clip(string(id)), strings.Join(c.ids, ", "), EnvKeysFile)
	}
	data := p.GetData()
	if len(data) < nonceSize+aead.Overhead() {
		return nil, fmt.Errorf("cannot decrypt payload with key %q: %d bytes is too short to be a ciphertext", id, len(data))
	}
	plain, err := aead.Open(nil, data[:nonceSize], data[nonceSize:], id)
	if err != nil {
		return nil, fmt.Errorf("cannot decrypt payload with key %q: it does not authenticate (altered, or labelled with another key's ID)", id)
	}
	var q commonpb.Payload
	if err := proto.Unmarshal(plain, &q); err != nil {
		return nil, fmt.Errorf("decrypted payload (key %q) is not a payload: %w", id, err)
	}
	return &q, nil
}

// GenerateKey returns a new random key as a key file line,
// "<key id>:<base64 of 32 bytes>", its ID made of today's date and a
// random suffix (k-20261121-ab12).
func GenerateKey() string {
	secret := make([]byte, KeySize)
	suffix := make([]byte, 2)
	// crypto/rand.Read never fails (it crashes the program instead).
	_, _ = rand.Read(secret)
	_, _ = rand.Read(suffix)
	id := "k-" + time.Now().UTC().Format("20060102") + "-" + hex.EncodeToString(suffix)
	return id + ":" + base64.StdEncoding.EncodeToString(secret)
}
