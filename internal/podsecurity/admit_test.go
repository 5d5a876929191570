package podsecurity

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/pod-security-admission/api"

	"github.com/kubeshield/kubeshield/internal/workload"
)

// TestEnforceTemplates checks that with EnforceTemplates a workload is
// denied when a Pod with its template would be, with the message of its
// template's check (templates are not defaulted as Pods are, so a host
// network template lists no defaulted host ports; the verdict is the same).
func TestEnforceTemplates(t *testing.T) {
	e, err := New(Config{EnforceTemplates: true})
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{api.EnforceLevelLabel: "baseline", api.WarnLevelLabel: "restricted"}
	for _, o := range loadObjects(t, "workloads.yaml") {
		got := e.Admit(Request{Operation: admissionv1.Create, Namespace: "team", NamespaceLabels: labels, Name: o.name, Object: o.pod})
		pod := *o.pod
		pod.Kind, _ = workload.Lookup("", "Pod")
		asPod := e.Admit(Request{Operation: admissionv1.Create, Namespace: "team", NamespaceLabels: labels, Name: o.name, Object: &pod})
		if got.Allowed != asPod.Allowed {
			t.Errorf("Admit(%s %s).Allowed = %v with EnforceTemplates; as a Pod %v", o.gvk.Kind, o.name, got.Allowed, asPod.Allowed)
		}
		if want := e.Check(mustLevel(t, "baseline"), o.pod).Message(); got.Message != want {
			t.Errorf("Admit(%s %s).Message = %q; want %q", o.gvk.Kind, o.name, got.Message, want)
		}
		if wantDenied := strings.HasSuffix(o.name, "-bad"); got.Allowed == wantDenied {
			t.Errorf("Admit(%s %s).Allowed = %v; want %v", o.gvk.Kind, o.name, got.Allowed, !wantDenied)
		}
	}
}

func TestAdmitOtherRequests(t *testing.T) {
	e, err := New(Config{Defaults: api.Policy{Enforce: mustLevel(t, "restricted")}})
	if err != nil {
		t.Fatal(err)
	}
	bad := objectByName(t, loadObjects(t, "pods.yaml"), "privileged").pod
	for _, tt := range []struct {
		name string
		req  Request
	}{
		{"delete", Request{Operation: admissionv1.Delete, Namespace: "team", Object: bad}},
		{"connect", Request{Operation: admissionv1.Connect, Namespace: "team", Object: bad}},
		{"no object", Request{Operation: admissionv1.Create, Namespace: "team"}},
		{"exec", Request{Operation: admissionv1.Create, Namespace: "team", Subresource: "exec", Object: bad}},
	} {
		if d := e.Admit(tt.req); !d.Allowed || d.Message != "" {
			t.Errorf("Admit(%s) = %+v; want allowed", tt.name, d)
		}
	}
	if d := e.Admit(Request{Operation: admissionv1.Create, Namespace: "team", Object: bad}); d.Allowed {
		t.Errorf("Admit(create privileged pod) = %+v; want denied by the restricted default", d)
	}
}

// TestAdmit decides requests as the built-in plugin does (its code in
// k8s.io/pod-security-admission/admission, read for each case).
func TestAdmit(t *testing.T) {
	pods := loadObjects(t, "pods.yaml")
	workloads := loadObjects(t, "workloads.yaml")
	pod := func(name string) *workloadPod { return objectByName(t, pods, name).pod }
	wl := func(name string) *workloadPod { return objectByName(t, workloads, name).pod }
	strict := Config{
		Defaults: api.Policy{
			Enforce: mustLevel(t, "baseline:v1.30"),
			Audit:   mustLevel(t, "restricted:v1.25"),
			Warn:    mustLevel(t, "restricted"),
		},
		Exemptions: Exemptions{Namespaces: []string{"kube-system", "exempt"}, Usernames: []string{"ci-bot"}, RuntimeClasses: []string{"gvisor"}},
	}
	const (
		privDeny   = `violates PodSecurity "baseline:v1.30": privileged (container "app" must not set securityContext.privileged=true)`
		bareWarn   = `would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`
		bareAudit  = `would violate PodSecurity "restricted:v1.25": allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`
		deployBad  = `host namespaces (hostNetwork=true), hostPath volumes (volume "sock"), privileged (container "app" must not set securityContext.privileged=true)`
		privAudit  = `would violate PodSecurity "restricted:v1.25": privileged (container "app" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false)`
		restricted = "pod-security.kubernetes.io/enforce"
	)
	changedImage := *pod("privileged")
	changedImage.Spec = *changedImage.Spec.DeepCopy()
	changedImage.Spec.Containers[0].Image = "registry.example/app:2"
	withEphemeral := *pod("privileged")
	withEphemeral.Spec = *withEphemeral.Spec.DeepCopy()
	withEphemeral.Spec.EphemeralContainers = append(withEphemeral.Spec.EphemeralContainers, ephemeral("debug", "busybox"))

	for _, tt := range []struct {
		name string
		cfg  Config
		req  Request
		want Decision
	}{
		{"fully privileged namespace", Config{}, Request{Object: pod("privileged")},
			Decision{Allowed: true, AuditAnnotations: map[string]string{"enforce-policy": "privileged:latest"}}},
		{"workload in a privileged namespace", Config{}, Request{Object: wl("deploy-bad")},
			Decision{Allowed: true}},
		{"privileged pod denied by the default", strict, Request{Object: pod("privileged")},
			Decision{Message: privDeny, AuditAnnotations: map[string]string{"enforce-policy": "baseline:v1.30",
				"audit-violations": privAudit}}},
		{"bare pod allowed with a warning", strict, Request{Object: pod("bare")},
			Decision{Allowed: true, Warnings: []string{bareWarn}, AuditAnnotations: map[string]string{"enforce-policy": "baseline:v1.30", "audit-violations": bareAudit}}},
		{"exempt namespace", strict, Request{Namespace: "exempt", Object: pod("privileged")},
			Decision{Allowed: true, Exempt: "namespace", AuditAnnotations: map[string]string{"exempt": "namespace"}}},
		{"exempt user", strict, Request{Username: "ci-bot", Object: pod("privileged")},
			Decision{Allowed: true, Exempt: "user", AuditAnnotations: map[string]string{"exempt": "user"}}},
		{"exempt runtime class", strict, Request{Object: pod("runtime-class")},
			Decision{Allowed: true, Exempt: "runtimeClass", AuditAnnotations: map[string]string{"exempt": "runtimeClass"}}},
		{"runtime class not exempt by default", Config{}, Request{NamespaceLabels: map[string]string{restricted: "baseline"}, Object: pod("runtime-class")},
			Decision{Message: `violates PodSecurity "baseline:latest": privileged (container "app" must not set securityContext.privileged=true)`,
				AuditAnnotations: map[string]string{"enforce-policy": "baseline:latest"}}},
		{"workload warned, not denied", strict, Request{Object: wl("deploy-bad")},
			Decision{Allowed: true, Warnings: []string{`would violate PodSecurity "restricted:latest": host namespaces (hostNetwork=true), privileged (container "app" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"]), restricted volume types (volume "sock" uses restricted volume type "hostPath"), runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`},
				AuditAnnotations: map[string]string{"audit-violations": `would violate PodSecurity "restricted:v1.25": host namespaces (hostNetwork=true), privileged (container "app" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"]), restricted volume types (volume "sock" uses restricted volume type "hostPath"), runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`}}},
		{"workload denied with EnforceTemplates", Config{EnforceTemplates: true}, Request{NamespaceLabels: map[string]string{restricted: "baseline", "pod-security.kubernetes.io/warn": "privileged"}, Object: wl("deploy-bad")},
			Decision{Message: `violates PodSecurity "baseline:latest": ` + deployBad, AuditAnnotations: map[string]string{"enforce-policy": "baseline:latest"}}},
		{"workload subresource", strict, Request{Subresource: "scale", Object: wl("deploy-bad")}, Decision{Allowed: true}},
		{"pod status", strict, Request{Subresource: "status", Object: pod("privileged")}, Decision{Allowed: true}},
		{"pod ephemeralcontainers", strict, Request{Operation: admissionv1.Update, Subresource: "ephemeralcontainers", Object: &withEphemeral, OldObject: pod("privileged")},
			Decision{Message: privDeny, AuditAnnotations: map[string]string{"enforce-policy": "baseline:v1.30",
				"audit-violations": `would violate PodSecurity "restricted:v1.25": privileged (container "app" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (containers "app", "debug" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "debug" must set securityContext.capabilities.drop=["ALL"])`}}},
		{"pod update, same images", strict, Request{Operation: admissionv1.Update, Object: pod("privileged"), OldObject: pod("privileged")}, Decision{Allowed: true}},
		{"pod update, new image", strict, Request{Operation: admissionv1.Update, Object: &changedImage, OldObject: pod("privileged")},
			Decision{Message: privDeny, AuditAnnotations: map[string]string{"enforce-policy": "baseline:v1.30",
				"audit-violations": privAudit}}},
		{"invalid enforce label means restricted", Config{}, Request{NamespaceLabels: map[string]string{restricted: "strict"}, Object: pod("seccomp-missing")},
			Decision{Message: `violates PodSecurity "restricted:latest": seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`,
				AuditAnnotations: map[string]string{"enforce-policy": "restricted:latest",
					"error": `Failed to parse policy: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted`}}},
		{"invalid warn label fails open", Config{}, Request{NamespaceLabels: map[string]string{"pod-security.kubernetes.io/warn": "tight"}, Object: pod("privileged")},
			Decision{Allowed: true, AuditAnnotations: map[string]string{"enforce-policy": "privileged:latest",
				"error": `Failed to parse policy: metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: "tight": must be one of privileged, baseline, restricted`}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if tt.req.Operation == "" {
				tt.req.Operation = admissionv1.Create
			}
			if tt.req.Namespace == "" {
				tt.req.Namespace = "team"
			}
			got := e.Admit(tt.req)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Admit (-want +got):\n%s", diff)
			}
			if s := got.Status(schema.GroupResource{Resource: "pods"}, "p"); (s == nil) != got.Allowed || s != nil && s.Message != `pods "p" is forbidden: `+got.Message {
				t.Errorf("Status = %+v; want nil or the message", s)
			}
		})
	}
}
