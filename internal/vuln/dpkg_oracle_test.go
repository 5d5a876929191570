package vuln

import (
	"archive/zip"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubeshield/kubeshield/internal/fixture"
	"github.com/kubeshield/kubeshield/internal/image"
	"github.com/kubeshield/kubeshield/internal/inventory"
	"github.com/kubeshield/kubeshield/internal/osv"
	"github.com/kubeshield/kubeshield/internal/version"
)

// maxDpkgCalls bounds the dpkg processes the oracle test starts (about 2 ms
// each). The Debian 12 minbase rootfs against the shared data needs a few
// thousand; raise the bound only knowingly.
const maxDpkgCalls = 60_000

// TestDpkgOracle checks the matcher's range decisions, record by record,
// against the real dpkg. For every source package (and source version)
// installed in the debootstrap Debian 12 rootfs and every Debian record of
// the shared OSV data that names that source package in any Debian release
// (the data stops at Debian 11, so the release is ignored to exercise the
// ranges), it evaluates each ECOSYSTEM range with inRange and with an oracle:
// the OSV algorithm applied to the order `dpkg --compare-versions` gives.
//
// The oracle sorts, per source package, the installed version, every event
// version and a probe just below each event version ("V~") with dpkg (one sh
// per package reading "a op b" lines), then decides on ranks: v is affected
// iff some introduced i <= v has no fixed f with i <= f <= v and no
// last_affected l with i <= l < v. Besides the installed version (the pairs
// the scan makes), the event versions and probes are evaluated too: they are
// the boundaries where an ordering mistake shows.
func TestDpkgOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the debootstrap Debian 12 rootfs and runs dpkg thousands of times; skipped in -short mode")
	}
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Skip("dpkg is not installed (apt-get install -y dpkg); it is the oracle")
	}
	zipPath := filepath.Join(fixture.RepoRoot(t), "..", "shared", "data", "osv", "Debian", "all.zip")
	if _, err := os.Stat(zipPath); err != nil {
		t.Skipf("shared OSV data absent (%v): CI puts shared/ beside the clone", err)
	}
	ctx := context.Background()
	sources := installedSources(ctx, t, fixture.DebianRootfs(t))
	names := map[string]bool{}
	for _, s := range sources {
		names[s.Name] = true
	}
	recs := debianRecords(t, zipPath, names)

	var (
		calls                                int
		installedPairs, installedRanges      int
		installedAffected                    int
		probePairs, probeRanges, orderChecks int
		failures                             int
	)
	fail := func(format string, args ...any) {
		t.Helper()
		failures++
		if failures <= 30 {
			t.Errorf(format, args...)
		}
	}
	for _, src := range sources {
		byName := recs[src.Name]
		if len(byName) == 0 {
			continue
		}
		// The ranges of every record that names the package, any release.
		type rng struct {
			rec    string
			events []osv.Event
		}
		var ranges []rng
		set := map[string]bool{src.Version: true}
		for _, r := range byName {
			for _, a := range r.Affected {
				base, _ := osv.SplitEcosystem(a.Package.Ecosystem)
				if base != "Debian" || a.Package.Name != src.Name {
					continue
				}
				for _, rg := range a.Ranges {
					if rg.Type != osv.Ecosystem {
						continue
					}
					ranges = append(ranges, rng{rec: r.ID, events: rg.Events})
					for _, e := range rg.Events {
						if e.Kind == osv.Limit || (e.Kind == osv.Introduced && e.Version == "0") {
							continue
						}
						set[e.Version] = true
						set[e.Version+"~"] = true
					}
				}
			}
		}
		vers := make([]string, 0, len(set))
		for v := range set {
			if _, err := version.Dpkg.Parse(v); err != nil {
				fail("%s: version %q does not parse: %v", src.Name, v, err)
				continue
			}
			vers = append(vers, v)
		}
		slices.Sort(vers) // deterministic input to the dpkg sort
		if calls+len(vers)*16 > maxDpkgCalls {
			t.Fatalf("more than %d dpkg calls needed (at %s); raise maxDpkgCalls knowingly", maxDpkgCalls, src.Name)
		}
		rank, n, err := dpkgRanks(vers)
		calls += n
		if err != nil {
			t.Fatalf("%s: dpkg: %v", src.Name, err)
		}

		// The order itself: the scheme's Compare against dpkg's ranks.
		parsed := map[string]version.Version{}
		for _, v := range vers {
			parsed[v], _ = version.Dpkg.Parse(v)
		}
		for _, a := range vers {
			for _, b := range vers {
				orderChecks++
				if got, want := sign(parsed[a].Compare(parsed[b])), sign(rank[a]-rank[b]); got != want {
					fail("Dpkg.Compare(%q, %q) = %d; dpkg --compare-versions says %d", a, b, got, want)
				}
			}
		}

		// The decisions: installed version first, then the probes.
		probes := append([]string{src.Version}, vers...)
		for i, v := range probes {
			installed := i == 0
			if !installed && v == src.Version {
				continue
			}
			affectedByRec := map[string]bool{}
			for _, rg := range ranges {
				got, fix, err := inRange(parsed[v], rg.events, version.Dpkg)
				if err != nil {
					fail("%s %s, %s: inRange error: %v", src.Name, v, rg.rec, err)
				}
				want, wantFix := oracleInRange(rank, v, rg.events)
				if got != want {
					fail("%s %s, %s %v: inRange = %v; dpkg oracle says %v", src.Name, v, rg.rec, rg.events, got, want)
				}
				if got && want && ((fix == "") != (wantFix == "") || (fix != "" && rank[fix] != rank[wantFix])) {
					fail("%s %s, %s %v: fixed version %q; dpkg oracle says %q", src.Name, v, rg.rec, rg.events, fix, wantFix)
				}
				affectedByRec[rg.rec] = affectedByRec[rg.rec] || got
				if installed {
					installedRanges++
				} else {
					probeRanges++
				}
			}
			if installed {
				installedPairs += len(affectedByRec)
				for _, a := range affectedByRec {
					if a {
						installedAffected++
					}
				}
			} else {
				probePairs += len(affectedByRec)
			}
		}
	}
	if installedPairs == 0 {
		t.Fatal("no (package, record) pair was checked: no Debian record names an installed source package")
	}
	t.Logf("%d source packages; installed versions: %d (package, record) pairs, %d ranges, %d affected pairs; "+
		"probes (event versions and V~): %d pairs, %d ranges; %d order checks; %d dpkg calls; %d disagreements",
		len(sources), installedPairs, installedRanges, installedAffected, probePairs, probeRanges, orderChecks, calls, failures)
}

func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}

// installedSources catalogs the dpkg database of the rootfs and returns
// its distinct source packages with their source versions.
func installedSources(ctx context.Context, t *testing.T, root string) []inventory.Source {
	t.Helper()
	img, err := image.Open(ctx, image.Source{Kind: image.Dir, Ref: root}, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	var cats []inventory.Cataloger
	for _, c := range inventory.Catalogers() {
		if c.Name() == "dpkg" {
			cats = append(cats, c)
		}
	}
	res, err := inventory.Run(ctx, img.FS, cats)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[inventory.Source]bool{}
	var out []inventory.Source
	for _, p := range res.Packages {
		s := inventory.Source{Name: p.Name, Version: p.Version}
		if p.Source != nil {
			s = *p.Source
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if len(out) < 40 {
		t.Fatalf("only %d source packages in %s", len(out), root)
	}
	return out
}

// debianRecords reads the records of the zip that have a Debian affected
// entry for one of names, by name.
func debianRecords(t *testing.T, path string, names map[string]bool) map[string][]*osv.Record {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string][]*osv.Record{}
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".json") {
			continue
		}
		b, err := readZipFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r, err := osv.Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if r.IsWithdrawn() {
			continue
		}
		seen := map[string]bool{}
		for _, a := range r.Affected {
			base, _ := osv.SplitEcosystem(a.Package.Ecosystem)
			if base == "Debian" && names[a.Package.Name] && !seen[a.Package.Name] {
				seen[a.Package.Name] = true
				out[a.Package.Name] = append(out[a.Package.Name], r)
			}
		}
	}
	return out
}

func readZipFile(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, 4<<20))
}

// oracleInRange applies the OSV evaluation to dpkg's order (ranks): v is
// affected iff some introduced i <= v is followed by no fixed f <= v and no
// last_affected l < v (an event at i's own version sorts after it). It also
// returns the nearest fixed version above v when v is affected.
func oracleInRange(rank map[string]int, v string, events []osv.Event) (bool, string) {
	const bottom = -1 // introduced "0"
	rv := rank[v]
	at := func(e osv.Event) int {
		if e.Kind == osv.Introduced && e.Version == "0" {
			return bottom
		}
		return rank[e.Version]
	}
	affected := false
	for _, in := range events {
		if in.Kind != osv.Introduced || at(in) > rv {
			continue
		}
		closed := false
		for _, c := range events {
			switch c.Kind {
			case osv.Fixed:
				closed = closed || (at(in) <= at(c) && at(c) <= rv)
			case osv.LastAffected:
				closed = closed || (at(in) <= at(c) && at(c) < rv)
			}
		}
		if !closed {
			affected = true
		}
	}
	if !affected {
		return false, ""
	}
	fix := ""
	for _, c := range events {
		if c.Kind == osv.Fixed && at(c) > rv && (fix == "" || at(c) < rank[fix]) {
			fix = c.Version
		}
	}
	return true, fix
}

// dpkgRanks sorts vers with `dpkg --compare-versions` (a merge sort asking
// "lt", then "eq" of neighbours for ties) through one sh process, and
// returns each version's rank (equal versions share one) and the number of
// dpkg calls.
func dpkgRanks(vers []string) (map[string]int, int, error) {
	cmd := exec.Command("sh", "-c", `while read -r a op b; do dpkg --compare-versions "$a" "$op" "$b"; echo $?; done`)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, 0, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, 0, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	out := bufio.NewReader(stdout)
	calls := 0
	var askErr error
	ask := func(a, op, b string) bool {
		if askErr != nil {
			return false
		}
		calls++
		if _, err := fmt.Fprintf(stdin, "%s %s %s\n", a, op, b); err != nil {
			askErr = err
			return false
		}
		line, err := out.ReadString('\n')
		if err != nil {
			askErr = err
			return false
		}
		switch strings.TrimSpace(line) {
		case "0":
			return true
		case "1":
			return false
		}
		askErr = fmt.Errorf("dpkg --compare-versions %s %s %s: exit %s", a, op, b, strings.TrimSpace(line))
		return false
	}
	sorted := mergeSort(vers, func(a, b string) bool { return ask(a, "lt", b) })
	rank := map[string]int{}
	r := 0
	for i, v := range sorted {
		if i > 0 && !ask(sorted[i-1], "eq", v) {
			r++
		}
		rank[v] = r
	}
	stdin.Close()
	werr := cmd.Wait()
	if askErr != nil {
		return nil, calls, fmt.Errorf("%w\n%s", askErr, stderr.String())
	}
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		return nil, calls, werr
	}
	if stderr.Len() > 0 {
		return nil, calls, fmt.Errorf("dpkg complained: %s", stderr.String())
	}
	return rank, calls, nil
}

// mergeSort sorts s stably with less, asking it about n log n times.
func mergeSort(s []string, less func(a, b string) bool) []string {
	if len(s) <= 1 {
		return slices.Clone(s)
	}
	left, right := mergeSort(s[:len(s)/2], less), mergeSort(s[len(s)/2:], less)
	out := make([]string, 0, len(s))
	for len(left) > 0 && len(right) > 0 {
		if less(right[0], left[0]) {
			out, right = append(out, right[0]), right[1:]
		} else {
			out, left = append(out, left[0]), left[1:]
		}
	}
	return append(append(out, left...), right...)
}
