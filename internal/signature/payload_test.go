package signature

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestNewPayload(t *testing.T) {
	h, err := v1.NewHash(testDigest)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		annotations map[string]string
		want        string
	}{
		{
			name: "no annotations",
			want: `{"critical":{"identity":{"docker-reference":"reg.example/team/app"},"image":{"docker-manifest-digest":"` + testDigest + `"},"type":"cosign container image signature"},"optional":null}`,
		},
		{
			name:        "annotations sorted",
			annotations: map[string]string{"team": "core", "env": "prod"},
			want:        `{"critical":{"identity":{"docker-reference":"reg.example/team/app"},"image":{"docker-manifest-digest":"` + testDigest + `"},"type":"cosign container image signature"},"optional":{"env":"prod","team":"core"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewPayload("reg.example/team/app", h, tt.annotations)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("NewPayload = %s; want %s", got, tt.want)
			}
			p, err := ParsePayload(got)
			if err != nil {
				t.Fatalf("ParsePayload(%q) = %v", got, err)
			}
			if d, _ := p.Digest(); d != h {
				t.Errorf("digest = %v; want %v", d, h)
			}
			for k, v := range tt.annotations {
				if got, ok := p.Annotation(k); !ok || got != v {
					t.Errorf("Annotation(%q) = %q, %v; want %q", k, got, ok, v)
				}
			}
		})
	}
	if _, err := NewPayload("", h, nil); err == nil {
		t.Error("NewPayload with empty repository: no error")
	}
	if _, err := NewPayload("r", v1.Hash{}, nil); err == nil {
		t.Error("NewPayload with zero digest: no error")
	}
}

func TestParsePayload(t *testing.T) {
	crit := func(identity, image, typ string) string {
		return `{"critical":{"identity":` + identity + `,"image":` + image + `,"type":` + typ + `}}`
	}
	id := `{"docker-reference":"r/a"}`
	img := `{"docker-manifest-digest":"` + testDigest + `"}`
	typ := `"cosign container image signature"`
	good := crit(id, img, typ)
	p, err := ParsePayload([]byte(good))
	if err != nil {
		t.Fatalf("ParsePayload(%q) = %v", good, err)
	}
	want := &Payload{Critical: Critical{Identity: Identity{"r/a"}, Image: Image{testDigest}, Type: PayloadType}}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("ParsePayload(%q) (-want +got):\n%s", good, diff)
	}

	bad := map[string]string{
		"empty":               ``,
		"array":               `[]`,
		"trailing data":       good + `{}`,
		"no critical":         `{"optional":{}}`,
		"unknown top field":   `{"critical":{},"extra":1}`,
		"case-folded key":     `{"Critical":{"identity":` + id + `,"image":` + img + `,"type":` + typ + `}}`,
		"repeated critical":   `{"critical":{},` + good[1:],
		"unknown critical":    `{"critical":{"identity":` + id + `,"image":` + img + `,"type":` + typ + `,"x":1}}`,
		"repeated identity":   `{"critical":{"identity":{"docker-reference":"evil/a"},"identity":` + id + `,"image":` + img + `,"type":` + typ + `}}`,
		"repeated reference":  crit(`{"docker-reference":"evil/a","docker-reference":"r/a"}`, img, typ),
		"no type":             `{"critical":{"identity":` + id + `,"image":` + img + `}}`,
		"wrong type":          crit(id, img, `"atomic container signature"`),
		"empty reference":     crit(`{"docker-reference":""}`, img, typ),
		"reference not str":   crit(`{"docker-reference":1}`, img, typ),
		"extra identity":      crit(`{"docker-reference":"r/a","x":"y"}`, img, typ),
		"bad digest":          crit(id, `{"docker-manifest-digest":"sha256:abc"}`, typ),
		"null image":          crit(id, `null`, typ),
		"optional not object": good[:len(good)-1] + `,"optional":[1]}`,
		"too large":           `{"critical":{},"optional":{"x":"` + strings.Repeat("a", MaxPayloadSize) + `"}}`,
	}
	for name, in := range bad {
		if p, err := ParsePayload([]byte(in)); err == nil {
			t.Errorf("%s: ParsePayload(%.80q) = %+v; want an error", name, in, p)
		}
	}
}

func FuzzParsePayload(f *testing.F) {
	h, _ := v1.NewHash(testDigest)
	seed, err := NewPayload("reg.example/app", h, map[string]string{"env": "prod"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePayload(data)
		if err != nil {
			return
		}
		// A parsed payload is valid: writing it again and parsing that
		// gives the same critical section.
		d, err := p.Digest()
		if err != nil {
			t.Fatalf("ParsePayload(%q) accepted digest %q: %v", data, p.Critical.Image.DockerManifestDigest, err)
		}
		if p.Critical.Type != PayloadType || p.Critical.Identity.DockerReference == "" {
			t.Fatalf("ParsePayload(%q) accepted critical %+v", data, p.Critical)
		}
		out, err := NewPayload(p.Critical.Identity.DockerReference, d, nil)
		if err != nil {
			t.Fatalf("NewPayload from parsed %q: %v", data, err)
		}
		q, err := ParsePayload(out)
		if err != nil {
			t.Fatalf("ParsePayload(NewPayload(...)) = %v", err)
		}
		if q.Critical != p.Critical {
			t.Fatalf("round trip changed critical: %+v; want %+v", q.Critical, p.Critical)
		}
	})
}
