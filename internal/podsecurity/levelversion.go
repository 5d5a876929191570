package podsecurity

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/pod-security-admission/api"
)

// ErrInvalidLevelVersion means a LEVEL[:VERSION] string does not parse.
var ErrInvalidLevelVersion = errors.New("invalid pod security level")

// ParseLevelVersion parses LEVEL[:VERSION] as --pod-security takes it:
// LEVEL is privileged, baseline or restricted, VERSION is "latest" (the
// default) or "v1.X", as in the pod-security.kubernetes.io/*-version
// namespace labels; "restricted", "baseline:v1.30" and
// "privileged:latest" parse. Errors wrap ErrInvalidLevelVersion.
func ParseLevelVersion(s string) (api.LevelVersion, error) {
	levelText, versionText, hasVersion := strings.Cut(s, ":")
	level, err := api.ParseLevel(levelText)
	if err != nil {
		return api.LevelVersion{}, fmt.Errorf("%w %q: level %w", ErrInvalidLevelVersion, s, err)
	}
	version := api.LatestVersion()
	if hasVersion {
		if version, err = api.ParseVersion(versionText); err != nil {
			return api.LevelVersion{}, fmt.Errorf("%w %q: version %w", ErrInvalidLevelVersion, s, err)
		}
	}
	return api.LevelVersion{Level: level, Version: version}, nil
}
