package cluster

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"
)

// FuzzLoadFiles feeds arbitrary manifests through LoadFiles (as standard
// input): it must never panic, and a failure is either a *DocumentError
// list or a plain load error, never a partial Snapshot.
func FuzzLoadFiles(f *testing.F) {
	for _, name := range []string{"testdata/manifests/chart/templates/rendered.yaml", "testdata/manifests/kubectl-get.yaml",
		"testdata/manifests/namespaces.json", "testdata/invalid/bad.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("--- {apiVersion: v1, kind: List, items: [{apiVersion: v1, kind: List, items: []}]}\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		snap, err := LoadFiles(context.Background(), []string{"-"}, FileOptions{Stdin: bytes.NewReader(data)})
		if err != nil {
			if snap != nil {
				t.Fatalf("LoadFiles returned a Snapshot and %v", err)
			}
			var de *DocumentError
			_ = errors.As(err, &de)
		}
	})
}
