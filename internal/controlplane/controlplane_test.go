package controlplane_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/kubeshield/kubeshield/internal/controlplane"
	"github.com/kubeshield/kubeshield/internal/fixture"
)

func TestMain(m *testing.M) {
	code := m.Run()
	fixture.StopControlPlane()
	os.Exit(code)
}

func get(t *testing.T, c *http.Client, url string) (int, []byte) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// TestControlPlane checks the shared control plane: the version it
// reports, that the admin may do everything and that RBAC denies a user
// nobody bound.
func TestControlPlane(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	cp := fixture.ControlPlane(t)
	admin, err := cp.HTTPClient(cp.AdminCert, cp.AdminKey)
	if err != nil {
		t.Fatal(err)
	}

	code, body := get(t, admin, cp.URL+"/version")
	var v struct {
		GitVersion string `json:"gitVersion"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &v) != nil || v.GitVersion != controlplane.KubeVersion {
		t.Errorf("/version = %d %s; want gitVersion %s", code, body, controlplane.KubeVersion)
	}
	if code, body := get(t, admin, cp.URL+"/api/v1/namespaces"); code != http.StatusOK || !strings.Contains(string(body), `"kube-system"`) {
		t.Errorf("admin GET namespaces = %d %.200s; want 200 listing kube-system", code, body)
	}

	certPEM, keyPEM, err := cp.ClientCertificate("mallory", "team-a")
	if err != nil {
		t.Fatal(err)
	}
	mallory, err := cp.HTTPClient(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	code, body = get(t, mallory, cp.URL+"/api/v1/namespaces/kube-system/secrets")
	if code != http.StatusForbidden || !strings.Contains(string(body), `User \"mallory\" cannot list resource \"secrets\"`) {
		t.Errorf("mallory GET secrets = %d %.300s; want 403 naming the user", code, body)
	}

	kc, err := os.ReadFile(cp.Kubeconfig)
	if err != nil || !strings.Contains(string(kc), cp.URL) {
		t.Errorf("kubeconfig %s: %v; want it to name %s", cp.Kubeconfig, err, cp.URL)
	}
}

// TestStop starts a second control plane and checks that Stop ends both
// processes.
func TestStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	cp, err := controlplane.Start(context.Background(), controlplane.Options{BinDir: fixture.ControlPlaneBin(t), Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	pids := cp.PIDs()
	if len(pids) != 2 {
		t.Fatalf("PIDs() = %v; want 2", pids)
	}
	if err := cp.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
			t.Errorf("process %d still exists after Stop (kill 0: %v)", pid, err)
		}
	}
	if err := cp.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}
