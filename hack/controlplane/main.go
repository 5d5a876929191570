// Command controlplane starts and stops the test control plane (etcd,
// kube-apiserver with RBAC, kube-controller-manager) on loopback for
// trying Kubeshield's cluster commands by hand:
//
//	go run ./hack/controlplane up      # builds the binaries if needed, prints the kubeconfig
//	export KUBECONFIG=$(go run ./hack/controlplane kubeconfig)
//	kubeshield rbac can-i list secrets --as jane -n default
//	go run ./hack/controlplane down    # stops them by PID, removes the state
//
// The state (certificates, etcd data, logs, kubeconfig, the PIDs) lives in
// -dir, by default control-plane/run in the test cache.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kubeshield/kubeshield/internal/controlplane"
)

func main() {
	cache := os.Getenv("KUBESHIELD_TEST_CACHE")
	if cache == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			d = os.TempDir()
		}
		cache = filepath.Join(d, "kubeshield-test")
	}
	fs := flag.NewFlagSet("controlplane", flag.ExitOnError)
	dir := fs.String("dir", filepath.Join(cache, "control-plane", "run"), "state directory")
	bin := fs.String("bin", filepath.Join(cache, "control-plane", controlplane.KubeVersion, "bin"), "directory of the binaries (built by hack/control-plane.sh when missing)")
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: controlplane up|down|status|kubeconfig [-dir DIR] [-bin DIR]")
		os.Exit(2)
	}
	_ = fs.Parse(os.Args[2:])
	var err error
	switch os.Args[1] {
	case "up":
		err = up(*dir, *bin)
	case "down":
		err = down(*dir)
	case "status":
		err = status(*dir)
	case "kubeconfig":
		fmt.Println(filepath.Join(*dir, "kubeconfig"))
	default:
		err = fmt.Errorf("unknown command %q: want up, down, status or kubeconfig", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "controlplane:", err)
		os.Exit(1)
	}
}

func up(dir, bin string) error {
	if _, err := os.Stat(filepath.Join(dir, "pids")); err == nil {
		return fmt.Errorf("%s holds a running control plane (down first)", dir)
	}
	if _, err := os.Stat(filepath.Join(bin, "kube-controller-manager")); err != nil {
		cmd := exec.Command("bash", "hack/control-plane.sh", bin)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build the binaries (run from the repository root): %w", err)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	cp, err := controlplane.Start(context.Background(), controlplane.Options{BinDir: bin, Dir: dir, Detach: true})
	if err != nil {
		return err
	}
	var pids []string
	for _, p := range cp.PIDs() {
		pids = append(pids, strconv.Itoa(p))
	}
	if err := os.WriteFile(filepath.Join(dir, "pids"), []byte(strings.Join(pids, " ")+"\n"), 0o600); err != nil {
		cp.Stop()
		return err
	}
	fmt.Printf("API server %s (pids %s)\nexport KUBECONFIG=%s\n", cp.URL, strings.Join(pids, " "), cp.Kubeconfig)
	return nil
}

func readPIDs(dir string) ([]int, error) {
	data, err := os.ReadFile(filepath.Join(dir, "pids"))
	if err != nil {
		return nil, fmt.Errorf("no control plane in %s: %w", dir, err)
	}
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		p, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%s/pids: %w", dir, err)
		}
		pids = append(pids, p)
	}
	return pids, nil
}

func down(dir string) error {
	pids, err := readPIDs(dir)
	if err != nil {
		return err
	}
	if err := controlplane.StopPIDs(pids, 10*time.Second); err != nil {
		return err
	}
	return os.RemoveAll(dir)
}

func status(dir string) error {
	pids, err := readPIDs(dir)
	if err != nil {
		return err
	}
	var dead []string
	for _, p := range pids {
		if err := syscallAlive(p); err != nil {
			dead = append(dead, strconv.Itoa(p))
		}
	}
	if len(dead) > 0 {
		return errors.New("not running: pids " + strings.Join(dead, " "))
	}
	fmt.Printf("running: pids %v, KUBECONFIG=%s\n", pids, filepath.Join(dir, "kubeconfig"))
	return nil
}
