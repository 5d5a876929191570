package inventory

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// buildJavaFixtures builds, with the JDK's jar tool, the archives made from
// testdata/java, or reuses the ones built before from the same sources, and
// returns their directory:
//
//	lib-a-1.0.0.jar        one pom.properties
//	fat-2.0.0.jar          two pom.properties (a shaded jar)
//	legacy-util-3.1.4.jar  only a MANIFEST.MF, with lines the jar tool wraps
//	webapp-1.0.war         WEB-INF/lib holds lib-a and fat; stored, not deflated
//	app.ear                holds webapp-1.0.war and lib/legacy-util-3.1.4.jar
func buildJavaFixtures(t *testing.T) string {
	t.Helper()
	jar, err := exec.LookPath("jar")
	if err != nil {
		t.Skipf("the JDK's jar tool is not installed (apt-get install openjdk-17-jdk-headless): %v", err)
	}
	const src = "testdata/java"
	key := cachedFixtureKey(t, []string{jar, "v1"}, src)
	out := filepath.Join(cachedFixtureDir(t, "java"), key)
	if _, err := os.Stat(out); err == nil {
		return out
	}
	work := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(jar, args...)
		cmd.Dir = work
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("jar %s: %v\n%s", strings.Join(args, " "), err, msg)
		}
	}
	copyDir := func(from, to string) {
		t.Helper()
		if err := os.CopyFS(filepath.Join(work, to), os.DirFS(filepath.Join(src, from))); err != nil {
			t.Fatal(err)
		}
	}
	copyOut := func(from, to string) {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(work, from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(work, to)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, to), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		t.Fatal(err)
	}
	dist := filepath.Join(work, "dist")
	if err := os.Mkdir(dist, 0o755); err != nil {
		t.Fatal(err)
	}
	copyDir("lib-a", "lib-a")
	copyDir("fat", "fat")
	copyDir("legacy", "legacy")
	copyDir("webapp", "webapp")
	copyDir("ear", "ear")
	run("--create", "--file", "dist/lib-a-1.0.0.jar", "--manifest", filepath.Join(abs, "lib-a.MF"), "-C", "lib-a", ".")
	run("--create", "--file", "dist/fat-2.0.0.jar", "-C", "fat", ".")
	run("--create", "--file", "dist/legacy-util-3.1.4.jar", "--manifest", filepath.Join(abs, "legacy.MF"), "-C", "legacy", ".")
	copyOut("dist/lib-a-1.0.0.jar", "webapp/WEB-INF/lib/lib-a-1.0.0.jar")
	copyOut("dist/fat-2.0.0.jar", "webapp/WEB-INF/lib/fat-2.0.0.jar")
	run("--create", "--no-compress", "--file", "dist/webapp-1.0.war", "-C", "webapp", ".")
	copyOut("dist/webapp-1.0.war", "ear/webapp-1.0.war")
	copyOut("dist/legacy-util-3.1.4.jar", "ear/lib/legacy-util-3.1.4.jar")
	run("--create", "--file", "dist/app.ear", "-C", "ear", ".")
	if err := os.Rename(dist, out); err != nil && !errors.Is(err, fs.ErrExist) {
		if _, statErr := os.Stat(out); statErr != nil {
			t.Fatalf("store fixtures: %v", err)
		}
	}
	return out
}

// mavenPkg is a package the java cataloger reports.
func mavenPkg(group, artifact, version, location string) Package {
	name, p := artifact, "pkg:maven/"+artifact+"@"+version
	if group != "" {
		name, p = group+":"+artifact, "pkg:maven/"+group+"/"+artifact+"@"+version
	}
	return Package{
		Name: name, Version: version, Ecosystem: Maven, Type: "java-archive", PURL: p,
		Locations: []Location{{Path: location}},
	}
}
func TestJavaBuilt(t *testing.T) {
	dir := buildJavaFixtures(t)
	const legacyGroup = "org.example.very.long.group.name.that.wraps.across.lines"
	want := []Package{
		mavenPkg("com.example", "lib-a", "1.0.0", "lib-a-1.0.0.jar"),
		mavenPkg("com.example", "fat", "2.0.0", "fat-2.0.0.jar"),
		mavenPkg("org.shaded", "shaded-dep", "0.9.1-RC1", "fat-2.0.0.jar"),
		mavenPkg(legacyGroup, "legacy-util", "3.1.4", "legacy-util-3.1.4.jar"),
		mavenPkg("com.example", "webapp", "1.0", "webapp-1.0.war"),
		mavenPkg("com.example", "lib-a", "1.0.0", "webapp-1.0.war!WEB-INF/lib/lib-a-1.0.0.jar"),
		mavenPkg("com.example", "fat", "2.0.0", "webapp-1.0.war!WEB-INF/lib/fat-2.0.0.jar"),
		mavenPkg("org.shaded", "shaded-dep", "0.9.1-RC1", "webapp-1.0.war!WEB-INF/lib/fat-2.0.0.jar"),
		mavenPkg("com.example", "webapp", "1.0", "app.ear!webapp-1.0.war"),
		mavenPkg("com.example", "lib-a", "1.0.0", "app.ear!webapp-1.0.war!WEB-INF/lib/lib-a-1.0.0.jar"),
		mavenPkg("com.example", "fat", "2.0.0", "app.ear!webapp-1.0.war!WEB-INF/lib/fat-2.0.0.jar"),
		mavenPkg("org.shaded", "shaded-dep", "0.9.1-RC1", "app.ear!webapp-1.0.war!WEB-INF/lib/fat-2.0.0.jar"),
		mavenPkg(legacyGroup, "legacy-util", "3.1.4", "app.ear!lib/legacy-util-3.1.4.jar"),
	}
	Sort(want)
	for _, tc := range []struct {
		name string
		fsys fs.FS
	}{
		{"ReaderAt", os.DirFS(dir)},
		{"Seeker", hideFS{os.DirFS(dir), true}},
		{"Reader", hideFS{os.DirFS(dir), false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := checkCataloger(t, java{}, tc.fsys, nil)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			_, err := java{}.Catalog(context.Background(), Input{FS: tc.fsys, Paths: []string{"app.ear", "fat-2.0.0.jar"}})
			if err != nil {
				t.Errorf("Catalog: %v", err)
			}
		})
	}

	// The jar tool wrapped the long Bundle-SymbolicName: the fixture does
	// test continuation lines.
	zr, err := zip.OpenReader(filepath.Join(dir, "legacy-util-3.1.4.jar"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	mf, err := fs.ReadFile(zr, "META-INF/MANIFEST.MF")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(mf, []byte("\r\n ")) && !bytes.Contains(mf, []byte("\n ")) {
		t.Errorf("the jar tool did not wrap the manifest:\n%s", mf)
	}
}

// TestJavaDebian checks the cataloger against the jars of Debian's Java
// packages, with Debian's Maven repository (/usr/share/maven-repo, where
// each jar is linked from a groupId/artifactId/version directory) as the
// oracle. A jar that holds the pom.properties of the artifact the repository
// names must be reported exactly so; a jar without one (identified from its
// manifest and file name) must be reported with some package.
func TestJavaDebian(t *testing.T) {
	const (
		jars = "/usr/share/java"
		repo = "/usr/share/maven-repo"
	)
	if _, err := os.Stat(filepath.Join(jars, "commons-lang3.jar")); err != nil {
		t.Skipf("Debian's Java libraries are not installed (apt-get install libcommons-lang3-java): %v", err)
	}
	type record struct {
		pkg    Package
		hasPom bool
	}
	var want []record
	err := filepath.WalkDir(repo, func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(name, ".jar") {
			return err
		}
		rel, err := filepath.Rel(repo, name)
		if err != nil {
			return err
		}
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if len(parts) < 4 {
			return nil
		}
		version, artifact := parts[len(parts)-2], parts[len(parts)-3]
		group := strings.Join(parts[:len(parts)-3], ".")
		// "debian" and "3.x" are Debian's own aliases, not versions.
		if version == "debian" || strings.HasSuffix(version, ".x") || path.Base(rel) != artifact+"-"+version+".jar" {
			return nil
		}
		target, err := filepath.EvalSymlinks(name)
		if err != nil {
			return nil // a dangling link
		}
		loc, err := filepath.Rel(jars, target)
		if err != nil || strings.HasPrefix(loc, "..") {
			return nil
		}
		zr, err := zip.OpenReader(target)
		if err != nil {
			return fmt.Errorf("open %s: %w", target, err)
		}
		defer zr.Close()
		_, err = fs.Stat(zr, "META-INF/maven/"+group+"/"+artifact+"/pom.properties")
		want = append(want, record{mavenPkg(group, artifact, version, filepath.ToSlash(loc)), err == nil})
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", repo, err)
	}
	if len(want) == 0 {
		t.Skipf("%s lists no versioned jars", repo)
	}
	got := checkCataloger(t, java{}, os.DirFS(jars), nil)
	strict := 0
	for _, w := range want {
		var there []string
		for _, g := range got {
			if g.Locations[0].Path == w.pkg.Locations[0].Path {
				there = append(there, g.Name+"@"+g.Version)
			}
		}
		switch {
		case w.hasPom:
			strict++
			if !slices.ContainsFunc(got, func(g Package) bool { return cmp.Equal(g, w.pkg) }) {
				t.Errorf("%s: got %v; want %s@%s among them", w.pkg.Locations[0].Path, there, w.pkg.Name, w.pkg.Version)
			}
		case len(there) == 0:
			t.Errorf("%s: no package; want one like %s@%s", w.pkg.Locations[0].Path, w.pkg.Name, w.pkg.Version)
		case !slices.Contains(there, w.pkg.Name+"@"+w.pkg.Version):
			t.Logf("%s: without pom.properties: got %v, Debian says %s@%s", w.pkg.Locations[0].Path, there, w.pkg.Name, w.pkg.Version)
		}
	}
	t.Logf("%d packages from %d jars; %d checked against their pom.properties", len(got), len(want), strict)
}

// jarEntry is one entry of a zip built by buildJar. Raw, when set, is
// written as the already deflated data of an entry that claims Size bytes.
type jarEntry struct {
	Name  string
	Data  []byte
	Store bool
	Raw   []byte
	Size  uint64
	CRC   uint32
}

// buildJar builds a zip archive in memory.
func buildJar(t testing.TB, entries ...jarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		if e.Raw != nil {
			w, err := zw.CreateRaw(&zip.FileHeader{
				Name: e.Name, Method: zip.Deflate, CRC32: e.CRC,
				CompressedSize64: uint64(len(e.Raw)), UncompressedSize64: e.Size,
			})
			if err != nil {
				t.Fatal(err)
			}
			w.Write(e.Raw)
			continue
		}
		method := zip.Deflate
		if e.Store {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.Name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.Data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// jarPomEntry is a pom.properties entry.
func jarPomEntry(group, artifact, version string) jarEntry {
	return jarEntry{
		Name: "META-INF/maven/" + group + "/" + artifact + "/pom.properties",
		Data: []byte("groupId=" + group + "\nartifactId=" + artifact + "\nversion=" + version + "\n"),
	}
}

// jarDeflate returns data compressed with DEFLATE, for jarEntry.Raw.
func jarDeflate(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	fw.Close()
	return buf.Bytes()
}

// nestJar wraps inner in depth archives, each holding the next as
// "lib/levelN.jar" next to a pom.properties of its own.
func nestJar(t testing.TB, inner []byte, depth int) []byte {
	t.Helper()
	for i := depth; i > 0; i-- {
		inner = buildJar(t, jarPomEntry("com.example", "level", "1."+string(rune('0'+i-1))),
			jarEntry{Name: "lib/level" + string(rune('0'+i)) + ".jar", Data: inner})
	}
	return inner
}
func TestJavaArchiveProblems(t *testing.T) {
	zeros := make([]byte, 4<<20)
	bomb := jarDeflate(t, zeros)
	small := javaLimits{nesting: 4, expanded: 1 << 20, nested: 256 << 10, meta: 64 << 10, directory: 64 << 10, archives: 8}
	good := jarPomEntry("com.example", "good", "1.0")

	var many []jarEntry
	for i := range 2000 {
		many = append(many, jarEntry{Name: strings.Repeat("x", 40) + string(rune('a'+i%26)) + "/" + strings.Repeat("y", i%7), Store: true})
	}
	// Six nested jars that each expand to 200 KiB (a stored entry of zeros,
	// deflated in the outer archive): more than the 1 MiB budget together.
	var heavy []jarEntry
	for _, c := range "abcdef" {
		heavy = append(heavy, jarEntry{Name: "lib/" + string(c) + ".jar", Data: buildJar(t, jarEntry{Name: "z", Store: true, Data: zeros[:200<<10]})})
	}
	var wide []jarEntry
	for i := range 12 {
		wide = append(wide, jarEntry{Name: "lib/w" + string(rune('a'+i)) + ".jar", Data: buildJar(t, jarPomEntry("com.example", "w", "1."+string(rune('a'+i))))})
	}

	for _, tc := range []struct {
		name    string
		data    []byte
		limits  javaLimits
		want    []Package
		errPath []string
		errIs   error
	}{
		{
			name:   "valid",
			data:   buildJar(t, good),
			limits: small,
			want:   []Package{mavenPkg("com.example", "good", "1.0", "x.jar")},
		},
		{
			name:    "not a zip",
			data:    []byte("PK\x03\x04 this is not a zip archive"),
			limits:  small,
			errPath: []string{"x.jar"},
		},
		{
			name:    "truncated",
			data:    buildJar(t, good, jarEntry{Name: "a.txt", Data: bytes.Repeat([]byte("a"), 1000)})[:100],
			limits:  small,
			errPath: []string{"x.jar"},
		},
		{
			name:    "pom.properties bomb with a true header",
			data:    buildJar(t, good, jarEntry{Name: "META-INF/maven/b/b/pom.properties", Data: zeros}),
			limits:  small,
			want:    []Package{mavenPkg("com.example", "good", "1.0", "x.jar")},
			errPath: []string{"x.jar"},
			errIs:   errJavaLimit,
		},
		{
			name:    "pom.properties bomb with a lying header",
			data:    buildJar(t, good, jarEntry{Name: "META-INF/maven/b/b/pom.properties", Raw: bomb, Size: 10}),
			limits:  small,
			want:    []Package{mavenPkg("com.example", "good", "1.0", "x.jar")},
			errPath: []string{"x.jar"},
			// archive/zip refuses to read past the declared size.
			errIs: zip.ErrFormat,
		},
		{
			name:    "nested archive bomb",
			data:    buildJar(t, good, jarEntry{Name: "lib/bomb.jar", Raw: bomb, Size: 100}),
			limits:  small,
			want:    []Package{mavenPkg("com.example", "good", "1.0", "x.jar")},
			errPath: []string{"x.jar!lib/bomb.jar"},
			errIs:   zip.ErrFormat,
		},
		{
			name:   "expansion over the whole archive",
			data:   buildJar(t, append([]jarEntry{good}, heavy...)...),
			limits: small,
			want:   []Package{mavenPkg("com.example", "good", "1.0", "x.jar")},
			// The budget runs out in the sixth nested jar; nothing is read
			// after that.
			errPath: []string{"x.jar!lib/f.jar"},
			errIs:   errJavaTotal,
		},
		{
			name:    "too many nested archives",
			data:    buildJar(t, wide...),
			limits:  small,
			want:    wideWant(8),
			errPath: []string{"x.jar"},
			errIs:   errJavaTotal,
		},
		{
			name:    "central directory too large",
			data:    buildJar(t, append([]jarEntry{good}, many...)...),
			limits:  small,
			errPath: []string{"x.jar"},
			errIs:   errJavaLimit,
		},
		{
			name: "path tricks",
			data: buildJar(t, good,
				jarEntry{Name: "../../etc/passwd", Data: []byte("x")},
				jarEntry{Name: "/abs/evil.jar", Data: buildJar(t, jarPomEntry("evil", "evil", "6.6.6"))},
				jarEntry{Name: `WEB-INF\..\..\evil.jar`, Data: []byte("x")},
				jarEntry{Name: "META-INF/maven/../../pom.properties", Data: []byte("version=1")},
			),
			limits:  small,
			want:    []Package{mavenPkg("com.example", "good", "1.0", "x.jar")},
			errPath: []string{"x.jar"},
			errIs:   errJavaPath,
		},
		{
			name:   "nested five deep",
			data:   nestJar(t, buildJar(t, jarPomEntry("com.example", "deepest", "9")), 5),
			limits: small,
			want: []Package{
				mavenPkg("com.example", "level", "1.0", "x.jar"),
				mavenPkg("com.example", "level", "1.1", "x.jar!lib/level1.jar"),
				mavenPkg("com.example", "level", "1.2", "x.jar!lib/level1.jar!lib/level2.jar"),
				mavenPkg("com.example", "level", "1.3", "x.jar!lib/level1.jar!lib/level2.jar!lib/level3.jar"),
				mavenPkg("com.example", "level", "1.4", "x.jar!lib/level1.jar!lib/level2.jar!lib/level3.jar!lib/level4.jar"),
			},
			errPath: []string{"x.jar!lib/level1.jar!lib/level2.jar!lib/level3.jar!lib/level4.jar!lib/level5.jar"},
			errIs:   errJavaLimit,
		},
		{
			name:   "duplicate entries",
			data:   buildJar(t, good, good, jarEntry{Name: "lib/a.jar", Store: true, Data: buildJar(t, good)}, jarEntry{Name: "lib/a.jar", Data: buildJar(t, good)}),
			limits: small,
			want: []Package{
				mavenPkg("com.example", "good", "1.0", "x.jar"),
				mavenPkg("com.example", "good", "1.0", "x.jar!lib/a.jar"),
			},
		},
		{
			name:    "bad checksum",
			data:    buildJar(t, jarEntry{Name: "META-INF/maven/a/b/pom.properties", Raw: jarDeflate(t, []byte("version=1\n")), Size: 10, CRC: 1}),
			limits:  small,
			errPath: []string{"x.jar"},
			errIs:   zip.ErrChecksum,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// With the default limits, through the conformance check.
			checkCataloger(t, java{}, fstest.MapFS{"x.jar": {Data: tc.data}}, nil)

			got, err := walkJavaArchive(context.Background(), bytes.NewReader(tc.data), int64(len(tc.data)), "x.jar", tc.limits)
			fileErrs, rest := splitFileErrors(err)
			if rest != nil {
				t.Fatalf("walkJavaArchive: %v", rest)
			}
			Sort(got)
			Sort(tc.want)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			var paths []string
			for _, fe := range fileErrs {
				paths = append(paths, fe.Path)
				if tc.errIs != nil && !errors.Is(fe, tc.errIs) {
					t.Errorf("error %v is not %v", fe, tc.errIs)
				}
			}
			if diff := cmp.Diff(tc.errPath, paths); diff != "" {
				t.Errorf("files with errors (-want +got):\n%s\nerrors: %v", diff, err)
			}
		})
	}
}

// wideWant is what the first n archives of the "too many nested archives"
// case give.
func wideWant(n int) []Package {
	var want []Package
	for i := range n {
		c := string(rune('a' + i))
		want = append(want, mavenPkg("com.example", "w", "1."+c, "x.jar!lib/w"+c+".jar"))
	}
	return want
}
func TestJavaCatalogMapFS(t *testing.T) {
	jar := buildJar(t, jarPomEntry("org.example", "lib", "2.1"))
	shading := buildJar(t, jarPomEntry("cglib", "cglib", "3.2.12"), jarEntry{
		Name: "META-INF/MANIFEST.MF",
		Data: []byte("Manifest-Version: 1.0\r\nBundle-SymbolicName: com.google.inject\r\nBundle-Version: 4.2.3\r\n\r\n"),
	})
	fsys := fstest.MapFS{
		"usr/share/java/guice.jar": {Data: shading},
		"app/lib/LIB-2.1.JAR":      {Data: jar},
		"app/lib/plugin.hpi":       {Data: jar},
		"app/lib/broken.jar":       {Data: []byte("not a zip")},
		"app/lib/lib-2.1.jar.1":    {Data: jar},
		"app/lib/readme.txt":       {Data: []byte("hello")},
	}
	got := checkCataloger(t, java{}, fsys, nil)
	want := []Package{
		mavenPkg("org.example", "lib", "2.1", "app/lib/LIB-2.1.JAR"),
		mavenPkg("org.example", "lib", "2.1", "app/lib/plugin.hpi"),
		mavenPkg("cglib", "cglib", "3.2.12", "usr/share/java/guice.jar"),
		mavenPkg("", "guice", "4.2.3", "usr/share/java/guice.jar"),
	}
	Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
	_, err := java{}.Catalog(context.Background(), Input{FS: fsys, Paths: []string{"app/lib/broken.jar", "app/lib/missing.jar"}})
	fileErrs, rest := splitFileErrors(err)
	if rest != nil || len(fileErrs) != 2 {
		t.Errorf("Catalog(broken, missing) error = %v; want two file errors", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (java{}).Catalog(ctx, Input{FS: fsys, Paths: []string{"app/lib/plugin.hpi"}}); !errors.Is(err, context.Canceled) {
		t.Errorf("Catalog(cancelled) error = %v; want context.Canceled", err)
	}
}
func TestJavaRequired(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"usr/share/java/a.jar", true},
		{"opt/app/APP.WAR", true},
		{"x.ear", true},
		{"var/jenkins/plugins/git.jpi", true},
		{"var/jenkins/plugins/git.hpi", true},
		{"a.par", true},
		{"a.Sar", true},
		{"a.jar.bak", false},
		{"a.zip", false},
		{"jar", false},
		{"a.class", false},
	} {
		if got := (java{}).Required(tc.name, 0o644); got != tc.want {
			t.Errorf("Required(%q) = %v; want %v", tc.name, got, tc.want)
		}
	}
}
func FuzzJavaArchive(f *testing.F) {
	f.Add(buildJar(f, jarPomEntry("com.example", "a", "1.0")))
	f.Add(buildJar(f, jarEntry{Name: "META-INF/MANIFEST.MF", Data: []byte("Implementation-Version: 2\r\nBundle-SymbolicName: org.x.a\r\n")}))
	f.Add(nestJar(f, buildJar(f, jarPomEntry("g", "deep", "3")), 2))
	f.Add(buildJar(f, jarPomEntry("g", "a", "1"), jarEntry{Name: "lib/s.jar", Store: true, Data: buildJar(f, jarPomEntry("g", "s", "2"))}))
	f.Add(buildJar(f, jarEntry{Name: "../x.jar", Data: []byte("x")}))
	// Stored entries keep their data readable under mutation.
	stored := jarPomEntry("com.example", "s", "1.0")
	stored.Store = true
	f.Add(buildJar(f, stored, jarEntry{Name: "META-INF/MANIFEST.MF", Store: true, Data: []byte("Implementation-Version: 2\r\nImplementation-Vendor-Id: g\r\n")}))
	f.Add(buildJar(f, jarEntry{Name: "WEB-INF/lib/in-1.0.jar", Store: true, Data: buildJar(f, stored)}))
	limits := javaLimits{nesting: 4, expanded: 4 << 20, nested: 1 << 20, meta: 64 << 10, directory: 256 << 10, archives: 64}
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := walkJavaArchive(context.Background(), bytes.NewReader(data), int64(len(data)), "f.jar", limits)
		if _, rest := splitFileErrors(err); rest != nil {
			t.Fatalf("walkJavaArchive: error that is not a *FileError: %v", rest)
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.PURL == "" || len(p.Locations) != 1 || !strings.HasPrefix(p.Locations[0].Path, "f.jar") {
				t.Errorf("walkJavaArchive: bad package %+v", p)
			}
		}
		again, err2 := walkJavaArchive(context.Background(), bytes.NewReader(data), int64(len(data)), "f.jar", limits)
		if diff := cmp.Diff(pkgs, again); diff != "" || (err == nil) != (err2 == nil) {
			t.Errorf("walkJavaArchive is not deterministic (-first +second):\n%s", diff)
		}
	})
}

// TestJavaLyingSizeMemory: nested jars whose headers claim 128 MiB each but
// hold a few bytes must not make the walk reserve what they claim: the
// declared size is only a hint, capped at maxJavaGrowHint.
func TestJavaLyingSizeMemory(t *testing.T) {
	const (
		liars   = 8
		claimed = maxJavaNested
	)
	inner := jarDeflate(t, buildJar(t, jarPomEntry("com.example", "inner", "1.0")))
	var entries []jarEntry
	for i := range liars {
		entries = append(entries, jarEntry{Name: fmt.Sprintf("lib/liar%d.jar", i), Raw: inner, Size: claimed})
	}
	data := buildJar(t, entries...)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := walkJavaArchive(context.Background(), bytes.NewReader(data), int64(len(data)), "x.jar", defaultJavaLimits())
	runtime.ReadMemStats(&after)

	// Each liar is reported (archive/zip refuses an entry shorter than its
	// header says), but only after a small buffer was used.
	fileErrs, rest := splitFileErrors(err)
	if rest != nil || len(fileErrs) != liars {
		t.Errorf("walkJavaArchive(%d lying nested jars) error = %v; want %d file errors", liars, err, liars)
	}
	const limit = liars*maxJavaGrowHint + 16<<20
	if got := after.TotalAlloc - before.TotalAlloc; got > limit {
		t.Errorf("walkJavaArchive(%d nested jars claiming %d bytes, %d bytes in all) allocated %d bytes; want at most %d", liars, claimed, len(data), got, limit)
	}
}
