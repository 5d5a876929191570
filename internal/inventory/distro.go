package inventory

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
)

// distroFiles are the files DetectDistro may read.
var distroFiles = map[string]bool{
	"etc/os-release":     true,
	"usr/lib/os-release": true,
	"etc/lsb-release":    true,
	"etc/alpine-release": true,
	"etc/debian_version": true,
	"etc/redhat-release": true,
	"etc/centos-release": true,
	"etc/system-release": true,
}

// maxReleaseFile bounds how much of a release file is read.
const maxReleaseFile = 64 << 10

// DetectDistro identifies the operating system of fsys from /etc/os-release,
// then /usr/lib/os-release, then the older release files (lsb-release,
// alpine-release, redhat-release, centos-release, system-release,
// debian_version). It returns nil and no error when none exists, and an error
// only when a release file exists but cannot be read.
func DetectDistro(fsys fs.FS) (*Distro, error) {
	for _, name := range []string{"etc/os-release", "usr/lib/os-release"} {
		data, err := readSmall(fsys, name)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, err
		}
		if d := ParseOSRelease(data); d.ID != "" {
			return d, nil
		}
	}
	if data, err := readSmall(fsys, "etc/lsb-release"); err == nil {
		kv := parseKeyValues(data)
		if id := strings.ToLower(kv["DISTRIB_ID"]); id != "" {
			return &Distro{ID: id, VersionID: kv["DISTRIB_RELEASE"], VersionCodename: kv["DISTRIB_CODENAME"], PrettyName: kv["DISTRIB_DESCRIPTION"]}, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if data, err := readSmall(fsys, "etc/alpine-release"); err == nil {
		v := strings.TrimSpace(string(data))
		return &Distro{ID: "alpine", VersionID: v, PrettyName: "Alpine Linux v" + v}, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, name := range []string{"etc/centos-release", "etc/redhat-release", "etc/system-release"} {
		data, err := readSmall(fsys, name)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, err
		}
		if d := parseRedHatRelease(string(data)); d != nil {
			return d, nil
		}
	}
	if data, err := readSmall(fsys, "etc/debian_version"); err == nil {
		v := strings.TrimSpace(string(data))
		major, _, _ := strings.Cut(v, ".")
		if _, err := strconv.Atoi(major); err != nil {
			major = "" // testing/sid say "trixie/sid"
		}
		return &Distro{ID: "debian", VersionID: major, PrettyName: "Debian GNU/Linux " + v}, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return nil, nil
}

// ParseOSRelease parses the os-release(5) format. Unknown keys are ignored; a
// missing ID gives a Distro with an empty ID.
func ParseOSRelease(data []byte) *Distro {
	kv := parseKeyValues(data)
	d := &Distro{
		ID:              strings.ToLower(kv["ID"]),
		VersionID:       kv["VERSION_ID"],
		VersionCodename: kv["VERSION_CODENAME"],
		PrettyName:      kv["PRETTY_NAME"],
	}
	if like := strings.Fields(kv["ID_LIKE"]); len(like) > 0 {
		d.IDLike = like
	}
	return d
}

// parseKeyValues reads KEY=value lines with shell-style quoting, as
// os-release and lsb-release use.
func parseKeyValues(data []byte) map[string]string {
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 4096), maxReleaseFile)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		kv[strings.TrimSpace(k)] = unquote(strings.TrimSpace(v))
	}
	return kv
}

// unquote removes os-release quoting: "..." with backslash escapes, or '...'.
func unquote(v string) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return v[1 : len(v)-1]
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
		var b strings.Builder
		for i := 0; i < len(v); i++ {
			if v[i] == '\\' && i+1 < len(v) {
				i++
			}
			b.WriteByte(v[i])
		}
		return b.String()
	}
	return v
}

var redHatRelease = regexp.MustCompile(`^(.*?)\s+release\s+([0-9][0-9.]*)`)

// parseRedHatRelease reads "CentOS Linux release 7.9.2009 (Core)" and the like.
func parseRedHatRelease(s string) *Distro {
	m := redHatRelease.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return nil
	}
	name := strings.ToLower(m[1])
	id := "rhel"
	switch {
	case strings.Contains(name, "centos"):
		id = "centos"
	case strings.Contains(name, "fedora"):
		id = "fedora"
	case strings.Contains(name, "rocky"):
		id = "rocky"
	case strings.Contains(name, "alma"):
		id = "almalinux"
	case strings.Contains(name, "amazon"):
		id = "amzn"
	case strings.Contains(name, "oracle"):
		id = "ol"
	}
	return &Distro{ID: id, VersionID: m[2], PrettyName: strings.TrimSpace(s)}
}

// readSmall reads a release file of at most maxReleaseFile bytes.
func readSmall(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", name, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("read %s: not a regular file", name)
	}
	if info.Size() > maxReleaseFile {
		return nil, fmt.Errorf("read %s: %d bytes is more than the %d a release file may have", name, info.Size(), maxReleaseFile)
	}
	buf := make([]byte, info.Size())
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return buf, nil
}
