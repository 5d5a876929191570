package version

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDpkgUpstreamCompare runs the comparison vectors of dpkg's
// scripts/t/Dpkg_Version.t, both ways round.
func TestDpkgUpstreamCompare(t *testing.T) {
	lines := distroLines(t, "dpkg/Dpkg_Version.txt")
	for _, l := range lines {
		if len(l.fields) != 3 {
			t.Fatalf("%s: want 3 fields, have %q", l.pos, l.fields)
		}
		a, b := l.fields[0], l.fields[1]
		want, err := strconv.Atoi(l.fields[2])
		if err != nil {
			t.Fatalf("%s: %v", l.pos, err)
		}
		for _, c := range []struct {
			a, b string
			want int
		}{{a, b, want}, {b, a, -want}} {
			got, err := Compare(Dpkg, c.a, c.b)
			if err != nil || got != c.want {
				t.Errorf("%s: Compare(Dpkg, %q, %q) = %d, %v; want %d", l.pos, c.a, c.b, got, err, c.want)
			}
		}
	}
	t.Logf("%d upstream vectors from Dpkg_Version.t", len(lines))
}

// TestDpkgUpstreamParse runs the parse and compare vectors of dpkg's
// lib/dpkg/t/t-version.c.
func TestDpkgUpstreamParse(t *testing.T) {
	lines := distroLines(t, "dpkg/t-version.txt")
	for _, l := range lines {
		f := l.fields
		switch {
		case f[0] == "ok" && len(f) == 5:
			epoch, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil {
				t.Fatalf("%s: %v", l.pos, err)
			}
			want := dpkgVersion{s: f[1], epoch: epoch, upstream: f[3], revision: f[4]}
			got, err := Dpkg.Parse(f[1])
			if err != nil {
				t.Errorf("%s: Parse(%q) = %v; want %+v", l.pos, f[1], err, want)
				continue
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(dpkgVersion{})); diff != "" {
				t.Errorf("%s: Parse(%q) (-want +got):\n%s", l.pos, f[1], diff)
			}
		case f[0] == "error" && len(f) == 2:
			if v, err := Dpkg.Parse(f[1]); !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: Parse(%q) = %v, %v; want ErrInvalid", l.pos, f[1], v, err)
			}
		case f[0] == "warn" && len(f) == 2:
			// dpkg only warns; Dpkg accepts these (see its doc).
			if _, err := Dpkg.Parse(f[1]); err != nil {
				t.Errorf("%s: Parse(%q) = %v; want a version", l.pos, f[1], err)
			}
		case f[0] == "cmp" && len(f) == 4:
			got, err := Compare(Dpkg, f[1], f[3])
			if err != nil {
				t.Errorf("%s: %v", l.pos, err)
				continue
			}
			ok := map[string]bool{"<": got < 0, "=": got == 0, ">": got > 0, "!=": got != 0}
			if !ok[f[2]] {
				t.Errorf("%s: Compare(Dpkg, %q, %q) = %d; want %s 0", l.pos, f[1], f[3], got, f[2])
			}
		default:
			t.Fatalf("%s: bad line %q", l.pos, f)
		}
	}
	t.Logf("%d upstream vectors from t-version.c", len(lines))
}

// TestDpkgParse covers what the upstream vectors leave out: the epoch is read
// as C's strtol reads it, and a NUL byte is refused.
func TestDpkgParse(t *testing.T) {
	tests := []struct {
		in      string
		want    dpkgVersion
		wantErr bool
	}{
		{in: "1.2.3", want: dpkgVersion{upstream: "1.2.3"}},
		{in: "2147483647:1", want: dpkgVersion{epoch: 2147483647, upstream: "1"}},
		{in: "0002147483647:1", want: dpkgVersion{epoch: 2147483647, upstream: "1"}},
		{in: "+3:1", want: dpkgVersion{epoch: 3, upstream: "1"}},
		{in: "-0:1", want: dpkgVersion{upstream: "1"}},
		{in: "\n4:1", want: dpkgVersion{epoch: 4, upstream: "1"}},
		{in: "1:2:3-4-5", want: dpkgVersion{epoch: 1, upstream: "2:3-4", revision: "5"}},
		{in: "a1.0", want: dpkgVersion{upstream: "a1.0"}},
		{in: "1.0_b@ä", want: dpkgVersion{upstream: "1.0_b@ä"}},
		{in: "2147483648:1", wantErr: true},
		{in: "-2147483649:1", wantErr: true},
		{in: "+:1", wantErr: true},
		{in: "1 :1", wantErr: true},
		{in: " \t", wantErr: true},
		{in: "1.0\x00", wantErr: true},
		{in: "1.0\x00-1", wantErr: true},
	}
	for _, tt := range tests {
		got, err := Dpkg.Parse(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse(%q) = %v, %v; want ErrInvalid", tt.in, got, err)
			}
			continue
		}
		tt.want.s = tt.in
		if err != nil {
			t.Errorf("Parse(%q) = %v; want %+v", tt.in, err, tt.want)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(dpkgVersion{})); diff != "" {
			t.Errorf("Parse(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

// TestDpkgCompare covers digit runs longer than any integer type and the
// weights of bytes outside the documented character set.
func TestDpkgCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.99999999999999999999999999", "1.100000000000000000000000000", -1},
		{"1.000000000000000000000000001", "1.1", 0},
		{"1.0~rc1", "1.0", -1},
		{"1.0~", "1.0~~", 1},
		{"1.0a", "1.0+", -1},
		{"1.0Z", "1.0a", -1},
		{"1.0\xe9", "1.0z", 1},  // a high byte sorts after the letters...
		{"1.0\xe9", "1.0+", -1}, // ...and before ASCII punctuation
		{"1.0-1", "1.0", 1},
		{"1.0-0", "1.0", 0},
		{"1:0.1", "2.0", 1},
	}
	for _, tt := range tests {
		got, err := Compare(Dpkg, tt.a, tt.b)
		if err != nil || got != tt.want {
			t.Errorf("Compare(Dpkg, %q, %q) = %d, %v; want %d", tt.a, tt.b, got, err, tt.want)
		}
	}
}

// TestDpkgOracle compares Dpkg with `dpkg --compare-versions` on real
// versions (this machine's dpkg status file and, when present beside the
// repository, the Debian OSV records) and on tricky made-up ones, and checks
// that dpkg refuses what Parse refuses.
func TestDpkgOracle(t *testing.T) {
	dpkg, err := exec.LookPath("dpkg")
	if err != nil {
		t.Skip("no dpkg on this machine: skipping the cross-check with dpkg --compare-versions")
	}
	versions := dpkgStatusVersions(t)
	versions = append(versions, distroOSVVersions(t, "Debian")...)
	n := 400
	if testing.Short() {
		n = 60
	}
	pairs := distroPairs(Dpkg, versions, n)
	tricky := []string{
		"1.0", "1.0~rc1", "1.0~~", "1.0~", "1.0-1", "1.0-0", "1:1.0", "+1:1.0", "-0:1.0",
		"1.0a", "1.0A", "1.0+", "1.0.", "1.0\xe9", "1.0z", "a1.0", "1.0-1~bpo1", "1.0-1+b1",
		"1.000000000000000000000000000001", "1.1", "1.99999999999999999999", "1.100000000000000000000",
		"2147483647:1", "00:1", "1.0_1", "1.0@1",
	}
	for i, a := range tricky {
		for _, b := range tricky[i+1:] {
			pairs = append(pairs, [2]string{a, b})
		}
	}
	for _, p := range pairs {
		want := dpkgOracle(t, dpkg, p[0], p[1])
		got, err := Compare(Dpkg, p[0], p[1])
		if err != nil || got != want {
			t.Errorf("Compare(Dpkg, %q, %q) = %d, %v; dpkg says %d", p[0], p[1], got, err, want)
		}
	}
	refused := []string{"1:", ":1", "1.0-", "1 0", "a:1", "2147483648:1", "-1:1", "-1", "1:-1"}
	for _, s := range refused {
		if _, err := Dpkg.Parse(s); err == nil {
			t.Errorf("Parse(%q) accepted it", s)
		}
		cmd := exec.Command(dpkg, "--compare-versions", "--", s, "eq", "1")
		if err := cmd.Run(); !dpkgFailed(err) {
			t.Errorf("dpkg --compare-versions -- %q eq 1: %v; want a syntax error", s, err)
		}
	}
	t.Logf("%d pairs (%d from %d real versions) agree with %s; %d refusals agree",
		len(pairs), len(pairs)-len(tricky)*(len(tricky)-1)/2, len(versions), dpkg, len(refused))
}

// dpkgOracle asks dpkg how a compares with b.
func dpkgOracle(t *testing.T, dpkg, a, b string) int {
	t.Helper()
	for _, rel := range []struct {
		op   string
		sign int
	}{{"lt", -1}, {"gt", 1}} {
		err := exec.Command(dpkg, "--compare-versions", "--", a, rel.op, b).Run()
		if err == nil {
			return rel.sign
		}
		if dpkgFailed(err) {
			t.Fatalf("dpkg --compare-versions -- %q %s %q: %v", a, rel.op, b, err)
		}
	}
	return 0
}

// dpkgFailed reports whether err is something other than dpkg's "false"
// (exit status 1).
func dpkgFailed(err error) bool {
	var exit *exec.ExitError
	return err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1)
}

// dpkgStatusVersions returns the versions of the packages in this machine's
// dpkg status file, if any.
func dpkgStatusVersions(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("/var/lib/dpkg/status")
	if err != nil {
		t.Logf("no dpkg status file: %v", err)
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Version: "); ok {
			out = append(out, v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// FuzzDpkg checks that Parse never panics and that Compare is an order.
func FuzzDpkg(f *testing.F) {
	f.Add("1.0-1", "1:0.9", "1.0~rc1-1")
	f.Add("2.2~rc-4", "2.2-1", "0foo~foo+Bar")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		distroCheckOrder(t, Dpkg, a, b, c)
	})
}

func ExampleDpkg() {
	c, err := Compare(Dpkg, "1:2.30-1~bpo12+1", "1:2.30-1")
	fmt.Println(c, err)
	// Output: -1 <nil>
}
