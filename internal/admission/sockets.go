package admission

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// RuntimeSockets are the container runtime sockets the runtimeSockets
// policy protects by default, in canonical form (see canonicalHostPath):
// Docker, containerd (also k3s's), CRI-O, cri-dockerd, dockershim and
// Podman, and Docker's and containerd's Windows named pipes.
func RuntimeSockets() []string {
	return []string{
		"/run/docker.sock",
		"/run/containerd/containerd.sock",
		"/run/k3s/containerd/containerd.sock",
		"/run/crio/crio.sock",
		"/run/cri-dockerd.sock",
		"/run/dockershim.sock",
		"/run/podman/podman.sock",
		"/pipe/docker_engine",
		"/pipe/containerd-containerd",
	}
}

// runtimeSocketNames are socket file names denied wherever they are: a
// runtime moved to another directory keeps its socket's name.
var runtimeSocketNames = []string{"docker.sock", "containerd.sock", "crio.sock", "cri-dockerd.sock", "dockershim.sock", "podman.sock"}

// canonicalHostPath returns p as an absolute, clean path with /var/run
// written /run (it is a symbolic link to /run on every current
// distribution), so "/var/run/", "//run//docker.sock" and
// "/var/lib/../run/docker.sock" all compare equal to what they reach.
// Windows paths are lower-cased with / separators
// (`\\.\pipe\docker_engine` becomes /pipe/docker_engine).
func canonicalHostPath(p string) string {
	if strings.Contains(p, `\`) {
		p = strings.ToLower(strings.ReplaceAll(p, `\`, "/"))
	}
	p = path.Clean("/" + p)
	if p == "/var/run" || strings.HasPrefix(p, "/var/run/") {
		p = "/run" + strings.TrimPrefix(p, "/var/run")
	}
	return p
}

// runtimeSockets denies hostPath volumes that reach a container runtime
// socket.
type runtimeSockets struct {
	sockets []string
	exempt  []exemption
}

// RuntimeSocketsConfig configures the runtimeSockets policy.
type RuntimeSocketsConfig struct {
	Common `yaml:",inline"`
	// Paths are more socket paths to protect, besides RuntimeSockets().
	Paths []string `yaml:"paths,omitempty"`
}

// policy builds the policy.
func (c *RuntimeSocketsConfig) policy() (Policy, error) {
	exempt, err := parseExemptions("exempt", c.Exempt)
	if err != nil {
		return nil, err
	}
	p := &runtimeSockets{sockets: RuntimeSockets(), exempt: exempt}
	for i, s := range c.Paths {
		if s == "" {
			return nil, &fieldError{Path: []string{"paths", strconv.Itoa(i)}, Err: fmt.Errorf("empty path")}
		}
		p.sockets = append(p.sockets, canonicalHostPath(s))
	}
	return p, nil
}

// Name implements Policy.
func (p *runtimeSockets) Name() string { return RuntimeSocketsPolicy }

// Check implements Policy: a hostPath volume whose path, cleaned, is a
// runtime socket, a directory holding one (up to "/"), or a file named
// like one is a violation, whichever containers mount it.
func (p *runtimeSockets) Check(ctx context.Context, r *Request) (Outcome, error) {
	pod, err := podToJudge(r, p.exempt)
	if pod == nil || err != nil {
		return Outcome{}, err
	}
	var out Outcome
	for _, v := range pod.Spec.Volumes {
		if v.HostPath == nil {
			continue
		}
		if sock := p.reaches(canonicalHostPath(v.HostPath.Path)); sock != "" {
			what := "is"
			if sock != canonicalHostPath(v.HostPath.Path) {
				what = "holds"
			}
			out.Violations = append(out.Violations, fmt.Sprintf("hostPath volume %q (%s) %s the container runtime socket %s", v.Name, v.HostPath.Path, what, sock))
		}
	}
	return out, nil
}

// reaches returns the socket the canonical path p is, holds or is named
// like, or "".
func (p *runtimeSockets) reaches(hostPath string) string {
	for _, s := range p.sockets {
		if hostPath == s || hostPath == "/" || strings.HasPrefix(s, hostPath+"/") {
			return s
		}
		// Where /var/run is a directory, not a link, /var holds it.
		if strings.HasPrefix(s, "/run/") && strings.HasPrefix("/var"+s, hostPath+"/") {
			return s
		}
	}
	base := path.Base(hostPath)
	for _, n := range runtimeSocketNames {
		if base == n {
			return hostPath
		}
	}
	return ""
}
