// Command rbac measures Kubeshield's RBAC analysis on a generated cluster
// against the API server answering the same questions, in one run.
//
// It starts the test control plane (hack/control-plane.sh builds it),
// creates a seeded cluster of -objects roles and bindings (a tenth of them
// ClusterRoles and ClusterRoleBindings) over -namespaces namespaces, with
// -subjects users, groups and service accounts, then measures:
//
//  1. loading it: cluster.LoadLive and rbac.New;
//  2. who-can for one question (get secrets in one namespace): the median
//     of -runs in-process WhoCan calls, against the API server answering
//     the same question the only way it can, one SubjectAccessReview per
//     subject (8 in flight), and against a loop of `kubectl auth can-i
//     --as` over a sample of subjects (scaled to all of them);
//  3. the full risks report (rbac.Risks), against the SubjectAccessReviews
//     for the same probes (every risky permission, per subject, in every
//     namespace it is bound in);
//  4. escalation paths from one subject (rbac.Paths).
//
// Targets: who-can under 50 ms after load, the risks report under 2 s.
//
// Usage (bench/run.sh passes the paths):
//
//	go run ./bench/rbac -bin CACHE/control-plane/v1.37.2/bin
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubeshield/kubeshield/internal/cluster"
	"github.com/kubeshield/kubeshield/internal/controlplane"
	"github.com/kubeshield/kubeshield/internal/rbac"
)

func main() {
	bin := flag.String("bin", "", "directory of kube-apiserver, kube-controller-manager, etcd and kubectl (hack/control-plane.sh)")
	objects := flag.Int("objects", 10000, "roles and bindings to create (half each)")
	subjects := flag.Int("subjects", 1000, "distinct subjects (users, groups, service accounts)")
	namespaces := flag.Int("namespaces", 100, "namespaces")
	runs := flag.Int("runs", 20, "in-process repetitions of each measure")
	sample := flag.Int("kubectl-sample", 50, "subjects asked with kubectl auth can-i (scaled to all)")
	seed := flag.Uint64("seed", 1, "generator seed")
	flag.Parse()
	if *bin == "" || *objects < 10 || *objects > 100000 || *subjects < 10 || *subjects > 20000 || *namespaces < 1 || *namespaces > 1000 ||
		*runs < 1 || *runs > 1000 || *sample < 1 || *sample > 1000 {
		fmt.Fprintln(os.Stderr, "usage: rbac -bin DIR [-objects N (10-100000)] [-subjects N (10-20000)] [-namespaces N (1-1000)] [-runs N] [-kubectl-sample N]")
		os.Exit(2)
	}
	if err := run(*bin, *objects, *subjects, *namespaces, *runs, *sample, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "rbac:", err)
		os.Exit(1)
	}
}

func run(bin string, objects, subjects, namespaces, runs, sample int, seed uint64) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "kubeshield-bench-rbac-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cp, err := controlplane.Start(ctx, controlplane.Options{BinDir: bin, Dir: dir})
	if err != nil {
		return err
	}
	defer cp.Stop()
	cfg, _, err := cluster.RESTConfig(cp.Kubeconfig, "")
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 5000, 10000
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}

	g := newGenerated(rand.New(rand.NewPCG(seed, 1)), objects, subjects, namespaces)
	start := time.Now()
	if err := g.create(ctx, cs); err != nil {
		return err
	}
	fmt.Printf("created %d namespaces, %d service accounts, %d roles, %d bindings in %s\n",
		namespaces, len(g.serviceAccounts), len(g.roles)+len(g.clusterRoles), len(g.bindings)+len(g.clusterBindings), time.Since(start).Round(time.Millisecond))

	start = time.Now()
	snap, err := cluster.LoadLive(ctx, cs, cluster.LiveOptions{Kinds: cluster.RBACKinds()})
	if err != nil {
		return err
	}
	loadTime := time.Since(start)
	start = time.Now()
	a := rbac.New(snap)
	indexTime := time.Since(start)

	// who-can: get secrets in one namespace.
	q := rbac.Request{Verb: "get", Resource: "secrets", Namespace: g.namespaces[0]}
	var whoCan []time.Duration
	var grants []rbac.Grant
	for range runs {
		start := time.Now()
		grants = a.WhoCan(q)
		whoCan = append(whoCan, time.Since(start))
	}
	whoCanTime := median(whoCan)

	// The API server: one SubjectAccessReview per subject.
	ids := g.identities()
	start = time.Now()
	yes, err := sars(ctx, cs, ids, q)
	if err != nil {
		return err
	}
	sarTime := time.Since(start)
	ours := 0
	for _, id := range ids {
		r := q
		r.User, r.Groups = id.user, id.groups
		if a.Allowed(r).Allowed {
			ours++
		}
	}
	if ours != yes {
		return fmt.Errorf("who-can disagrees with the API server: %d subjects allowed by us, %d by SubjectAccessReviews", ours, yes)
	}

	// kubectl auth can-i, a sample of subjects, scaled.
	kubectl := bin + "/kubectl"
	sampleIDs := ids[:min(sample, len(ids))]
	start = time.Now()
	for _, id := range sampleIDs {
		args := []string{"--kubeconfig", cp.Kubeconfig, "auth", "can-i", q.Verb, q.Resource, "-n", q.Namespace, "--as", id.user}
		for _, grp := range id.groups {
			args = append(args, "--as-group", grp)
		}
		// can-i exits 1 for "no": only a failure to run is an error.
		out, err := exec.Command(kubectl, args...).Output()
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
			return fmt.Errorf("kubectl auth can-i: %v: %s", err, out)
		}
	}
	kubectlTime := time.Since(start) * time.Duration(len(ids)) / time.Duration(len(sampleIDs))

	fmt.Printf("\n%-58s %14s\n", "measure", "time")
	fmt.Printf("%-58s %14s\n", "cluster.LoadLive (RBAC kinds, paginated)", loadTime.Round(time.Millisecond))
	fmt.Printf("%-58s %14s\n", "rbac.New (index, aggregation)", indexTime.Round(time.Millisecond))
	fmt.Printf("%-58s %14s\n", fmt.Sprintf("kubeshield who-can, in process (median of %d; %d grants)", runs, len(grants)), whoCanTime.Round(time.Microsecond))
	fmt.Printf("%-58s %14s\n", fmt.Sprintf("API server: %d SubjectAccessReviews (8 in flight)", len(ids)), sarTime.Round(time.Millisecond))
	fmt.Printf("%-58s %14s\n", fmt.Sprintf("kubectl auth can-i loop (%d run, scaled to %d)", len(sampleIDs), len(ids)), kubectlTime.Round(time.Millisecond))
	fmt.Printf("who-can: %.0fx faster than SubjectAccessReviews, %.0fx faster than kubectl; under 50 ms after load: %v\n",
		ratio(sarTime, whoCanTime), ratio(kubectlTime, whoCanTime), whoCanTime < 50*time.Millisecond)
	missed := whoCanTime >= 50*time.Millisecond

	ok, err := benchRisksAndPaths(ctx, cs, a, snap, g, runs)
	if err != nil {
		return err
	}
	if missed || !ok {
		return errors.New("a target was missed")
	}
	return nil
}

// identity is one subject as the API server sees it.
type identity struct {
	user   string
	groups []string
}

// sars asks one SubjectAccessReview per identity and counts the allowed.
func sars(ctx context.Context, cs kubernetes.Interface, ids []identity, q rbac.Request) (int, error) {
	var yes atomic.Int64
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(8)
	for _, id := range ids {
		eg.Go(func() error {
			ok, err := sar(ctx, cs, id, q)
			if ok {
				yes.Add(1)
			}
			return err
		})
	}
	err := eg.Wait()
	return int(yes.Load()), err
}

func sar(ctx context.Context, cs kubernetes.Interface, id identity, q rbac.Request) (bool, error) {
	spec := authorizationv1.SubjectAccessReviewSpec{User: id.user, Groups: id.groups}
	if q.NonResource {
		spec.NonResourceAttributes = &authorizationv1.NonResourceAttributes{Path: q.Path, Verb: q.Verb}
	} else {
		spec.ResourceAttributes = &authorizationv1.ResourceAttributes{Namespace: q.Namespace, Verb: q.Verb,
			Group: q.APIGroup, Resource: q.Resource, Subresource: q.Subresource, Name: q.Name}
	}
	res, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: spec}, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("subject access review: %w", err)
	}
	return res.Status.Allowed, nil
}

// generated is a seeded RBAC universe.
type generated struct {
	namespaces      []string
	users, groups   []string
	serviceAccounts []corev1.ServiceAccount
	clusterRoles    []rbacv1.ClusterRole
	roles           []rbacv1.Role
	clusterBindings []rbacv1.ClusterRoleBinding
	bindings        []rbacv1.RoleBinding
}

var (
	benchVerbs     = []string{"get", "list", "watch", "create", "update", "patch", "delete", "*"}
	benchResources = []struct{ group, resource string }{
		{"", "pods"}, {"", "pods/exec"}, {"", "pods/log"}, {"", "secrets"}, {"", "configmaps"}, {"", "services"},
		{"", "serviceaccounts"}, {"", "serviceaccounts/token"}, {"apps", "deployments"}, {"apps", "daemonsets"},
		{"batch", "jobs"}, {"networking.k8s.io", "networkpolicies"}, {"rbac.authorization.k8s.io", "rolebindings"},
		{"rbac.authorization.k8s.io", "roles"}, {"", "*"}, {"apps", "*"},
	}
)

func newGenerated(rng *rand.Rand, objects, subjects, namespaces int) *generated {
	g := &generated{}
	for i := range namespaces {
		g.namespaces = append(g.namespaces, fmt.Sprintf("bench-%03d", i))
	}
	nUsers, nGroups := subjects*6/10, subjects*2/10
	for i := range nUsers {
		g.users = append(g.users, fmt.Sprintf("user-%04d", i))
	}
	for i := range nGroups {
		g.groups = append(g.groups, fmt.Sprintf("group-%03d", i))
	}
	for i := range subjects - nUsers - nGroups {
		ns := g.namespaces[i%namespaces]
		g.serviceAccounts = append(g.serviceAccounts, corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("sa-%04d", i)}})
	}
	rules := func() []rbacv1.PolicyRule {
		var out []rbacv1.PolicyRule
		for range 1 + rng.IntN(3) {
			r := benchResources[rng.IntN(len(benchResources))]
			verbs := []string{benchVerbs[rng.IntN(len(benchVerbs))], benchVerbs[rng.IntN(len(benchVerbs))]}
			out = append(out, rbacv1.PolicyRule{APIGroups: []string{r.group}, Resources: []string{r.resource}, Verbs: slices.Compact(verbs)})
		}
		return out
	}
	subject := func(ns string) rbacv1.Subject {
		switch k := rng.IntN(10); {
		case k < 6:
			return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: g.users[rng.IntN(len(g.users))]}
		case k < 8:
			return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: g.groups[rng.IntN(len(g.groups))]}
		default:
			sa := g.serviceAccounts[rng.IntN(len(g.serviceAccounts))]
			return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: sa.Namespace, Name: sa.Name}
		}
	}
	nRoles := objects / 2
	nCluster := max(nRoles/10, 1)
	for i := range nCluster {
		g.clusterRoles = append(g.clusterRoles, rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bench-cr-%04d", i)}, Rules: rules()})
	}
	for i := range nRoles - nCluster {
		ns := g.namespaces[i%namespaces]
		g.roles = append(g.roles, rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("role-%04d", i)}, Rules: rules()})
	}
	nBindings := objects - nRoles
	for i := range max(nBindings/20, 1) {
		cr := g.clusterRoles[rng.IntN(len(g.clusterRoles))]
		g.clusterBindings = append(g.clusterBindings, rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bench-crb-%04d", i)},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: cr.Name}, Subjects: []rbacv1.Subject{subject("")}})
	}
	for i := range nBindings - len(g.clusterBindings) {
		ns := g.namespaces[i%namespaces]
		ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: g.clusterRoles[rng.IntN(len(g.clusterRoles))].Name}
		if rng.IntN(3) > 0 {
			// A Role of the same namespace: roles are spread round-robin.
			idx := rng.IntN(len(g.roles)/namespaces)*namespaces + i%namespaces
			ref = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: g.roles[idx].Name}
		}
		g.bindings = append(g.bindings, rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("rb-%04d", i)},
			RoleRef: ref, Subjects: []rbacv1.Subject{subject(ns), subject(ns)}})
	}
	return g
}

// create creates the universe, 32 requests in flight.
func (g *generated) create(ctx context.Context, cs kubernetes.Interface) error {
	step := func(n int, f func(ctx context.Context, i int) error) error {
		eg, ctx := errgroup.WithContext(ctx)
		eg.SetLimit(32)
		for i := range n {
			eg.Go(func() error { return f(ctx, i) })
		}
		return eg.Wait()
	}
	c := metav1.CreateOptions{}
	r := cs.RbacV1()
	steps := []struct {
		n int
		f func(ctx context.Context, i int) error
	}{
		{len(g.namespaces), func(ctx context.Context, i int) error {
			_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: g.namespaces[i]}}, c)
			return err
		}},
		{len(g.serviceAccounts), func(ctx context.Context, i int) error {
			_, err := cs.CoreV1().ServiceAccounts(g.serviceAccounts[i].Namespace).Create(ctx, &g.serviceAccounts[i], c)
			return err
		}},
		{len(g.clusterRoles), func(ctx context.Context, i int) error {
			_, err := r.ClusterRoles().Create(ctx, &g.clusterRoles[i], c)
			return err
		}},
		{len(g.roles), func(ctx context.Context, i int) error {
			_, err := r.Roles(g.roles[i].Namespace).Create(ctx, &g.roles[i], c)
			return err
		}},
		{len(g.clusterBindings), func(ctx context.Context, i int) error {
			_, err := r.ClusterRoleBindings().Create(ctx, &g.clusterBindings[i], c)
			return err
		}},
		{len(g.bindings), func(ctx context.Context, i int) error {
			_, err := r.RoleBindings(g.bindings[i].Namespace).Create(ctx, &g.bindings[i], c)
			return err
		}},
	}
	for _, s := range steps {
		if err := step(s.n, s.f); err != nil {
			return fmt.Errorf("create the cluster: %w", err)
		}
	}
	// The authorizer's informers see the last binding shortly after.
	time.Sleep(2 * time.Second)
	return nil
}

// identities returns every subject as the API server sees it: users with
// no groups, a member of each group, and each service account with its
// groups.
func (g *generated) identities() []identity {
	var out []identity
	for _, u := range g.users {
		out = append(out, identity{user: u})
	}
	for _, grp := range g.groups {
		out = append(out, identity{user: "member-of-" + grp, groups: []string{grp}})
	}
	for _, sa := range g.serviceAccounts {
		out = append(out, identity{user: rbac.ServiceAccountUser(sa.Namespace, sa.Name), groups: append(rbac.ServiceAccountGroups(sa.Namespace), "system:authenticated")})
	}
	return out
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

// riskProbes are the requests the risks report asks about each subject,
// the questions the API server would have to answer to build it.
var riskProbes = []rbac.Request{
	{Verb: "*", APIGroup: "*", Resource: "*"},
	{Verb: "list", Resource: "secrets"},
	{Verb: "get", Resource: "secrets"},
	{Verb: "create", Resource: "pods"},
	{Verb: "create", APIGroup: "apps", Resource: "deployments"},
	{Verb: "create", Resource: "pods", Subresource: "exec"},
	{Verb: "create", Resource: "serviceaccounts", Subresource: "token"},
	{Verb: "bind", APIGroup: "rbac.authorization.k8s.io", Resource: "clusterroles"},
	{Verb: "escalate", APIGroup: "rbac.authorization.k8s.io", Resource: "roles"},
	{Verb: "impersonate", Resource: "users"},
	{Verb: "get", Resource: "nodes", Subresource: "proxy"},
	{Verb: "create", Resource: "persistentvolumes"},
	{Verb: "update", APIGroup: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations"},
}

// benchRisksAndPaths measures the risks report against the API server
// answering its probes, and paths from one subject; it reports whether the
// risks target was met.
func benchRisksAndPaths(ctx context.Context, cs kubernetes.Interface, a *rbac.Authorizer, snap *cluster.Snapshot, g *generated, runs int) (bool, error) {
	var risks []time.Duration
	var n int
	for range runs {
		start := time.Now()
		n = len(rbac.Risks(a, snap, rbac.RiskOptions{}))
		risks = append(risks, time.Since(start))
	}
	risksTime := median(risks)

	// The API server: every probe for every subject, cluster-wide and in
	// one namespace (the report looks at every namespace a subject is
	// bound in; one is a lower bound).
	ids := g.identities()
	start := time.Now()
	var count atomic.Int64
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(8)
	for i, id := range ids {
		for _, p := range riskProbes {
			for _, ns := range []string{"", g.namespaces[i%len(g.namespaces)]} {
				q := p
				q.Namespace = ns
				eg.Go(func() error {
					count.Add(1)
					_, err := sar(ectx, cs, id, q)
					return err
				})
			}
		}
	}
	if err := eg.Wait(); err != nil {
		return false, err
	}
	sarTime := time.Since(start)

	sa := g.serviceAccounts[0]
	from := rbac.SubjectIdentity(rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: sa.Namespace, Name: sa.Name})
	var pathTimes []time.Duration
	var paths []rbac.Path
	var truncated bool
	for range runs {
		start := time.Now()
		paths, truncated = rbac.Paths(a, snap, rbac.PathOptions{From: &from, Targets: rbac.Targets()})
		pathTimes = append(pathTimes, time.Since(start))
	}
	pathsTime := median(pathTimes)

	fmt.Printf("%-58s %14s\n", fmt.Sprintf("kubeshield risks report, in process (median of %d; %d findings)", runs, n), risksTime.Round(time.Microsecond))
	fmt.Printf("%-58s %14s\n", fmt.Sprintf("API server: the report's %d probes as SubjectAccessReviews", count.Load()), sarTime.Round(time.Millisecond))
	fmt.Printf("%-58s %14s\n", fmt.Sprintf("kubeshield paths from %s (%d paths, truncated %v)", from, len(paths), truncated), pathsTime.Round(time.Microsecond))
	fmt.Printf("risks: %.0fx faster than the API server's SubjectAccessReviews; under 2 s: %v\n", ratio(sarTime, risksTime), risksTime < 2*time.Second)
	return risksTime < 2*time.Second, nil
}
