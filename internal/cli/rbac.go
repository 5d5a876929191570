package cli

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubeshield/kubeshield/internal/cluster"
	"github.com/kubeshield/kubeshield/internal/rbac"
)

func newRBACCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rbac",
		Short: "Analyse RBAC: who can do what, where; risky grants; escalation paths",
		Long: `Analyse a cluster's RBAC exactly as the API server's authorizer decides:
Roles, ClusterRoles (with aggregation), RoleBindings and ClusterRoleBindings,
read from a live cluster (kubeconfig, as kubectl) or from manifests (-f).`,
	}
	cmd.AddCommand(newCanICommand(g), newWhoCanCommand(g), newMatrixCommand(g), newRisksCommand(g), newPathsCommand(g), newCheckCommand(g))
	return cmd
}

// rbacFlags are the flags of every rbac command.
type rbacFlags struct {
	kube kubeFlags
}

// authorizer loads the RBAC objects and builds the authorizer.
func (o *rbacFlags) authorizer(cmd *cobra.Command, g *globalOptions) (*rbac.Authorizer, *cluster.Snapshot, string, error) {
	snap, ns, err := o.kube.load(cmd.Context(), g, cmd.InOrStdin(), cluster.RBACKinds())
	if err != nil {
		return nil, nil, "", err
	}
	return rbac.New(snap), snap, ns, nil
}

// request builds a Request from VERB RESOURCE [NAME] arguments: RESOURCE
// as kubectl writes it, or a non-resource URL starting with "/".
func request(args []string, subresource, namespace string) (rbac.Request, error) {
	r := rbac.Request{Verb: args[0]}
	if strings.HasPrefix(args[1], "/") {
		if len(args) > 2 || subresource != "" {
			return r, usageErrorf("a non-resource URL takes no NAME and no --subresource")
		}
		r.NonResource, r.Path = true, args[1]
		return r, nil
	}
	group, resource, sub, err := rbac.ParseResource(args[1])
	if err != nil {
		return r, &UsageError{Err: err}
	}
	if sub != "" && subresource != "" && sub != subresource {
		return r, usageErrorf("subresource %q in %q and --subresource %q differ", sub, args[1], subresource)
	}
	if sub == "" {
		sub = subresource
	}
	r.APIGroup, r.Resource, r.Subresource, r.Namespace = group, resource, sub, namespace
	if len(args) > 2 {
		r.Name = args[2]
	}
	return r, nil
}

// writeData writes v as JSON or YAML, for -o json|yaml.
func writeData(w io.Writer, format string, v any) error {
	if format == "yaml" {
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// canIOptions are the flags of `kubeshield rbac can-i`.
type canIOptions struct {
	rbacFlags
	as            string
	asGroups      []string
	subresource   string
	allNamespaces bool
	list          bool
}

// grantJSON is a Grant for -o json|yaml.
type grantJSON struct {
	Binding        string            `json:"binding"`
	Role           string            `json:"role"`
	Subject        rbacv1.Subject    `json:"subject"`
	Rule           rbacv1.PolicyRule `json:"rule"`
	AggregatedFrom string            `json:"aggregatedFrom,omitempty"`
	Source         string            `json:"source,omitempty"`
	Explanation    string            `json:"explanation"`
}

// brokenStrings explains each broken binding in one line.
func brokenStrings(bs []rbac.BrokenBinding) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.String())
	}
	return out
}

func toGrantJSON(gr rbac.Grant, snap *cluster.Snapshot) grantJSON {
	j := grantJSON{Binding: gr.Binding.String(), Role: gr.Role.String(), Subject: gr.Subject, Rule: gr.Rule,
		AggregatedFrom: gr.AggregatedFrom, Explanation: gr.String()}
	if src, ok := snap.Source(cluster.Kind(gr.Binding.Kind), gr.Binding.Namespace, gr.Binding.Name); ok && src.File != "" {
		j.Source = src.String()
	}
	return j
}

func newCanICommand(g *globalOptions) *cobra.Command {
	var o canIOptions
	cmd := &cobra.Command{
		Use:   "can-i VERB RESOURCE [NAME]",
		Short: "Say whether a user may do something, as kubectl auth can-i --as does (-o table|json|yaml)",
		Long: `Answer whether USER (--as) with exactly the groups given (--as-group; no
implicit system:authenticated, as in a SubjectAccessReview) may do VERB on
RESOURCE [NAME] in the namespace, exactly as the API server's RBAC
authorizer decides. Prints yes or no and exits 0 or 1, like kubectl auth
can-i. RESOURCE is written as kubectl writes it: pods, po,
deployments.apps, pods/exec; a path starting with / is a non-resource URL.
A service account is the user system:serviceaccount:NAMESPACE:NAME.

-o json|yaml adds the binding, role and rule that allow it. --list prints
every rule that applies to the user in the namespace instead.`,
		Example: `  kubeshield rbac can-i create pods --as jane -n shop
  kubeshield rbac can-i get pods/exec --as system:serviceaccount:ci:deployer --as-group system:serviceaccounts -n prod
  kubeshield rbac can-i get /metrics --as prometheus
  kubeshield rbac can-i --list --as jane --as-group dev -n shop -f manifests/`,
		Args: func(cmd *cobra.Command, args []string) error {
			if o.list {
				return cobra.NoArgs(cmd, args)
			}
			return cobra.RangeArgs(2, 3)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, g, args) },
	}
	o.kube.addFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&o.as, "as", "", "the user to ask for (required)")
	f.StringArrayVar(&o.asGroups, "as-group", nil, "a group of the user (repeatable); the user has exactly these")
	f.StringVar(&o.subresource, "subresource", "", "subresource, such as log or exec")
	f.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "ask about all namespaces (cluster-wide grants only)")
	f.BoolVar(&o.list, "list", false, "list everything the user may do in the namespace")
	return cmd
}

func (o *canIOptions) run(cmd *cobra.Command, g *globalOptions, args []string) error {
	if err := g.checkOutput("table", "json", "yaml"); err != nil {
		return err
	}
	if o.as == "" {
		return usageErrorf("--as is required: the user to ask for")
	}
	a, snap, ns, err := o.authorizer(cmd, g)
	if err != nil {
		return err
	}
	if o.allNamespaces {
		ns = ""
	}
	if o.list {
		return o.runList(g, a, snap, ns)
	}
	r, err := request(args, o.subresource, ns)
	if err != nil {
		return err
	}
	r.User, r.Groups = o.as, o.asGroups
	d := a.Allowed(r)
	if g.output != "table" {
		out := struct {
			Allowed bool       `json:"allowed"`
			Reason  string     `json:"reason"`
			Grant   *grantJSON `json:"grant,omitempty"`
			Broken  []string   `json:"brokenBindings,omitempty"`
		}{Allowed: d.Allowed, Reason: d.Reason(), Broken: brokenStrings(d.Broken)}
		if d.Allowed {
			gj := toGrantJSON(d.Grant, snap)
			out.Grant = &gj
		}
		if err := writeData(g.stdout, g.output, out); err != nil {
			return err
		}
	} else {
		answer := "no"
		if d.Allowed {
			answer = "yes"
		}
		if _, err := fmt.Fprintln(g.stdout, answer); err != nil {
			return err
		}
		g.logger.Debug("decision", "reason", d.Reason())
	}
	if !d.Allowed {
		return &DeniedError{Reason: d.Reason()}
	}
	return nil
}

// runList prints the rules that apply, as kubectl auth can-i --list does.
func (o *canIOptions) runList(g *globalOptions, a *rbac.Authorizer, snap *cluster.Snapshot, ns string) error {
	rs := a.Rules(o.as, o.asGroups, ns)
	if g.output != "table" {
		var grants []grantJSON
		for _, gr := range rs.Grants {
			grants = append(grants, toGrantJSON(gr, snap))
		}
		return writeData(g.stdout, g.output, struct {
			Namespace        string      `json:"namespace"`
			ResourceRules    any         `json:"resourceRules"`
			NonResourceRules any         `json:"nonResourceRules"`
			Grants           []grantJSON `json:"grants"`
			BrokenBindings   []string    `json:"brokenBindings,omitempty"`
		}{ns, rs.Resource, rs.NonResource, grants, brokenStrings(rs.Broken)})
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "Resources\tNon-Resource URLs\tResource Names\tVerbs")
	type row struct{ res, urls, names, verbs string }
	var rows []row
	for _, r := range rs.Resource {
		for _, res := range r.Resources {
			for _, grp := range r.APIGroups {
				name := res
				if grp != "" {
					name += "." + grp
				}
				rows = append(rows, row{name, "[]", list(r.ResourceNames), list(r.Verbs)})
			}
		}
	}
	for _, r := range rs.NonResource {
		rows = append(rows, row{"", list(r.NonResourceURLs), "[]", list(r.Verbs)})
	}
	slices.SortStableFunc(rows, func(a, b row) int {
		return cmp.Or(cmp.Compare(a.res, b.res), cmp.Compare(a.urls, b.urls), cmp.Compare(a.names, b.names))
	})
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.res, r.urls, r.names, r.verbs)
	}
	return tw.Flush()
}

func list(s []string) string { return "[" + strings.Join(s, " ") + "]" }

// whoCanOptions are the flags of `kubeshield rbac who-can`.
type whoCanOptions struct {
	rbacFlags
	subresource   string
	allNamespaces bool
}

func newWhoCanCommand(g *globalOptions) *cobra.Command {
	var o whoCanOptions
	cmd := &cobra.Command{
		Use:   "who-can VERB RESOURCE [NAME]",
		Short: "List every subject that may do something, with the binding and role that grant it (-o table|json|yaml)",
		Long: `List every user, group and service account that a binding lets do VERB on
RESOURCE [NAME] in the namespace (ClusterRoleBindings and the namespace's
RoleBindings), with the binding, the role and the rule that grant it.
Groups are not expanded: a grant to system:serviceaccounts:NS stands for
every service account of NS, one to system:authenticated for every
authenticated user. RESOURCE is written as kubectl writes it; a path
starting with / is a non-resource URL.`,
		Example: `  kubeshield rbac who-can get secrets -n prod
  kubeshield rbac who-can create pods/exec -n shop -f manifests/
  kubeshield rbac who-can '*' '*' -A`,
		Args: cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, g, args) },
	}
	o.kube.addFlags(cmd.Flags())
	cmd.Flags().StringVar(&o.subresource, "subresource", "", "subresource, such as log or exec")
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "cluster-wide grants only (ClusterRoleBindings)")
	return cmd
}

func (o *whoCanOptions) run(cmd *cobra.Command, g *globalOptions, args []string) error {
	if err := g.checkOutput("table", "json", "yaml"); err != nil {
		return err
	}
	a, snap, ns, err := o.authorizer(cmd, g)
	if err != nil {
		return err
	}
	if o.allNamespaces {
		ns = ""
	}
	r, err := request(args, o.subresource, ns)
	if err != nil {
		return err
	}
	grants := a.WhoCan(r)
	if g.output != "table" {
		out := make([]grantJSON, 0, len(grants))
		for _, gr := range grants {
			out = append(out, toGrantJSON(gr, snap))
		}
		return writeData(g.stdout, g.output, out)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tSUBJECT\tNAMESPACE\tBINDING\tROLE")
	for _, gr := range grants {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", gr.Subject.Kind, gr.Subject.Name, gr.Subject.Namespace, gr.Binding, gr.Role)
	}
	return tw.Flush()
}

// matrixVerbs are the columns of `rbac matrix`, as rakkess has them.
var matrixVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}

// matrixOptions are the flags of `kubeshield rbac matrix`.
type matrixOptions struct {
	rbacFlags
	subject       string
	groups        []string
	allNamespaces bool
	verbs         []string
}

func newMatrixCommand(g *globalOptions) *cobra.Command {
	var o matrixOptions
	cmd := &cobra.Command{
		Use:   "matrix --subject USER",
		Short: "Show a subject's access matrix, resources by verbs, like rakkess (-o table|json|yaml)",
		Long: `Show what a subject may do to each resource in the namespace: one row per
resource (the built-in ones and any resource the cluster's roles name), one
column per verb, each cell yes or no as the RBAC authorizer decides for
the whole collection (no resource name). --subject is a user name, or
system:serviceaccount:NS:NAME for a service account (who then also gets
the groups system:serviceaccounts, system:serviceaccounts:NS and
system:authenticated, as a real token has them); --group adds groups.`,
		Example: `  kubeshield rbac matrix --subject jane --group dev -n shop
  kubeshield rbac matrix --subject system:serviceaccount:ci:deployer -n prod -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, g) },
	}
	o.kube.addFlags(cmd.Flags())
	cmd.Flags().StringVar(&o.subject, "subject", "", "user, or system:serviceaccount:NS:NAME (required)")
	cmd.Flags().StringArrayVar(&o.groups, "group", nil, "a group of the subject (repeatable)")
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "cluster-wide grants only")
	cmd.Flags().StringSliceVar(&o.verbs, "verbs", matrixVerbs, "the verbs (columns)")
	return cmd
}

// matrixRow is one resource of the matrix.
type matrixRow struct {
	Resource string          `json:"resource"`
	Verbs    map[string]bool `json:"verbs"`
}

func (o *matrixOptions) run(cmd *cobra.Command, g *globalOptions) error {
	if err := g.checkOutput("table", "json", "yaml"); err != nil {
		return err
	}
	if o.subject == "" {
		return usageErrorf("--subject is required")
	}
	a, snap, ns, err := o.authorizer(cmd, g)
	if err != nil {
		return err
	}
	if o.allNamespaces {
		ns = ""
	}
	groups := slices.Clone(o.groups)
	if ns, name, ok := rbac.ParseServiceAccountUser(o.subject); ok {
		// The groups a real token has.
		id := rbac.SubjectIdentity(rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name})
		groups = append(groups, id.Groups...)
	}
	var rows []matrixRow
	for _, res := range matrixResources(snap, ns == "") {
		row := matrixRow{Resource: res.String(), Verbs: map[string]bool{}}
		for _, v := range o.verbs {
			d := a.Allowed(rbac.Request{User: o.subject, Groups: groups, Verb: v, APIGroup: res.Group, Resource: res.Resource, Namespace: ns})
			row.Verbs[v] = d.Allowed
		}
		rows = append(rows, row)
	}
	if g.output != "table" {
		return writeData(g.stdout, g.output, struct {
			Subject   string      `json:"subject"`
			Groups    []string    `json:"groups"`
			Namespace string      `json:"namespace"`
			Matrix    []matrixRow `json:"matrix"`
		}{o.subject, groups, ns, rows})
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "NAME\t%s\n", strings.ToUpper(strings.Join(o.verbs, "\t")))
	for _, r := range rows {
		cells := make([]string, len(o.verbs))
		for i, v := range o.verbs {
			cells[i] = "no"
			if r.Verbs[v] {
				cells[i] = "yes"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\n", r.Resource, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// matrixResources returns the built-in resources (namespaced ones unless
// clusterWide) and the resources the snapshot's rules name that are not
// built in (custom resources), sorted.
func matrixResources(snap *cluster.Snapshot, clusterWide bool) []rbac.APIResource {
	seen := map[string]bool{}
	builtin := map[string]bool{}
	var out []rbac.APIResource
	for _, r := range rbac.BuiltinResources() {
		builtin[r.Resource] = true
		if r.Namespaced || clusterWide {
			seen[r.String()] = true
			out = append(out, r)
		}
	}
	addRules := func(rules []rbacv1.PolicyRule) {
		for _, rule := range rules {
			for _, grp := range rule.APIGroups {
				for _, res := range rule.Resources {
					r := rbac.APIResource{Group: grp, Resource: res}
					if grp == "*" || res == "*" || strings.Contains(res, "/") || builtin[res] || seen[r.String()] {
						continue
					}
					seen[r.String()] = true
					out = append(out, r)
				}
			}
		}
	}
	for _, r := range snap.ClusterRoles {
		addRules(r.Rules)
	}
	for _, r := range snap.Roles {
		addRules(r.Rules)
	}
	slices.SortFunc(out, func(a, b rbac.APIResource) int { return cmp.Compare(a.String(), b.String()) })
	return out
}
