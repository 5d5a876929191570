package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestAdmissionTest evaluates the bundled example workloads through the
// CLI: decisions, sources, exit codes and flag errors.
func TestAdmissionTest(t *testing.T) {
	const files = "../../examples/admission/workloads.yaml"
	out, errOut, code := runCLI(t, "admission", "test", "-f", files, "--config", "../../examples/admission/config.yaml", "-o", "json")
	var ds []struct {
		Kind, Namespace, Name, Source, Message string
		Allowed                                bool
		Warnings                               []string
	}
	if code != 3 || json.Unmarshal([]byte(out), &ds) != nil {
		t.Fatalf("admission test: exit %d (%s): %s", code, errOut, out)
	}
	got := map[string]string{}
	for _, d := range ds {
		verdict := "admitted"
		if !d.Allowed {
			verdict = "denied: " + d.Message
		}
		got[d.Kind+" "+d.Namespace+"/"+d.Name] = verdict + " " + strings.Join(d.Warnings, "|")
	}
	for obj, want := range map[string]string{
		"Pod ci/docker-builder":           "runtimeSockets: hostPath volume \"sock\"",
		"DaemonSet monitoring/node-agent": `violates PodSecurity "baseline:latest": privileged`,
		"Deployment shop/web":             `violates PodSecurity "restricted:v1.30"`,
		"Deployment shop/api":             "admitted",
		"Namespace /shop":                 "admitted",
	} {
		if !strings.Contains(got[obj], want) {
			t.Errorf("%s: %q; want %q", obj, got[obj], want)
		}
	}
	if !strings.Contains(got["Deployment shop/web"], "latest tag") {
		t.Errorf("shop/web lacks the images warning: %q", got["Deployment shop/web"])
	}

	// Pod Security alone, at one level.
	out, _, code = runCLI(t, "admission", "test", "-f", files, "--pod-security", "privileged")
	if code != 3 || !strings.Contains(out, "shop/web") || strings.Contains(out, "node-agent") {
		t.Errorf("--pod-security privileged (shop's own label still enforces restricted): exit %d:\n%s", code, out)
	}
	out, _, code = runCLI(t, "admission", "test", "-f", "../../examples/admission/config.yaml", "--pod-security", "restricted:v1.30")
	if code != 0 || !strings.Contains(out, "0 denied") {
		t.Errorf("no workloads (the file is an AdmissionConfig): exit %d: %s", code, out)
	}
	for _, args := range [][]string{
		{"-f", files},
		{"-f", files, "--pod-security", "strict"},
		{"-f", files, "--pod-security", "baseline", "--config", "x.yaml"},
		{"--pod-security", "baseline"},
	} {
		if _, errOut, code := runCLI(t, append([]string{"admission", "test"}, args...)...); code != 2 {
			t.Errorf("admission test %q: exit %d (%s); want 2", args, code, errOut)
		}
	}
}
