package version

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMavenVectors(t *testing.T) {
	vfRun(t, Maven, "testdata/maven/*.txt")
}

func TestMavenCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.0.0", "1"},
		{"1-1.foo-bar1baz-.1", "1-1.foo-bar-1-baz-0.1"},
		{"1.0.0-foo.0.0", "1-foo"},
		{"1-ga-1", "1-1"},
		{"1a1", "1-alpha-1"},
		{"1.0.0.RC1", "1-rc-1"},
		{"1cr", "1-rc"},
		{"", ""},
		{"0000000000000000000.1", "0.1"},
		{"١٢", "12"},
		{"1.ΑΣ", "1-ας"},
		{"1.İ", "1-i̇"},
	}
	for _, tt := range tests {
		v, err := Maven.Parse(tt.in)
		if err != nil {
			t.Fatalf("Parse(%q) = %v", tt.in, err)
		}
		if diff := cmp.Diff(tt.want, v.(vfCanonical).Canonical()); diff != "" {
			t.Errorf("Parse(%q).Canonical() mismatch (-want +got):\n%s", tt.in, diff)
		}
		if v.String() != tt.in {
			t.Errorf("Parse(%q).String() = %q; want the input", tt.in, v.String())
		}
	}
}

func TestMavenOrder(t *testing.T) {
	// Maven's quirks, as maven-artifact 3.8.7 and 3.9 order them.
	tests := []struct {
		a, b string
		want int
	}{
		{"0000000000000000000.1", "0.1", 1}, // a 19-digit zero is a BigInteger, after any int
		{"1.٠٠٠٠٠٠٠٠٠٠1", "1.5", 1},         // 11 digits: a long, after any int
		{"١٢", "12", 0},                     // Unicode decimal digits are digits
		{"1-𝟙", "1-a", 1},                   // a supplementary digit is not: a qualifier
		{"1-sp", "1-0.alpha", -1},           // not transitive: 1-sp < 1-0.alpha < 1 < 1-sp
		{"1-0.alpha", "1", -1},
		{"1", "1-sp", -1},
		{"1.0-\ue000", "1.0-\U0001f600", 1}, // qualifiers compare by UTF-16 code units
		{"1.0-xyz", "1.0-XYZ", 0},
		{"1.0-SNAPSHOT", "1.0", -1},
		{"1.0-RC1", "1.0-cr1", 0},
		{"2.13.4.2", "2.13.4", 1},
		{"5.3.0.RELEASE", "5.3.0", 0},
	}
	for _, tt := range tests {
		got, err := Compare(Maven, tt.a, tt.b)
		if err != nil || got != tt.want {
			t.Errorf("Compare(%q, %q) = %d, %v; want %d", tt.a, tt.b, got, err, tt.want)
		}
	}
}

// mavenArtifactJar finds a maven-artifact jar: Debian's maven package, or
// the local Maven repository.
func mavenArtifactJar() string {
	patterns := []string{"/usr/share/maven/lib/maven-artifact-*.jar"}
	if home, err := os.UserHomeDir(); err == nil {
		patterns = append(patterns, filepath.Join(home, ".m2/repository/org/apache/maven/maven-artifact/3.*/maven-artifact-3.*.jar"))
	}
	for _, p := range patterns {
		if m, _ := filepath.Glob(p); len(m) > 0 {
			return m[len(m)-1]
		}
	}
	return ""
}

// TestMavenMatchesJava runs Maven's own ComparableVersion (its command line
// prints each version's canonical form and compares neighbours) on every
// version of the vector files, in file order and reversed, and checks that
// Maven agrees with the scheme. It skips when java or maven-artifact is
// missing.
func TestMavenMatchesJava(t *testing.T) {
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("java is not installed: Maven's ComparableVersion cannot run")
	}
	jar := mavenArtifactJar()
	if jar == "" {
		t.Skip("no maven-artifact jar (Debian package maven, or ~/.m2): ComparableVersion cannot run")
	}
	var versions []string
	seen := map[string]bool{}
	for _, l := range vfRead(t, "testdata/maven/*.txt") {
		for i, tok := range l.tokens {
			if l.kind == "chain" && i%2 == 1 || l.kind == "canon" && i == 1 {
				continue
			}
			// The command line cannot carry an empty argument through this
			// check's output parsing, nor line breaks.
			if tok == "" || strings.ContainsAny(tok, "\r\n") || seen[tok] {
				continue
			}
			seen[tok] = true
			versions = append(versions, tok)
		}
	}
	reversed := make([]string, len(versions))
	for i, v := range versions {
		reversed[len(versions)-1-i] = v
	}
	checked := 0
	for _, list := range [][]string{versions, reversed} {
		args := append([]string{"-Dfile.encoding=UTF-8", "-Dsun.stdout.encoding=UTF-8", "-cp", jar,
			"org.apache.maven.artifact.versioning.ComparableVersion"}, list...)
		cmd := exec.Command(java, args...)
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
		var out bytes.Buffer
		cmd.Stdout = &out
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v", jar, err)
		}
		checked += mavenCheckOutput(t, list, out.String())
	}
	t.Logf("%s agrees on %d canonical forms and neighbour comparisons of %d versions", jar, checked, len(versions))
}

// mavenCheckOutput reads the output of ComparableVersion's main, which has
// for version i the line "i. V -> CANONICAL; tokens: [...]" preceded (from
// the second on) by "   PREVIOUS OP V".
func mavenCheckOutput(t *testing.T, list []string, out string) int {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2*len(list) {
		t.Fatalf("ComparableVersion printed %d lines for %d versions", len(lines), len(list))
	}
	checked := 0
	for i, v := range list {
		mine, _ := Maven.Parse(v)
		if i > 0 {
			line := lines[2*i]
			prefix := "   " + list[i-1] + " "
			rest, ok := strings.CutPrefix(line, prefix)
			op, ok2 := strings.CutSuffix(rest, " "+v)
			if !ok || !ok2 {
				t.Fatalf("cannot read %q", line)
			}
			prev, _ := Maven.Parse(list[i-1])
			want := map[string]int{"<": -1, "==": 0, ">": 1}[op]
			if got := prev.Compare(mine); got != want {
				t.Errorf("Compare(%q, %q) = %d; Maven says %s", list[i-1], v, got, op)
			}
			checked++
		}
		line := lines[2*i+1]
		rest, ok := strings.CutPrefix(line, fmt.Sprintf("%d. %s -> ", i+1, v))
		k := strings.LastIndex(rest, "; tokens: ")
		if !ok || k < 0 {
			t.Fatalf("cannot read %q", line)
		}
		if got, want := mine.(vfCanonical).Canonical(), rest[:k]; got != want {
			t.Errorf("Parse(%q).Canonical() = %q; Maven says %q", v, got, want)
		}
		checked++
	}
	return checked
}

func FuzzMaven(f *testing.F) {
	for _, s := range [][3]string{
		{"1-alpha2snapshot", "1.0.0.RC1", "1-1.foo-bar1baz-.1"},
		{"2.0.a", "2-1", "11.m11"},
		{"0000000000000000000.1", "1.ΑΣ", "6.1H.5-beta"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		// ComparableVersion's order is not transitive (see the vectors), so
		// only what Maven guarantees is checked: no panic, no error,
		// reflexivity and antisymmetry.
		for i, x := range []string{a, b, c} {
			v, err := Maven.Parse(x)
			if err != nil {
				t.Fatalf("Parse(%q) = %v; Maven accepts every string", x, err)
			}
			if v.Compare(v) != 0 {
				t.Fatalf("Compare(%q, itself) != 0", x)
			}
			for _, y := range []string{a, b, c}[i+1:] {
				w, _ := Maven.Parse(y)
				if vw, wv := v.Compare(w), w.Compare(v); vw != -wv || vw < -1 || vw > 1 {
					t.Fatalf("Compare(%q, %q) = %d and Compare(%q, %q) = %d", x, y, vw, y, x, wv)
				}
			}
		}
	})
}
