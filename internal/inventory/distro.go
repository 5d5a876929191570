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
	"syscall"
)

// distroFiles are the files DetectDistro may read.
var distroFiles = func() map[string]bool {
	m := map[string]bool{}
	for _, src := range distroSources {
		m[src.name] = true
	}
	return m
}()

// maxReleaseFile bounds how much of a release file is read.
const maxReleaseFile = 64 << 10

// distroCataloger is the Cataloger of the *FileError values DetectDistro
// returns and of the problems they become.
const distroCataloger = "distro"

// distroSources are the release files DetectDistro reads, in order, with
// what each says: nil when it names no distro.
var distroSources = []struct {
	name  string
	parse func(data []byte) *Distro
}{
	{"etc/os-release", parseOSReleaseID},
	{"usr/lib/os-release", parseOSReleaseID},
	{"etc/lsb-release", parseLSBRelease},
	{"etc/alpine-release", parseAlpineRelease},
	{"etc/centos-release", func(data []byte) *Distro { return parseRedHatRelease(string(data)) }},
	{"etc/redhat-release", func(data []byte) *Distro { return parseRedHatRelease(string(data)) }},
	{"etc/system-release", func(data []byte) *Distro { return parseRedHatRelease(string(data)) }},
	{"etc/debian_version", parseDebianVersion},
}

// DetectDistro identifies the operating system of fsys from /etc/os-release,
// then /usr/lib/os-release, then the older release files (lsb-release,
// alpine-release, centos-release, redhat-release, system-release,
// debian_version): the first that names a distro wins. It returns nil and
// no error when none exists or none names a distro.
//
// A release file that exists but cannot be read (a directory, a FIFO, a
// file larger than 64 KiB, a symbolic link loop, a parent that is not a
// directory) does not stop the search, since an image controls its own
// files: it is skipped and the next one is tried. The failures are returned
// as an error joining one *[FileError] per file, with Cataloger "distro",
// alongside whatever distro the other files gave. So the *Distro may be
// non-nil with a non-nil error: callers should use the distro and report
// the error as a problem, not abandon the scan.
func DetectDistro(fsys fs.FS) (*Distro, error) {
	var errs []error
	for _, src := range distroSources {
		data, err := readSmall(fsys, src.name)
		if err != nil {
			// ENOTDIR (etc is a file) means the file is not there either.
			if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
				errs = append(errs, &FileError{Cataloger: distroCataloger, Path: src.name, Err: err})
			}
			continue
		}
		if d := src.parse(data); d != nil {
			return d, errors.Join(errs...)
		}
	}
	return nil, errors.Join(errs...)
}

// parseOSReleaseID parses an os-release file, returning nil when it has no
// ID.
func parseOSReleaseID(data []byte) *Distro {
	if d := ParseOSRelease(data); d.ID != "" {
		return d
	}
	return nil
}

// parseLSBRelease parses /etc/lsb-release, returning nil when it has no
// DISTRIB_ID.
func parseLSBRelease(data []byte) *Distro {
	kv := parseKeyValues(data)
	id := strings.ToLower(kv["DISTRIB_ID"])
	if id == "" {
		return nil
	}
	return &Distro{ID: id, VersionID: kv["DISTRIB_RELEASE"], VersionCodename: kv["DISTRIB_CODENAME"], PrettyName: kv["DISTRIB_DESCRIPTION"]}
}

// parseAlpineRelease parses /etc/alpine-release, which holds the version.
func parseAlpineRelease(data []byte) *Distro {
	v := strings.TrimSpace(string(data))
	return &Distro{ID: "alpine", VersionID: v, PrettyName: "Alpine Linux v" + v}
}

// parseDebianVersion parses /etc/debian_version: "12.5", or "trixie/sid"
// for testing and unstable, which have no version number.
func parseDebianVersion(data []byte) *Distro {
	v := strings.TrimSpace(string(data))
	major, _, _ := strings.Cut(v, ".")
	if _, err := strconv.Atoi(major); err != nil {
		major = ""
	}
	return &Distro{ID: "debian", VersionID: major, PrettyName: "Debian GNU/Linux " + v}
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
