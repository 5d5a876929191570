// Package controlplane runs a real Kubernetes control plane, etcd and
// kube-apiserver, on loopback for tests and local experiments: RBAC
// authorization, a CA and an admin client certificate of its own, and a
// kubeconfig for that admin. A kube-controller-manager runs only the
// clusterrole-aggregation controller, so aggregated ClusterRoles get their
// rules as in a real cluster; there is no scheduler, kubelet or other
// controller: API objects, authorization and admission are real, pods never
// run, and no "default" service accounts are made.
//
// The binaries come from hack/control-plane.sh, which builds them from the
// Go module proxy. Start launches both processes in their own process
// group, with a parent-death signal, so a test binary that dies does not
// leave them behind; Stop ends them by PID (TERM, then KILL after a grace
// period).
package controlplane

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// AdminUser is the user name of the admin client certificate; it is in the
// group system:masters, which RBAC lets do everything.
const AdminUser = "kubeshield-admin"

// KubeVersion is the Kubernetes version hack/control-plane.sh builds by
// default and the tests run against.
const KubeVersion = "v1.37.2"

// ServiceCIDR is the service IP range the API server is given.
const ServiceCIDR = "10.0.0.0/24"

// Options configure Start.
type Options struct {
	// BinDir holds the kube-apiserver and etcd binaries.
	BinDir string
	// Dir receives the state: certificates, etcd's data, logs and the
	// kubeconfig. It must exist; Stop does not remove it.
	Dir string
	// APIServerArgs are added to the API server's command line
	// (--enable-admission-plugins=..., say); a flag given here and by
	// default is given twice, and the API server takes the last.
	APIServerArgs []string
	// ReadyTimeout bounds how long Start waits for /readyz; zero means
	// two minutes.
	ReadyTimeout time.Duration
	// Detach lets the processes outlive the process that started them
	// (no parent-death signal), for a control plane started from the
	// command line and stopped later with StopPIDs.
	Detach bool
}

// ControlPlane is a running etcd and kube-apiserver.
type ControlPlane struct {
	// URL is the API server's https URL on 127.0.0.1.
	URL string
	// Kubeconfig is the path of a kubeconfig file for AdminUser.
	Kubeconfig string
	// CA is the PEM certificate of the CA that signed the serving and
	// client certificates.
	CA []byte
	// AdminCert and AdminKey are the PEM client certificate and key of
	// AdminUser.
	AdminCert, AdminKey []byte
	// Dir is the state directory given in Options.
	Dir string

	pki      *pki
	etcd     *process
	api      *process
	kcm      *process
	stopOnce sync.Once
	stopErr  error
}

// Start starts etcd and then kube-apiserver on free loopback ports and
// waits until the API server's /readyz answers ok. On failure everything
// it started is stopped and the error includes the end of the failing
// process's log. ctx bounds the start only; the processes run until Stop.
func Start(ctx context.Context, opts Options) (*ControlPlane, error) {
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager"} {
		if _, err := os.Stat(filepath.Join(opts.BinDir, b)); err != nil {
			return nil, fmt.Errorf("control plane binary: %w (build it with hack/control-plane.sh)", err)
		}
	}
	p, err := newPKI(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("control plane certificates in %s: %w", opts.Dir, err)
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	clientURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	cp := &ControlPlane{
		URL:        "https://127.0.0.1:" + strconv.Itoa(ports[2]),
		Kubeconfig: filepath.Join(opts.Dir, "kubeconfig"),
		CA:         p.caPEM,
		AdminCert:  p.adminCertPEM,
		AdminKey:   p.adminKeyPEM,
		Dir:        opts.Dir,
		pki:        p,
	}
	cp.etcd, err = startProcess(opts.Detach, filepath.Join(opts.BinDir, "etcd"), filepath.Join(opts.Dir, "etcd.log"),
		"--name=default",
		"--data-dir="+filepath.Join(opts.Dir, "etcd"),
		"--listen-client-urls="+clientURL,
		"--advertise-client-urls="+clientURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=default="+peerURL,
		"--unsafe-no-fsync=true",
		"--log-level=warn",
	)
	if err != nil {
		return nil, err
	}
	args := []string{
		"--etcd-servers=" + clientURL,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(ports[2]),
		"--cert-dir=" + filepath.Join(opts.Dir, "apiserver-certs"),
		"--tls-cert-file=" + p.servingCert,
		"--tls-private-key-file=" + p.servKey,
		"--client-ca-file=" + p.caCert,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + p.saPub,
		"--service-account-signing-key-file=" + p.saKey,
		"--service-cluster-ip-range=" + ServiceCIDR,
		"--authorization-mode=RBAC",
		"--endpoint-reconciler-type=none",
		"--advertise-address=127.0.0.1",
		// No controller manager creates "default" service accounts here.
		"--disable-admission-plugins=ServiceAccount",
		// As clusters run it: privileged pods are Pod Security's (and the
		// webhooks') to judge, not refused by API validation.
		"--allow-privileged=true",
	}
	args = append(args, opts.APIServerArgs...)
	cp.api, err = startProcess(opts.Detach, filepath.Join(opts.BinDir, "kube-apiserver"), filepath.Join(opts.Dir, "kube-apiserver.log"), args...)
	if err != nil {
		cp.Stop()
		return nil, err
	}
	if err := os.WriteFile(cp.Kubeconfig, cp.kubeconfig(), 0o600); err != nil {
		cp.Stop()
		return nil, fmt.Errorf("write kubeconfig: %w", err)
	}
	timeout := opts.ReadyTimeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	if err := cp.waitReady(ctx, timeout); err != nil {
		cp.Stop()
		return nil, err
	}
	cp.kcm, err = startProcess(opts.Detach, filepath.Join(opts.BinDir, "kube-controller-manager"), filepath.Join(opts.Dir, "kube-controller-manager.log"),
		"--kubeconfig="+cp.Kubeconfig,
		"--controllers=clusterrole-aggregation",
		"--leader-elect=false",
		"--secure-port=0",
		"--use-service-account-credentials=false",
	)
	if err != nil {
		cp.Stop()
		return nil, err
	}
	return cp, nil
}

// HTTPClient returns a client that trusts the control plane's CA and
// authenticates with the PEM client certificate and key given (AdminCert
// and AdminKey, or those of ClientCertificate).
func (cp *ControlPlane) HTTPClient(certPEM, keyPEM []byte) (*http.Client, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("client certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(cp.CA)
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs:      pool,
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
		}},
	}, nil
}

// ClientCertificate issues a client certificate and key (PEM) for user in
// groups, which the API server accepts as that user: for tests of what
// RBAC lets someone other than the admin do.
func (cp *ControlPlane) ClientCertificate(user string, groups ...string) (certPEM, keyPEM []byte, err error) {
	now := time.Now().Add(-time.Minute)
	return cp.pki.client(&x509.Certificate{
		Subject:     pkix.Name{CommonName: user, Organization: groups},
		NotBefore:   now,
		NotAfter:    now.Add(certLifetime),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
}

// PIDs returns the process IDs of the controller manager, the API server
// and etcd.
func (cp *ControlPlane) PIDs() []int {
	var pids []int
	for _, p := range []*process{cp.kcm, cp.api, cp.etcd} {
		if p != nil {
			pids = append(pids, p.cmd.Process.Pid)
		}
	}
	return pids
}

// Stop ends the controller manager, the API server and then etcd (TERM,
// then KILL after ten seconds) and waits for them. It is safe to call more than once; later
// calls return the first call's error.
func (cp *ControlPlane) Stop() error {
	cp.stopOnce.Do(func() {
		var errs []error
		for _, p := range []*process{cp.kcm, cp.api, cp.etcd} {
			if p != nil {
				errs = append(errs, p.stop(10*time.Second))
			}
		}
		cp.stopErr = errors.Join(errs...)
	})
	return cp.stopErr
}

// waitReady polls /readyz until it answers ok, a process exits, ctx ends
// or the timeout passes.
func (cp *ControlPlane) waitReady(ctx context.Context, timeout time.Duration) error {
	client, err := cp.HTTPClient(cp.AdminCert, cp.AdminKey)
	if err != nil {
		return err
	}
	client.Timeout = 5 * time.Second
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for {
		for _, p := range []*process{cp.etcd, cp.api} {
			if p.exited() {
				return fmt.Errorf("%s exited while starting: %s", filepath.Base(p.cmd.Path), p.logTail())
			}
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cp.URL+"/readyz", nil)
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%s: %s", resp.Status, bytes.TrimSpace(body))
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kube-apiserver not ready after %s (last answer: %s): %s", timeout, last, cp.api.logTail())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// kubeconfig returns a kubeconfig for AdminUser with the certificates
// embedded.
func (cp *ControlPlane) kubeconfig() []byte {
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters:
- name: kubeshield-test
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: %s
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: kubeshield-test
  context:
    cluster: kubeshield-test
    user: %s
current-context: kubeshield-test
`, cp.URL, b64(cp.CA), AdminUser, b64(cp.AdminCert), b64(cp.AdminKey), AdminUser)
}

// freePorts returns n distinct free TCP ports on 127.0.0.1. They are
// free when asked; another process could take one before it is used.
func freePorts(n int) ([]int, error) {
	var (
		ports []int
		ls    []net.Listener
	)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// process is one child process with its log file.
type process struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

func startProcess(detach bool, bin, logFile string, args ...string) (*process, error) {
	f, err := os.Create(logFile)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", logFile, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout = f
	cmd.Stderr = f
	// Its own process group, and killed if the process that started it
	// dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if detach {
		cmd.SysProcAttr.Pdeathsig = 0
	}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &process{cmd: cmd, log: logFile, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends TERM to the process group, then KILL after grace, and waits.
func (p *process) stop(grace time.Duration) error {
	if p.exited() {
		return nil
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
		return fmt.Errorf("%s (pid %d) did not exit after KILL", filepath.Base(p.cmd.Path), pgid)
	}
}

// StopPIDs ends the process groups of pids (as PIDs returned them, in
// that order): TERM, then KILL after grace, waiting for each to exit. It
// is for processes this process did not start (a detached control plane);
// a PID that no longer exists is skipped.
func StopPIDs(pids []int, grace time.Duration) error {
	var errs []error
	for _, pid := range pids {
		if pid <= 1 {
			errs = append(errs, fmt.Errorf("refusing to signal pid %d", pid))
			continue
		}
		if err := syscall.Kill(-pid, syscall.SIGTERM); err != nil {
			if errors.Is(err, syscall.ESRCH) {
				continue
			}
			errs = append(errs, fmt.Errorf("stop pid %d: %w", pid, err))
			continue
		}
		deadline := time.Now().Add(grace)
		for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if syscall.Kill(pid, 0) == nil {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
	}
	return errors.Join(errs...)
}

// logTail returns the last lines of the process's log.
func (p *process) logTail() string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return err.Error()
	}
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(bytes.TrimSpace(b))
}
