// Package report writes scan results in the formats people read and tools
// exchange. The SBOM writers, [WriteCycloneDX], [WriteSPDX],
// [WriteInventoryJSON] and [WriteInventoryTable], describe an [SBOM]: the
// package inventory of one image or directory. The scan writers,
// [WriteScanTable], [WriteScanJSON], [WriteSARIF] and [WriteCycloneDXScan],
// describe a [Scan]: the findings about it. [WriteRulesMarkdown] writes the
// rules reference.
package report

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/package-url/packageurl-go"

	"github.com/kubeshield/kubeshield/internal/inventory"
)

// ErrInvalidSBOM means an [SBOM] lacks what a document needs: a known
// subject kind, a subject name, or a well-formed subject digest.
var ErrInvalidSBOM = errors.New("invalid SBOM")

// SBOM is what an SBOM writer describes.
type SBOM struct {
	// Subject is what was scanned.
	Subject Subject
	// Result holds its packages and distro; nil is an empty inventory.
	Result *inventory.Result
	// Tool is the program that wrote the document; an empty Name means
	// "kubeshield".
	Tool Tool
	// Created is the document timestamp, written in UTC to the second; the
	// zero time means the time of writing.
	Created time.Time
}

// SubjectKind says what an [SBOM] describes.
type SubjectKind string

// The kinds of subject.
const (
	// KindImage is a container image.
	KindImage SubjectKind = "image"
	// KindDirectory is a directory or root filesystem on disk.
	KindDirectory SubjectKind = "directory"
	// KindCluster is a Kubernetes cluster, live or as manifests, the
	// subject of cluster findings reports (RBAC risks); SBOM writers do
	// not take it.
	KindCluster SubjectKind = "cluster"
)

// Subject is the image or directory an [SBOM] describes.
type Subject struct {
	// Kind is KindImage, KindDirectory or KindCluster.
	Kind SubjectKind
	// Name is the image reference or the path as the user gave it.
	Name string
	// Digest is the manifest digest of an image ("sha256:…"); it may be
	// empty.
	Digest string
	// ImageID is the config digest of an image; it may be empty.
	ImageID string
	// Platform is the platform of an image ("linux/amd64"); it may be empty.
	Platform string
	// Layers are the layer digests of an image, bottom first.
	Layers []string
}

// Tool names the program that writes a document.
type Tool struct {
	// Name is the program name.
	Name string
	// Version is the program version; it may be empty.
	Version string
}

// defaultTool is the Tool.Name used when none is given.
const defaultTool = "kubeshield"

// propertyPrefix is the namespace of the CycloneDX properties the writers
// add.
const propertyPrefix = "kubeshield:"

// normalize checks s and fills in its defaults: the tool name, the creation
// time and an empty result. It returns an error wrapping ErrInvalidSBOM when
// the subject cannot be described.
func (s SBOM) normalize() (SBOM, error) {
	switch s.Subject.Kind {
	case KindImage, KindDirectory, KindCluster:
	default:
		return s, fmt.Errorf("subject kind %q: %w", s.Subject.Kind, ErrInvalidSBOM)
	}
	if strings.TrimSpace(s.Subject.Name) == "" {
		return s, fmt.Errorf("empty subject name: %w", ErrInvalidSBOM)
	}
	if s.Subject.Digest != "" {
		if _, _, err := splitDigest(s.Subject.Digest); err != nil {
			return s, err
		}
	}
	if s.Tool.Name == "" {
		s.Tool.Name = defaultTool
	}
	if s.Created.IsZero() {
		s.Created = time.Now()
	}
	s.Created = s.Created.UTC().Truncate(time.Second)
	if s.Result == nil {
		s.Result = &inventory.Result{}
	}
	return s, nil
}

// digestHexLen gives the hex length of the digest algorithms a subject
// digest may use.
var digestHexLen = map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}

// splitDigest splits an OCI digest ("sha256:…") into its algorithm and its
// lower-case hex value. It returns an error wrapping ErrInvalidSBOM when d
// is not such a digest.
func splitDigest(d string) (alg, value string, err error) {
	alg, value, ok := strings.Cut(d, ":")
	n, known := digestHexLen[alg]
	if !ok || !known || len(value) != n || strings.Trim(value, "0123456789abcdef") != "" {
		return "", "", fmt.Errorf("subject digest %q: %w", d, ErrInvalidSBOM)
	}
	return alg, value, nil
}

// packageIDs returns a stable identifier for each package: the first 16 hex
// digits of a SHA-256 over its purl, ecosystem, type, name, version and
// locations. The same package found at the same place gets the same
// identifier in every document; the rare duplicate gets a "-2", "-3"…
// suffix in list order.
func packageIDs(pkgs []inventory.Package) []string {
	ids := make([]string, len(pkgs))
	seen := make(map[string]bool, len(pkgs))
	for i, p := range pkgs {
		fields := []string{p.PURL, string(p.Ecosystem), p.Type, p.Name, p.Version}
		for _, l := range p.Locations {
			fields = append(fields, l.Path, l.Layer)
		}
		id := shortHash(fields...)
		if seen[id] {
			n := 2
			for seen[id+"-"+strconv.Itoa(n)] {
				n++
			}
			id += "-" + strconv.Itoa(n)
		}
		seen[id] = true
		ids[i] = id
	}
	return ids
}

// shortHash returns the first 16 hex digits of a SHA-256 over the fields,
// each terminated by a NUL byte.
func shortHash(fields ...string) string {
	h := sha256.New()
	for _, f := range fields {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// documentSpace is the UUID namespace of the document identifiers: the
// name-based UUID of the module path in the URL namespace.
var documentSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/kubeshield/kubeshield/internal/report"))

// documentUUID returns the name-based (version 5) UUID of an encoded
// document of the given format. The writers encode the document without its
// identifier, derive the identifier from those bytes and encode it again, so
// the same input, timestamp included, always yields the same identifier and
// any difference in content yields another.
func documentUUID(format string, doc []byte) uuid.UUID {
	return uuid.NewSHA1(documentSpace, append([]byte(format+"\x00"), doc...))
}

// subjectID returns a stable identifier of the subject.
func subjectID(sub Subject) string {
	return shortHash(string(sub.Kind), sub.Name, sub.Digest)
}

// reference matches an image reference's repository part: an optional
// registry host (with a port) followed by lower-case path components.
var reference = regexp.MustCompile(`^(?:[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)

// imagePURL returns the pkg:oci package URL of an image subject, or "" when
// it has no digest (the purl version is required). The repository_url and
// tag qualifiers come from the subject name when it is an image reference
// (see isPath); Docker Hub short names are expanded as Docker does ("nginx" is
// index.docker.io/library/nginx). The arch qualifier comes from the
// platform.
func imagePURL(sub Subject) string {
	if sub.Kind != KindImage || sub.Digest == "" {
		return ""
	}
	repo, tag := splitReference(sub.Name)
	var name string
	var qs packageurl.Qualifiers
	if _, arch, ok := strings.Cut(sub.Platform, "/"); ok {
		arch, _, _ = strings.Cut(arch, "/")
		qs = append(qs, packageurl.Qualifier{Key: "arch", Value: arch})
	}
	if !isPath(sub.Name) && reference.MatchString(repo) {
		repo = dockerHub(repo)
		name = path.Base(repo)
		qs = append(qs, packageurl.Qualifier{Key: "repository_url", Value: repo})
		if tag != "" {
			qs = append(qs, packageurl.Qualifier{Key: "tag", Value: tag})
		}
	} else {
		// Not a reference (an archive or layout path): name the image after
		// the file.
		name = path.Base(strings.TrimRight(sub.Name, "/"))
		for _, ext := range archiveExts {
			name = strings.TrimSuffix(name, ext)
		}
		name = strings.ToLower(name)
	}
	return packageurl.NewPackageURL(packageurl.TypeOCI, "", name, sub.Digest, qs, "").ToString()
}

// archiveExts are the file name extensions of image archives, longest
// first.
var archiveExts = []string{".tar.gz", ".tgz", ".tar"}

// isPath reports whether an image name is a file path rather than a
// reference: it starts with "/", "./" or "../", or names an archive.
func isPath(name string) bool {
	for _, prefix := range []string{"/", "./", "../"} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	for _, ext := range archiveExts {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// splitReference splits an image reference into its repository and tag,
// dropping any digest.
func splitReference(ref string) (repo, tag string) {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		return ref[:i], ref[i+1:]
	}
	return ref, ""
}

// dockerHub expands a Docker Hub repository to its full name.
func dockerHub(repo string) string {
	first, rest, ok := strings.Cut(repo, "/")
	if ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		if first == "docker.io" {
			first = "index.docker.io"
		}
		if first == "index.docker.io" && !strings.Contains(rest, "/") {
			rest = "library/" + rest
		}
		return first + "/" + rest
	}
	if !ok {
		return "index.docker.io/library/" + repo
	}
	return "index.docker.io/" + repo
}

// splitName splits a Maven "group:artifact" or a scoped npm "@scope/name"
// into the group and name that CycloneDX records separately. Other packages
// keep their whole name.
func splitName(p inventory.Package) (group, name string) {
	switch p.Ecosystem {
	case inventory.Maven:
		if g, a, ok := strings.Cut(p.Name, ":"); ok {
			return g, a
		}
	case inventory.NPM:
		if strings.HasPrefix(p.Name, "@") {
			if g, n, ok := strings.Cut(p.Name, "/"); ok {
				return g, n
			}
		}
	}
	return "", p.Name
}
