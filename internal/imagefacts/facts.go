// Package imagefacts collects the facts about an image that decide whether
// it is minimal: shells and package managers present, the user it runs as,
// setuid and setgid files, exposed ports, secret-looking environment
// variables, size and layer count. Later checks turn these facts into
// findings; this package only observes.
package imagefacts

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Facts are what an image holds and how it is configured.
type Facts struct {
	// User is the configured user ("", "0", "root", "1000:1000", "app").
	User string `json:"user"`
	// RunsAsRoot is true when User is empty, 0 or root (with any group).
	RunsAsRoot bool `json:"runsAsRoot"`
	// Shells are the paths of command shells present.
	Shells []string `json:"shells,omitempty"`
	// PackageManagers are the paths of package managers present.
	PackageManagers []string `json:"packageManagers,omitempty"`
	// SpecialFiles are regular files with the setuid or setgid bit.
	SpecialFiles []SpecialFile `json:"specialFiles,omitempty"`
	// ExposedPorts are the configured ports ("80/tcp"), sorted.
	ExposedPorts []string `json:"exposedPorts,omitempty"`
	// SecretEnv are names of environment variables whose name looks like a
	// secret and whose value is not empty. Values are never kept.
	SecretEnv []string `json:"secretEnv,omitempty"`
	// Size is the stored size of the layers in bytes.
	Size int64 `json:"size"`
	// Layers is the number of layers.
	Layers int `json:"layers"`
}

// SpecialFile is a setuid or setgid file.
type SpecialFile struct {
	// Path is the absolute path inside the image.
	Path string `json:"path"`
	// Mode is the permission in octal, as chmod takes it ("4755").
	Mode   string `json:"mode"`
	Setuid bool   `json:"setuid,omitempty"`
	Setgid bool   `json:"setgid,omitempty"`
}

// shellNames are the command interpreters looked for in binDirs.
var shellNames = []string{"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "busybox"}

// packageManagerNames are the OS and language package managers looked for
// in binDirs.
var packageManagerNames = []string{
	"apt", "apt-get", "dpkg", "apk", "yum", "dnf", "microdnf", "rpm", "zypper", "pacman", "emerge",
	"pip", "pip3", "npm", "yarn", "pnpm", "gem", "composer", "cargo",
}

var binDirs = []string{"bin", "sbin", "usr/bin", "usr/sbin", "usr/local/bin", "usr/local/sbin"}

// secretName matches environment variable names that usually hold secrets.
var secretName = regexp.MustCompile(`(?i)(^|_)(PASSWORD|PASSWD|PASS|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|SECRET_?KEY|CLIENT_?SECRET|CREDENTIALS?|AUTH_?TOKEN)($|_)`)

// Collect gathers the facts of the image whose squashed filesystem is fsys
// and whose configuration is cfg (nil for a directory). size and layers are
// the stored size and layer count. It returns an error only when walking
// fsys fails.
func Collect(ctx context.Context, fsys fs.FS, cfg *v1.ConfigFile, size int64, layers int) (*Facts, error) {
	f := &Facts{Size: size, Layers: layers}
	if cfg != nil {
		f.User = cfg.Config.User
		for p := range cfg.Config.ExposedPorts {
			f.ExposedPorts = append(f.ExposedPorts, p)
		}
		slices.Sort(f.ExposedPorts)
		for _, kv := range cfg.Config.Env {
			k, v, _ := strings.Cut(kv, "=")
			if v != "" && secretName.MatchString(k) && !pointsElsewhere(k) {
				f.SecretEnv = append(f.SecretEnv, k)
			}
		}
	}
	f.RunsAsRoot = IsRoot(f.User)
	f.Shells = present(fsys, shellNames)
	f.PackageManagers = present(fsys, packageManagerNames)

	n := 0
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walk %s: %w", name, err)
		}
		if n++; n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("stat %s: %w", name, err)
		}
		m := info.Mode()
		if m&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
			f.SpecialFiles = append(f.SpecialFiles, SpecialFile{
				Path: "/" + name, Mode: octal(m),
				Setuid: m&fs.ModeSetuid != 0, Setgid: m&fs.ModeSetgid != 0,
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// IsRoot reports whether a configured user runs as root: empty, "root" or
// UID 0, with or without a group.
func IsRoot(user string) bool {
	u, _, _ := strings.Cut(user, ":")
	u = strings.TrimSpace(u)
	return u == "" || u == "root" || strings.TrimLeft(u, "0") == "" && u != ""
}

// present returns "/dir/name" for every name found as an executable file
// (after following links) in one of binDirs. A bin directory that is a
// symbolic link (/bin -> usr/bin on merged-/usr systems) is skipped, so a
// file is reported under its real directory only.
func present(fsys fs.FS, names []string) []string {
	var out []string
	for _, dir := range binDirs {
		if info, err := fs.Lstat(fsys, dir); err != nil || !info.IsDir() {
			continue
		}
		for _, name := range names {
			p := path.Join(dir, name)
			info, err := fs.Stat(fsys, p)
			if err != nil {
				continue
			}
			if info.Mode().IsRegular() && info.Mode()&0o111 != 0 {
				out = append(out, "/"+p)
			}
		}
	}
	slices.Sort(out)
	return out
}

// octal writes a mode as chmod takes it ("4755").
func octal(m fs.FileMode) string {
	v := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	return fmt.Sprintf("%04o", v)
}

// pointsElsewhere reports names that by convention hold where a secret is
// (DB_PASSWORD_FILE=/run/secrets/db), not the secret.
func pointsElsewhere(name string) bool {
	u := strings.ToUpper(name)
	return strings.HasSuffix(u, "_FILE") || strings.HasSuffix(u, "_PATH") || strings.HasSuffix(u, "_DIR")
}
