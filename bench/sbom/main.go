// Command sbom compares `kubeshield sbom` with syft on the same inputs in one
// run: median wall time and median peak RSS over -runs runs of each, the
// ratios, and whether both found the same dpkg packages (and how the other
// package sets differ).
//
// Usage (bench/run.sh passes the paths):
//
//	go run ./bench/sbom -kubeshield bin/kubeshield -syft PATH/syft \
//	    -input dir=dir:ROOTFS -input tarball=archive:IMAGE.tar
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"
)

type inputs []string

func (i *inputs) String() string     { return strings.Join(*i, ",") }
func (i *inputs) Set(v string) error { *i = append(*i, v); return nil }

func main() {
	ks := flag.String("kubeshield", "bin/kubeshield", "kubeshield binary")
	syft := flag.String("syft", "syft", "syft binary")
	runs := flag.Int("runs", 5, "runs of each tool per input")
	var ins inputs
	flag.Var(&ins, "input", "NAME=SOURCE, SOURCE in kubeshield's form (dir:PATH or archive:FILE); repeatable")
	flag.Parse()
	if len(ins) == 0 || *runs < 1 || *runs > 50 {
		fmt.Fprintln(os.Stderr, "usage: sbom -kubeshield BIN -syft BIN -input NAME=SOURCE [-runs N (1-50)]")
		os.Exit(2)
	}
	fmt.Printf("%-8s %-10s %10s %10s %12s %12s\n", "input", "tool", "wall(s)", "peakRSS(MB)", "packages", "deb")
	failed := false
	for _, in := range ins {
		name, src, ok := strings.Cut(in, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "bad -input %q\n", in)
			os.Exit(2)
		}
		ksArgs := []string{"sbom", "-q", "-o", "json", src}
		syftArgs := []string{syftSource(src), "-o", "syft-json", "-q"}
		ksRes, err := measure(*ks, ksArgs, *runs)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: kubeshield: %v\n", name, err)
			os.Exit(1)
		}
		syftRes, err := measure(*syft, syftArgs, *runs)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: syft: %v\n", name, err)
			os.Exit(1)
		}
		ksPkgs, err := kubeshieldPackages(ksRes.out)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
			os.Exit(1)
		}
		syftPkgs, err := syftPackages(syftRes.out)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
			os.Exit(1)
		}
		fmt.Printf("%-8s %-10s %10.3f %10.1f %12d %12d\n", name, "kubeshield", ksRes.wall.Seconds(), float64(ksRes.rss)/1e6, len(ksPkgs), count(ksPkgs, "deb"))
		fmt.Printf("%-8s %-10s %10.3f %10.1f %12d %12d\n", name, "syft", syftRes.wall.Seconds(), float64(syftRes.rss)/1e6, len(syftPkgs), count(syftPkgs, "deb"))
		fmt.Printf("%-8s speed: kubeshield is %.1fx faster than syft (target >= 3x); memory: kubeshield uses %.2fx syft's peak RSS (target <= 0.5x)\n",
			name, syftRes.wall.Seconds()/ksRes.wall.Seconds(), float64(ksRes.rss)/float64(syftRes.rss))
		onlyKS, onlySyft := diff(ksPkgs, syftPkgs)
		debSame := len(filter(onlyKS, "deb")) == 0 && len(filter(onlySyft, "deb")) == 0
		fmt.Printf("%-8s dpkg packages identical: %v\n", name, debSame)
		for _, p := range onlyKS {
			fmt.Printf("%-8s   only kubeshield: %s\n", name, p)
		}
		for _, p := range onlySyft {
			fmt.Printf("%-8s   only syft:       %s\n", name, p)
		}
		if !debSame {
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

// syftSource translates a kubeshield source to syft's scheme.
func syftSource(src string) string {
	if p, ok := strings.CutPrefix(src, "archive:"); ok {
		return "docker-archive:" + p
	}
	if p, ok := strings.CutPrefix(src, "oci:"); ok {
		return "oci-dir:" + p
	}
	return src
}

type result struct {
	wall time.Duration
	rss  int64
	out  []byte
}

// measure runs bin runs times and returns the median wall time, the median
// peak RSS and the output of the last run.
func measure(bin string, args []string, runs int) (result, error) {
	var walls []time.Duration
	var rsss []int64
	var out []byte
	for i := 0; i < runs; i++ {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "SYFT_CHECK_FOR_APP_UPDATE=false")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return result{}, fmt.Errorf("%s %v: %w\n%s", bin, args, err, stderr.String())
		}
		walls = append(walls, time.Since(start))
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		rsss = append(rsss, ru.Maxrss*1024)
		out = stdout.Bytes()
	}
	slices.Sort(walls)
	slices.Sort(rsss)
	return result{wall: walls[len(walls)/2], rss: rsss[len(rsss)/2], out: out}, nil
}

// kubeshieldPackages reads "type name version" lines from kubeshield json.
func kubeshieldPackages(out []byte) ([]string, error) {
	var doc struct {
		Packages []struct{ Name, Version, Type string }
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("parse kubeshield json: %w", err)
	}
	var pkgs []string
	for _, p := range doc.Packages {
		name := p.Name
		if p.Type == "java-archive" {
			// syft names Maven packages by artifactId alone.
			if _, artifact, ok := strings.Cut(name, ":"); ok {
				name = artifact
			}
		}
		pkgs = append(pkgs, normType(p.Type)+" "+normName(p.Type, name)+" "+p.Version)
	}
	sort.Strings(pkgs)
	return pkgs, nil
}

var pep503 = regexp.MustCompile(`[-_.]+`)

// normName compares Python names in their PEP 503 form, as syft writes
// them (kubeshield keeps the name as METADATA writes it).
func normName(typ, name string) string {
	if typ == "python" {
		return pep503.ReplaceAllString(strings.ToLower(name), "-")
	}
	return name
}

// syftPackages reads "type name version" lines from syft json.
func syftPackages(out []byte) ([]string, error) {
	var doc struct {
		Artifacts []struct{ Name, Version, Type string }
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("parse syft json: %w", err)
	}
	var pkgs []string
	for _, p := range doc.Artifacts {
		pkgs = append(pkgs, normType(p.Type)+" "+normName(p.Type, p.Name)+" "+p.Version)
	}
	sort.Strings(pkgs)
	return pkgs, nil
}

// normType maps both tools' package types to one vocabulary.
func normType(t string) string {
	switch t {
	case "go-module":
		return "go"
	case "java-archive", "jenkins-plugin":
		return "java"
	case "rust-crate":
		return "rust"
	case "php-composer":
		return "php"
	case "dotnet":
		return "dotnet"
	}
	return t
}

func count(pkgs []string, typ string) int { return len(filter(pkgs, typ)) }

func filter(pkgs []string, typ string) []string {
	var out []string
	for _, p := range pkgs {
		if strings.HasPrefix(p, typ+" ") {
			out = append(out, p)
		}
	}
	return out
}

// diff returns what only a has and what only b has (multisets).
func diff(a, b []string) (onlyA, onlyB []string) {
	ca := map[string]int{}
	for _, p := range a {
		ca[p]++
	}
	for _, p := range b {
		if ca[p] > 0 {
			ca[p]--
			continue
		}
		onlyB = append(onlyB, p)
	}
	for p, n := range ca {
		for ; n > 0; n-- {
			onlyA = append(onlyA, p)
		}
	}
	sort.Strings(onlyA)
	return onlyA, onlyB
}
