package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDecisionLog(t *testing.T) {
	data, err := os.ReadFile("testdata/reviews/pod-create-docker-sock.json")
	if err != nil {
		t.Fatal(err)
	}
	// A secret in the object must never reach the log.
	data = bytes.Replace(data, []byte(`"name": "app",`), []byte(`"name": "app", "env": [{"name": "TOKEN", "value": "s3cr3t-value"}],`), 1)
	review, err := DecodeReview(bytes.NewReader(data), 0)
	if err != nil {
		t.Fatal(err)
	}
	e := testEngine(t, nil)
	r, err := NewRequest(context.Background(), review.Request, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := e.Review(context.Background(), r)
	d.Results = append(d.Results, Result{Policy: "broken", Mode: ModeEnforce, FailurePolicy: Ignore, Err: errors.New("registry down"), Latency: 1500 * time.Microsecond})
	d.Patch = []JSONPatchOp{{Op: "replace", Path: "/spec/containers/0/image", Value: "s3cr3t-value"}}

	var buf bytes.Buffer
	log := NewDecisionLog(&buf)
	log.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := log.Write(r, d); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 20 {
		t.Fatalf("%d lines; want 20", len(lines))
	}
	for _, line := range lines {
		if line != lines[0] {
			t.Fatalf("lines differ:\n%s\n%s", line, lines[0])
		}
	}
	if strings.Contains(buf.String(), "s3cr3t") {
		t.Errorf("the log holds object contents: %s", lines[0])
	}
	var rec DecisionRecord
	dec := json.NewDecoder(strings.NewReader(lines[0]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		t.Fatalf("decode %s: %v", lines[0], err)
	}
	if rec.UID != "u-pod-sock" || rec.User != "alice" || len(rec.Groups) != 1 || rec.Operation != "CREATE" || rec.Kind != "Pod" ||
		rec.APIVersion != "v1" || rec.Namespace != "default" || rec.Name != "web" || rec.Allowed || rec.DryRun || rec.Warnings != 1 {
		t.Errorf("record = %+v", rec)
	}
	if len(rec.Policies) != 5 || rec.Policies[0].Name != RuntimeSocketsPolicy || len(rec.Policies[0].Violations) != 1 || rec.Policies[0].Mode != ModeEnforce {
		t.Errorf("policies = %+v", rec.Policies)
	}
	if p := rec.Policies[4]; p.Error != "registry down" || p.LatencyMS != 1.5 || p.FailurePolicy != Ignore {
		t.Errorf("failed policy = %+v", p)
	}
	if len(rec.Patched) != 1 || rec.Patched[0] != "replace /spec/containers/0/image" {
		t.Errorf("patched = %q", rec.Patched)
	}
	if !rec.Time.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("time = %v", rec.Time)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestDecisionLogWriteError(t *testing.T) {
	if err := NewDecisionLog(failingWriter{}).Write(nil, Decision{UID: "u"}); err == nil {
		t.Error("Write to a failing writer: nil error")
	}
}
