package imagefacts

import (
	"context"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/kubeshield/kubeshield/internal/finding"
)

func TestIsRoot(t *testing.T) {
	tests := []struct {
		user string
		want bool
	}{
		{"", true}, {"root", true}, {"0", true}, {"0:0", true}, {"00", true}, {"root:wheel", true},
		{"1000", false}, {"app", false}, {"65532:65532", false}, {"10", false}, {"nobody", false},
	}
	for _, tt := range tests {
		if got := IsRoot(tt.user); got != tt.want {
			t.Errorf("IsRoot(%q) = %v; want %v", tt.user, got, tt.want)
		}
	}
}

func TestCollect(t *testing.T) {
	fsys := fstest.MapFS{
		"usr/bin/bash":   {Mode: 0o755},
		"usr/bin/apt":    {Mode: 0o755},
		"usr/bin/pip3":   {Mode: 0o644}, // not executable: not counted
		"usr/bin/passwd": {Mode: 0o755 | fs.ModeSetuid},
		"usr/bin/wall":   {Mode: 0o755 | fs.ModeSetgid},
		"sbin/apk":       {Mode: 0o755},
		"etc/passwd":     {Mode: 0o644},
	}
	cfg := &v1.ConfigFile{Config: v1.Config{
		User:         "1000:1000",
		ExposedPorts: map[string]struct{}{"8080/tcp": {}, "53/udp": {}},
		Env:          []string{"PATH=/bin", "DB_PASSWORD=x", "API_KEY=y", "EMPTY_TOKEN=", "GPG_KEY=abc", "PASSWORD_FILE=/run/s", "MY_SECRET_KEY=z"},
	}}
	got, err := Collect(context.Background(), fsys, cfg, 1234, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := &Facts{
		User:            "1000:1000",
		Shells:          []string{"/usr/bin/bash"},
		PackageManagers: []string{"/sbin/apk", "/usr/bin/apt"},
		SpecialFiles: []SpecialFile{
			{Path: "/usr/bin/passwd", Mode: "4755", Setuid: true},
			{Path: "/usr/bin/wall", Mode: "2755", Setgid: true},
		},
		ExposedPorts: []string{"53/udp", "8080/tcp"},
		SecretEnv:    []string{"DB_PASSWORD", "API_KEY", "MY_SECRET_KEY"},
		Size:         1234,
		Layers:       3,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Collect (-want +got):\n%s", diff)
	}
}

func TestCheck(t *testing.T) {
	img := finding.Resource{Kind: "Image", Image: "app:1", Digest: "sha256:abc"}
	f := &Facts{
		User: "", RunsAsRoot: true, Shells: []string{"/bin/sh"}, PackageManagers: []string{"/usr/bin/apt"},
		SpecialFiles: []SpecialFile{{Path: "/usr/bin/passwd", Mode: "4755", Setuid: true}},
		SecretEnv:    []string{"DB_PASSWORD"},
	}
	got := Check(f, img)
	var ids []string
	for _, g := range got {
		ids = append(ids, g.RuleID)
		if g.Resource.Image != "app:1" || g.Title == "" || g.Remediation == "" {
			t.Errorf("finding %+v lacks its image, title or remediation", g)
		}
	}
	if diff := cmp.Diff([]string{"KS-IMG-001", "KS-IMG-002", "KS-IMG-003", "KS-IMG-004", "KS-IMG-005"}, ids); diff != "" {
		t.Errorf("rule IDs (-want +got):\n%s", diff)
	}
	if got[3].Resource.Path != "/usr/bin/passwd" {
		t.Errorf("setuid finding path = %q", got[3].Resource.Path)
	}
	if n := len(Check(&Facts{User: "1000"}, img)); n != 0 {
		t.Errorf("a minimal non-root image gave %d findings", n)
	}
}
