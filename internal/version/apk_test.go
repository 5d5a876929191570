package version

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestAPKUpstream runs apk-tools' test/unit/version.data: validity lines,
// and comparisons with <, > and =. The fuzzy operators (~, <~, >~, !~) are
// skipped: fuzzy matching is no part of Version. A comparison whose operand
// apk_version_validate refuses (apk-tools compares those anyway) must be
// refused by Parse.
func TestAPKUpstream(t *testing.T) {
	var valid, invalid, compared, refused, fuzzy int
	for _, l := range distroLines(t, "apk/version.data") {
		f := apkDropComment(l.fields)
		switch len(f) {
		case 0:
			continue
		case 1:
			s, wantValid := strings.CutPrefix(f[0], "!")
			wantValid = !wantValid
			_, err := APK.Parse(s)
			switch {
			case wantValid && err != nil:
				t.Errorf("%s: Parse(%q) = %v; want a version", l.pos, s, err)
			case !wantValid && !errors.Is(err, ErrInvalid):
				t.Errorf("%s: Parse(%q) = %v; want ErrInvalid", l.pos, s, err)
			}
			if wantValid {
				valid++
			} else {
				invalid++
			}
		case 3:
			a, op, b := f[0], f[1], f[2]
			if strings.Contains(op, "~") {
				fuzzy++
				continue
			}
			want := map[string]int{"<": -1, "=": 0, ">": 1}
			w, ok := want[op]
			if !ok {
				t.Fatalf("%s: unknown operator %q", l.pos, op)
			}
			_, errA := APK.Parse(a)
			_, errB := APK.Parse(b)
			if errA != nil || errB != nil {
				if !errors.Is(errA, ErrInvalid) && !errors.Is(errB, ErrInvalid) {
					t.Fatalf("%s: %v, %v", l.pos, errA, errB)
				}
				refused++
				continue
			}
			for _, c := range []struct {
				a, b string
				want int
			}{{a, b, w}, {b, a, -w}} {
				got, err := Compare(APK, c.a, c.b)
				if err != nil || got != c.want {
					t.Errorf("%s: Compare(APK, %q, %q) = %d, %v; want %d", l.pos, c.a, c.b, got, err, c.want)
				}
			}
			compared++
		default:
			t.Fatalf("%s: bad line %q", l.pos, f)
		}
	}
	t.Logf("upstream vectors from version.data: %d comparisons, %d valid and %d invalid versions; "+
		"skipped %d comparisons with an invalid operand and %d fuzzy matches", compared, valid, invalid, refused, fuzzy)
	if compared == 0 || valid == 0 || invalid == 0 {
		t.Error("no vectors read")
	}
}

// apkDropComment returns the fields before the first one starting with '#'.
func apkDropComment(f []string) []string {
	for i, s := range f {
		if strings.HasPrefix(s, "#") {
			return f[:i]
		}
	}
	return f
}

// TestAPKParse covers each refusal and the parts of a valid version.
func TestAPKParse(t *testing.T) {
	valid := []string{
		"0", "1.2.3", "1.2.3a", "1.0_alpha", "1.0_alpha1_beta2_pre3_rc4", "1.0_cvs_svn_git_hg_p",
		"1.0~0123456789abcdef", "1.0-r0", "1.0a_p2~abc-r10", "1_rc", "00.01", "99999999999999999999999",
	}
	for _, s := range valid {
		if _, err := APK.Parse(s); err != nil {
			t.Errorf("Parse(%q) = %v; want a version", s, err)
		}
	}
	invalid := []string{
		"", "v1.0", ".1", "1.", "1..2", "1.0A", "1.0ab", "1.0a.1", "1.0a1", "1.0_", "1.0_post1", "1.0_Alpha",
		"1.0_alpha.1", "1.0~", "1.0~ABC", "1.0~abcg", "1.0~ab~cd", "1.0-r", "1.0-1", "1.0-r1-r2",
		"1.0-r1_p1", "1.0-r1~ab", "1.0-r1.1", "1.0 ", " 1.0", "1.0\x00", "1.0-r1\x00", "1.0\xe9",
	}
	for _, s := range invalid {
		if v, err := APK.Parse(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %v, %v; want ErrInvalid", s, v, err)
		}
	}
}

// TestAPKCompare covers leading zeros, numbers too long for a uint64 and the
// order of the parts.
func TestAPKCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.01", "1.1", -1},
		{"1.0", "1.00", -1},
		{"1.010", "1.09", -1}, // leading zero: compared as strings
		{"01.0", "1.0", 0},
		{"1.0_alpha01", "1.0_alpha1", 0},
		{"1.0-r01", "1.0-r1", 0},
		{"1.18446744073709551616", "1.18446744073709551615", 1},
		{"18446744073709551616", "0", 1},
		{"1.0_rc1", "1.0", -1},
		{"1.0", "1.0_p1", -1},
		{"1.0_p1", "1.0a", -1},
		{"1.0a", "1.0.1", -1},
		{"1.0~abc", "1.0", 1},
		{"1.0~abc", "1.0-r1", 1}, // a hash may come earlier than -rN: apk calls it newer
		{"1.0~abc-r1", "1.0-r1", 1},
		{"1.0_git20240101~abc", "1.0_git20240101~abd", -1},
		{"1.0_alpha", "1.0_alpha_p", -1},
		{"1.0_alpha_p", "1.0_alpha1", 1},
		{"1.0_alpha_beta", "1.0_alpha", -1},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			a, b string
			want int
		}{{tt.a, tt.b, tt.want}, {tt.b, tt.a, -tt.want}} {
			got, err := Compare(APK, c.a, c.b)
			if err != nil || got != c.want {
				t.Errorf("Compare(APK, %q, %q) = %d, %v; want %d", c.a, c.b, got, err, c.want)
			}
		}
	}
}

// FuzzAPK checks that Parse never panics and that Compare is an order.
func FuzzAPK(f *testing.F) {
	f.Add("1.2.3_rc1-r0", "1.2.3a_p2~cafe-r1", "01.0_alpha")
	f.Add("0.1_git20240101_pre1", "1.0", "1.00")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		distroCheckOrder(t, APK, a, b, c)
	})
}

func ExampleAPK() {
	c, err := Compare(APK, "1.2.3_rc1-r0", "1.2.3-r0")
	fmt.Println(c, err)
	// Output: -1 <nil>
}
