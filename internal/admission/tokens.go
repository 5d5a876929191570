package admission

import (
	"context"
	"fmt"
)

// ServiceAccountTokensConfig configures the serviceAccountTokens policy.
type ServiceAccountTokensConfig struct {
	Common `yaml:",inline"`
	// NeedAPI lists the service accounts ("namespace/name", either part
	// *) whose pods call the API server and so may automount a token.
	NeedAPI []string `yaml:"needAPI,omitempty"`
}

// serviceAccountTokens flags pods that automount a service account
// token they were not said to need.
type serviceAccountTokens struct {
	needAPI []exemption
	exempt  []exemption
}

// policy builds the policy.
func (c *ServiceAccountTokensConfig) policy() (Policy, error) {
	exempt, err := parseExemptions("exempt", c.Exempt)
	if err != nil {
		return nil, err
	}
	needAPI, err := parseExemptions("needAPI", c.NeedAPI)
	if err != nil {
		return nil, err
	}
	return &serviceAccountTokens{needAPI: needAPI, exempt: exempt}, nil
}

// Name implements Policy.
func (p *serviceAccountTokens) Name() string { return ServiceAccountTokensPolicy }

// Check implements Policy: a pod spec whose automountServiceAccountToken
// is not false automounts its service account's token into every
// container, init container and ephemeral container (the service
// account's own automountServiceAccountToken is not known here, so it
// is taken to be the default, true); that is a violation unless the
// service account (serviceAccountName, else "default") is listed in
// needAPI.
func (p *serviceAccountTokens) Check(ctx context.Context, r *Request) (Outcome, error) {
	pod, err := podToJudge(r, p.exempt)
	if pod == nil || err != nil {
		return Outcome{}, err
	}
	if a := pod.Spec.AutomountServiceAccountToken; a != nil && !*a {
		return Outcome{}, nil
	}
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		// The deprecated serviceAccount field, still honoured.
		sa = pod.Spec.DeprecatedServiceAccount
	}
	if sa == "" {
		sa = "default"
	}
	for _, e := range p.needAPI {
		if (e.namespace == "*" || e.namespace == r.Namespace) && (e.name == "*" || e.name == sa) {
			return Outcome{}, nil
		}
	}
	return Outcome{Violations: []string{fmt.Sprintf(
		"the token of service account %q is automounted into every container; set automountServiceAccountToken: false unless the pod calls the API server", sa)}}, nil
}
