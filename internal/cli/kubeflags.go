package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"

	"github.com/kubeshield/kubeshield/internal/cluster"
)

// kubeFlags are the flags of every command that reads a cluster: either
// manifests (-f) or a live API server through a kubeconfig, as kubectl
// reads them.
type kubeFlags struct {
	files      []string
	kubeconfig string
	context    string
	namespace  string
}

func (o *kubeFlags) addFlags(f *pflag.FlagSet) {
	f.StringArrayVarP(&o.files, "filename", "f", nil, "manifests to read instead of a live cluster: files, directories (recursive) or - for stdin (repeatable)")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG, else ~/.kube/config, else in-cluster)")
	f.StringVar(&o.context, "context", "", "kubeconfig context (default: the current one)")
	f.StringVarP(&o.namespace, "namespace", "n", "", "namespace (default: the kubeconfig context's; with -f, the namespace of objects that name none)")
}

// live reports whether the cluster is read from an API server.
func (o *kubeFlags) live() bool { return len(o.files) == 0 }

// load returns the snapshot of kinds (all namespaces) and the namespace
// the command works in: --namespace, else the context's (live) or
// "default" (files).
func (o *kubeFlags) load(ctx context.Context, g *globalOptions, stdin io.Reader, kinds []cluster.Kind) (*cluster.Snapshot, string, error) {
	if !o.live() {
		if o.kubeconfig != "" || o.context != "" {
			return nil, "", usageErrorf("-f reads manifests: --kubeconfig and --context are for a live cluster")
		}
		ns := o.namespace
		if ns == "" {
			ns = "default"
		}
		snap, err := cluster.LoadFiles(ctx, o.files, cluster.FileOptions{Stdin: stdin, Namespace: ns})
		if err != nil {
			return nil, "", err
		}
		g.logger.Debug("loaded manifests", slog.Int("files", len(o.files)))
		return snap, ns, nil
	}
	cfg, ns, err := cluster.RESTConfig(o.kubeconfig, o.context)
	if err != nil {
		return nil, "", err
	}
	if o.namespace != "" {
		ns = o.namespace
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("kubernetes client: %w", err)
	}
	snap, err := cluster.LoadLive(ctx, cs, cluster.LiveOptions{Kinds: kinds})
	if err != nil {
		return nil, "", err
	}
	g.logger.Debug("loaded cluster", slog.String("server", cfg.Host))
	return snap, ns, nil
}
