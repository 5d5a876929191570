package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kubeshield/kubeshield/internal/admission"
	"github.com/kubeshield/kubeshield/internal/cluster"
	"github.com/kubeshield/kubeshield/internal/podsecurity"
)

func newAdmissionCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admission",
		Short: "Evaluate admission policies on manifests or on what runs in a cluster",
	}
	cmd.AddCommand(newAdmissionTestCommand(g), newAdmissionAuditCommand(g))
	return cmd
}

// admissionFlags are the flags admission test and audit share.
type admissionFlags struct {
	config      string
	podSecurity string
	as          string
}

func (o *admissionFlags) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.config, "config", "", "admission configuration file (kind AdmissionConfig; see docs/admission.md)")
	f.StringVar(&o.podSecurity, "pod-security", "", "without --config: evaluate the Pod Security Standards alone at LEVEL[:VERSION] (privileged, baseline, restricted; VERSION latest or v1.X)")
	f.StringVar(&o.as, "as", "kubeshield", "the user the requests come from")
}

// engine builds the policy engine the flags describe, with namespace
// labels from snap.
func (o *admissionFlags) engine(ctx context.Context, snap *cluster.Snapshot) (*admission.Engine, error) {
	var (
		cfg *admission.Config
		dir string
	)
	switch {
	case o.config != "" && o.podSecurity != "":
		return nil, usageErrorf("--config and --pod-security: give one (put podSecurity in the configuration)")
	case o.config != "":
		data, err := readLimited(o.config, admission.MaxConfigSize)
		if err != nil {
			return nil, fmt.Errorf("read admission configuration: %w", err)
		}
		if cfg, err = admission.ParseConfig(data); err != nil {
			return nil, fmt.Errorf("%s: %w", o.config, err)
		}
		dir = filepath.Dir(o.config)
	case o.podSecurity != "":
		if _, err := podsecurity.ParseLevelVersion(o.podSecurity); err != nil {
			return nil, &UsageError{Err: fmt.Errorf("--pod-security: %w", err)}
		}
		cfg = &admission.Config{PodSecurity: &admission.PodSecurityConfig{Enforce: o.podSecurity}}
	default:
		return nil, usageErrorf("give --config FILE or --pod-security LEVEL[:VERSION]")
	}
	bindings, err := cfg.Bindings(ctx, admission.BuildEnv{Dir: dir})
	if err != nil {
		return nil, err
	}
	labels := map[string]map[string]string{}
	for _, ns := range snap.Namespaces {
		labels[ns.Name] = ns.Labels
	}
	return admission.NewEngine(nil, admission.NamespaceLabelsFunc(func(_ context.Context, ns string) (map[string]string, error) {
		return labels[ns], nil
	}), bindings...)
}

// decide builds the engine, evaluates every object of snap and prints the
// decisions (a *FindingsError when any is denied).
func (o *admissionFlags) decide(ctx context.Context, g *globalOptions, snap *cluster.Snapshot, all bool) error {
	e, err := o.engine(ctx, snap)
	if err != nil {
		return err
	}
	ds, err := o.evaluate(ctx, e, snap)
	if err != nil {
		return err
	}
	return writeDecisions(g, ds, all)
}

// objectDecision is one object's decision, for -o json|yaml.
type objectDecision struct {
	Kind      string            `json:"kind"`
	Namespace string            `json:"namespace,omitempty"`
	Name      string            `json:"name"`
	Source    string            `json:"source,omitempty"`
	Allowed   bool              `json:"allowed"`
	Message   string            `json:"message,omitempty"`
	Warnings  []string          `json:"warnings,omitempty"`
	Audit     map[string]string `json:"auditAnnotations,omitempty"`
	Patch     []any             `json:"patch,omitempty"`
}

// evaluate decides the creation of every object of snap.
func (o *admissionFlags) evaluate(ctx context.Context, e *admission.Engine, snap *cluster.Snapshot) ([]objectDecision, error) {
	objs, err := snap.Objects()
	if err != nil {
		return nil, err
	}
	var out []objectDecision
	for i, obj := range objs {
		ar := &admissionv1.AdmissionRequest{
			UID:       types.UID(fmt.Sprintf("kubeshield-%d", i+1)),
			Kind:      metav1.GroupVersionKind{Group: obj.Kind.Group, Version: obj.Kind.Version, Kind: obj.Kind.Kind},
			Resource:  metav1.GroupVersionResource{Group: obj.Kind.Group, Version: obj.Kind.Version, Resource: obj.Resource},
			Namespace: obj.Namespace, Name: obj.Name, Operation: admissionv1.Create,
			UserInfo: authenticationv1.UserInfo{Username: o.as},
			Object:   runtime.RawExtension{Raw: obj.Raw},
		}
		d := e.Admit(ctx, ar)
		od := objectDecision{Kind: obj.Kind.Kind, Namespace: obj.Namespace, Name: obj.Name, Allowed: d.Allowed,
			Message: d.Message, Warnings: d.Warnings, Audit: d.AuditAnnotations}
		if obj.Source.File != "" {
			od.Source = obj.Source.String()
		}
		for _, p := range d.Patch {
			od.Patch = append(od.Patch, p)
		}
		out = append(out, od)
	}
	return out, nil
}

// writeDecisions prints the decisions and returns a *FindingsError when
// any object is denied.
func writeDecisions(g *globalOptions, ds []objectDecision, verbose bool) error {
	denied := 0
	for _, d := range ds {
		if !d.Allowed {
			denied++
		}
	}
	if g.output != "table" {
		if ds == nil {
			ds = []objectDecision{}
		}
		if err := writeData(g.stdout, g.output, ds); err != nil {
			return err
		}
	} else if err := writeDecisionTable(g.stdout, ds, verbose); err != nil {
		return err
	}
	if denied > 0 {
		return &FindingsError{Count: denied, Code: ExitFindings}
	}
	return nil
}

func writeDecisionTable(w io.Writer, ds []objectDecision, verbose bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESULT\tKIND\tOBJECT\tSOURCE")
	var notes []string
	warned := 0
	for _, d := range ds {
		result := "admitted"
		switch {
		case !d.Allowed:
			result = "DENIED"
		case len(d.Warnings) > 0:
			result = "warned"
			warned++
		case !verbose:
			continue
		}
		obj := d.Name
		if d.Namespace != "" {
			obj = d.Namespace + "/" + d.Name
		}
		src := d.Source
		if src == "" {
			src = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", result, d.Kind, obj, src)
		if d.Message != "" {
			notes = append(notes, fmt.Sprintf("%s %s: %s", d.Kind, obj, d.Message))
		}
		for _, warning := range d.Warnings {
			notes = append(notes, fmt.Sprintf("%s %s: warning: %s", d.Kind, obj, warning))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(notes) > 0 {
		fmt.Fprintf(w, "\n%s\n", strings.Join(notes, "\n"))
	}
	denied := 0
	for _, d := range ds {
		if !d.Allowed {
			denied++
		}
	}
	_, err := fmt.Fprintf(w, "\n%d objects: %d denied, %d admitted with warnings, %d admitted\n", len(ds), denied, warned, len(ds)-denied-warned)
	return err
}

// admissionTestOptions are the flags of `kubeshield admission test`.
type admissionTestOptions struct {
	admissionFlags
	files     []string
	namespace string
	all       bool
}

func newAdmissionTestCommand(g *globalOptions) *cobra.Command {
	var o admissionTestOptions
	cmd := &cobra.Command{
		Use:   "test -f PATH...",
		Short: "Evaluate admission policies on manifests, as the webhook would (-o table|json|yaml)",
		Long: `Evaluate the admission policies of --config (or, with --pod-security, the
Pod Security Standards alone) on manifests, as the webhook would decide
their creation: files, directories, multi-document YAML, JSON and
kubectl get -o yaml lists. Namespaces in the manifests give their
pod-security.kubernetes.io labels; objects without a namespace go to -n.
Workloads are judged by their pod templates.

Prints the denied and warned objects (--all: every object) with the
reasons; -o json|yaml gives each object's decision, warnings and patches.
Exits 0 when everything is admitted, 3 when anything is denied.`,
		Example: `  kubeshield admission test -f manifests/ --pod-security restricted:v1.30
  kubeshield admission test -f deploy.yaml --config admission.yaml -o json
  helm template ./chart | kubeshield admission test -f - --pod-security baseline`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkOutput("table", "json", "yaml"); err != nil {
				return err
			}
			if len(o.files) == 0 {
				return usageErrorf("-f is required: the manifests to evaluate")
			}
			ctx := cmd.Context()
			ns := o.namespace
			if ns == "" {
				ns = "default"
			}
			snap, err := cluster.LoadFiles(ctx, o.files, cluster.FileOptions{Stdin: cmd.InOrStdin(), Namespace: ns})
			if err != nil {
				return err
			}
			return o.decide(ctx, g, snap, o.all)
		},
	}
	o.addFlags(cmd)
	cmd.Flags().StringArrayVarP(&o.files, "filename", "f", nil, "manifests: files, directories (recursive) or - for stdin (repeatable)")
	cmd.Flags().StringVarP(&o.namespace, "namespace", "n", "", "namespace of objects that name none (default \"default\")")
	cmd.Flags().BoolVar(&o.all, "all", false, "list admitted objects too")
	return cmd
}

// admissionAuditOptions are the flags of `kubeshield admission audit`.
type admissionAuditOptions struct {
	admissionFlags
	kube kubeFlags
	all  bool
}

func newAdmissionAuditCommand(g *globalOptions) *cobra.Command {
	var o admissionAuditOptions
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Evaluate admission policies on everything that runs in a cluster (-o table|json|yaml)",
		Long: `List the pods and workloads (and namespaces) of a live cluster and evaluate
the admission policies on each as if it were created now: what the webhook
would deny if it were enforced today. Needs list on namespaces, pods and
the workload kinds. Exits 3 when anything would be denied.`,
		Example: `  kubeshield admission audit --pod-security restricted
  kubeshield admission audit --config admission.yaml --context prod -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkOutput("table", "json", "yaml"); err != nil {
				return err
			}
			if !o.kube.live() {
				return usageErrorf("admission audit reads a live cluster; use admission test -f for manifests")
			}
			ctx := cmd.Context()
			kinds := []cluster.Kind{cluster.KindNamespace, cluster.KindPod, cluster.KindDeployment, cluster.KindReplicaSet,
				cluster.KindStatefulSet, cluster.KindDaemonSet, cluster.KindJob, cluster.KindCronJob, cluster.KindReplicationController}
			snap, _, err := o.kube.load(ctx, g, nil, kinds)
			if err != nil {
				return err
			}
			return o.decide(ctx, g, snap, o.all)
		},
	}
	o.addFlags(cmd)
	o.kube.addFlags(cmd.Flags())
	cmd.Flags().BoolVar(&o.all, "all", false, "list admitted objects too")
	return cmd
}
