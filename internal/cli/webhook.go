package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubeshield/kubeshield/internal/admission"
	"github.com/kubeshield/kubeshield/internal/cluster"
	"github.com/kubeshield/kubeshield/internal/signature"
	"github.com/kubeshield/kubeshield/internal/webhook"
)

func newWebhookCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "webhook",
		Short: "Run Kubeshield as the cluster's admission webhook, and install it",
	}
	cmd.AddCommand(newWebhookServeCommand(g), newWebhookInstallCommand(g))
	return cmd
}

// webhookServeOptions are the flags of `kubeshield webhook serve`.
type webhookServeOptions struct {
	listen         string
	config         string
	certFile       string
	keyFile        string
	selfSigned     bool
	service        string
	namespace      string
	caSecret       string
	configurations []string
	decisionLog    string
	failClosed     bool
	timeout        time.Duration
	reload         time.Duration
	kubeconfig     string
	context        string
}

func newWebhookServeCommand(g *globalOptions) *cobra.Command {
	var o webhookServeOptions
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Serve the validating and mutating admission webhooks over HTTPS",
		Long: `Serve /validate and /mutate (AdmissionReview v1), /healthz, /readyz and
Prometheus /metrics over HTTPS, deciding with the policies of --config
(an AdmissionConfig; see docs/admission.md). The file is reloaded when it
changes; a file that does not load keeps the policies in service (logged).
Every decision is written as one JSON line to --decision-log.

TLS comes from --tls-cert-file and --tls-private-key-file (reloaded when
they change), or, with --self-signed, from a CA the replicas share in the
Secret --ca-secret of --namespace, whose certificate is written as the
caBundle of the webhook configurations named by --webhook-configuration.

In a cluster the webhook reads namespace labels (Pod Security levels) and
image pull secrets through the in-cluster configuration (or --kubeconfig).
A request the server cannot read is admitted, or denied with
--fail-closed; each policy's own failures follow its failurePolicy.`,
		Example: `  kubeshield webhook serve --config /etc/kubeshield/config.yaml --tls-cert-file tls.crt --tls-private-key-file tls.key
  kubeshield webhook serve --config config.yaml --self-signed --service kubeshield-webhook --namespace kubeshield \
      --ca-secret kubeshield-webhook-ca --webhook-configuration kubeshield-webhook`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context(), g) },
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", fmt.Sprintf(":%d", webhook.Port), "address to serve HTTPS on")
	f.StringVar(&o.config, "config", "", "admission configuration file (required)")
	f.StringVar(&o.certFile, "tls-cert-file", "", "serving certificate (PEM)")
	f.StringVar(&o.keyFile, "tls-private-key-file", "", "serving key (PEM)")
	f.BoolVar(&o.selfSigned, "self-signed", false, "serve a certificate of a CA of the webhook's own (needs --service and --namespace)")
	f.StringVar(&o.service, "service", "", "with --self-signed: the Service in front of the webhook")
	f.StringVarP(&o.namespace, "namespace", "n", "", "with --self-signed: the webhook's namespace")
	f.StringVar(&o.caSecret, "ca-secret", "", "with --self-signed: the Secret holding the CA the replicas share (default: a CA per process)")
	f.StringArrayVar(&o.configurations, "webhook-configuration", nil, "with --self-signed: validating and mutating webhook configurations to write the caBundle into (repeatable)")
	f.StringVar(&o.decisionLog, "decision-log", "-", "file to append decisions to, one JSON line each (- for standard output, empty for none)")
	f.BoolVar(&o.failClosed, "fail-closed", false, "deny requests the server cannot read (default: admit them)")
	f.DurationVar(&o.timeout, "timeout", webhook.DefaultTimeout, "deadline of one review (below the webhook configurations' timeoutSeconds)")
	f.DurationVar(&o.reload, "reload-interval", 2*time.Second, "how often --config and the TLS files are checked for changes")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig for namespace labels and pull secrets (default: in-cluster, $KUBECONFIG, ~/.kube/config)")
	f.StringVar(&o.context, "context", "", "kubeconfig context")
	return cmd
}

func (o *webhookServeOptions) run(ctx context.Context, g *globalOptions) error {
	switch {
	case o.config == "":
		return usageErrorf("--config is required")
	case o.selfSigned == (o.certFile != "" || o.keyFile != ""):
		return usageErrorf("give --tls-cert-file and --tls-private-key-file, or --self-signed")
	case !o.selfSigned && (o.certFile == "" || o.keyFile == ""):
		return usageErrorf("--tls-cert-file and --tls-private-key-file go together")
	case o.selfSigned && (o.service == "" || o.namespace == ""):
		return usageErrorf("--self-signed needs --service and --namespace")
	case o.timeout <= 0 || o.reload <= 0:
		return usageErrorf("--timeout and --reload-interval must be positive")
	}
	logger := g.logger
	webhook.TuneGC()

	// The cluster, for namespace labels and pull secrets; optional
	// outside a cluster.
	var cs kubernetes.Interface
	if cfg, _, err := cluster.RESTConfig(o.kubeconfig, o.context); err == nil {
		if cs, err = kubernetes.NewForConfig(cfg); err != nil {
			return fmt.Errorf("kubernetes client: %w", err)
		}
	} else if o.kubeconfig != "" || o.context != "" || o.selfSigned {
		return err
	} else {
		logger.Warn("no cluster access: namespace labels and pull secrets are unknown", slog.Any("error", err))
	}
	var (
		namespaces admission.NamespaceLabeler
		ready      func() error
		env        = admission.BuildEnv{Dir: filepath.Dir(o.config), ScanCache: admission.NewScanCache(),
			SignatureCache: signature.NewCache(admission.DefaultSignatureCacheSize, admission.DefaultSignatureCacheTTL)}
	)
	if cs != nil {
		nc := webhook.NewNamespaceCache(cs)
		nc.Start(ctx)
		namespaces, ready = nc, nc.Synced
		env.Keychain = webhook.PullSecrets(cs)
	}

	// Policies, reloaded when the file changes.
	var current atomic.Pointer[admission.Engine]
	load := func() error {
		data, err := readLimited(o.config, admission.MaxConfigSize)
		if err != nil {
			return err
		}
		cfg, err := admission.ParseConfig(data)
		if err != nil {
			return err
		}
		bindings, err := cfg.Bindings(ctx, env)
		if err != nil {
			return err
		}
		e, err := admission.NewEngine(logger, namespaces, bindings...)
		if err != nil {
			return err
		}
		current.Store(e)
		logger.Info("policies loaded", slog.String("config", o.config), slog.Int("policies", len(bindings)))
		return nil
	}
	if err := load(); err != nil {
		return fmt.Errorf("%s: %w", o.config, err)
	}
	go watchFile(ctx, o.config, o.reload, func() {
		if err := load(); err != nil {
			logger.Error("configuration not reloaded; the previous policies stay in service", slog.String("config", o.config), slog.Any("error", err))
		}
	})

	tlsConfig, err := o.tls(ctx, cs, logger)
	if err != nil {
		return err
	}
	var decisions *admission.DecisionLog
	switch o.decisionLog {
	case "":
	case "-":
		decisions = admission.NewDecisionLog(g.stdout)
	default:
		f, err := os.OpenFile(o.decisionLog, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("decision log: %w", err)
		}
		defer f.Close()
		decisions = admission.NewDecisionLog(f)
	}
	s := &webhook.Server{Engine: current.Load, Namespaces: namespaces, Decisions: decisions, Logger: logger,
		Metrics: webhook.NewMetrics(), Timeout: o.timeout, FailClosed: o.failClosed, Ready: ready}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", o.listen, err)
	}
	srv := &http.Server{Handler: s.Handler(), TLSConfig: tlsConfig, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 15 * time.Second, IdleTimeout: 90 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	logger.Info("serving admission webhooks", slog.String("address", ln.Addr().String()))
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }() // ends when Shutdown is called or the listener fails
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}

// tls returns the server's TLS configuration: files reloaded on change,
// or a certificate of the webhook's own CA (written into its webhook
// configurations in the background until that succeeds).
func (o *webhookServeOptions) tls(ctx context.Context, cs kubernetes.Interface, logger *slog.Logger) (*tls.Config, error) {
	if !o.selfSigned {
		r, err := webhook.NewCertReloader(o.certFile, o.keyFile, o.reload)
		if err != nil {
			return nil, err
		}
		return &tls.Config{GetCertificate: r.GetCertificate, MinVersion: tls.VersionTLS12}, nil
	}
	var (
		ca  *webhook.CA
		err error
	)
	if o.caSecret != "" {
		ca, err = webhook.SharedCA(ctx, cs, o.namespace, o.caSecret, 10*365*24*time.Hour)
	} else {
		ca, err = webhook.NewCA("kubeshield-webhook-ca", 10*365*24*time.Hour)
	}
	if err != nil {
		return nil, err
	}
	names := []string{o.service + "." + o.namespace + ".svc", o.service + "." + o.namespace + ".svc.cluster.local", o.service}
	certPEM, keyPEM, err := ca.Issue(names, nil, 365*24*time.Hour)
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	if len(o.configurations) > 0 {
		go func() { // ends when the caBundle is written or ctx ends
			for {
				err := webhook.InjectCABundle(ctx, cs, o.configurations, o.configurations, ca.Cert)
				if err == nil {
					logger.Info("caBundle written", slog.Any("configurations", o.configurations))
					return
				}
				logger.Warn("caBundle not written yet; retrying", slog.Any("error", err))
				select {
				case <-ctx.Done():
					return
				case <-time.After(10 * time.Second):
				}
			}
		}()
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

// watchFile calls changed whenever the file's size or modification time
// (or, behind a symlink such as a ConfigMap volume's, its target) changes,
// checking every interval until ctx ends.
func watchFile(ctx context.Context, name string, interval time.Duration, changed func()) {
	stamp := func() string {
		fi, err := os.Stat(name)
		if err != nil {
			return "missing"
		}
		return fmt.Sprintf("%d:%d", fi.Size(), fi.ModTime().UnixNano())
	}
	last := stamp()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if s := stamp(); s != last {
				last = s
				changed()
			}
		}
	}
}

// webhookInstallOptions are the flags of `kubeshield webhook install`.
type webhookInstallOptions struct {
	o            webhook.InstallOptions
	validatingFP string
	mutatingFP   string
	apply        bool
	kubeconfig   string
	context      string
}

func newWebhookInstallCommand(g *globalOptions) *cobra.Command {
	o := webhookInstallOptions{o: webhook.DefaultInstallOptions()}
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Print (or apply) the manifests that run the webhook in a cluster",
		Long: `Print the Namespace, ServiceAccount, least-privilege RBAC, policy ConfigMap,
Deployment (replicas, PodDisruptionBudget, anti-affinity, restricted
security context), Service and the validating and mutating webhook
configurations (short timeouts, a failure policy each, Kubeshield's
namespace and kube-system excluded, node requests skipped), as YAML for
kubectl apply -f -. --apply creates them with the kubeconfig instead (and
updates the ones that exist).`,
		Example: `  kubeshield webhook install --image registry.example.com/kubeshield@sha256:... | kubectl apply -f -
  kubeshield webhook install --validating-failure-policy Ignore --exclude-namespace monitoring`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.o.ValidatingFailurePolicy = admissionregistrationv1.FailurePolicyType(o.validatingFP)
			o.o.MutatingFailurePolicy = admissionregistrationv1.FailurePolicyType(o.mutatingFP)
			objs, err := webhook.Manifests(o.o)
			if err != nil {
				return &UsageError{Err: err}
			}
			if !o.apply {
				y, err := webhook.YAML(objs)
				if err != nil {
					return err
				}
				_, err = io.Copy(g.stdout, bytes.NewReader(y))
				return err
			}
			cfg, _, err := cluster.RESTConfig(o.kubeconfig, o.context)
			if err != nil {
				return err
			}
			cs, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				return err
			}
			applied, err := webhook.Apply(cmd.Context(), cs, objs)
			for _, a := range applied {
				fmt.Fprintln(g.stdout, a)
			}
			if err != nil {
				return errors.Join(errors.New("install: some objects were not applied"), err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.o.Namespace, "namespace", "n", o.o.Namespace, "Kubeshield's namespace")
	f.StringVar(&o.o.Name, "name", o.o.Name, "prefix of every object's name")
	f.StringVar(&o.o.Image, "image", o.o.Image, "Kubeshield image (pin it by digest)")
	f.Int32Var(&o.o.Replicas, "replicas", o.o.Replicas, "webhook replicas")
	f.Int32Var(&o.o.TimeoutSeconds, "timeout-seconds", o.o.TimeoutSeconds, "webhook timeout (1 to 30)")
	f.StringVar(&o.validatingFP, "validating-failure-policy", string(o.o.ValidatingFailurePolicy), "Fail (deny when the webhook is down) or Ignore")
	f.StringVar(&o.mutatingFP, "mutating-failure-policy", string(o.o.MutatingFailurePolicy), "Fail or Ignore (the validating webhook still checks)")
	f.StringArrayVar(&o.o.ExcludedNamespaces, "exclude-namespace", nil, "namespace never sent to the webhooks (repeatable; Kubeshield's own and kube-system always are)")
	f.BoolVar(&o.apply, "apply", false, "create or update the objects in the cluster instead of printing them")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig (with --apply)")
	f.StringVar(&o.context, "context", "", "kubeconfig context (with --apply)")
	return cmd
}
