package inventory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// dpkg reads the Debian package database: var/lib/dpkg/status, and the
// var/lib/dpkg/status.d/* files that distroless images write instead (one
// file per package).
type dpkg struct{}

func (dpkg) Name() string { return "dpkg" }

func (dpkg) Required(name string, _ fs.FileMode) bool {
	if name == "var/lib/dpkg/status" {
		return true
	}
	dir, file := path.Split(name)
	return dir == "var/lib/dpkg/status.d/" && !strings.HasSuffix(file, ".md5sums")
}

func (d dpkg) Catalog(ctx context.Context, in Input) ([]Package, error) {
	return eachManifest(ctx, in, d.Name(), func(data []byte, name string) ([]Package, error) {
		return parseDpkgStatus(data, name, in.Distro)
	})
}

// dpkgPresent are the dpkg states (the third word of Status) in which a
// package's files are on disk. "not-installed" and "config-files" are left
// out: only configuration files, or nothing, remain of those.
var dpkgPresent = map[string]bool{
	"installed":        true,
	"half-installed":   true,
	"unpacked":         true,
	"half-configured":  true,
	"triggers-awaited": true,
	"triggers-pending": true,
}

// parseDpkgStatus parses a dpkg status file: RFC 822 style stanzas separated
// by blank lines, with continuation lines starting with a space or tab.
// A stanza without Package or Version is an error; the other stanzas are
// still returned.
func parseDpkgStatus(data []byte, location string, distro *Distro) ([]Package, error) {
	var (
		pkgs []Package
		errs []error
	)
	for n, stanza := range splitStanzas(data) {
		fields := parseStanza(stanza)
		name, version := fields["Package"], fields["Version"]
		if name == "" && version == "" && len(fields) == 0 {
			continue
		}
		if name == "" || version == "" {
			errs = append(errs, fmt.Errorf("stanza %d: no Package or Version field", n+1))
			continue
		}
		if status := strings.Fields(fields["Status"]); len(status) == 3 && !dpkgPresent[status[2]] {
			continue
		}
		src := &Source{Name: name, Version: version}
		if s := fields["Source"]; s != "" {
			srcName, srcVer, ok := strings.Cut(s, " ")
			src.Name = srcName
			if ok {
				src.Version = strings.Trim(strings.TrimSpace(srcVer), "()")
			}
		}
		arch := fields["Architecture"]
		ns, eco := "debian", Debian
		if distro != nil && distro.ID == "ubuntu" {
			ns, eco = "ubuntu", Ubuntu
		}
		q := map[string]string{"arch": arch, "distro": distroQualifier(distro)}
		if src.Name != name || src.Version != version {
			q["upstream"] = src.Name
			if src.Version != version {
				q["upstream"] = src.Name + "@" + src.Version
			}
		}
		p := Package{
			Name:      name,
			Version:   version,
			Ecosystem: eco,
			Type:      "deb",
			PURL:      purl("deb", ns, name, version, q),
			Arch:      arch,
			Source:    src,
			Locations: []Location{{Path: location}},
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, errors.Join(errs...)
}

// splitStanzas splits RFC 822 style control data at blank lines.
func splitStanzas(data []byte) [][]byte {
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	var out [][]byte
	for len(data) > 0 {
		i := bytes.Index(data, []byte("\n\n"))
		if i < 0 {
			out = append(out, data)
			break
		}
		if i > 0 {
			out = append(out, data[:i])
		}
		data = data[i+2:]
		for len(data) > 0 && data[0] == '\n' {
			data = data[1:]
		}
	}
	return out
}

// parseStanza reads "Key: value" lines; continuation lines are appended to
// the previous value after a newline. Keys are case-sensitive as written.
func parseStanza(stanza []byte) map[string]string {
	fields := map[string]string{}
	var last string
	for _, line := range strings.Split(string(stanza), "\n") {
		if line == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if last != "" {
				fields[last] += "\n" + strings.TrimSpace(line)
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			last = ""
			continue
		}
		last = k
		fields[k] = strings.TrimSpace(v)
	}
	return fields
}
