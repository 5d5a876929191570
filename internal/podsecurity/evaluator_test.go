package podsecurity

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// TestCheck checks every pod of testdata/pods.yaml at baseline and
// restricted, old and new versions: each check positive and negative.
func TestCheck(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	pods := loadObjects(t, "pods.yaml")
	const (
		b22 = "baseline:v1.22"
		b   = "baseline:latest"
		r22 = "restricted:v1.22"
		r25 = "restricted:v1.25"
		r30 = "restricted:v1.30"
		r   = "restricted:latest"
	)
	// Failing check IDs per pod and level; a level not named fails none.
	const notRestricted = "allowPrivilegeEscalation capabilities_restricted runAsNonRoot seccompProfile_restricted"
	for _, tt := range []struct {
		pod  string
		fail map[string]string
	}{
		{"restricted-ok", nil},
		{"bare", map[string]string{r22: notRestricted, r: notRestricted}},
		{"privileged", map[string]string{b22: "privileged", b: "privileged", r: "privileged allowPrivilegeEscalation"}},
		{"privileged-false", nil},
		{"hostpath-docker-sock", map[string]string{b22: "hostPathVolumes", b: "hostPathVolumes", r22: "restrictedVolumes", r: "restrictedVolumes"}},
		{"host-network", map[string]string{b: "hostNamespaces hostPorts", r: "hostNamespaces hostPorts"}},
		{"host-pid-ipc", map[string]string{b: "hostNamespaces", r: "hostNamespaces"}},
		{"host-port", map[string]string{b22: "hostPorts", b: "hostPorts", r: "hostPorts"}},
		{"host-port-zero", nil},
		{"caps-sys-admin", map[string]string{b22: "capabilities_baseline", b: "capabilities_baseline", r22: "capabilities_restricted", r: "capabilities_restricted"}},
		{"caps-baseline-default", map[string]string{r: notRestricted}},
		{"caps-net-bind", nil},
		{"caps-no-drop", map[string]string{r22: "capabilities_restricted", r: "capabilities_restricted"}},
		{"seccomp-unconfined", map[string]string{b22: "seccompProfile_baseline", b: "seccompProfile_baseline", r: "seccompProfile_restricted"}},
		{"seccomp-container-unconfined", map[string]string{b: "seccompProfile_baseline", r: "seccompProfile_restricted"}},
		{"seccomp-localhost", nil},
		{"seccomp-missing", map[string]string{r22: "seccompProfile_restricted", r: "seccompProfile_restricted"}},
		{"run-as-root", map[string]string{r25: "runAsUser", r: "runAsUser"}},
		{"run-as-user", map[string]string{r: "runAsNonRoot"}},
		{"runasnonroot-false", map[string]string{r22: "runAsNonRoot", r: "runAsNonRoot"}},
		{"ape-true", map[string]string{r22: "allowPrivilegeEscalation", r: "allowPrivilegeEscalation"}},
		{"volume-nfs", map[string]string{r22: "restrictedVolumes", r: "restrictedVolumes"}},
		{"volume-allowed", nil},
		{"sysctl-safe", nil},
		{"sysctl-unsafe", map[string]string{b22: "sysctls", b: "sysctls", r: "sysctls"}},
		{"sysctl-1-27", map[string]string{b22: "sysctls", r25: "sysctls"}},
		{"sysctl-1-29", map[string]string{b22: "sysctls", r25: "sysctls"}},
		{"sysctl-1-32", map[string]string{r30: "sysctls"}},
		{"sysctl-1-37", map[string]string{r30: "sysctls"}},
		{"apparmor-annotation-unconfined", map[string]string{b22: "appArmorProfile", b: "appArmorProfile", r: "appArmorProfile"}},
		{"apparmor-field-unconfined", map[string]string{b: "appArmorProfile", r: "appArmorProfile"}},
		{"apparmor-runtime-default", nil},
		{"selinux-type-spc", map[string]string{b22: "seLinuxOptions", b: "seLinuxOptions", r: "seLinuxOptions"}},
		{"selinux-user-role", map[string]string{b: "seLinuxOptions", r: "seLinuxOptions"}},
		{"selinux-container-t", nil},
		{"selinux-engine-t", map[string]string{b22: "seLinuxOptions", r30: "seLinuxOptions"}},
		{"procmount-unmasked", map[string]string{b22: "procMount", r30: "procMount", r: "procMount_restricted"}},
		{"probe-host", map[string]string{b: "hostProbesAndHostLifecycle", r30: "", r: "hostProbesAndHostLifecycle"}},
		{"lifecycle-host", map[string]string{b22: "", b: "hostProbesAndHostLifecycle", r: "hostProbesAndHostLifecycle"}},
		{"init-privileged", map[string]string{b: "privileged", r: "privileged allowPrivilegeEscalation"}},
		{"windows-restricted", map[string]string{r22: "allowPrivilegeEscalation capabilities_restricted seccompProfile_restricted", r25: "", r: ""}},
		{"windows-hostprocess", map[string]string{b: "hostNamespaces windowsHostProcess", r: "hostNamespaces windowsHostProcess runAsNonRoot"}},
		{"many-violations", map[string]string{
			b:   "capabilities_baseline hostNamespaces hostPathVolumes hostPorts privileged seccompProfile_baseline",
			r22: "hostNamespaces hostPorts privileged allowPrivilegeEscalation capabilities_restricted restrictedVolumes runAsNonRoot seccompProfile_restricted",
			r:   "hostNamespaces hostPorts privileged allowPrivilegeEscalation capabilities_restricted restrictedVolumes runAsNonRoot runAsUser seccompProfile_restricted",
		}},
		{"two-containers-one-bad", map[string]string{r: "allowPrivilegeEscalation capabilities_restricted"}},
	} {
		pod := objectByName(t, pods, tt.pod)
		for _, level := range []string{b22, b, r22, r25, r30, r, "privileged:latest"} {
			got := e.Check(mustLevel(t, level), pod.pod)
			var ids []string
			for _, f := range got.Failed {
				ids = append(ids, f.ID)
			}
			want := strings.Fields(tt.fail[level])
			if _, named := tt.fail[level]; !named && level != "privileged:latest" {
				continue // not asserted at this level
			}
			if diff := cmp.Diff(want, ids, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Check(%s, %s) failed checks (-want +got):\n%s", level, tt.pod, diff)
			}
			if got.Allowed != (len(want) == 0) {
				t.Errorf("Check(%s, %s).Allowed = %v; want %v", level, tt.pod, got.Allowed, len(want) == 0)
			}
		}
	}
}

func TestCheckMessage(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	pods := loadObjects(t, "pods.yaml")
	for _, tt := range []struct {
		pod, level, message string
	}{
		{"restricted-ok", "restricted:latest", ""},
		{"ape-true", "restricted:latest", `violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false)`},
		{"host-network", "baseline:v1.30", `violates PodSecurity "baseline:v1.30": host namespaces (hostNetwork=true), hostPort (container "app" uses hostPort 8080)`},
		{"bare", "restricted:v1.25", `violates PodSecurity "restricted:v1.25": allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false), ` +
			`unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"]), ` +
			`runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true), ` +
			`seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`},
	} {
		r := e.Check(mustLevel(t, tt.level), objectByName(t, pods, tt.pod).pod)
		if got := r.Message(); got != tt.message {
			t.Errorf("Check(%s, %s).Message() =\n%s\nwant\n%s", tt.level, tt.pod, got, tt.message)
		}
		if want := strings.Replace(tt.message, "violates", "would violate", 1); r.Warning() != want {
			t.Errorf("Check(%s, %s).Warning() = %q; want %q", tt.level, tt.pod, r.Warning(), want)
		}
	}
}

// TestCheckIDs checks that the check IDs Evaluator attaches follow the
// upstream registry: at every level and version, each check run alone on a
// pod it fails gives the reason the registry's run reports at that ID's
// place.
func TestCheckIDs(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]policy.Check{}
	for _, c := range policy.DefaultChecks() {
		byID[string(c.ID)] = c
	}
	pods := loadObjects(t, "pods.yaml")
	for minor := 0; minor <= e.maxVersion.Minor()+1; minor++ {
		for _, level := range []api.Level{api.LevelBaseline, api.LevelRestricted} {
			lv := api.LevelVersion{Level: level, Version: api.MajorMinorVersion(1, minor)}
			for _, p := range pods {
				got := e.Check(lv, p.pod)
				upstream := policy.AggregateCheckResults(e.checks.EvaluatePod(lv, &p.pod.Meta, asAdmitted(p.pod)))
				if got.Allowed != upstream.Allowed || got.Detail() != upstream.ForbiddenDetail() {
					t.Errorf("Check(%s, %s) = %q; upstream says %q", lv, p.name, got.Detail(), upstream.ForbiddenDetail())
				}
				for _, f := range got.Failed {
					c, ok := byID[f.ID]
					if !ok {
						t.Errorf("Check(%s, %s): failed check without a known ID: %+v", lv, p.name, f)
						continue
					}
					vc, ok := versionAt(c, e.clamp(lv).Version)
					if !ok {
						t.Errorf("Check(%s, %s): check %s is not in force", lv, p.name, f.ID)
						continue
					}
					if alone := vc.CheckPod(&p.pod.Meta, asAdmitted(p.pod)); alone.Allowed || alone.ForbiddenReason != f.Reason || alone.ForbiddenDetail != f.Detail {
						t.Errorf("Check(%s, %s): check %s alone = %+v; want the failure %+v", lv, p.name, f.ID, alone, f)
					}
				}
			}
		}
	}
}
