package inventory

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kubeshield/kubeshield/internal/rpmdb"
)

// rpm reads the rpm package database in any of its formats: the Berkeley DB
// Packages file, the NDB Packages.db file and the SQLite rpmdb.sqlite file,
// in var/lib/rpm or usr/lib/sysimage/rpm. The format is read from the file's
// first bytes, not its name. The gpg-pubkey pseudo packages that record
// imported signing keys are left out.
type rpm struct{}

// rpmDatabases are the files the rpm cataloger reads.
var rpmDatabases = map[string]bool{
	"var/lib/rpm/Packages":              true,
	"var/lib/rpm/Packages.db":           true,
	"var/lib/rpm/rpmdb.sqlite":          true,
	"usr/lib/sysimage/rpm/Packages":     true,
	"usr/lib/sysimage/rpm/Packages.db":  true,
	"usr/lib/sysimage/rpm/rpmdb.sqlite": true,
}

// maxRPMDB bounds the size of an rpm database file. The databases of large
// RHEL installations stay under 300 MB.
const maxRPMDB = 512 << 20

func (rpm) Name() string { return "rpm" }

func (rpm) Required(name string, _ fs.FileMode) bool {
	return rpmDatabases[name]
}

func (r rpm) Catalog(ctx context.Context, in Input) ([]Package, error) {
	return eachFile(ctx, in, r.Name(), func(name string) ([]Package, error) {
		blobs, err := readRPMDB(ctx, in.FS, name)
		if err != nil {
			return nil, err
		}
		found, err := rpmdb.Packages(blobs)
		var pkgs []Package
		for _, p := range found {
			if p.Name != "gpg-pubkey" {
				pkgs = append(pkgs, rpmPackage(p, name, in.Distro))
			}
		}
		return pkgs, err
	})
}

// readRPMDB returns the header blobs of the rpm database at name, of at
// most maxRPMDB bytes. A Berkeley DB or NDB database is read in place when
// the file can be read at offsets, and from memory otherwise; an SQLite
// database is copied to a temporary file, which the SQLite library needs.
func readRPMDB(ctx context.Context, fsys fs.FS, name string) ([]rpmdb.Blob, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", name, err)
	}
	size := info.Size()
	if size > maxRPMDB {
		return nil, fmt.Errorf("read %s: %d bytes is more than the limit of %d", name, size, maxRPMDB)
	}
	ra, ok := f.(io.ReaderAt)
	if !ok {
		data, err := io.ReadAll(io.LimitReader(f, maxRPMDB+1))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		if len(data) > maxRPMDB {
			return nil, fmt.Errorf("read %s: more than the limit of %d bytes", name, maxRPMDB)
		}
		ra, size = bytes.NewReader(data), int64(len(data))
	}
	format, err := rpmdb.Detect(ra, size)
	if err != nil {
		return nil, err
	}
	switch format {
	case rpmdb.BerkeleyDB:
		return rpmdb.ReadBerkeleyDB(ra, size)
	case rpmdb.NDB:
		return rpmdb.ReadNDB(ra, size)
	case rpmdb.SQLite:
		return readRPMSQLite(ctx, ra, size)
	}
	return nil, fmt.Errorf("%v: %w", format, rpmdb.ErrUnknownFormat)
}

// readRPMSQLite copies the size-byte SQLite database in r to a temporary
// directory, reads it there, and removes the directory.
func readRPMSQLite(ctx context.Context, r io.ReaderAt, size int64) (blobs []rpmdb.Blob, err error) {
	dir, err := os.MkdirTemp("", "kubeshield-rpmdb-")
	if err != nil {
		return nil, fmt.Errorf("copy the sqlite database: %w", err)
	}
	defer func() {
		if rmErr := os.RemoveAll(dir); rmErr != nil && err == nil {
			err = fmt.Errorf("remove the copy of the sqlite database: %w", rmErr)
		}
	}()
	path := filepath.Join(dir, "rpmdb.sqlite")
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("copy the sqlite database: %w", err)
	}
	_, err = io.Copy(out, io.NewSectionReader(r, 0, size))
	if closeErr := out.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return nil, fmt.Errorf("copy the sqlite database to %s: %w", path, err)
	}
	return rpmdb.ReadSQLite(ctx, path)
}

// rpmEcosystem returns the purl namespace and the OSV ecosystem of the rpm
// packages of a distribution. The namespace is the os-release ID, "redhat"
// when the distribution is unknown.
func rpmEcosystem(d *Distro) (string, Ecosystem) {
	if d == nil || d.ID == "" {
		return "redhat", RedHat
	}
	switch id := d.ID; {
	case id == "almalinux":
		return id, AlmaLinux
	case id == "rocky":
		return id, Rocky
	case strings.HasPrefix(id, "opensuse"):
		return id, OpenSUSE
	case strings.HasPrefix(id, "sle"): // sles, sled, sle-micro
		return id, SUSE
	default: // rhel, centos, fedora and the other Red Hat relatives
		return id, RedHat
	}
}

// rpmPackage turns a package read from the database at location into a
// Package.
func rpmPackage(p rpmdb.Package, location string, distro *Distro) Package {
	ns, eco := rpmEcosystem(distro)
	srpm := p.SourceRPM
	if srpm == "(none)" {
		srpm = ""
	}
	q := map[string]string{
		"arch":     p.Arch,
		"distro":   distroQualifier(distro),
		"upstream": srpm,
	}
	if p.HasEpoch {
		q["epoch"] = strconv.FormatUint(uint64(p.Epoch), 10)
	}
	pkg := Package{
		Name:      p.Name,
		Version:   p.EVR(),
		Ecosystem: eco,
		Type:      "rpm",
		PURL:      purl("rpm", ns, p.Name, p.Version+"-"+p.Release, q),
		Arch:      p.Arch,
		Locations: []Location{{Path: location}},
	}
	if name, vr, ok := parseSourceRPM(srpm); ok {
		if p.HasEpoch {
			vr = strconv.FormatUint(uint64(p.Epoch), 10) + ":" + vr
		}
		pkg.Source = &Source{Name: name, Version: vr}
	}
	if p.License != "" {
		pkg.Licenses = []string{p.License}
	}
	return pkg
}

// parseSourceRPM splits a source rpm file name, "name-version-release.src.rpm"
// (or .nosrc.rpm), into the name and "version-release". It reports false for
// a name not of that form.
func parseSourceRPM(s string) (name, versionRelease string, ok bool) {
	base, found := strings.CutSuffix(s, ".src.rpm")
	if !found {
		if base, found = strings.CutSuffix(s, ".nosrc.rpm"); !found {
			return "", "", false
		}
	}
	r := strings.LastIndexByte(base, '-')
	if r <= 0 {
		return "", "", false
	}
	v := strings.LastIndexByte(base[:r], '-')
	if v <= 0 || v+1 == r || r+1 == len(base) {
		return "", "", false
	}
	return base[:v], base[v+1:], true
}
