package finding

import (
	"encoding/json"
	"testing"
)

func TestSeverity(t *testing.T) {
	for s := Unknown; s <= Critical; s++ {
		got, err := ParseSeverity(s.String())
		if err != nil || got != s {
			t.Errorf("ParseSeverity(%q) = %v, %v; want %v", s.String(), got, err, s)
		}
	}
	if got, err := ParseSeverity("high"); err != nil || got != High {
		t.Errorf("ParseSeverity(high) = %v, %v", got, err)
	}
	if _, err := ParseSeverity("urgent"); err == nil {
		t.Error("ParseSeverity(urgent) succeeded")
	}
	b, _ := json.Marshal(struct{ S Severity }{Critical})
	if string(b) != `{"S":"CRITICAL"}` {
		t.Errorf("json = %s", b)
	}
	var v struct{ S Severity }
	if err := json.Unmarshal([]byte(`{"S":"medium"}`), &v); err != nil || v.S != Medium {
		t.Errorf("unmarshal = %v, %v", v.S, err)
	}
	if !(Critical > High && High > Medium && Medium > Low && Low > Info && Info > Unknown) {
		t.Error("severities are out of order")
	}
}
