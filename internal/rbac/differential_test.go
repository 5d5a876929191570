package rbac

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubeshield/kubeshield/internal/cluster"
	"github.com/kubeshield/kubeshield/internal/fixture"
)

var (
	seedFlag      = flag.Uint64("seed", 1, "seed of the differential test's random RBAC universes and questions")
	questionsFlag = flag.Int("questions", 8000, "questions the differential test asks per universe kind (plain, aggregation)")
	universesFlag = flag.Int("universes", 4, "random RBAC universes the differential test builds per universe kind")
)

// runs counts the runs of TestDifferential in this process (-count).
var runs atomic.Int64

func TestMain(m *testing.M) {
	code := m.Run()
	fixture.StopControlPlane()
	os.Exit(code)
}

// TestDifferential builds random RBAC universes in a real API server and
// checks that Allowed answers thousands of random questions exactly as the
// server's SubjectAccessReviews do, and that Rules and WhoCan agree with
// Allowed. Run more with -seed N -questions N -universes N.
func TestDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test against a real API server; skipped in -short mode")
	}
	cp := fixture.ControlPlane(t)
	cfg, err := clientcmd.BuildConfigFromFlags("", cp.Kubeconfig)
	if err != nil {
		t.Fatalf("kubeconfig: %v", err)
	}
	cfg.QPS, cfg.Burst = 2000, 4000
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	run := fmt.Sprintf("%d", runs.Add(1)) // names unique in this process's control plane
	t.Logf("seed %d, run %s", *seedFlag, run)

	t.Run("plain", func(t *testing.T) {
		differential(t, cs, run+"p", rand.New(rand.NewPCG(*seedFlag, 1)), false)
	})
	t.Run("aggregation", func(t *testing.T) {
		if !aggregationControllerRuns(t, cs, run) {
			t.Skip("the test control plane runs no clusterrole-aggregation controller (an aggregated ClusterRole kept empty rules for 15s): aggregation is not compared with the API server")
		}
		differential(t, cs, run+"a", rand.New(rand.NewPCG(*seedFlag, 2)), true)
	})
}

// aggregationControllerRuns reports whether the control plane fills an
// aggregated ClusterRole's rules within a few seconds.
func aggregationControllerRuns(t *testing.T, cs kubernetes.Interface, run string) bool {
	t.Helper()
	ctx := t.Context()
	label := "ks-probe-" + run
	src := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: label + "-source", Labels: map[string]string{label: "true"}},
		Rules:      []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"configmaps"}}},
	}
	agg := &rbacv1.ClusterRole{
		ObjectMeta:      metav1.ObjectMeta{Name: label + "-aggregated"},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{label: "true"}}}},
	}
	for _, cr := range []*rbacv1.ClusterRole{src, agg} {
		if _, err := cs.RbacV1().ClusterRoles().Create(ctx, cr, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create ClusterRole %s: %v", cr.Name, err)
		}
	}
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		got, err := cs.RbacV1().ClusterRoles().Get(ctx, agg.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get ClusterRole %s: %v", agg.Name, err)
		}
		if len(got.Rules) > 0 {
			return true
		}
	}
	return false
}

// differential builds universes and asks questions, failing on every
// answer that differs from the API server's.
func differential(t *testing.T, cs kubernetes.Interface, run string, rng *rand.Rand, aggregation bool) {
	universes := max(*universesFlag, 1)
	start := time.Now()
	var asked, allowed, mismatches, aggregated, ownRules, broken int
	for i := range universes {
		u := newUniverse(rng, fmt.Sprintf("ks%s-u%d", run, i), aggregation, i%2 == 1)
		for _, cr := range u.clusterRoles {
			if cr.AggregationRule != nil {
				aggregated++
				if len(cr.Rules) > 0 {
					ownRules++
				}
			}
		}
		u.create(t, cs)
		snap := liveSnapshot(t, cs)
		// Give aggregated ClusterRoles the rules they were created with, as
		// manifests hold them, so that our aggregation, not the
		// controller's, fills them.
		snap.ClusterRoles = u.unaggregated(snap.ClusterRoles)
		a := New(snap)
		for _, b := range a.Broken() {
			if strings.HasPrefix(b.Binding.Name, u.tag) || strings.HasPrefix(b.Binding.Namespace, u.tag) {
				broken++
			}
		}
		qs := u.questions(rng, a, *questionsFlag/universes)
		got := ask(t, cs, qs)
		for j, q := range qs {
			d := a.Allowed(q)
			asked++
			if got[j].Allowed {
				allowed++
			}
			if d.Allowed != got[j].Allowed {
				mismatches++
				t.Errorf("mismatch: %s: API server allowed=%v (%q), ours allowed=%v: %s", q, got[j].Allowed, got[j].Reason, d.Allowed, d.Reason())
			}
			checkConsistent(t, a, q, d)
		}
	}
	t.Logf("%d universes (%d aggregated ClusterRoles, %d created with rules of their own; %d broken bindings), %d questions (%d allowed), %d mismatches, %v",
		universes, aggregated, ownRules, broken, asked, allowed, mismatches, time.Since(start).Round(time.Millisecond))
}

// checkConsistent checks that Rules and WhoCan agree with decision d of q.
func checkConsistent(t *testing.T, a *Authorizer, q Request, d Decision) {
	t.Helper()
	if got := a.Rules(q.User, q.Groups, q.namespace()).Allows(q); got != d.Allowed {
		t.Errorf("%s: Rules(...).Allows = %v; Allowed = %v", q, got, d.Allowed)
	}
	var found bool
	for _, g := range a.WhoCan(q) {
		if appliesTo(g.Subject, q.User, q.Groups) {
			found = true
			break
		}
	}
	if found != d.Allowed {
		t.Errorf("%s: WhoCan lists a subject of the asker: %v; Allowed = %v (%s)", q, found, d.Allowed, d.Reason())
	}
}

// answer is the API server's answer to one question.
type answer struct {
	Allowed bool
	Reason  string
}

// ask sends every question as a SubjectAccessReview, eight at a time.
func ask(t *testing.T, cs kubernetes.Interface, qs []Request) []answer {
	t.Helper()
	out := make([]answer, len(qs))
	g, ctx := errgroup.WithContext(t.Context())
	g.SetLimit(8)
	var next atomic.Int64
	for range qs {
		g.Go(func() error {
			i := int(next.Add(1) - 1)
			res, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar(qs[i]), metav1.CreateOptions{})
			if err != nil {
				return fmt.Errorf("subject access review %s: %w", qs[i], err)
			}
			out[i] = answer{Allowed: res.Status.Allowed, Reason: res.Status.Reason + res.Status.EvaluationError}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sar turns a question into a SubjectAccessReview.
func sar(q Request) *authorizationv1.SubjectAccessReview {
	spec := authorizationv1.SubjectAccessReviewSpec{User: q.User, Groups: q.Groups}
	if q.NonResource {
		spec.NonResourceAttributes = &authorizationv1.NonResourceAttributes{Path: q.Path, Verb: q.Verb}
	} else {
		spec.ResourceAttributes = &authorizationv1.ResourceAttributes{
			Namespace:   q.Namespace,
			Verb:        q.Verb,
			Group:       q.APIGroup,
			Resource:    q.Resource,
			Subresource: q.Subresource,
			Name:        q.Name,
		}
	}
	return &authorizationv1.SubjectAccessReview{Spec: spec}
}

// liveSnapshot lists the server's RBAC objects, the bootstrap ones
// included.
func liveSnapshot(t *testing.T, cs kubernetes.Interface) *cluster.Snapshot {
	t.Helper()
	ctx := t.Context()
	rbac := cs.RbacV1()
	crs, err := rbac.ClusterRoles().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list ClusterRoles: %v", err)
	}
	crbs, err := rbac.ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list ClusterRoleBindings: %v", err)
	}
	roles, err := rbac.Roles("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list Roles: %v", err)
	}
	rbs, err := rbac.RoleBindings("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list RoleBindings: %v", err)
	}
	return &cluster.Snapshot{
		ClusterRoles:        crs.Items,
		ClusterRoleBindings: crbs.Items,
		Roles:               roles.Items,
		RoleBindings:        rbs.Items,
	}
}

// create creates the universe in the API server and waits until the
// server's authorizer sees all of it (and, with aggregation, until the
// aggregation controller has filled the aggregated roles).
func (u *universe) create(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	ctx := t.Context()
	rbac := cs.RbacV1()
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("create %s: %v", what, err)
		}
	}
	for _, ns := range u.namespaces {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		check("Namespace "+ns, err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := range u.clusterRoles {
		g.Go(func() error {
			_, err := rbac.ClusterRoles().Create(gctx, &u.clusterRoles[i], metav1.CreateOptions{})
			return err
		})
	}
	for i := range u.roles {
		g.Go(func() error {
			_, err := rbac.Roles(u.roles[i].Namespace).Create(gctx, &u.roles[i], metav1.CreateOptions{})
			return err
		})
	}
	for i := range u.crbs {
		g.Go(func() error {
			_, err := rbac.ClusterRoleBindings().Create(gctx, &u.crbs[i], metav1.CreateOptions{})
			return err
		})
	}
	for i := range u.rbs {
		g.Go(func() error {
			_, err := rbac.RoleBindings(u.rbs[i].Namespace).Create(gctx, &u.rbs[i], metav1.CreateOptions{})
			return err
		})
	}
	check("universe "+u.tag, g.Wait())
	u.waitAggregated(t, cs)

	// Sentinels created last: once the authorizer allows them, its caches
	// hold every object created before them (each kind's watch is in
	// order).
	sentinel := u.tag + "-sentinel"
	ns := u.namespaces[0]
	rule := []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{"example.com"}, Resources: []string{"sentinels"}}}
	subject := []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: sentinel}}
	_, err := rbac.ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: sentinel}, Rules: rule}, metav1.CreateOptions{})
	check("sentinel ClusterRole", err)
	_, err = rbac.ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: sentinel}, Subjects: subject, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: sentinel}}, metav1.CreateOptions{})
	check("sentinel ClusterRoleBinding", err)
	nsRule := []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{"example.com"}, Resources: []string{"nssentinels"}}}
	_, err = rbac.Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "sentinel"}, Rules: nsRule}, metav1.CreateOptions{})
	check("sentinel Role", err)
	_, err = rbac.RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "sentinel"}, Subjects: subject, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "sentinel"}}, metav1.CreateOptions{})
	check("sentinel RoleBinding", err)
	qs := []Request{
		{User: sentinel, Verb: "get", APIGroup: "example.com", Resource: "sentinels"},
		{User: sentinel, Verb: "get", APIGroup: "example.com", Resource: "nssentinels", Namespace: ns},
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		got := ask(t, cs, qs)
		if got[0].Allowed && got[1].Allowed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the API server's authorizer did not see universe %s within 30s", u.tag)
		}
	}
}

// waitAggregated waits until every aggregated ClusterRole of the universe
// has in the API server the rules aggregate computes from the server's
// ClusterRoles, which is what the aggregation controller converges to.
func (u *universe) waitAggregated(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	var names []string
	for _, cr := range u.clusterRoles {
		if cr.AggregationRule != nil {
			names = append(names, cr.Name)
		}
	}
	if len(names) == 0 {
		return
	}
	var diff string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		list, err := cs.RbacV1().ClusterRoles().List(t.Context(), metav1.ListOptions{})
		if err != nil {
			t.Fatalf("list ClusterRoles: %v", err)
		}
		want := aggregate(u.unaggregated(list.Items))
		diff = ""
		for _, cr := range list.Items {
			if !slices.Contains(names, cr.Name) {
				continue
			}
			if g, w := ruleKeys(plainRules(cr.Rules)), ruleKeys(want[cr.Name].rules); !slices.Equal(g, w) {
				diff += fmt.Sprintf("\n%s: server has %d rules, want %d", cr.Name, len(g), len(w))
			}
		}
		if diff == "" {
			return
		}
	}
	t.Fatalf("after 30s the API server's aggregated ClusterRoles of %s still differ from ours (a slow controller, or our aggregation is wrong):%s", u.tag, diff)
}

// unaggregated returns a copy of crs where the aggregated ClusterRoles
// have the rules the universe created them with (none for those of other
// universes and the bootstrap ones).
func (u *universe) unaggregated(crs []rbacv1.ClusterRole) []rbacv1.ClusterRole {
	out := slices.Clone(crs)
	for i := range out {
		if out[i].AggregationRule == nil {
			continue
		}
		out[i].Rules = nil
		for _, cr := range u.clusterRoles {
			if cr.Name == out[i].Name {
				out[i].Rules = cr.Rules
			}
		}
	}
	return out
}

// ruleKeys returns the sorted keys of rules.
func ruleKeys(rules []sourcedRule) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = ruleKey(r.rule)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
