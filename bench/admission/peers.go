package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kubeshield/kubeshield/internal/policy"
)

// opaPackage is the package of the wrapper module OPA evaluates.
const opaPackage = "kubeshield_bench"

var packageRE = regexp.MustCompile(`(?m)^\s*package\s+([A-Za-z0-9_.]+)`)

// writeOPABundle writes, in dir, each template's Rego and its libraries
// (once each), data.json with every constraint's parameters, and a
// wrapper module with one rule per constraint evaluating the template's
// violation rule with input.review and those parameters.
func writeOPABundle(dir string, templates []string, cs []constraint) error {
	pkgs := map[string]string{} // template kind -> Rego package
	libs := map[string]bool{}
	for i, file := range templates {
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		ps, err := policy.Parse(file, data)
		if err != nil {
			return err
		}
		for _, t := range ps.Templates {
			m := packageRE.FindStringSubmatch(t.Rego)
			if m == nil {
				return fmt.Errorf("%s: no package in the template's Rego", file)
			}
			pkgs[t.Kind] = m[1]
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("template%d.rego", i)), []byte(t.Rego), 0o644); err != nil {
				return err
			}
			for _, lib := range t.Libs {
				key := strings.TrimSpace(lib)
				if libs[key] {
					continue
				}
				libs[key] = true
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("lib%d.rego", len(libs))), []byte(lib), 0o644); err != nil {
					return err
				}
			}
		}
	}
	params := map[string]any{}
	var w strings.Builder
	fmt.Fprintf(&w, "package %s\n", opaPackage)
	for _, c := range cs {
		pkg, ok := pkgs[c.kind]
		if !ok {
			return fmt.Errorf("no template for %s", c.kind)
		}
		p := c.params
		if p == nil {
			p = map[string]any{}
		}
		params[c.name] = p
		fmt.Fprintf(&w, `
violations[v] {
	x := data.%s.violation[_] with input as {"review": input.review, "parameters": data.kubeshield_params[%q]}
	v := {"constraint": %q, "msg": x.msg}
}
`, pkg, c.name, c.kind+"/"+c.name)
	}
	if err := os.WriteFile(filepath.Join(dir, "wrapper.rego"), []byte(w.String()), 0o644); err != nil {
		return err
	}
	data, err := json.Marshal(map[string]any{"kubeshield_params": params})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "data.json"), data, 0o644)
}

// freePort returns a port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startOPA runs `opa run --server` over bundle with TLS on 127.0.0.1,
// waits for /health and returns the URL of the wrapper's violations;
// stop kills the process.
func startOPA(ctx context.Context, bin, bundle string, t tlsFiles) (string, func(), error) {
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin, "run", "--server", "--addr", addr, "--log-level", "error", "--skip-version-check",
		"--v0-compatible", "--tls-cert-file", t.certFile, "--tls-private-key-file", t.keyFile, bundle)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // ends when the process exits (stop kills it)
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	c := t.client(1)
	base := "https://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/health", nil)
		if err != nil {
			stop()
			return "", nil, err
		}
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			return "", nil, fmt.Errorf("opa exited: %v\n%s", err, stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("opa not healthy after 30s\n%s", stderr.String())
		}
	}
	return base + "/v1/data/" + opaPackage + "/violations", stop, nil
}

// opaCount is the number of violations in an answer of the wrapper.
func opaCount(b []byte) (int, error) {
	var r struct {
		Result *[]json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return 0, err
	}
	if r.Result == nil {
		return 0, errors.New("no result")
	}
	return len(*r.Result), nil
}

// runTool runs bin and returns its stdout and wall time; exit codes in
// ok are not errors.
func runTool(dir, bin string, ok []int, args ...string) ([]byte, time.Duration, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		for _, c := range ok {
			if exit.ExitCode() == c {
				err = nil
			}
		}
	}
	if err != nil {
		return nil, 0, fmt.Errorf("%s %v: %w\n%.2000s", bin, args, err, stderr.String())
	}
	return stdout.Bytes(), wall, nil
}

// measureTool runs bin runs times and returns the median wall time and
// the last stdout.
func measureTool(dir, bin string, runs int, ok []int, args ...string) ([]byte, time.Duration, error) {
	var walls []time.Duration
	var out []byte
	for range runs {
		o, wall, err := runTool(dir, bin, ok, args...)
		if err != nil {
			return nil, 0, err
		}
		out = o
		walls = append(walls, wall)
	}
	return out, median(walls), nil
}

// gatorCount is the number of results of `gator test -o json`.
func gatorCount(out []byte) (int, error) {
	var rs []json.RawMessage
	if len(bytes.TrimSpace(out)) == 0 {
		return 0, nil
	}
	if err := json.Unmarshal(out, &rs); err != nil {
		return 0, fmt.Errorf("gator output: %w", err)
	}
	return len(rs), nil
}

// kyvernoPolicy is a ClusterPolicy with kyverno's podSecurity rule at
// baseline, latest version.
const kyvernoPolicy = `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: pod-security-baseline
spec:
  background: true
  rules:
  - name: baseline
    match:
      any:
      - resources:
          kinds: [Pod]
    validate:
      failureAction: Enforce
      podSecurity:
        level: baseline
        version: latest
`

var kyvernoSummaryRE = regexp.MustCompile(`pass: (\d+), fail: (\d+)`)

// kyvernoFails is the fail count of `kubectl-kyverno apply`'s summary.
func kyvernoFails(out []byte) (int, error) {
	m := kyvernoSummaryRE.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no summary in kyverno's output: %.500s", out)
	}
	return strconv.Atoi(string(m[2]))
}
