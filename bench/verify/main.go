// Command verify compares `kubeshield verify` with `cosign verify` on the
// same signed image in one run. It starts go-containerregistry's registry on
// a 127.0.0.1 listener in this process, pushes a small image, signs it with
// cosign (a key pair from `cosign generate-key-pair`, no transparency log),
// then reports median wall times of -runs processes of each tool (cold: a
// process per run), the in-process latency of a cold signature.Verify, and
// the latency of a warm signature.Cache decision (median over -calls
// calls), with the ratios.
//
// With -cosign3, a second image is signed by cosign v3 (a Sigstore bundle
// attached as an OCI referrer, signed with a key, no transparency log) and
// `kubeshield verify` is compared with `cosign verify` v3 on it the same
// way, with the in-process BundleVerifier and its warm cache.
//
// Targets: a warm-cache decision under 1 ms, and a cold verification faster
// than cosign's.
//
// Usage (bench/run.sh passes the paths):
//
//	go run ./bench/verify -kubeshield bin/kubeshield -cosign PATH/cosign [-cosign3 PATH/cosign3]
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/kubeshield/kubeshield/internal/signature"
)

const password = "bench-password"

func main() {
	ks := flag.String("kubeshield", "bin/kubeshield", "kubeshield binary")
	cosign := flag.String("cosign", "cosign", "cosign binary")
	cosign3 := flag.String("cosign3", "", "cosign v3 binary (optional: also compare Sigstore bundle verification)")
	runs := flag.Int("runs", 5, "processes of each tool, and in-process cold verifications x10")
	calls := flag.Int("calls", 10000, "warm cache calls")
	flag.Parse()
	if *runs < 1 || *runs > 50 || *calls < 1 || *calls > 1000000 {
		fmt.Fprintln(os.Stderr, "usage: verify -kubeshield BIN -cosign BIN [-runs N (1-50)] [-calls N (1-1000000)]")
		os.Exit(2)
	}
	if err := run(*ks, *cosign, *cosign3, *runs, *calls); err != nil {
		fmt.Fprintln(os.Stderr, "verify:", err)
		os.Exit(1)
	}
}

func run(ks, cosign, cosign3 string, runs, calls int) error {
	ctx := context.Background()
	// The tools run in a temporary directory: make their paths absolute.
	for _, p := range []*string{&ks, &cosign, &cosign3} {
		if *p == "" {
			continue
		}
		path, err := exec.LookPath(*p)
		if err != nil {
			return err
		}
		if *p, err = filepath.Abs(path); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0))), ReadHeaderTimeout: 10 * time.Second}
	// Serve ends when the listener is closed by Close below.
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	tagRef, err := name.ParseReference(ln.Addr().String() + "/bench/app:1")
	if err != nil {
		return err
	}
	img, err := random.Image(1024, 1)
	if err != nil {
		return err
	}
	if err := remote.Write(tagRef, img); err != nil {
		return fmt.Errorf("push: %w", err)
	}
	d, err := img.Digest()
	if err != nil {
		return err
	}
	ref := tagRef.Context().Digest(d.String())

	dir, err := os.MkdirTemp("", "kubeshield-bench-verify-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	keyFile, pubFile := filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
	env := append(os.Environ(),
		"COSIGN_PASSWORD="+password,
		// Any PEM public key keeps cosign from fetching the Rekor key.
		"SIGSTORE_REKOR_PUBLIC_KEY="+pubFile,
	)
	if _, err := command(dir, env, cosign, "generate-key-pair"); err != nil {
		return err
	}
	if _, err := command(dir, env, cosign, "sign", "--key", keyFile, "--tlog-upload=false", "-y", "--allow-insecure-registry", ref.String()); err != nil {
		return err
	}

	cosignWall, err := measure(dir, env, runs, cosign, "verify", "--key", pubFile, "--insecure-ignore-tlog=true", "--allow-insecure-registry", ref.String())
	if err != nil {
		return err
	}
	ksWall, err := measure(dir, env, runs, ks, "verify", "--key", pubFile, "--insecure", ref.String())
	if err != nil {
		return err
	}

	pemBytes, err := os.ReadFile(pubFile)
	if err != nil {
		return err
	}
	pub, err := signature.ParsePublicKey(pemBytes)
	if err != nil {
		return err
	}
	// In process, cold: no cache, a fresh Verify each time (the HTTP
	// connection to the registry may be reused, as in a webhook).
	var colds []time.Duration
	for range runs * 10 {
		start := time.Now()
		if _, err := signature.Verify(ctx, ref, pub, signature.VerifyOptions{}); err != nil {
			return fmt.Errorf("in-process verify: %w", err)
		}
		colds = append(colds, time.Since(start))
	}
	cold := median(colds)

	cache := signature.NewCache(1024, time.Minute)
	start := time.Now()
	if _, err := cache.Verify(ctx, ref, signature.KeyVerifier{Key: pub}, nil); err != nil {
		return fmt.Errorf("cache verify: %w", err)
	}
	firstMiss := time.Since(start)
	warms := make([]time.Duration, 0, calls)
	for range calls {
		start := time.Now()
		if _, err := cache.Verify(ctx, ref, signature.KeyVerifier{Key: pub}, nil); err != nil {
			return fmt.Errorf("cache verify: %w", err)
		}
		warms = append(warms, time.Since(start))
	}
	warm := median(warms)
	slices.Sort(warms)
	p99 := warms[len(warms)*99/100]
	if s := cache.Stats(); s.Misses != 1 || s.Hits != uint64(calls) {
		return fmt.Errorf("cache stats %+v; want 1 miss and %d hits", s, calls)
	}

	fmt.Printf("%-44s %14s\n", "measure (median)", "time")
	fmt.Printf("%-44s %14s\n", fmt.Sprintf("cosign verify, process (%d runs)", runs), cosignWall.Round(time.Microsecond))
	fmt.Printf("%-44s %14s\n", fmt.Sprintf("kubeshield verify, process (%d runs)", runs), ksWall.Round(time.Microsecond))
	fmt.Printf("%-44s %14s\n", fmt.Sprintf("signature.Verify in process, cold (%d)", len(colds)), cold.Round(time.Microsecond))
	fmt.Printf("%-44s %14s\n", "Cache.Verify, first call (miss)", firstMiss.Round(time.Microsecond))
	fmt.Printf("%-44s %14s\n", fmt.Sprintf("Cache.Verify, warm (%d calls)", calls), warm)
	fmt.Printf("%-44s %14s\n", "Cache.Verify, warm p99", p99)
	fmt.Printf("cold process: kubeshield is %.1fx faster than cosign (target > 1x)\n", ratio(cosignWall, ksWall))
	fmt.Printf("in process: cold Verify is %.0fx faster than a cosign process\n", ratio(cosignWall, cold))
	fmt.Printf("warm decision: %s, %.0fx faster than cold Verify, %.0fx faster than cosign (target < 1ms: %v)\n",
		warm, ratio(cold, warm), ratio(cosignWall, warm), warm < time.Millisecond)
	missed := ksWall >= cosignWall || warm >= time.Millisecond
	if cosign3 != "" {
		ok, err := benchBundle(ctx, dir, env, ks, cosign3, ln.Addr().String(), pub, pubFile, keyFile, runs, calls)
		if err != nil {
			return err
		}
		missed = missed || !ok
	}
	if missed {
		return errors.New("a target was missed")
	}
	return nil
}

// benchBundle signs a second image with cosign v3 (a bundle referrer) and
// compares the verifications of it; it reports whether the targets were met.
func benchBundle(ctx context.Context, dir string, env []string, ks, cosign3, host string, pub any, pubFile, keyFile string, runs, calls int) (bool, error) {
	tagRef, err := name.ParseReference(host + "/bench/app:2")
	if err != nil {
		return false, err
	}
	img, err := random.Image(1024, 1)
	if err != nil {
		return false, err
	}
	if err := remote.Write(tagRef, img); err != nil {
		return false, fmt.Errorf("push: %w", err)
	}
	d, err := img.Digest()
	if err != nil {
		return false, err
	}
	ref := tagRef.Context().Digest(d.String())
	// cosign v3 signs offline with a signing config that has no
	// transparency log.
	sc := filepath.Join(dir, "signing-config.json")
	if _, err := command(dir, env, cosign3, "signing-config", "create", "--out", sc); err != nil {
		return false, err
	}
	if _, err := command(dir, env, cosign3, "sign", "--key", keyFile, "--signing-config", sc, "-y", "--allow-insecure-registry", ref.String()); err != nil {
		return false, err
	}
	cosignWall, err := measure(dir, env, runs, cosign3, "verify", "--key", pubFile, "--insecure-ignore-tlog=true", "--allow-insecure-registry", ref.String())
	if err != nil {
		return false, err
	}
	ksWall, err := measure(dir, env, runs, ks, "verify", "--key", pubFile, "--insecure", ref.String())
	if err != nil {
		return false, err
	}
	bv, err := signature.NewBundleVerifier(signature.BundleOptions{Key: pub})
	if err != nil {
		return false, err
	}
	var colds []time.Duration
	for range runs * 10 {
		start := time.Now()
		if _, err := bv.VerifyDigest(ctx, ref, nil); err != nil {
			return false, fmt.Errorf("in-process bundle verify: %w", err)
		}
		colds = append(colds, time.Since(start))
	}
	cold := median(colds)
	cache := signature.NewCache(1024, time.Minute)
	if _, err := cache.Verify(ctx, ref, bv, nil); err != nil {
		return false, fmt.Errorf("cache verify: %w", err)
	}
	warms := make([]time.Duration, 0, calls)
	for range calls {
		start := time.Now()
		if _, err := cache.Verify(ctx, ref, bv, nil); err != nil {
			return false, fmt.Errorf("cache verify: %w", err)
		}
		warms = append(warms, time.Since(start))
	}
	warm := median(warms)
	fmt.Printf("%-44s %14s\n", fmt.Sprintf("cosign v3 verify (bundle), process (%d runs)", runs), cosignWall.Round(time.Microsecond))
	fmt.Printf("%-44s %14s\n", fmt.Sprintf("kubeshield verify (bundle), process (%d runs)", runs), ksWall.Round(time.Microsecond))
	fmt.Printf("%-44s %14s\n", fmt.Sprintf("BundleVerifier in process, cold (%d)", len(colds)), cold.Round(time.Microsecond))
	fmt.Printf("%-44s %14s\n", fmt.Sprintf("Cache.Verify (bundle), warm (%d calls)", calls), warm)
	fmt.Printf("bundle, cold process: kubeshield is %.1fx faster than cosign v3 (target > 1x)\n", ratio(cosignWall, ksWall))
	fmt.Printf("bundle, warm decision: %s (target < 1ms: %v)\n", warm, warm < time.Millisecond)
	return ksWall < cosignWall && warm < time.Millisecond, nil
}

// command runs bin in dir and returns its stdout; the error carries stderr.
func command(dir string, env []string, bin string, args ...string) ([]byte, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env = dir, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %v: %w\n%s", bin, args, err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// measure runs bin runs times and returns the median wall time.
func measure(dir string, env []string, runs int, bin string, args ...string) (time.Duration, error) {
	var walls []time.Duration
	for range runs {
		start := time.Now()
		if _, err := command(dir, env, bin, args...); err != nil {
			return 0, err
		}
		walls = append(walls, time.Since(start))
	}
	return median(walls), nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }
