package cli

import (
	"os"
	"testing"

	"github.com/kubeshield/kubeshield/internal/fixture"
)

// TestMain stops the control plane the live-cluster tests start.
func TestMain(m *testing.M) {
	code := m.Run()
	fixture.StopControlPlane()
	os.Exit(code)
}
