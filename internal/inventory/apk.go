package inventory

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// apk reads the Alpine package database, lib/apk/db/installed (also used by
// Wolfi and Chainguard images).
type apk struct{}

func (apk) Name() string { return "apk" }

func (apk) Required(name string, _ fs.FileMode) bool {
	return name == "lib/apk/db/installed"
}

func (a apk) Catalog(ctx context.Context, in Input) ([]Package, error) {
	return eachManifest(ctx, in, a.Name(), func(data []byte, name string) ([]Package, error) {
		return parseAPKInstalled(data, name, in.Distro)
	})
}

// parseAPKInstalled parses the apk "installed" database: stanzas of
// single-letter "X:value" lines separated by blank lines (P name, V version,
// A architecture, o origin, L licence).
func parseAPKInstalled(data []byte, location string, distro *Distro) ([]Package, error) {
	ns, eco := "alpine", Alpine
	if distro != nil {
		switch distro.ID {
		case "wolfi":
			ns, eco = "wolfi", Wolfi
		case "chainguard":
			ns, eco = "chainguard", Chainguard
		}
	}
	var (
		pkgs []Package
		errs []error
	)
	for n, stanza := range splitStanzas(data) {
		fields := map[byte]string{}
		for _, line := range strings.Split(string(stanza), "\n") {
			if len(line) < 2 || line[1] != ':' {
				continue
			}
			if _, dup := fields[line[0]]; !dup {
				fields[line[0]] = strings.TrimSpace(line[2:])
			}
		}
		name, version := fields['P'], fields['V']
		if name == "" || version == "" {
			errs = append(errs, fmt.Errorf("stanza %d: no P (name) or V (version) line", n+1))
			continue
		}
		origin := fields['o']
		if origin == "" {
			origin = name
		}
		arch := fields['A']
		q := map[string]string{"arch": arch, "distro": distroQualifier(distro)}
		if origin != name {
			q["upstream"] = origin
		}
		p := Package{
			Name:      name,
			Version:   version,
			Ecosystem: eco,
			Type:      "apk",
			PURL:      purl("apk", ns, name, version, q),
			Arch:      arch,
			Source:    &Source{Name: origin, Version: version},
			Locations: []Location{{Path: location}},
		}
		if l := fields['L']; l != "" {
			p.Licenses = []string{l}
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, errors.Join(errs...)
}
