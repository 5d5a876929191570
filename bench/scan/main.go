// Command scan measures the vulnerability scan against osv-scanner on the
// same images and the same OSV data in one run:
//
//  1. the import: `kubeshield db import` of every <ecosystem>/all.zip under
//     -data (median of -runs: time, records per second, store size);
//  2. per image tarball (-input NAME=FILE.tar): a warm scan by each tool
//     (one untimed run first), `kubeshield image scan -o json archive:FILE`
//     against `osv-scanner scan image --archive FILE --offline` on a local
//     database laid out from the same records; median wall time and median
//     peak RSS over -runs runs of each, the ratios, and whether both found
//     the same vulnerabilities per package (kubeshield merges aliases into
//     one finding; a finding and an osv-scanner group match when their ID
//     and alias sets meet).
//
// It exits 1 when the tools disagree on a package both of them list.
//
// Usage (bench/run.sh passes the paths):
//
//	go run ./bench/scan -kubeshield bin/kubeshield -osv-scanner PATH/osv-scanner \
//	    -data ../shared/data/osv -input debian=IMAGE.tar -input mixed=MIXED.tar
package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/kubeshield/kubeshield/internal/peer"
)

type inputs []string

func (i *inputs) String() string     { return strings.Join(*i, ",") }
func (i *inputs) Set(v string) error { *i = append(*i, v); return nil }

func main() {
	ks := flag.String("kubeshield", "bin/kubeshield", "kubeshield binary")
	osvBin := flag.String("osv-scanner", "osv-scanner", "osv-scanner binary")
	data := flag.String("data", "../shared/data/osv", "directory holding <ecosystem>/all.zip")
	runs := flag.Int("runs", 5, "timed runs of each tool per input")
	work := flag.String("work", "", "directory for the databases (default: a removed temporary directory)")
	var ins inputs
	flag.Var(&ins, "input", "NAME=FILE.tar, a docker save or OCI archive tarball; repeatable")
	flag.Parse()
	if len(ins) == 0 || *runs < 1 || *runs > 50 {
		fmt.Fprintln(os.Stderr, "usage: scan -kubeshield BIN -osv-scanner BIN -data DIR -input NAME=FILE.tar [-runs N (1-50)] [-work DIR]")
		os.Exit(2)
	}
	if err := run(*ks, *osvBin, *data, *work, *runs, ins); err != nil {
		fmt.Fprintln(os.Stderr, "scan:", err)
		os.Exit(1)
	}
}

var errDiffer = errors.New("the tools found different vulnerabilities")

func run(ks, osvBin, data, work string, runs int, ins []string) error {
	zips, err := filepath.Glob(filepath.Join(data, "*", "all.zip"))
	if err != nil || len(zips) == 0 {
		return fmt.Errorf("no */all.zip under %s", data)
	}
	slices.Sort(zips)
	if work == "" {
		if work, err = os.MkdirTemp("", "bench-scan-"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	}
	db := filepath.Join(work, "vuln.db")
	if err := benchImport(ks, db, zips, runs); err != nil {
		return err
	}
	osvDB := filepath.Join(work, "osvdb")
	counts, err := osvLayout(zips, filepath.Join(osvDB, "osv-scalibr"))
	if err != nil {
		return err
	}
	fmt.Printf("osv-scanner local database (the same records, one all.zip per ecosystem): %s\n\n", counts)

	fmt.Printf("%-8s %-12s %9s %12s %9s %9s\n", "input", "tool", "wall(s)", "peakRSS(MB)", "findings", "packages")
	differ := false
	for _, in := range ins {
		name, tarball, ok := strings.Cut(in, "=")
		if !ok {
			return fmt.Errorf("bad -input %q (want NAME=FILE.tar)", in)
		}
		ksArgs := []string{"--db", db, "image", "scan", "-q", "-o", "json", "archive:" + tarball}
		osvArgs := []string{"scan", "image", "--archive", tarball, "--offline", "--local-db-path", osvDB, "--format", "json", "--all-packages"}
		ksRes, err := measure(ks, ksArgs, runs, 0)
		if err != nil {
			return fmt.Errorf("%s: kubeshield: %w", name, err)
		}
		osvRes, err := measure(osvBin, osvArgs, runs, 1) // 1: vulnerabilities found
		if err != nil {
			return fmt.Errorf("%s: osv-scanner: %w", name, err)
		}
		ksFound, err := peer.KubeshieldGroups(ksRes.out)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		osvFound, err := peer.OSVScannerGroups(osvRes.out)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Printf("%-8s %-12s %9.3f %12.1f %9d %9d\n", name, "kubeshield", ksRes.wall.Seconds(), mb(ksRes.rss), ksFound.Count(), len(ksFound))
		fmt.Printf("%-8s %-12s %9.3f %12.1f %9d %9d\n", name, "osv-scanner", osvRes.wall.Seconds(), mb(osvRes.rss), osvFound.Count(), osvFound.Vulnerable())
		fmt.Printf("%-8s speed: kubeshield is %.1fx faster than osv-scanner (target >= 5x), %.3f s (target < 1 s for the Debian image); memory: %.2fx osv-scanner's peak RSS\n",
			name, osvRes.wall.Seconds()/ksRes.wall.Seconds(), ksRes.wall.Seconds(), float64(ksRes.rss)/float64(osvRes.rss))
		same, notListed := report(name, ksFound, osvFound)
		fmt.Printf("%-8s same vulnerabilities on the packages both list: %v", name, same)
		if notListed > 0 {
			fmt.Printf(" (%d kubeshield findings on packages osv-scanner's image scan does not list)", notListed)
		}
		fmt.Println()
		if !same {
			differ = true
		}
	}
	if differ {
		return errDiffer
	}
	return nil
}

// benchImport builds the database runs times from scratch and prints the
// median time, the records per second and the store's size.
func benchImport(ks, db string, zips []string, runs int) error {
	var zipBytes int64
	for _, z := range zips {
		if fi, err := os.Stat(z); err == nil {
			zipBytes += fi.Size()
		}
	}
	args := append([]string{"--db", db, "-q", "-o", "json", "db", "import"}, zips...)
	var (
		walls []time.Duration
		rsss  []int64
		out   []byte
	)
	for i := 0; i < runs; i++ {
		if err := os.Remove(db); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		r, err := measure(ks, args, 1, 0)
		if err != nil {
			return fmt.Errorf("kubeshield db import: %w", err)
		}
		walls, rsss, out = append(walls, r.wall), append(rsss, r.rss), r.out
	}
	var st struct {
		Records   int `json:"records"`
		IndexKeys int `json:"indexKeys"`
		Sources   []struct {
			Entries   int `json:"entries"`
			Withdrawn int `json:"withdrawn"`
		} `json:"sources"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return fmt.Errorf("parse db import json: %w", err)
	}
	entries := 0
	for _, s := range st.Sources {
		entries += s.Entries
	}
	fi, err := os.Stat(db)
	if err != nil {
		return err
	}
	wall, rss := median(walls), median(rsss)
	fmt.Printf("== kubeshield db import of %d zips (%.1f MiB): %d entries read, %d records stored, %d index keys\n",
		len(zips), float64(zipBytes)/(1<<20), entries, st.Records, st.IndexKeys)
	fmt.Printf("import: median %.2f s of %d builds (%.0f records/s, entries read / time), store %.1f MiB, peak RSS %.0f MB\n\n",
		wall.Seconds(), runs, float64(entries)/wall.Seconds(), float64(fi.Size())/(1<<20), mb(rss))
	return nil
}

// osvLayout writes osv-scanner's offline layout, dir/<ecosystem>/all.zip,
// from the records of zips: each record goes into the zip of every base
// ecosystem it affects (as the OSV export does), so osv-scanner reads the
// same records kubeshield imported. It returns the count per ecosystem.
func osvLayout(zips []string, dir string) (string, error) {
	writers := map[string]*zip.Writer{}
	files := map[string]*os.File{}
	counts := map[string]int{}
	seen := map[string]bool{}
	for _, z := range zips {
		zr, err := zip.OpenReader(z)
		if err != nil {
			return "", err
		}
		for _, f := range zr.File {
			if !strings.HasSuffix(f.Name, ".json") {
				continue
			}
			b, err := readEntry(f)
			if err != nil {
				zr.Close()
				return "", fmt.Errorf("%s %s: %w", z, f.Name, err)
			}
			var rec struct {
				ID       string `json:"id"`
				Affected []struct {
					Package struct {
						Ecosystem string `json:"ecosystem"`
					} `json:"package"`
				} `json:"affected"`
			}
			if err := json.Unmarshal(b, &rec); err != nil {
				continue // kubeshield skips it too
			}
			ecos := map[string]bool{}
			for _, a := range rec.Affected {
				base, _, _ := strings.Cut(a.Package.Ecosystem, ":")
				if base != "" {
					ecos[base] = true
				}
			}
			for eco := range ecos {
				if seen[eco+"\x00"+rec.ID] {
					continue
				}
				seen[eco+"\x00"+rec.ID] = true
				w := writers[eco]
				if w == nil {
					if err := os.MkdirAll(filepath.Join(dir, eco), 0o755); err != nil {
						zr.Close()
						return "", err
					}
					out, err := os.Create(filepath.Join(dir, eco, "all.zip"))
					if err != nil {
						zr.Close()
						return "", err
					}
					files[eco], w = out, zip.NewWriter(out)
					writers[eco] = w
				}
				e, err := w.Create(rec.ID + ".json")
				if err != nil {
					zr.Close()
					return "", err
				}
				if _, err := e.Write(b); err != nil {
					zr.Close()
					return "", err
				}
				counts[eco]++
			}
		}
		zr.Close()
	}
	var parts []string
	for eco, w := range writers {
		if err := w.Close(); err != nil {
			return "", err
		}
		if err := files[eco].Close(); err != nil {
			return "", err
		}
		parts = append(parts, fmt.Sprintf("%s %d", eco, counts[eco]))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", "), nil
}

func readEntry(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, 8<<20))
}

type result struct {
	wall time.Duration
	rss  int64
	out  []byte
}

// measure runs bin once untimed (warm-up, when runs > 1), then runs times,
// and returns the median wall time, the median peak RSS and the output of
// the last run. Exit codes other than 0 and okCode are errors.
func measure(bin string, args []string, runs, okCode int) (result, error) {
	var (
		walls []time.Duration
		rsss  []int64
		out   []byte
	)
	warm := 0
	if runs > 1 {
		warm = 1
	}
	for i := 0; i < runs+warm; i++ {
		cmd := exec.Command(bin, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		err := cmd.Run()
		wall := time.Since(start)
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && okCode != 0 && ee.ExitCode() == okCode) {
			return result{}, fmt.Errorf("%s %v: %w\n%s", bin, args, err, stderr.String())
		}
		if i < warm {
			continue
		}
		walls = append(walls, wall)
		rsss = append(rsss, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss*1024)
		out = stdout.Bytes()
	}
	return result{wall: median(walls), rss: median(rsss), out: out}, nil
}

func median[T int64 | time.Duration](s []T) T {
	slices.Sort(s)
	return s[len(s)/2]
}

func mb(b int64) float64 { return float64(b) / 1e6 }

// report prints the differences (at most 40 lines) and says whether the
// tools agree on the packages osv-scanner listed; it also returns the
// number of kubeshield findings on packages osv-scanner did not list.
func report(name string, ks, osv peer.Groups) (bool, int) {
	diffs, _ := peer.Compare(ks, osv)
	same, notListed := true, 0
	for i, d := range diffs {
		_, listed := osv[d.Package]
		note := ""
		if d.Side == "kubeshield" && !listed {
			notListed++
			note = " (package not listed by osv-scanner)"
		} else {
			same = false
		}
		if i < 40 {
			fmt.Printf("%-8s   only %s%s: %s %v\n", name, d.Side, note, d.Package, d.IDs)
		} else if i == 40 {
			fmt.Printf("%-8s   ... %d more\n", name, len(diffs)-40)
		}
	}
	return same, notListed
}
