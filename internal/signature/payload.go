package signature

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// PayloadType is the value of critical.type in a cosign image signature.
const PayloadType = "cosign container image signature"

// MaxPayloadSize bounds the payloads ParsePayload accepts and the signature
// layers Verify reads.
const MaxPayloadSize = 1 << 20

// Payload is a simple-signing payload as cosign writes it.
type Payload struct {
	Critical Critical `json:"critical"`
	// Optional holds the signer's annotations; cosign writes strings, and
	// null when there are none.
	Optional map[string]any `json:"optional"`
}

// Critical is the part of a payload a verifier must check.
type Critical struct {
	Identity Identity `json:"identity"`
	Image    Image    `json:"image"`
	Type     string   `json:"type"`
}

// Identity names the repository the signer meant to sign.
type Identity struct {
	DockerReference string `json:"docker-reference"`
}

// Image names the signed manifest.
type Image struct {
	DockerManifestDigest string `json:"docker-manifest-digest"`
}

// Digest returns the signed manifest digest, parsed.
func (p *Payload) Digest() (v1.Hash, error) {
	return v1.NewHash(p.Critical.Image.DockerManifestDigest)
}

// Annotation returns the string annotation key of the payload and whether
// it is present as a string.
func (p *Payload) Annotation(key string) (string, bool) {
	v, ok := p.Optional[key]
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}

// NewPayload returns the payload signing digest in repository repo
// (a repository name such as "registry.example/team/app") with the given
// annotations, encoded byte for byte as cosign encodes it: compact JSON,
// keys sorted, "optional":null when there are no annotations. It returns an
// error when repo is empty or digest is not a valid digest.
func NewPayload(repo string, digest v1.Hash, annotations map[string]string) ([]byte, error) {
	if repo == "" {
		return nil, errors.New("new payload: empty repository")
	}
	if _, err := v1.NewHash(digest.String()); err != nil {
		return nil, fmt.Errorf("new payload: %w", err)
	}
	p := Payload{Critical: Critical{
		Identity: Identity{DockerReference: repo},
		Image:    Image{DockerManifestDigest: digest.String()},
		Type:     PayloadType,
	}}
	if annotations != nil {
		p.Optional = make(map[string]any, len(annotations))
		for k, v := range annotations {
			p.Optional[k] = v
		}
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("new payload: %w", err)
	}
	return b, nil
}

// ParsePayload decodes a simple-signing payload. It is strict where a
// verifier relies on the contents: the payload must be at most
// MaxPayloadSize bytes of one JSON object; the top level and the critical
// section must not repeat keys, the critical section must hold exactly
// identity, image and type (each with exactly its one field), type must be
// PayloadType, the reference non-empty and the digest a valid digest.
// Optional may be absent, null or any object. Errors describe the first
// problem found.
func ParsePayload(data []byte) (*Payload, error) {
	if len(data) > MaxPayloadSize {
		return nil, fmt.Errorf("parse payload: %d bytes, more than %d", len(data), MaxPayloadSize)
	}
	top, err := fields(data, "critical", "optional")
	if err != nil {
		return nil, fmt.Errorf("parse payload: %w", err)
	}
	rawCrit, ok := top["critical"]
	if !ok {
		return nil, errors.New("parse payload: no critical section")
	}
	crit, err := fields(rawCrit, "identity", "image", "type")
	if err != nil {
		return nil, fmt.Errorf("parse payload: critical: %w", err)
	}
	for _, k := range []string{"identity", "image", "type"} {
		if _, ok := crit[k]; !ok {
			return nil, fmt.Errorf("parse payload: critical: no %s", k)
		}
	}
	var p Payload
	if err := json.Unmarshal(crit["type"], &p.Critical.Type); err != nil {
		return nil, fmt.Errorf("parse payload: critical.type: %w", err)
	}
	if p.Critical.Type != PayloadType {
		return nil, fmt.Errorf("parse payload: critical.type is %q, want %q", p.Critical.Type, PayloadType)
	}
	if p.Critical.Identity.DockerReference, err = stringField(crit["identity"], "docker-reference"); err != nil {
		return nil, fmt.Errorf("parse payload: critical.identity: %w", err)
	}
	if p.Critical.Identity.DockerReference == "" {
		return nil, errors.New("parse payload: critical.identity: empty docker-reference")
	}
	if p.Critical.Image.DockerManifestDigest, err = stringField(crit["image"], "docker-manifest-digest"); err != nil {
		return nil, fmt.Errorf("parse payload: critical.image: %w", err)
	}
	if _, err := p.Digest(); err != nil {
		return nil, fmt.Errorf("parse payload: critical.image: %w", err)
	}
	if raw, ok := top["optional"]; ok {
		if err := json.Unmarshal(raw, &p.Optional); err != nil {
			return nil, fmt.Errorf("parse payload: optional: %w", err)
		}
	}
	return &p, nil
}

// stringField decodes an object holding exactly the string field key.
func stringField(data []byte, key string) (string, error) {
	m, err := fields(data, key)
	if err != nil {
		return "", err
	}
	raw, ok := m[key]
	if !ok {
		return "", fmt.Errorf("no %s", key)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	return s, nil
}

// fields splits data, which must be exactly one JSON object, into its
// members. Keys are matched exactly (encoding/json would also accept
// "Critical"); a key outside allowed or a repeated key is an error, so two
// readers can never see two different payloads in the same bytes.
func fields(data []byte, allowed ...string) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	out := make(map[string]json.RawMessage)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errors.New("object key is not a string")
		}
		if !slices.Contains(allowed, key) {
			return nil, fmt.Errorf("unknown field %q", key)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("repeated field %q", key)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		out[key] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return out, nil
}
