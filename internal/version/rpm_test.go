package version

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRPMUpstream runs the RPMVERCMP vectors of rpm's tests/rpmvercmp.at,
// and the ones it keeps commented out as oddities.
func TestRPMUpstream(t *testing.T) {
	for _, file := range []string{"rpm/rpmvercmp.txt", "rpm/rpmvercmp-oddities.txt"} {
		lines := distroLines(t, file)
		for _, l := range lines {
			if len(l.fields) != 3 {
				t.Fatalf("%s: want 3 fields, have %q", l.pos, l.fields)
			}
			want, err := strconv.Atoi(l.fields[2])
			if err != nil {
				t.Fatalf("%s: %v", l.pos, err)
			}
			got, err := Compare(RPM, l.fields[0], l.fields[1])
			if err != nil || got != want {
				t.Errorf("%s: Compare(RPM, %q, %q) = %d, %v; want %d", l.pos, l.fields[0], l.fields[1], got, err, want)
			}
		}
		t.Logf("%d upstream vectors from %s", len(lines), file)
	}
}

// TestRPMParse checks how a string splits into epoch, version and release.
func TestRPMParse(t *testing.T) {
	tests := []struct {
		in      string
		want    rpmVersion
		wantErr bool
	}{
		{in: "1.0", want: rpmVersion{epoch: "0", version: "1.0"}},
		{in: "1:2.3-4.el9", want: rpmVersion{epoch: "1", version: "2.3", release: "4.el9", hasRelease: true}},
		{in: ":1.0", want: rpmVersion{epoch: "0", version: "1.0"}},
		{in: "007:1.0", want: rpmVersion{epoch: "007", version: "1.0"}},
		{in: "1.0-", want: rpmVersion{epoch: "0", version: "1.0", hasRelease: true}},
		{in: "1-2-3", want: rpmVersion{epoch: "0", version: "1-2", release: "3", hasRelease: true}},
		{in: "1:2:3", want: rpmVersion{epoch: "1", version: "2:3"}},
		{in: "a:1-2", want: rpmVersion{epoch: "0", version: "a:1", release: "2", hasRelease: true}},
		{in: "-1", want: rpmVersion{epoch: "0", release: "1", hasRelease: true}},
		{in: "1:", want: rpmVersion{epoch: "1"}},
		{in: "", wantErr: true},
		{in: "1.0\x00", wantErr: true},
	}
	for _, tt := range tests {
		got, err := RPM.Parse(tt.in)
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
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(rpmVersion{})); diff != "" {
			t.Errorf("Parse(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

// TestRPMCompare covers the epoch, a missing release and the caret.
func TestRPMCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0-0", -1},
		{"1.0", "1.0-", -1},
		{"1.0-", "1.0-0", -1},
		{"0:1.0", "1.0", 0},
		{":1.0", "1.0", 0},
		{"1:1.0", "2.0", 1},
		{"01:1.0", "1:1.0", 0},
		{"99999999999999999999999:1", "99999999999999999999998:2", 1},
		{"1.0^", "1.0", 1},
		{"1.0^git1", "1.0.1", -1},
		{"1.0^git1", "1.0~rc1", 1},
		{"1.0~rc1^git1", "1.0~rc1", 1},
		{"1.0-1.el9", "1.0-1.el9_2", -1},
		{"1.0-1.el9.alma.1", "1.0-1.el9", 1},
	}
	for _, tt := range tests {
		got, err := Compare(RPM, tt.a, tt.b)
		if err != nil || got != tt.want {
			t.Errorf("Compare(RPM, %q, %q) = %d, %v; want %d", tt.a, tt.b, got, err, tt.want)
		}
	}
}

// TestRPMOracle compares RPM with rpm's own rpm.vercmp (the Lua binding of
// rpmverCmp) on the versions of the AlmaLinux OSV records, when present
// beside the repository, and on tricky made-up ones.
func TestRPMOracle(t *testing.T) {
	rpm, err := exec.LookPath("rpm")
	if err != nil {
		t.Skip("no rpm on this machine: skipping the cross-check with rpm.vercmp")
	}
	var versions []string
	for _, eco := range []string{"AlmaLinux-8", "AlmaLinux-9", "AlmaLinux-10"} {
		versions = append(versions, distroOSVVersions(t, eco)...)
	}
	pairs := distroPairs(RPM, versions, 400)
	tricky := []string{
		"1.0", "1.0-0", "1.0-", "1.0-1", "0:1.0", ":1.0", "1:1.0", "01:1.0", "1.0~rc1", "1.0~", "1.0~~",
		"1.0^", "1.0^git1", "1.0.1", "1.0a", "1.0.a", "1_0", "1.0+", "1.00", "1.0.0", "10.0001", "10.1",
		"1.a", "a", "1b.fc17", "1.fc17", "1.1.\u03b1", "1.1.\u03b2", "1.99999999999999999999", "1.100000000000000000000",
		"2:1-1.el9", "1-2-3", "a:1-2", "-1", "1:", "%{x}",
	}
	for i, a := range tricky {
		for _, b := range tricky[i+1:] {
			pairs = append(pairs, [2]string{a, b})
		}
	}
	want := rpmOracle(t, rpm, pairs)
	for i, p := range pairs {
		got, err := Compare(RPM, p[0], p[1])
		if err != nil || got != want[i] {
			t.Errorf("Compare(RPM, %q, %q) = %d, %v; rpm.vercmp says %d", p[0], p[1], got, err, want[i])
		}
	}
	t.Logf("%d pairs (%d from %d real versions) agree with %s",
		len(pairs), len(pairs)-len(tricky)*(len(tricky)-1)/2, len(versions), rpm)
}

// rpmOracle asks rpm.vercmp, in one run of rpm, how each pair compares.
func rpmOracle(t *testing.T, rpm string, pairs [][2]string) []int {
	t.Helper()
	dir := t.TempDir()
	var in strings.Builder
	for _, p := range pairs {
		if strings.ContainsAny(p[0]+p[1], "\t\n") {
			t.Fatalf("pair %q: tab or newline", p)
		}
		fmt.Fprintf(&in, "%s\t%s\n", p[0], p[1])
	}
	pairsFile := filepath.Join(dir, "pairs")
	script := filepath.Join(dir, "vercmp.lua")
	// rpm's print buffers its output without separators: print one line.
	lua := `local out = {}
for line in io.lines(` + strconv.Quote(pairsFile) + `) do
  local a, b = line:match("^(.-)\t(.*)$")
  out[#out + 1] = rpm.vercmp(a, b)
end
print(table.concat(out, " "))
`
	if err := os.WriteFile(pairsFile, []byte(in.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte(lua), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(rpm, "--eval", "%{lua: dofile("+strconv.Quote(script)+")}").Output()
	if err != nil {
		t.Fatalf("rpm --eval: %v", err)
	}
	fields := strings.Fields(string(out))
	if len(fields) != len(pairs) {
		t.Fatalf("rpm.vercmp printed %d results for %d pairs", len(fields), len(pairs))
	}
	res := make([]int, len(fields))
	for i, f := range fields {
		if res[i], err = strconv.Atoi(f); err != nil {
			t.Fatalf("rpm.vercmp printed %q", f)
		}
	}
	return res
}

// FuzzRPM checks that Parse never panics and that Compare is an order.
func FuzzRPM(f *testing.F) {
	f.Add("1.0-1.el9", "1:0.9", "1.0~rc1^git1")
	f.Add("5.5p10", "xyz.4", "1.0aa-")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		distroCheckOrder(t, RPM, a, b, c)
	})
}

func ExampleRPM() {
	c, err := Compare(RPM, "2:1.36.1-2.el9", "2:1.36.1-2.el9_4.1")
	fmt.Println(c, err)
	// Output: -1 <nil>
}
