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
	"time"

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

// TestAggregation checks that the controller manager fills an aggregated
// ClusterRole's rules from the roles its selector matches, as in a real
// cluster.
func TestAggregation(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	cp := fixture.ControlPlane(t)
	admin, err := cp.HTTPClient(cp.AdminCert, cp.AdminKey)
	if err != nil {
		t.Fatal(err)
	}
	create := func(body string) {
		t.Helper()
		resp, err := admin.Post(cp.URL+"/apis/rbac.authorization.k8s.io/v1/clusterroles", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create clusterrole: %s: %s", resp.Status, b)
		}
	}
	create(`{"metadata":{"name":"agg-test-parent"},"aggregationRule":{"clusterRoleSelectors":[{"matchLabels":{"agg-test":"yes"}}]}}`)
	create(`{"metadata":{"name":"agg-test-child","labels":{"agg-test":"yes"}},"rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get"]}]}`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := get(t, admin, cp.URL+"/apis/rbac.authorization.k8s.io/v1/clusterroles/agg-test-parent")
		if strings.Contains(string(body), `"configmaps"`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("aggregated role not filled after 30s: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
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
	if len(pids) != 3 {
		t.Fatalf("PIDs() = %v; want 3", pids)
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
