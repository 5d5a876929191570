package notation

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzParsePolicy checks that ParsePolicy never panics and that a document
// it accepts, encoded again, is accepted again unchanged (an empty list or
// map and an absent one are the same to notation).
func FuzzParsePolicy(f *testing.F) {
	for _, b := range testdataFiles(f, "*/*.json") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := ParsePolicy(b)
		if err != nil {
			return
		}
		again, err := json.Marshal(doc)
		if err != nil {
			t.Fatalf("encode accepted policy: %v", err)
		}
		doc2, err := ParsePolicy(again)
		if err != nil {
			t.Fatalf("ParsePolicy(%s) = %v after ParsePolicy(%q) accepted it", again, err, b)
		}
		if diff := cmp.Diff(doc, doc2, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("round trip of %q changed the policy (-first +second):\n%s", b, diff)
		}
	})
}
