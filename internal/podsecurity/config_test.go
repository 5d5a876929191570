package podsecurity

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/pod-security-admission/api"
)

func TestConfigValidate(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero", Config{}, true},
		{"levels", Config{Defaults: api.Policy{Enforce: api.LevelVersion{Level: api.LevelBaseline}, Warn: api.LevelVersion{Level: api.LevelRestricted, Version: api.MajorMinorVersion(1, 30)}}}, true},
		{"exemptions", Config{Exemptions: Exemptions{Namespaces: []string{"kube-system"}, Usernames: []string{"system:serviceaccount:ci:bot"}, RuntimeClasses: []string{"gvisor.example.com"}}}, true},
		{"bad level", Config{Defaults: api.Policy{Enforce: api.LevelVersion{Level: "strict"}}}, false},
		{"bad namespace", Config{Exemptions: Exemptions{Namespaces: []string{"Kube_System"}}}, false},
		{"duplicate namespace", Config{Exemptions: Exemptions{Namespaces: []string{"a", "a"}}}, false},
		{"empty username", Config{Exemptions: Exemptions{Usernames: []string{""}}}, false},
		{"bad runtime class", Config{Exemptions: Exemptions{RuntimeClasses: []string{"not a name"}}}, false},
	} {
		err := tt.cfg.Validate()
		if tt.ok && err != nil || !tt.ok && !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: Validate() = %v; want ok %v", tt.name, err, tt.ok)
		}
		if _, nerr := New(tt.cfg); (nerr == nil) != tt.ok {
			t.Errorf("%s: New() = %v; want ok %v", tt.name, nerr, tt.ok)
		}
	}
}

func TestPolicyFor(t *testing.T) {
	lv := func(s string) api.LevelVersion { return mustLevel(t, s) }
	priv := lv("privileged:latest")
	strict := Config{Defaults: api.Policy{Enforce: lv("baseline:v1.30"), Audit: lv("restricted:v1.25"), Warn: lv("restricted")}}
	for _, tt := range []struct {
		name   string
		cfg    Config
		labels map[string]string
		want   api.Policy
		errs   int
	}{
		{"no labels", Config{}, nil, api.Policy{Enforce: priv, Audit: priv, Warn: priv}, 0},
		{"configured default", strict, map[string]string{"team": "a"}, strict.Defaults, 0},
		{"enforce label: warn follows", Config{}, map[string]string{api.EnforceLevelLabel: "restricted", api.EnforceVersionLabel: "v1.25"},
			api.Policy{Enforce: lv("restricted:v1.25"), Audit: priv, Warn: lv("restricted:v1.25")}, 0},
		{"enforce label not stricter than warn", strict, map[string]string{api.EnforceLevelLabel: "baseline"},
			api.Policy{Enforce: lv("baseline:v1.30"), Audit: lv("restricted:v1.25"), Warn: lv("restricted")}, 0},
		{"warn label kept", Config{}, map[string]string{api.EnforceLevelLabel: "restricted", api.WarnLevelLabel: "baseline"},
			api.Policy{Enforce: lv("restricted"), Audit: priv, Warn: lv("baseline")}, 0},
		{"version only", Config{}, map[string]string{api.EnforceVersionLabel: "v1.22"},
			api.Policy{Enforce: lv("privileged:v1.22"), Audit: priv, Warn: priv}, 0},
		{"invalid enforce level is restricted, warn not defaulted", Config{}, map[string]string{api.EnforceLevelLabel: "strict"},
			api.Policy{Enforce: lv("restricted"), Audit: priv, Warn: priv}, 1},
		{"invalid audit and warn fail open", strict, map[string]string{api.AuditLevelLabel: "x", api.WarnLevelLabel: "y"},
			api.Policy{Enforce: lv("baseline:v1.30"), Audit: lv("privileged:v1.25"), Warn: priv}, 2},
		{"invalid version is latest", strict, map[string]string{api.EnforceVersionLabel: "1.30"},
			api.Policy{Enforce: lv("baseline"), Audit: lv("restricted:v1.25"), Warn: lv("restricted")}, 1},
	} {
		got, errs := tt.cfg.PolicyFor(tt.labels)
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(api.Version{})); diff != "" || len(errs) != tt.errs {
			t.Errorf("%s: PolicyFor(%v) = %v, %v; want %d errors and (-want +got):\n%s", tt.name, tt.labels, got, errs, tt.errs, diff)
		}
	}
}
