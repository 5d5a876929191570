package admission

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kubeshield/kubeshield/internal/workload"
	"k8s.io/apimachinery/pkg/util/validation"
)

// The names of the built-in policies, which are also their sections in
// the configuration file.
const (
	RuntimeSocketsPolicy       = "runtimeSockets"
	ImagesPolicy               = "images"
	RegistriesPolicy           = "registries"
	ServiceAccountTokensPolicy = "serviceAccountTokens"
)

// exemption is one "namespace/name" entry; "*" matches any.
type exemption struct {
	namespace, name string
}

// parseExemption reads "namespace/name", either part "*".
func parseExemption(s string) (exemption, error) {
	ns, name, ok := strings.Cut(s, "/")
	if !ok || ns == "" || name == "" {
		return exemption{}, fmt.Errorf("exemption %q: want namespace/name (either may be *)", s)
	}
	for _, part := range []string{ns, name} {
		if part == "*" {
			continue
		}
		if errs := validation.IsDNS1123Subdomain(part); len(errs) > 0 {
			return exemption{}, fmt.Errorf("exemption %q: %q: %s", s, part, errs[0])
		}
	}
	return exemption{ns, name}, nil
}

// parseExemptions reads the list of exemptions of field; the error
// names the field and index.
func parseExemptions(field string, list []string) ([]exemption, error) {
	var out []exemption
	for i, s := range list {
		e, err := parseExemption(s)
		if err != nil {
			return nil, &fieldError{Path: []string{field, strconv.Itoa(i)}, Err: err}
		}
		out = append(out, e)
	}
	return out, nil
}

// exempted reports whether r's object is exempted by one of list: its
// namespace matches and its name, or the name of the workload that
// controls it, does. A pod of a Deployment matches the Deployment's name
// (its ReplicaSet is "<deployment>-<pod-template-hash>"), a pod of a
// CronJob's Job matches the CronJob's ("<cronjob>-<schedule time>"), a
// ReplicaSet or Job matches its Deployment or CronJob.
func exempted(list []exemption, r *Request) bool {
	for _, e := range list {
		if e.namespace != "*" && e.namespace != r.Namespace {
			continue
		}
		if e.name == "*" || e.name == r.Name {
			return true
		}
		c := r.Controller
		if c == nil {
			continue
		}
		if c.Name == e.name {
			return true
		}
		suffix, ok := strings.CutPrefix(c.Name, e.name+"-")
		if !ok {
			continue
		}
		switch c.Kind {
		case "ReplicaSet":
			if h := r.Labels["pod-template-hash"]; h != "" && suffix == h {
				return true
			}
		case "Job":
			if _, err := strconv.ParseUint(suffix, 10, 64); err == nil {
				return true
			}
		}
	}
	return false
}

// container is one container of a pod spec, of any of the three lists.
type container struct {
	// Field is "containers", "initContainers" or "ephemeralContainers".
	Field string
	// Index is its index in that list.
	Index int
	// Name and Image are the container's.
	Name, Image string
	// ImagePath is the JSON pointer of its image field in the object.
	ImagePath string
}

// String names the container in messages: `container "app"`,
// `init container "setup"`, `ephemeral container "debug"`.
func (c container) String() string {
	switch c.Field {
	case "initContainers":
		return fmt.Sprintf("init container %q", c.Name)
	case "ephemeralContainers":
		return fmt.Sprintf("ephemeral container %q", c.Name)
	}
	return fmt.Sprintf("container %q", c.Name)
}

// containers lists every container of the pod: containers, then init
// containers, then ephemeral containers.
func containers(p *workload.Pod) []container {
	var out []container
	add := func(field string, i int, name, image string) {
		out = append(out, container{field, i, name, image, fmt.Sprintf("%s/%s/%d/image", p.Kind.SpecPath, field, i)})
	}
	for i, c := range p.Spec.Containers {
		add("containers", i, c.Name, c.Image)
	}
	for i, c := range p.Spec.InitContainers {
		add("initContainers", i, c.Name, c.Image)
	}
	for i, c := range p.Spec.EphemeralContainers {
		add("ephemeralContainers", i, c.Name, c.Image)
	}
	return out
}

// podToJudge returns the pod a built-in policy judges, or nil when there
// is none to judge: the request carries no pod, the update leaves the pod
// spec unchanged, or the object is exempted. The error is the request's
// PodErr.
func podToJudge(r *Request, exempt []exemption) (*workload.Pod, error) {
	if r.PodErr != nil {
		return nil, r.PodErr
	}
	if r.Pod == nil || r.SpecUnchanged() || exempted(exempt, r) {
		return nil, nil
	}
	return r.Pod, nil
}

// fieldError is an invalid value of a configuration section, at Path
// (keys and list indexes) under the section.
type fieldError struct {
	Path []string
	Err  error
}

func (e *fieldError) Error() string { return strings.Join(e.Path, ".") + ": " + e.Err.Error() }
func (e *fieldError) Unwrap() error { return e.Err }
