package cli

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubeshield/kubeshield/internal/finding"
	"github.com/kubeshield/kubeshield/internal/rbac"
	"github.com/kubeshield/kubeshield/internal/report"
)

// clusterSubject names what a cluster command read, for reports.
func (o *kubeFlags) subject() report.Subject {
	if !o.live() {
		return report.Subject{Kind: report.KindCluster, Name: strings.Join(o.files, ",")}
	}
	name := "kubeconfig"
	if o.context != "" {
		name += ":" + o.context
	}
	return report.Subject{Kind: report.KindCluster, Name: name}
}

// writeFindings writes cluster findings as -o asks: a table, Kubeshield's
// scan JSON (or the same as YAML), or SARIF.
func writeFindings(g *globalOptions, sub report.Subject, fs []finding.Finding) error {
	s := report.Scan{Subject: sub, Findings: fs, Tool: report.Tool{Name: "kubeshield", Version: version}}
	switch g.output {
	case "json":
		return report.WriteScanJSON(g.stdout, s)
	case "yaml":
		var buf bytes.Buffer
		if err := report.WriteScanJSON(&buf, s); err != nil {
			return err
		}
		b, err := yaml.JSONToYAML(buf.Bytes())
		if err != nil {
			return err
		}
		_, err = g.stdout.Write(b)
		return err
	case "sarif":
		return report.WriteSARIF(g.stdout, s)
	}
	return writeFindingsTable(g.stdout, fs)
}

// writeFindingsTable writes one numbered row per finding (severity,
// rule, the resource, title), then the evidence of each by number, then a
// summary line.
func writeFindingsTable(w io.Writer, fs []finding.Finding) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tSEVERITY\tID\tRESOURCE\tTITLE")
	counts := map[finding.Severity]int{}
	for i, f := range fs {
		counts[f.Severity]++
		res := f.Resource.Kind + " " + f.Resource.Name
		if f.Resource.Namespace != "" {
			res = f.Resource.Kind + " " + f.Resource.Namespace + "/" + f.Resource.Name
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", i+1, f.Severity, f.RuleID, res, f.Title)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(fs) > 0 {
		fmt.Fprintln(w, "\nEvidence:")
	}
	for i, f := range fs {
		if f.Evidence != "" {
			fmt.Fprintf(w, "%d. %s\n", i+1, f.Evidence)
		}
	}
	var parts []string
	for s := finding.Critical; s >= finding.Info; s-- {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], strings.ToLower(s.String())))
		}
	}
	if len(parts) == 0 {
		parts = []string{"none"}
	}
	_, err := fmt.Fprintf(w, "\n%d findings: %s\n", len(fs), strings.Join(parts, ", "))
	return err
}

// risksOptions are the flags of `kubeshield rbac risks`.
type risksOptions struct {
	rbacFlags
	includeSystem bool
	allNamespaces bool
	failOn        string
}

func newRisksCommand(g *globalOptions) *cobra.Command {
	var o risksOptions
	cmd := &cobra.Command{
		Use:   "risks",
		Short: "Report risky RBAC grants as findings (-o table|json|yaml|sarif)",
		Long: `Report the grants attackers use, one finding per rule, binding and subject,
with the exact role rules as evidence (and their file:line from manifests):
full access, wildcards, secret reads, pod and workload creation, exec and
attach, service account tokens, bind/escalate/impersonate, nodes/proxy, CSR
approval and signing, admission webhook writes, PersistentVolume creation,
grants to anonymous, unauthenticated or all authenticated users, default
service accounts, bindings to missing subjects and roles. The rules are
KS-RBAC-001 to 019 in docs/rules.md.

The API server's own bootstrap grants and system components (system:*
users and groups, kube-system service accounts) are left out unless
--include-system. Without -A, only the namespace's RoleBindings and every
ClusterRoleBinding are looked at; -A looks at every namespace.

Exits 3 when a finding is at or above --fail-on.`,
		Example: `  kubeshield rbac risks -A
  kubeshield rbac risks -f manifests/ -A -o sarif > rbac.sarif
  kubeshield rbac risks -n payments --fail-on HIGH`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkOutput("table", "json", "yaml", "sarif"); err != nil {
				return err
			}
			if err := checkFailOn(o.failOn); err != nil {
				return err
			}
			a, snap, ns, err := o.authorizer(cmd, g)
			if err != nil {
				return err
			}
			if o.allNamespaces {
				ns = ""
			}
			fs := rbac.Risks(a, snap, rbac.RiskOptions{IncludeSystem: o.includeSystem, Namespace: ns})
			if err := writeFindings(g, o.kube.subject(), fs); err != nil {
				return err
			}
			return failOn(o.failOn, fs)
		},
	}
	o.kube.addFlags(cmd.Flags())
	cmd.Flags().BoolVar(&o.includeSystem, "include-system", false, "also report bootstrap grants and system components")
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "every namespace's RoleBindings")
	cmd.Flags().StringVar(&o.failOn, "fail-on", "", "exit 3 when a finding is at or above this severity (LOW, MEDIUM, HIGH, CRITICAL)")
	return cmd
}

// pathsOptions are the flags of `kubeshield rbac paths`.
type pathsOptions struct {
	rbacFlags
	from       string
	fromGroups []string
	to         []string
	maxDepth   int
	maxPaths   int
}

func newPathsCommand(g *globalOptions) *cobra.Command {
	var o pathsOptions
	cmd := &cobra.Command{
		Use:   "paths",
		Short: "Find multi-step privilege escalation paths, shortest first (-o table|json|yaml|dot)",
		Long: `Find how a subject can climb to cluster-admin, to every secret or to the
nodes in several steps, each allowed by RBAC: create a pod that runs as
another service account of the namespace, read its token secret, exec into
its pods, impersonate, bind a role to oneself, escalate a role, use the
kubelet API (nodes/proxy), approve a client certificate... Each step names
the binding, role and rule that allow it, and any assumption RBAC cannot
check. One shortest path per subject and target.

--from is a user (with --from-group for its groups; it also gets
system:authenticated) or a service account as
system:serviceaccount:NS:NAME (with the groups its token has); --from-group
alone means any member of that group. Without --from, every non-system
subject of every binding is a start. --to is cluster-admin (default),
secrets or nodes (repeatable). -o dot writes Graphviz (dot -Tsvg).`,
		Example: `  kubeshield rbac paths --from system:serviceaccount:ci:deployer
  kubeshield rbac paths -f manifests/ --to secrets --to nodes
  kubeshield rbac paths -o dot | dot -Tsvg > paths.svg`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd, g) },
	}
	o.kube.addFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&o.from, "from", "", "the start: a user, or system:serviceaccount:NS:NAME (default: every non-system subject)")
	f.StringArrayVar(&o.fromGroups, "from-group", nil, "a group of the start (repeatable)")
	f.StringArrayVar(&o.to, "to", nil, "target: cluster-admin, secrets or nodes (repeatable; default cluster-admin)")
	f.IntVar(&o.maxDepth, "max-depth", rbac.DefaultPathDepth, "most steps in a path")
	f.IntVar(&o.maxPaths, "max-paths", rbac.DefaultMaxPaths, "most paths reported")
	return cmd
}

func (o *pathsOptions) run(cmd *cobra.Command, g *globalOptions) error {
	if err := g.checkOutput("table", "json", "yaml", "dot"); err != nil {
		return err
	}
	var targets []rbac.Target
	for _, t := range o.to {
		target, err := rbac.ParseTarget(t)
		if err != nil {
			return &UsageError{Err: err}
		}
		targets = append(targets, target)
	}
	if o.maxDepth < 1 || o.maxDepth > 20 || o.maxPaths < 1 {
		return usageErrorf("--max-depth must be 1 to 20 and --max-paths positive")
	}
	var from *rbac.Identity
	switch {
	case strings.HasPrefix(o.from, rbac.ServiceAccountUserPrefix):
		ns, name, ok := rbac.ParseServiceAccountUser(o.from)
		if !ok {
			return usageErrorf("--from %q: a service account is system:serviceaccount:NAMESPACE:NAME", o.from)
		}
		id := rbac.SubjectIdentity(rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name})
		id.Groups = append(id.Groups, o.fromGroups...)
		from = &id
	case o.from != "":
		id := rbac.SubjectIdentity(rbacv1.Subject{Kind: rbacv1.UserKind, Name: o.from})
		id.Groups = append(id.Groups, o.fromGroups...)
		from = &id
	case len(o.fromGroups) > 0:
		id := rbac.Identity{Groups: append(slices.Clone(o.fromGroups), "system:authenticated")}
		from = &id
	}
	a, snap, _, err := o.authorizer(cmd, g)
	if err != nil {
		return err
	}
	paths, truncated := rbac.Paths(a, snap, rbac.PathOptions{From: from, Targets: targets, MaxDepth: o.maxDepth, MaxPaths: o.maxPaths})
	if truncated {
		g.logger.Warn("search limits reached: more paths may exist", "paths", len(paths))
	}
	switch g.output {
	case "dot":
		_, err = io.WriteString(g.stdout, rbac.DOT(paths))
		return err
	case "json", "yaml":
		out := struct {
			Paths     []rbac.Path `json:"paths"`
			Truncated bool        `json:"truncated"`
		}{paths, truncated}
		if out.Paths == nil {
			out.Paths = []rbac.Path{}
		}
		return writeData(g.stdout, g.output, out)
	}
	if len(paths) == 0 {
		_, err = fmt.Fprintln(g.stdout, "no escalation paths found")
		return err
	}
	for i, p := range paths {
		if i > 0 {
			fmt.Fprintln(g.stdout)
		}
		if _, err := fmt.Fprintln(g.stdout, p.String()); err != nil {
			return err
		}
	}
	return nil
}

// checkOptions are the flags of `kubeshield rbac check`.
type checkOptions struct {
	rbacFlags
	policy string
}

func newCheckCommand(g *globalOptions) *cobra.Command {
	var o checkOptions
	cmd := &cobra.Command{
		Use:   "check --policy FILE",
		Short: "Check RBAC against a team access policy, listing each violating grant (-o table|json|yaml|sarif)",
		Long: `Check every grant of the cluster against an access policy (YAML, kind
AccessPolicy, see docs/rbac.md): onlyIn rules say where subjects may have
some verbs (namespaces by name or label selector), onlySubjects rules say
who alone may have them, mustAllow rules say what access must exist. Each
violating grant (binding, subject, role rule, where) or missing access is a
finding (KS-RBAC-100 to 102).

Exits 3 when the policy is violated, 0 when it holds.`,
		Example: `  kubeshield rbac check --policy access-policy.yaml
  kubeshield rbac check --policy examples/rbac/access-policy.yaml -f examples/rbac -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkOutput("table", "json", "yaml", "sarif"); err != nil {
				return err
			}
			if o.policy == "" {
				return usageErrorf("--policy is required")
			}
			data, err := readLimited(o.policy, rbac.MaxPolicySize)
			if err != nil {
				return fmt.Errorf("read access policy: %w", err)
			}
			p, err := rbac.ParsePolicy(data)
			if err != nil {
				return fmt.Errorf("%s: %w", o.policy, err)
			}
			a, snap, _, err := o.authorizer(cmd, g)
			if err != nil {
				return err
			}
			var fs []finding.Finding
			for _, v := range p.Check(a, snap) {
				fs = append(fs, v.Finding(snap))
			}
			if err := writeFindings(g, o.kube.subject(), fs); err != nil {
				return err
			}
			if len(fs) > 0 {
				return &FindingsError{Count: len(fs), Code: ExitFindings}
			}
			return nil
		},
	}
	o.kube.addFlags(cmd.Flags())
	cmd.Flags().StringVar(&o.policy, "policy", "", "access policy file (required)")
	return cmd
}
