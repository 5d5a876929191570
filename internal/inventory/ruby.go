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

// ruby reads Ruby gems: the specification stubs that RubyGems writes for
// every installed gem (…/specifications/NAME-VERSION[-PLATFORM].gemspec, and
// …/specifications/default/ for the gems that ship with Ruby), and Bundler
// lock files (Gemfile.lock, or gems.locked for a gems.rb).
//
// An installed gemspec is Ruby code; it is never evaluated. The cataloger reads
// the literal assignments that RubyGems' Gem::Specification#to_ruby writes
// (s.name = "rack".freeze) and the "# stub:" comment on its second line.
// A gemspec whose name or version is not a string literal (a hand-written
// gemspec in a source tree, which is not in a specifications directory) is
// reported as a [FileError].
type ruby struct{}

func (ruby) Name() string { return "ruby" }

func (ruby) Required(name string, _ fs.FileMode) bool {
	dir, file := path.Split(name)
	switch file {
	case "Gemfile.lock", "gems.locked":
		return true
	}
	if !strings.HasSuffix(file, ".gemspec") {
		return false
	}
	dir = strings.TrimSuffix(dir, "/")
	if strings.HasSuffix(dir, "/specifications/default") || dir == "specifications/default" {
		return true
	}
	return path.Base(dir) == "specifications"
}

func (r ruby) Catalog(ctx context.Context, in Input) ([]Package, error) {
	return eachManifest(ctx, in, r.Name(), func(data []byte, name string) ([]Package, error) {
		if !strings.HasSuffix(name, ".gemspec") {
			return parseGemfileLock(data, name)
		}
		p, err := parseGemspec(data, name)
		if err != nil {
			return nil, err
		}
		return []Package{p}, nil
	})
}

// gemPackage builds the package of a gem. A platform other than "ruby" (a
// precompiled gem such as nokogiri-1.16.0-x86_64-linux) becomes the purl
// "platform" qualifier.
func gemPackage(name, version, platform string, licenses []string, location string) Package {
	if platform == "ruby" {
		platform = ""
	}
	return Package{
		Name:      name,
		Version:   version,
		Ecosystem: RubyGems,
		Type:      "gem",
		PURL:      purl("gem", "", name, version, map[string]string{"platform": platform}),
		Licenses:  licenses,
		Locations: []Location{{Path: location}},
	}
}

// parseGemspec reads an installed gem's specification stub. It takes name,
// version and platform from the "s.name = …" assignments, falling back to
// the "# stub: NAME VERSION PLATFORM REQUIRE_PATHS" comment, and the
// licences from s.licenses or s.license. It returns an error when neither
// gives a name and a version.
func parseGemspec(data []byte, location string) (Package, error) {
	var name, version, platform, stubName, stubVersion, stubPlatform string
	var licenses []string
	for line := range bytes.Lines(data) {
		text := strings.TrimSpace(string(line))
		if rest, ok := strings.CutPrefix(text, "# stub: "); ok && stubName == "" {
			// The first stub line names the gem; a second one, when
			// present, lists extensions.
			f := strings.Fields(rest)
			if len(f) >= 3 {
				stubName, stubVersion, stubPlatform = f[0], f[1], f[2]
			}
			continue
		}
		attr, value, ok := gemspecAssignment(text)
		if !ok {
			continue
		}
		switch attr {
		case "name":
			if s, ok := rubyString(value); ok && name == "" {
				name = s
			}
		case "version":
			if s, ok := rubyString(value); ok && version == "" {
				version = s
			}
		case "platform":
			if s, ok := rubyString(value); ok && platform == "" {
				platform = s
			}
		case "license":
			if s, ok := rubyString(value); ok && licenses == nil && s != "" {
				licenses = []string{s}
			}
		case "licenses":
			if l, ok := rubyStringArray(value); ok && licenses == nil && len(l) > 0 {
				licenses = l
			}
		}
	}
	if name == "" {
		name = stubName
	}
	if version == "" {
		version = stubVersion
	}
	if platform == "" {
		platform = stubPlatform
	}
	if name == "" || version == "" {
		return Package{}, errors.New("no literal s.name and s.version, and no stub line")
	}
	return gemPackage(name, version, platform, licenses, location), nil
}

// gemspecAssignment splits a line "VAR.ATTR = VALUE" where VAR is a Ruby
// identifier (s, spec). It does not match ATTR == VALUE or ATTR += VALUE.
func gemspecAssignment(line string) (attr, value string, ok bool) {
	recv, rest, ok := strings.Cut(line, ".")
	if !ok || !isRubyIdent(recv) {
		return "", "", false
	}
	attr, value, ok = strings.Cut(rest, "=")
	if !ok || strings.HasPrefix(value, "=") || strings.HasPrefix(value, "~") {
		return "", "", false
	}
	attr = strings.TrimSpace(attr)
	if !isRubyIdent(attr) {
		return "", "", false
	}
	return attr, strings.TrimSpace(value), true
}

// isRubyIdent reports whether s is a plain lower-case Ruby identifier.
func isRubyIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// rubyString reads a Ruby string literal at the start of s: "…", '…' or
// %q<…>, optionally followed by .freeze, and nothing else but a comment.
// Interpolation (#{…}) is not evaluated: such a literal is refused.
func rubyString(s string) (string, bool) {
	v, rest, ok := cutRubyString(s)
	if !ok {
		return "", false
	}
	rest = strings.TrimSpace(strings.TrimPrefix(rest, ".freeze"))
	if rest != "" && !strings.HasPrefix(rest, "#") {
		return "", false
	}
	return v, true
}

// rubyStringArray reads a Ruby array of string literals, ["a".freeze, "b"],
// or a %w[a b] word list.
func rubyStringArray(s string) ([]string, bool) {
	if len(s) > 3 && (strings.HasPrefix(s, "%w") || strings.HasPrefix(s, "%W")) {
		end := closingDelim(s[2])
		inner, _, ok := strings.Cut(s[3:], string(end))
		if !ok {
			return nil, false
		}
		return strings.Fields(inner), true
	}
	rest, ok := strings.CutPrefix(s, "[")
	if !ok {
		return nil, false
	}
	out := []string{}
	for {
		rest = strings.TrimSpace(rest)
		if strings.HasPrefix(rest, "]") {
			return out, true
		}
		v, after, ok := cutRubyString(rest)
		if !ok {
			return nil, false
		}
		out = append(out, v)
		rest = strings.TrimSpace(strings.TrimPrefix(after, ".freeze"))
		if r, ok := strings.CutPrefix(rest, ","); ok {
			rest = r
		} else if !strings.HasPrefix(rest, "]") {
			return nil, false
		}
	}
}

// cutRubyString reads one string literal at the start of s and returns its
// value and what follows it.
func cutRubyString(s string) (value, rest string, ok bool) {
	if s == "" {
		return "", "", false
	}
	var quote byte
	switch {
	case s[0] == '"' || s[0] == '\'':
		quote, s = s[0], s[1:]
	case len(s) > 2 && s[0] == '%' && (s[1] == 'q' || s[1] == 'Q'):
		quote, s = closingDelim(s[2]), s[3:]
	default:
		return "", "", false
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == quote:
			v := b.String()
			if quote != '\'' && strings.Contains(v, "#{") {
				return "", "", false
			}
			return v, s[i+1:], true
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		default:
			b.WriteByte(c)
		}
	}
	return "", "", false
}

// closingDelim is the delimiter that closes a %q or %w literal opened by c.
func closingDelim(c byte) byte {
	switch c {
	case '(':
		return ')'
	case '[':
		return ']'
	case '{':
		return '}'
	case '<':
		return '>'
	}
	return c
}

// parseGemfileLock reads a Bundler lock file. It reports the gems listed
// under "specs:" in the GEM, GIT and PATH sections (four-space indented
// "NAME (VERSION)" or "NAME (VERSION-PLATFORM)" lines); the six-space
// indented lines under them are dependency requirements and are skipped, as
// are the PLATFORMS, DEPENDENCIES, CHECKSUMS and other sections. A spec line
// that cannot be read is an error; the other gems are still returned.
func parseGemfileLock(data []byte, location string) ([]Package, error) {
	var (
		pkgs    []Package
		errs    []error
		section string
		inSpecs bool
		n       int
	)
	for line := range bytes.Lines(data) {
		n++
		text := strings.TrimRight(string(line), "\r\n")
		if strings.TrimSpace(text) == "" {
			continue
		}
		indent := len(text) - len(strings.TrimLeft(text, " "))
		switch {
		case indent == 0:
			section, inSpecs = strings.TrimSpace(text), false
			continue
		case section != "GEM" && section != "GIT" && section != "PATH":
			continue
		case indent == 2:
			inSpecs = strings.TrimSpace(text) == "specs:"
			continue
		case indent != 4 || !inSpecs:
			continue
		}
		name, version, platform, err := parseGemSpecLine(text[4:])
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", n, err))
			continue
		}
		pkgs = append(pkgs, gemPackage(name, version, platform, nil, location))
	}
	return pkgs, errors.Join(errs...)
}

// parseGemSpecLine splits "NAME (VERSION[-PLATFORM])" as Bundler writes it:
// the version ends at the first "-".
func parseGemSpecLine(s string) (name, version, platform string, err error) {
	name, rest, ok := strings.Cut(s, " (")
	if !ok || name == "" || strings.ContainsAny(name, " \t") || !strings.HasSuffix(rest, ")") {
		return "", "", "", fmt.Errorf("spec %q: want NAME (VERSION)", s)
	}
	version, platform, _ = strings.Cut(strings.TrimSuffix(rest, ")"), "-")
	if version == "" || strings.ContainsAny(version, " \t()") {
		return "", "", "", fmt.Errorf("spec %q: bad version", s)
	}
	return name, version, platform, nil
}
