package inventory

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// java reads Java archives (jar, war, ear and the plug-in formats built on
// them) and the archives nested inside them.
//
// Each META-INF/maven/<groupId>/<artifactId>/pom.properties in an archive is
// one package: a shaded or fat jar holds several. An archive without any is
// identified from the main section of its META-INF/MANIFEST.MF and its file
// name (see [javaManifestPackage]); an archive that yields no version is
// skipped. Nested archives (WEB-INF/lib/*.jar in a war, BOOT-INF/lib/*.jar
// in a Spring Boot jar, the wars of an ear, any other archive entry) are read
// to a depth of maxJavaNesting, and located as "outer.war!WEB-INF/lib/x.jar".
//
// The work on one top-level archive is bounded: at most maxJavaExpanded bytes
// are decompressed or read as central directories in all, at most
// maxJavaArchives nested archives are opened, and a nested archive or a
// metadata entry that expands past its own limit is an error, not a package.
type java struct{}

// Limits on the work done for one top-level Java archive.
const (
	// maxJavaNesting is how deep archives inside archives are read: an ear
	// holding a war holding a fat jar holding a jar is nesting 3.
	maxJavaNesting = 4
	// maxJavaExpanded bounds the bytes decompressed, plus the bytes of central
	// directories read, for one top-level archive and everything inside it.
	maxJavaExpanded = 1 << 30
	// maxJavaNested bounds the decompressed size of one nested archive, which
	// is held in memory while it is read.
	maxJavaNested = 128 << 20
	// maxJavaMeta bounds the decompressed size of a pom.properties or
	// MANIFEST.MF entry.
	maxJavaMeta = 1 << 20
	// maxJavaDirectory bounds the central directory of one archive, which
	// archive/zip holds in memory (a few times its size).
	maxJavaDirectory = 64 << 20
	// maxJavaArchives bounds the number of nested archives opened under one
	// top-level archive.
	maxJavaArchives = 10000
	// maxJavaGrowHint bounds the memory reserved up front for an entry being
	// decompressed. The size an entry's header declares is only a hint (a
	// nested jar may claim 128 MiB and hold a few bytes); past this the
	// buffer grows with the data actually read, within the limits above.
	maxJavaGrowHint = 1 << 20
)

// javaLimits are the limits of one walk; tests lower them.
type javaLimits struct {
	nesting   int
	expanded  int64
	nested    int64
	meta      int64
	directory int64
	archives  int
}

// defaultJavaLimits returns the limits the cataloger uses.
func defaultJavaLimits() javaLimits {
	return javaLimits{
		nesting:   maxJavaNesting,
		expanded:  maxJavaExpanded,
		nested:    maxJavaNested,
		meta:      maxJavaMeta,
		directory: maxJavaDirectory,
		archives:  maxJavaArchives,
	}
}

// javaArchiveExts are the file name extensions of the zip-based Java
// archives: jar, web (war), enterprise (ear), Jenkins plug-in (jpi, hpi),
// JPA persistence (par) and JBoss service (sar) archives.
var javaArchiveExts = map[string]bool{
	".jar": true, ".war": true, ".ear": true, ".jpi": true,
	".hpi": true, ".par": true, ".sar": true,
}

// Errors that describe a Java archive the cataloger refuses to read further.
var (
	// errJavaLimit means an archive needs more work than the limits allow: a
	// zip bomb, or an archive too large to inspect.
	errJavaLimit = errors.New("archive exceeds a limit")
	// errJavaTotal means the limits on one top-level archive as a whole
	// (maxJavaExpanded, maxJavaArchives) were reached; it wraps errJavaLimit.
	errJavaTotal = fmt.Errorf("%w for the whole archive", errJavaLimit)
	// errJavaPath means an entry name could point outside the archive (an
	// absolute path, a ".." element, a backslash or a NUL byte).
	errJavaPath = errors.New("unsafe entry name")
)

// isJavaArchive reports whether name ends with a Java archive extension, in
// any case.
func isJavaArchive(name string) bool {
	return javaArchiveExts[strings.ToLower(path.Ext(name))]
}

func (java) Name() string { return "java" }

func (java) Required(name string, _ fs.FileMode) bool { return isJavaArchive(name) }

func (j java) Catalog(ctx context.Context, in Input) ([]Package, error) {
	return eachFile(ctx, in, j.Name(), func(name string) ([]Package, error) {
		f, err := openRandom(in.FS, name, maxBuffered)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return walkJavaArchive(ctx, f, f.size, name, defaultJavaLimits())
	})
}

// walkJavaArchive returns the packages of the Java archive r of size bytes
// and of the archives nested in it, located at location, within limits.
// Problems with the archive or a nested one are *FileError values joined
// into the error, next to the packages found elsewhere; a cancelled ctx is
// returned as is.
func walkJavaArchive(ctx context.Context, r io.ReaderAt, size int64, location string, limits javaLimits) ([]Package, error) {
	w := &javaWalk{ctx: ctx, limits: limits, budget: limits.expanded, seen: map[string]bool{}}
	w.archive(r, size, location, 0)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return w.pkgs, errors.Join(w.errs...)
}

// javaWalk is the state of one walk through a top-level archive.
type javaWalk struct {
	ctx    context.Context
	limits javaLimits
	// budget is what is left of limits.expanded.
	budget int64
	// archives counts the nested archives opened.
	archives int
	// stopped is set when a limit on the whole walk was reached; the error
	// saying so has been recorded.
	stopped bool
	pkgs    []Package
	errs    []error
	// seen holds "location name@version" of the packages found, to drop
	// duplicate entries.
	seen map[string]bool
}

// fail records a problem with the archive at location. A problem with the
// whole walk (errJavaTotal) stops it.
func (w *javaWalk) fail(location string, err error) {
	if errors.Is(err, errJavaTotal) {
		if w.stopped {
			return
		}
		w.stopped = true
	}
	w.errs = append(w.errs, &FileError{Cataloger: "java", Path: location, Err: err})
}

// mavenCoordinates identify a Maven artifact. Group is empty when it is
// not known.
type mavenCoordinates struct {
	Group, Artifact, Version string
}

// add records a package unless the same one was found at the same location.
func (w *javaWalk) add(c mavenCoordinates, location string) {
	name := c.Artifact
	if c.Group != "" {
		name = c.Group + ":" + c.Artifact
	}
	key := location + " " + name + "@" + c.Version
	if w.seen[key] {
		return
	}
	w.seen[key] = true
	w.pkgs = append(w.pkgs, Package{
		Name:      name,
		Version:   c.Version,
		Ecosystem: Maven,
		Type:      "java-archive",
		PURL:      purl("maven", c.Group, c.Artifact, c.Version, nil),
		Locations: []Location{{Path: location}},
	})
}

// archive reads the zip archive r of size bytes at location, nested depth
// levels below the top-level archive.
func (w *javaWalk) archive(r io.ReaderAt, size int64, location string, depth int) {
	zr, err := w.openZip(r, size)
	if err != nil {
		w.fail(location, fmt.Errorf("open zip archive: %w", err))
		return
	}
	var (
		poms     []mavenCoordinates
		manifest *zip.File
		nested   []*zip.File
		unsafe   []string
	)
	for _, f := range zr.File {
		if w.stopped {
			return
		}
		if !safeJarEntryName(f.Name) {
			unsafe = append(unsafe, f.Name)
			continue
		}
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		switch {
		case isPomProperties(f.Name):
			data, err := w.readEntry(f, w.limits.meta)
			if err != nil {
				w.fail(location, err)
				continue
			}
			if c, ok := pomPackage(parseJavaProperties(data), f.Name); ok {
				w.add(c, location)
				poms = append(poms, c)
			}
		case strings.EqualFold(f.Name, "META-INF/MANIFEST.MF"):
			if manifest == nil {
				manifest = f
			}
		case isJavaArchive(f.Name):
			nested = append(nested, f)
		}
	}
	if len(unsafe) > 0 {
		err := fmt.Errorf("entry %q: %w", unsafe[0], errJavaPath)
		if len(unsafe) > 1 {
			err = fmt.Errorf("entry %q and %d more: %w", unsafe[0], len(unsafe)-1, errJavaPath)
		}
		w.fail(location, err)
	}
	var attrs map[string]string
	if manifest != nil && !w.stopped {
		data, err := w.readEntry(manifest, w.limits.meta)
		if err != nil {
			w.fail(location, err)
		} else {
			attrs = parseJarManifest(data)
		}
	}
	base := location
	if i := strings.LastIndexByte(base, '!'); i >= 0 {
		base = base[i+1:]
	}
	base = path.Base(base)
	if !w.stopped && !ownPom(poms, attrs, base) {
		if c, ok := javaManifestPackage(attrs, base); ok {
			w.add(c, location)
		}
	}
	for _, f := range nested {
		if w.stopped || w.ctx.Err() != nil {
			return
		}
		inner := location + "!" + strings.ToValidUTF8(f.Name, "\uFFFD")
		if depth >= w.limits.nesting {
			w.fail(inner, fmt.Errorf("nested more than %d archives deep: %w", w.limits.nesting, errJavaLimit))
			continue
		}
		if w.archives >= w.limits.archives {
			w.fail(location, fmt.Errorf("more than %d nested archives: %w", w.limits.archives, errJavaTotal))
			return
		}
		w.archives++
		ra, n, err := w.openNested(r, size, f)
		if err != nil {
			w.fail(inner, err)
			continue
		}
		w.archive(ra, n, inner, depth+1)
	}
}

// openZip reads the central directory of r, charging what it reads to the
// budget and refusing directories larger than limits.directory.
func (w *javaWalk) openZip(r io.ReaderAt, size int64) (*zip.Reader, error) {
	limit := min(w.budget, w.limits.directory)
	br := &jarBudgetReader{r: r, left: limit, limited: true}
	zr, err := zip.NewReader(br, size)
	w.budget -= limit - br.left
	br.limited = false
	switch {
	case br.exceeded && limit < w.limits.directory:
		return nil, fmt.Errorf("more than %d bytes to expand: %w", w.limits.expanded, errJavaTotal)
	case br.exceeded:
		return nil, fmt.Errorf("central directory larger than %d bytes: %w", limit, errJavaLimit)
	case errors.Is(err, zip.ErrInsecurePath) && zr != nil:
		// Entry names are checked by the walk itself.
		return zr, nil
	case err != nil:
		return nil, err
	}
	return zr, nil
}

// openNested gives random access to the archive stored in entry f of the
// archive r of size bytes. An entry stored without compression is read in
// place; a compressed one is decompressed into memory.
func (w *javaWalk) openNested(r io.ReaderAt, size int64, f *zip.File) (io.ReaderAt, int64, error) {
	if f.Method == zip.Store && f.CompressedSize64 == f.UncompressedSize64 {
		off, err := f.DataOffset()
		if err != nil {
			return nil, 0, fmt.Errorf("locate entry data: %w", err)
		}
		n := f.CompressedSize64
		if off < 0 || n > uint64(size) || uint64(off) > uint64(size)-n {
			return nil, 0, fmt.Errorf("entry data at %d+%d lies outside the %d-byte archive", off, n, size)
		}
		return io.NewSectionReader(r, off, int64(n)), int64(n), nil
	}
	data, err := w.readEntry(f, w.limits.nested)
	if err != nil {
		return nil, 0, err
	}
	return bytes.NewReader(data), int64(len(data)), nil
}

// readEntry decompresses entry f, refusing more than limit bytes or more than
// the budget left.
func (w *javaWalk) readEntry(f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("entry %q: declared size %d is more than the limit of %d: %w", f.Name, f.UncompressedSize64, limit, errJavaLimit)
	}
	max := min(limit, w.budget)
	if max <= 0 {
		return nil, fmt.Errorf("entry %q: more than %d bytes to expand: %w", f.Name, w.limits.expanded, errJavaTotal)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("entry %q: %w", f.Name, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	buf.Grow(int(min(int64(f.UncompressedSize64), max, maxJavaGrowHint)))
	n, err := buf.ReadFrom(io.LimitReader(rc, max+1))
	w.budget -= n
	if n > max {
		if max < limit {
			return nil, fmt.Errorf("entry %q: more than %d bytes to expand: %w", f.Name, w.limits.expanded, errJavaTotal)
		}
		return nil, fmt.Errorf("entry %q: expands to more than %d bytes: %w", f.Name, limit, errJavaLimit)
	}
	if err != nil {
		return nil, fmt.Errorf("entry %q: %w", f.Name, err)
	}
	return buf.Bytes(), nil
}

// jarBudgetReader fails reads once more than left bytes have been read, while
// limited is set.
type jarBudgetReader struct {
	r        io.ReaderAt
	left     int64
	limited  bool
	exceeded bool
}

// errJarBudget is what jarBudgetReader returns when its budget runs out.
var errJarBudget = errors.New("read budget exhausted")

// ReadAt implements io.ReaderAt.
func (b *jarBudgetReader) ReadAt(p []byte, off int64) (int, error) {
	if !b.limited {
		return b.r.ReadAt(p, off)
	}
	if int64(len(p)) > b.left {
		b.exceeded = true
		return 0, errJarBudget
	}
	n, err := b.r.ReadAt(p, off)
	b.left -= int64(n)
	return n, err
}

// safeJarEntryName reports whether a zip entry name stays inside the archive: it
// is not empty or absolute (no leading "/" or drive letter), and has no ".."
// element, backslash or NUL byte.
func safeJarEntryName(name string) bool {
	if name == "" || name[0] == '/' || strings.ContainsAny(name, "\\\x00") {
		return false
	}
	if len(name) >= 2 && name[1] == ':' && ('a' <= name[0] && name[0] <= 'z' || 'A' <= name[0] && name[0] <= 'Z') {
		return false
	}
	for elem := range strings.SplitSeq(name, "/") {
		if elem == ".." {
			return false
		}
	}
	return true
}

// isPomProperties reports whether an entry name is
// META-INF/maven/<groupId>/<artifactId>/pom.properties.
func isPomProperties(name string) bool {
	rest, ok := strings.CutPrefix(name, "META-INF/maven/")
	return ok && strings.Count(rest, "/") == 2 && strings.HasSuffix(rest, "/pom.properties")
}

// pomPackage is the package that a pom.properties file describes. A missing
// groupId or artifactId is taken from the entry name; a package without a
// valid version, or with an invalid groupId or artifactId, is not reported.
func pomPackage(props map[string]string, entry string) (mavenCoordinates, bool) {
	parts := strings.Split(strings.TrimPrefix(entry, "META-INF/maven/"), "/")
	c := mavenCoordinates{Group: props["groupId"], Artifact: props["artifactId"], Version: props["version"]}
	if c.Group == "" && len(parts) == 3 {
		c.Group = parts[0]
	}
	if c.Artifact == "" && len(parts) == 3 {
		c.Artifact = parts[1]
	}
	if !validMavenID(c.Group) || !validMavenID(c.Artifact) || !validMavenVersion(c.Version) {
		return mavenCoordinates{}, false
	}
	return c, true
}

// ownPom reports whether one of the packages read from the pom.properties
// files of an archive is the archive itself rather than a dependency shaded
// into it: its artifactId is the one in the archive's file name (base), or
// its version is the manifest's Implementation-Version or Bundle-Version
// (attrs). guice.jar, which holds only the pom.properties of the cglib it
// shades, has none; a jar renamed by a distribution (maven3-core.jar for
// maven-core) is matched by version.
func ownPom(poms []mavenCoordinates, attrs map[string]string, base string) bool {
	stem := base
	if isJavaArchive(base) {
		stem = base[:len(base)-len(path.Ext(base))]
	}
	artifact, _ := splitJarName(stem)
	for _, c := range poms {
		if strings.EqualFold(c.Artifact, artifact) || c.Version == attrs["implementation-version"] || c.Version == attrs["bundle-version"] {
			return true
		}
	}
	return false
}

// validMavenID reports whether s can be a Maven groupId or artifactId:
// letters, digits, '.', '-' and '_'.
func validMavenID(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validMavenVersion reports whether s can be a resolved Maven version: not
// empty, printable ASCII without spaces, and no unresolved "${property}".
func validMavenVersion(s string) bool {
	if s == "" || len(s) > 256 || strings.Contains(s, "${") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// javaManifestPackage identifies an archive that has no pom.properties of
// its own from the main attributes of its manifest (attrs, keys in lower
// case; nil when there is none) and its file name (base, such as
// "commons-io-2.11.0.jar").
//
// The version is Implementation-Version, else the version in the file name,
// else Bundle-Version (which OSGi normalises: "31.1.0.jre" for 31.1-jre),
// else Specification-Version. The artifactId is the file name without its
// extension and version. The groupId is given only when the manifest states
// it reliably:
//   - Implementation-Vendor-Id, which the Maven archiver sets to the
//     project's groupId (commons-io writes "commons-io");
//   - a Bundle-SymbolicName of groupId + "." + artifactId, the
//     maven-bundle-plugin's default, when artifactId holds a '-' (which a
//     hand-written, Java-package-like symbolic name cannot).
//
// Other symbolic names and Automatic-Module-Name are not used: they look the
// same for org.apache.commons:commons-lang3 ("org.apache.commons.lang3") and
// commons-cli:commons-cli ("org.apache.commons.cli"), and for
// org.fusesource.jansi:jansi ("org.fusesource.jansi"). A wrong groupId is
// worse than none. It reports false when no version is found.
func javaManifestPackage(attrs map[string]string, base string) (mavenCoordinates, bool) {
	stem := base
	if isJavaArchive(base) {
		stem = base[:len(base)-len(path.Ext(base))]
	}
	fileArtifact, fileVersion := splitJarName(stem)
	var c mavenCoordinates
	for _, v := range []string{attrs["implementation-version"], fileVersion, attrs["bundle-version"], attrs["specification-version"]} {
		if validMavenVersion(v) {
			c.Version = v
			break
		}
	}
	if c.Version == "" {
		return mavenCoordinates{}, false
	}
	c.Artifact = fileArtifact
	if a, ok := strings.CutSuffix(stem, "-"+c.Version); ok && a != "" {
		c.Artifact = a
	}
	if !validMavenID(c.Artifact) {
		return mavenCoordinates{}, false
	}
	if v := attrs["implementation-vendor-id"]; validMavenID(v) {
		c.Group = v
		return c, true
	}
	bsn, _, _ := strings.Cut(attrs["bundle-symbolicname"], ";")
	if g, ok := strings.CutSuffix(strings.TrimSpace(bsn), "."+c.Artifact); ok && strings.Contains(c.Artifact, "-") && validMavenID(g) {
		c.Group = g
	}
	return c, true
}

// splitJarName splits a file name without extension into an artifactId
// and a version at a "-" followed by a digit: the last such "-" where a
// dotted version starts ("log4j-1.2-api-2.17.1" gives "log4j-1.2-api" and
// "2.17.1"), skipping the timestamp of a snapshot ("x-1.0-20240101.120000-1"
// gives "x" and "1.0-20240101.120000-1"), else the last such "-". Without one
// the whole name is the artifactId.
func splitJarName(stem string) (artifact, version string) {
	best, last := -1, -1
	for i := 0; i+1 < len(stem); i++ {
		if stem[i] != '-' || stem[i+1] < '0' || stem[i+1] > '9' {
			continue
		}
		last = i
		rest := stem[i+1:]
		j := 0
		for j < len(rest) && '0' <= rest[j] && rest[j] <= '9' {
			j++
		}
		if j < len(rest) && rest[j] == '.' && !isSnapshotStamp(rest) {
			best = i
		}
	}
	if best < 0 {
		best = last
	}
	if best <= 0 {
		return stem, ""
	}
	return stem[:best], stem[best+1:]
}

// isSnapshotStamp reports whether s is the timestamp and build number that a
// Maven snapshot version ends with: "20240101.120000-1".
func isSnapshotStamp(s string) bool {
	date, rest, ok := strings.Cut(s, ".")
	if !ok || len(date) != 8 {
		return false
	}
	clock, build, ok := strings.Cut(rest, "-")
	if !ok || len(clock) != 6 {
		return false
	}
	_, err1 := strconv.ParseUint(date+clock, 10, 64)
	_, err2 := strconv.ParseUint(build, 10, 32)
	return err1 == nil && err2 == nil
}

// parseJarManifest returns the main attributes of a JAR manifest, keyed by
// lower-case name (attribute names are case-insensitive). The main section
// ends at the first empty line. Lines end with CR LF, LF or CR; a line
// starting with a space continues the previous one (manifests wrap at 72
// bytes). Lines that are not "Name: value" are ignored, as is a repeated
// name (the first value is kept).
func parseJarManifest(data []byte) map[string]string {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	attrs := map[string]string{}
	var (
		key   string
		value strings.Builder
	)
	flush := func() {
		if key != "" {
			if _, dup := attrs[key]; !dup {
				attrs[key] = strings.TrimSpace(value.String())
			}
		}
		key = ""
		value.Reset()
	}
	for len(data) > 0 {
		i := bytes.IndexAny(data, "\r\n")
		line := data
		if i < 0 {
			data = nil
		} else {
			line = data[:i]
			if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
				i++
			}
			data = data[i+1:]
		}
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' {
			if key != "" {
				value.Write(line[1:])
			}
			continue
		}
		flush()
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(k) == 0 {
			continue
		}
		key = strings.ToLower(string(k))
		value.Write(bytes.TrimPrefix(v, []byte(" ")))
	}
	flush()
	return attrs
}

// parseJavaProperties parses a Java .properties file as java.util.Properties
// does: "key=value", "key: value" or "key value" on logical lines that a
// trailing odd backslash continues, comments starting with '#' or '!', and
// the escapes \t \n \r \f \uXXXX and \x for x. A later key overrides an
// earlier one. A malformed \u escape is kept as written.
func parseJavaProperties(data []byte) map[string]string {
	props := map[string]string{}
	s := string(data)
	for len(s) > 0 {
		var line string
		line, s = nextJavaPropertiesLine(s)
		line = strings.TrimLeft(line, " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		// The key ends at the first unescaped '=', ':' or white space.
		end := len(line)
		for i := 0; i < len(line); i++ {
			if line[i] == '\\' {
				i++
				continue
			}
			if strings.IndexByte("=: \t\f", line[i]) >= 0 {
				end = i
				break
			}
		}
		key, rest := line[:end], line[end:]
		rest = strings.TrimLeft(rest, " \t\f")
		if rest != "" && (rest[0] == '=' || rest[0] == ':') {
			rest = strings.TrimLeft(rest[1:], " \t\f")
		}
		props[unescapeJavaProperty(key)] = unescapeJavaProperty(rest)
	}
	return props
}

// nextJavaPropertiesLine returns the next logical line of s, with continued
// natural lines joined (the backslash, line end and the next line's leading
// white space removed), and what follows it.
func nextJavaPropertiesLine(s string) (line, rest string) {
	var (
		b         strings.Builder
		continued bool
	)
	for {
		i := strings.IndexAny(s, "\r\n")
		natural := s
		if i < 0 {
			s = ""
		} else {
			natural = s[:i]
			if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			s = s[i+1:]
		}
		// A comment line never continues.
		trimmed := strings.TrimLeft(natural, " \t\f")
		if !continued && trimmed != "" && (trimmed[0] == '#' || trimmed[0] == '!') {
			return natural, s
		}
		n := 0
		for n < len(natural) && natural[len(natural)-1-n] == '\\' {
			n++
		}
		if n%2 == 0 || i < 0 {
			b.WriteString(natural)
			return b.String(), s
		}
		b.WriteString(natural[:len(natural)-1])
		s = strings.TrimLeft(s, " \t\f")
		continued = true
	}
}

// unescapeJavaProperty resolves the backslash escapes of a properties key or
// value.
func unescapeJavaProperty(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			if c != '\\' {
				b.WriteByte(c)
			}
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+5 <= len(s) {
				if r, err := strconv.ParseUint(s[i+1:i+5], 16, 32); err == nil {
					b.WriteRune(rune(r))
					i += 4
					continue
				}
			}
			b.WriteString(`\u`)
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
