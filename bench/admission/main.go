// Command admission measures Kubeshield's admission webhook side by side
// with its peers on the same inputs, in one run, everything on 127.0.0.1.
//
// Kubeshield: an engine built from one configuration (podSecurity
// enforcing baseline and warning restricted; signedImages with a key rule
// over an image pushed to go-containerregistry's registry in this process
// and signed with signature.Sign, referenced by digest so the
// verification cache answers after the first request; rego with 10
// Gatekeeper constraints over the library templates of
// internal/policy/testdata/gatekeeper-library), served by webhook.Server
// over TLS. It is loaded with pre-built AdmissionReviews of pods (half
// compliant, half violating several policies) from a keep-alive client
// at concurrency 1, 16 and 64 (fixed request counts, a time cap per run),
// then paced at -rate requests/s at concurrency 16.
//
// Peers:
//  1. OPA's own server (`opa run --server`, TLS) over the same templates'
//     Rego and libraries, with a wrapper module evaluating every
//     constraint against input.review with its parameters, loaded the
//     same way; OPA evaluates only the Rego part. The violations per
//     request are compared with Kubeshield's rego policy.
//  2. `gator test` over the same templates, constraints and -objects pod
//     manifests, against `kubeshield admission test` (process) and
//     Engine.Admit (in process) with the rego policy alone.
//  3. `kubectl-kyverno apply` with a podSecurity rule at baseline on the
//     same pods, against Kubeshield's Pod Security alone; skipped when
//     -kyverno is empty or missing.
//
// Targets: p99 under 5 ms at 1,000 requests/s with no errors, and faster
// than every peer measured (throughput at each concurrency, wall time
// offline). The run exits 1 when a target is missed or the violations
// disagree.
//
// Usage (bench/run.sh passes the paths):
//
//	go run ./bench/admission -opa PATH/opa -gator PATH/gator [-kyverno PATH/kubectl-kyverno] [-kubeshield bin/kubeshield]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/kubeshield/kubeshield/internal/admission"
	"github.com/kubeshield/kubeshield/internal/webhook"
)

type options struct {
	kubeshield, opa, gator, kyverno, library string
	requests1, requests                      int
	maxTime, paced                           time.Duration
	rate, objects, runs                      int
	cpuProfile                               string
}

func main() {
	var o options
	flag.StringVar(&o.kubeshield, "kubeshield", "bin/kubeshield", "kubeshield binary for the offline comparisons (empty: in process only)")
	flag.StringVar(&o.opa, "opa", "opa", "opa binary, v1.22.3 (empty: skip OPA)")
	flag.StringVar(&o.gator, "gator", "gator", "gator binary, v3.23.1 (empty: skip gator)")
	flag.StringVar(&o.kyverno, "kyverno", "", "kubectl-kyverno binary, v1.19.1 (empty or missing: skip kyverno)")
	flag.StringVar(&o.library, "library", "internal/policy/testdata/gatekeeper-library", "Gatekeeper library templates")
	flag.IntVar(&o.requests1, "requests-1", 2000, "requests at concurrency 1")
	flag.IntVar(&o.requests, "requests", 4000, "requests at concurrency 16 and 64")
	flag.DurationVar(&o.maxTime, "max-time", time.Minute, "cap on each load run")
	flag.IntVar(&o.rate, "rate", 1000, "requests/s of the paced run")
	flag.DurationVar(&o.paced, "paced", 5*time.Second, "length of the paced run")
	flag.IntVar(&o.objects, "objects", 500, "pod manifests for gator and kyverno")
	flag.IntVar(&o.runs, "runs", 3, "processes of each offline tool (median)")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of this process (the webhook and the clients) during the load runs to FILE")
	flag.Parse()
	if o.requests1 < 10 || o.requests1 > 100000 || o.requests < 10 || o.requests > 100000 ||
		o.maxTime < time.Second || o.maxTime > 5*time.Minute || o.rate < 10 || o.rate > 5000 ||
		o.paced < time.Second || o.paced > time.Minute || o.objects < 10 || o.objects > 5000 || o.runs < 1 || o.runs > 20 {
		fmt.Fprintln(os.Stderr, "usage: admission [-opa BIN] [-gator BIN] [-kyverno BIN] [-kubeshield BIN] [-requests-1 N (10-100000)] [-requests N (10-100000)]\n"+
			"  [-max-time D (1s-5m)] [-rate N (10-5000)] [-paced D (1s-1m)] [-objects N (10-5000)] [-runs N (1-20)]")
		os.Exit(2)
	}
	// Interrupted, the run returns and its deferred calls stop OPA and
	// the servers.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "admission:", err)
		os.Exit(1)
	}
}

// absTool makes a tool's path absolute; "" when it is not given or not
// found, with the reason.
func absTool(p string) (string, string) {
	if p == "" {
		return "", "not given"
	}
	path, err := exec.LookPath(p)
	if err != nil {
		return "", err.Error()
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err.Error()
	}
	return abs, ""
}

// buildEngine builds the engine of the configuration file.
func buildEngine(ctx context.Context, file string) (*admission.Engine, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	cfg, err := admission.ParseConfig(data)
	if err != nil {
		return nil, err
	}
	bs, err := cfg.Bindings(ctx, admission.BuildEnv{Dir: filepath.Dir(file)})
	if err != nil {
		return nil, err
	}
	return admission.NewEngine(nil, nil, bs...)
}

// regoViolations is the number of violations of the rego policy in d.
func regoViolations(d admission.Decision) int {
	for _, r := range d.Results {
		if r.Policy == admission.RegoPolicy {
			return len(r.Violations)
		}
	}
	return 0
}

func run(ctx context.Context, o options) error {
	// The server runs with the webhook's garbage collector target, as
	// `kubeshield webhook serve` does; the peers with their own defaults.
	webhook.TuneGC()
	tools := map[string]*string{"kubeshield": &o.kubeshield, "opa": &o.opa, "gator": &o.gator, "kyverno": &o.kyverno}
	why := map[string]string{}
	for _, name := range []string{"kubeshield", "opa", "gator", "kyverno"} {
		*tools[name], why[name] = absTool(*tools[name])
	}
	library, err := filepath.Abs(o.library)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "kubeshield-bench-admission-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	im, stopRegistry, err := startRegistry(ctx)
	if err != nil {
		return err
	}
	defer stopRegistry()
	cs := constraints(im.host)
	templates := templateFiles(library, cs)
	constraintsFile := filepath.Join(dir, "constraints.yaml")
	if err := writeConstraints(constraintsFile, cs); err != nil {
		return err
	}
	configFile, err := writeConfig(dir, im, templates, constraintsFile)
	if err != nil {
		return err
	}
	eng, err := buildEngine(ctx, configFile)
	if err != nil {
		return fmt.Errorf("build engine: %w", err)
	}
	certs, err := newTLS(dir)
	if err != nil {
		return err
	}
	url, stopWebhook, err := serveWebhook(eng, certs)
	if err != nil {
		return err
	}
	defer stopWebhook()
	vs := variants()
	in, err := buildInputs(im, vs)
	if err != nil {
		return err
	}
	ks := &target{url: url, client: certs.client(128), bodies: in.reviews, check: checkReview}

	fmt.Printf("== admission: %d AdmissionReviews of pods in turn (%d compliant), %d cores, TLS on 127.0.0.1, keep-alive\n",
		len(mix), countCompliant(vs), runtime.NumCPU())
	fmt.Printf("load average before the run: %s (other processes on this machine skew every figure)\n", loadAverage())
	fmt.Printf("kubeshield: webhook.Server, podSecurity (enforce baseline, warn restricted) + signedImages (key, cached, by digest) + rego (%d constraints, %d templates)\n",
		len(cs), len(templates))

	// Each request's decision over HTTPS must be the expected one, and
	// equal to Engine.Admit in process.
	var disagreements []string
	ksRego := make([]int, len(in.requests))
	for i, req := range in.requests {
		d := eng.Admit(ctx, req)
		ksRego[i] = regoViolations(d)
		b, err := ks.post(ctx, in.reviews[i])
		if err != nil {
			return fmt.Errorf("webhook, %s: %w", req.Name, err)
		}
		var review admissionv1.AdmissionReview
		if err := json.Unmarshal(b, &review); err != nil || review.Response == nil {
			return fmt.Errorf("webhook, %s: not an AdmissionReview: %v", req.Name, err)
		}
		want := vs[in.variant[i]].compliant
		if review.Response.Allowed != want || d.Allowed != want || review.Response.UID != req.UID {
			disagreements = append(disagreements, fmt.Sprintf("%s: webhook allowed=%v, in process allowed=%v, want %v (%s)",
				req.Name, review.Response.Allowed, d.Allowed, want, d.Message))
		}
	}

	var opaT *target
	if o.opa != "" {
		bundle := filepath.Join(dir, "opa")
		if err := os.Mkdir(bundle, 0o755); err != nil {
			return err
		}
		if err := writeOPABundle(bundle, templates, cs); err != nil {
			return fmt.Errorf("opa bundle: %w", err)
		}
		opaURL, stopOPA, err := startOPA(ctx, o.opa, bundle, certs)
		if err != nil {
			return err
		}
		defer stopOPA()
		opaT = &target{url: opaURL, client: certs.client(128), bodies: in.opa, check: checkOPA}
		for i, req := range in.requests {
			b, err := opaT.post(ctx, in.opa[i])
			if err != nil {
				return fmt.Errorf("opa, %s: %w", req.Name, err)
			}
			n, err := opaCount(b)
			if err != nil {
				return fmt.Errorf("opa, %s: %w", req.Name, err)
			}
			if n != ksRego[i] {
				disagreements = append(disagreements, fmt.Sprintf("%s: opa %d Rego violations, kubeshield %d", req.Name, n, ksRego[i]))
			}
		}
		fmt.Printf("opa: %s run --server (TLS), the same templates' Rego and libs + a wrapper over the %d constraints; evaluates only the Rego part\n", o.opa, len(cs))
	} else {
		fmt.Printf("opa: skipped (%s)\n", why["opa"])
	}
	fmt.Printf("agreement: Rego violations per request %v (kubeshield); disagreements: %d\n", ksRego, len(disagreements))
	for _, d := range disagreements {
		fmt.Println("  disagreement:", d)
	}

	// Open the connections and fill the caches before measuring.
	if err := ks.warm(ctx, 64); err != nil {
		return fmt.Errorf("kubeshield: %w", err)
	}
	if opaT != nil {
		if err := opaT.warm(ctx, 64); err != nil {
			return fmt.Errorf("opa: %w", err)
		}
	}

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// misses says which targets were missed.
	var misses []string
	if len(disagreements) > 0 {
		misses = append(misses, fmt.Sprintf("%d disagreements with opa or the expected decisions", len(disagreements)))
	}
	for _, l := range []struct{ conc, n int }{{1, o.requests1}, {16, o.requests}, {64, o.requests}} {
		fmt.Printf("\n-- concurrency %d, %d requests (cap %s)\n", l.conc, l.n, o.maxTime)
		printHeader()
		if l.conc == 1 {
			printStats("kubeshield Engine.Admit in process (no HTTP)", admitInProcess(ctx, eng, in.requests, l.n))
		}
		s := ks.load(ctx, l.conc, l.n, 0, o.maxTime)
		printStats("kubeshield webhook (PSS + signatures + Rego)", s)
		if s.errs > 0 || s.capped {
			misses = append(misses, fmt.Sprintf("kubeshield at concurrency %d: %d errors, time cap reached %v", l.conc, s.errs, s.capped))
		}
		if opaT != nil {
			p := opaT.load(ctx, l.conc, l.n, 0, o.maxTime)
			printStats("opa run --server (Rego only)", p)
			fmt.Printf("ratio: throughput kubeshield/opa %.2fx; latency opa/kubeshield p50 %.2fx, p99 %.2fx (above 1: kubeshield faster)\n",
				s.rps()/p.rps(), ratio(p.p50, s.p50), ratio(p.p99, s.p99))
			if p.errs > 0 {
				misses = append(misses, fmt.Sprintf("opa at concurrency %d: %d errors", l.conc, p.errs))
			}
			if s.rps() <= p.rps() {
				misses = append(misses, fmt.Sprintf("throughput at concurrency %d: kubeshield %.0f req/s, opa %.0f", l.conc, s.rps(), p.rps()))
			}
		}
	}

	n := int(o.paced.Seconds() * float64(o.rate))
	fmt.Printf("\n-- paced: %d requests/s for %s at concurrency 16 (%d requests)\n", o.rate, o.paced, n)
	printHeader()
	paced := ks.load(ctx, 16, n, o.rate, o.paced+10*time.Second)
	printStats("kubeshield webhook (PSS + signatures + Rego)", paced)
	if opaT != nil {
		printStats("opa run --server (Rego only)", opaT.load(ctx, 16, n, o.rate, o.paced+10*time.Second))
	}
	pacedOK := paced.errs == 0 && !paced.capped && paced.p99 < 5*time.Millisecond
	if !pacedOK {
		misses = append(misses, fmt.Sprintf("paced p99 %s (errors %d)", paced.p99.Round(time.Microsecond), paced.errs))
	}

	offlineMisses, err := offline(ctx, o, why, dir, im, vs, templates, constraintsFile)
	if err != nil {
		return err
	}
	misses = append(misses, offlineMisses...)

	fmt.Printf("\nload average after the run: %s\n", loadAverage())
	fmt.Printf("target: p99 < 5ms at %d req/s, no errors: p99 %s, %d errors, %d late starts: %s\n",
		o.rate, paced.p99.Round(time.Microsecond), paced.errs, paced.late, verdict(pacedOK))
	fmt.Printf("target: faster than every peer measured, decisions agree: %s\n", verdict(len(misses) == 0))
	for _, m := range misses {
		fmt.Println("  missed:", m)
	}
	if len(misses) > 0 {
		return errMissed
	}
	return nil
}

// loadAverage is the first three fields of /proc/loadavg, or "unknown".
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// admitInProcess calls eng.Admit n times on the requests in turn, one at
// a time: the engine's share of a webhook request.
func admitInProcess(ctx context.Context, eng *admission.Engine, reqs []*admissionv1.AdmissionRequest, n int) stats {
	lats := make([]time.Duration, 0, n)
	start := time.Now()
	for i := range n {
		t0 := time.Now()
		eng.Admit(ctx, reqs[i%len(reqs)])
		lats = append(lats, time.Since(t0))
	}
	s := stats{sent: n, wall: time.Since(start)}
	slices.Sort(lats)
	s.p50, s.p99, s.max = lats[n/2], lats[min(n-1, n*99/100)], lats[n-1]
	return s
}

func countCompliant(vs []variant) int {
	n := 0
	for _, v := range mix {
		if vs[v].compliant {
			n++
		}
	}
	return n
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func printHeader() {
	fmt.Printf("%-46s %7s %6s %10s %10s %10s %9s\n", "server", "done", "errors", "p50", "p99", "max", "req/s")
}

func printStats(name string, s stats) {
	note := ""
	if s.capped {
		note = " (time cap reached)"
	}
	if s.late > 0 {
		note += fmt.Sprintf(" (%d late starts)", s.late)
	}
	fmt.Printf("%-46s %7d %6d %10s %10s %10s %9.0f%s\n", name, s.sent, s.errs,
		s.p50.Round(time.Microsecond), s.p99.Round(time.Microsecond), s.max.Round(time.Microsecond), s.rps(), note)
	if s.firstErr != nil {
		fmt.Printf("  first error: %.300v\n", s.firstErr)
	}
}

// offline compares gator and kyverno with Kubeshield on -objects pod
// manifests; it returns the targets missed (slower than a peer, counts
// that differ).
func offline(ctx context.Context, o options, why map[string]string, dir string, im images, vs []variant, templates []string, constraintsFile string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pods := filepath.Join(dir, "pods.yaml")
	reqs, err := writePods(pods, im, vs, o.objects)
	if err != nil {
		return nil, err
	}
	var misses []string
	fmt.Printf("\n-- offline: %d pod manifests (the same mix), median of %d runs\n", o.objects, o.runs)
	fmt.Printf("%-58s %12s %10s %11s\n", "tool", "wall", "objects/s", "found")
	fmt.Println("(found: Rego violations for the Rego tools, denied pods for Pod Security)")
	line := func(name string, wall time.Duration, count int) {
		fmt.Printf("%-58s %12s %10.0f %11d\n", name, wall.Round(time.Millisecond), float64(o.objects)/wall.Seconds(), count)
	}

	// Rego alone: gator against Kubeshield's rego policy.
	regoConfig := filepath.Join(dir, "rego.yaml")
	paths, err := json.Marshal(append(append([]string(nil), templates...), constraintsFile))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(regoConfig, fmt.Appendf(nil, "apiVersion: kubeshield.dev/v1alpha1\nkind: AdmissionConfig\nrego:\n  paths: %s\n", paths), 0o644); err != nil {
		return nil, err
	}
	inProc, regoCount, err := inProcess(ctx, regoConfig, reqs, o.runs, regoViolations)
	if err != nil {
		return nil, err
	}
	ksRego := inProc
	line("kubeshield Engine.Admit, rego only, in process (+build)", inProc, regoCount)
	if o.kubeshield != "" {
		_, wall, err := measureTool(dir, o.kubeshield, o.runs, []int{0, 3}, "admission", "test", "-f", pods, "--config", regoConfig, "-o", "json")
		if err != nil {
			return nil, err
		}
		ksRego = wall
		line("kubeshield admission test --config rego.yaml (process)", wall, regoCount)
	}
	if o.gator != "" {
		args := []string{"test", "-o", "json", "--enable-k8s-native-validation=false"}
		for _, t := range templates {
			args = append(args, "-f", t)
		}
		args = append(args, "-f", constraintsFile, "-f", pods)
		out, wall, err := measureTool(dir, o.gator, o.runs, []int{0, 1}, args...)
		if err != nil {
			return nil, err
		}
		n, err := gatorCount(out)
		if err != nil {
			return nil, err
		}
		line("gator test (Rego engine)", wall, n)
		fmt.Printf("ratio: wall gator/kubeshield %.2fx (%s; above 1: kubeshield faster); violations equal: %v\n", ratio(wall, ksRego), processOrNot(o.kubeshield), n == regoCount)
		if ksRego >= wall || n != regoCount {
			misses = append(misses, fmt.Sprintf("gator: %s against kubeshield %s; %d violations against %d", wall.Round(time.Millisecond), ksRego.Round(time.Millisecond), n, regoCount))
		}
	} else {
		fmt.Printf("gator: skipped (%s)\n", why["gator"])
	}

	// Pod Security alone: kyverno against Kubeshield's podSecurity.
	if o.kyverno == "" {
		fmt.Printf("kyverno: skipped (%s)\n", why["kyverno"])
		return misses, nil
	}
	pssConfig := filepath.Join(dir, "pss.yaml")
	if err := os.WriteFile(pssConfig, []byte("apiVersion: kubeshield.dev/v1alpha1\nkind: AdmissionConfig\npodSecurity:\n  enforce: baseline\n"), 0o644); err != nil {
		return nil, err
	}
	denied := func(d admission.Decision) int {
		if d.Allowed {
			return 0
		}
		return 1
	}
	inProc, pssCount, err := inProcess(ctx, pssConfig, reqs, o.runs, denied)
	if err != nil {
		return nil, err
	}
	ksPSS := inProc
	line("kubeshield Engine.Admit, Pod Security baseline, in process", inProc, pssCount)
	if o.kubeshield != "" {
		_, wall, err := measureTool(dir, o.kubeshield, o.runs, []int{0, 3}, "admission", "test", "-f", pods, "--pod-security", "baseline", "-o", "json")
		if err != nil {
			return nil, err
		}
		ksPSS = wall
		line("kubeshield admission test --pod-security baseline (process)", wall, pssCount)
	}
	policyFile := filepath.Join(dir, "kyverno-pss.yaml")
	if err := os.WriteFile(policyFile, []byte(kyvernoPolicy), 0o644); err != nil {
		return nil, err
	}
	out, wall, err := measureTool(dir, o.kyverno, o.runs, []int{0, 1}, "apply", policyFile, "--resource", pods)
	if err != nil {
		return nil, err
	}
	fails, err := kyvernoFails(out)
	if err != nil {
		return nil, err
	}
	line("kubectl-kyverno apply, podSecurity baseline", wall, fails)
	fmt.Printf("ratio: wall kyverno/kubeshield %.2fx (%s; above 1: kubeshield faster); denials equal: %v\n", ratio(wall, ksPSS), processOrNot(o.kubeshield), fails == pssCount)
	if ksPSS >= wall || fails != pssCount {
		misses = append(misses, fmt.Sprintf("kyverno: %s against kubeshield %s; %d denials against %d", wall.Round(time.Millisecond), ksPSS.Round(time.Millisecond), fails, pssCount))
	}
	return misses, nil
}

func processOrNot(ks string) string {
	if ks != "" {
		return "process against process"
	}
	return "in process against a process"
}

// inProcess builds the engine of config and admits every request, runs
// times; it returns the median wall time and the sum of count over the
// decisions.
func inProcess(ctx context.Context, config string, reqs []*admissionv1.AdmissionRequest, runs int, count func(admission.Decision) int) (time.Duration, int, error) {
	var walls []time.Duration
	total := 0
	for range runs {
		start := time.Now()
		eng, err := buildEngine(ctx, config)
		if err != nil {
			return 0, 0, err
		}
		total = 0
		for _, r := range reqs {
			total += count(eng.Admit(ctx, r))
		}
		walls = append(walls, time.Since(start))
	}
	return median(walls), total, nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }
