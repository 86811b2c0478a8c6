package client

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
)

// Credential is the API token `dryad-registry login` stored for one
// registry.
type Credential struct {
	Username  string     `json:"username"`
	Token     string     `json:"token"`
	TokenID   int64      `json:"token_id"`
	TokenName string     `json:"token_name"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Credentials is the credentials file: one token per registry, keyed by
// the registry's base URL. It is written with mode 0600 in a folder with
// mode 0700, and refused when others may read it.
type Credentials struct {
	// Path is the file's location.
	Path       string                 `json:"-"`
	Registries map[string]*Credential `json:"registries"`
}

// DefaultCredentialsPath is the credentials file in the user's config
// folder: $XDG_CONFIG_HOME/dryad-registry/credentials.json on Linux.
func DefaultCredentialsPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", errs.Wrap(errs.Invalid, err, "no config folder to keep credentials in (set HOME or XDG_CONFIG_HOME); pass --token instead")
	}
	return filepath.Join(dir, "dryad-registry", "credentials.json"), nil
}

// LoadCredentials reads the credentials file at path; a missing file is
// an empty one. A file that others may read or write is refused
// (errs.Forbidden) unless anyMode (to remove it): its tokens may have
// leaked, and it is for the user to decide (chmod 600, or revoke them).
func LoadCredentials(path string, anyMode bool) (*Credentials, error) {
	c := &Credentials{Path: path, Registries: map[string]*Credential{}}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, errs.Errorf(errs.Unavailable, "reading the credentials file: %v", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, errs.Errorf(errs.Unavailable, "reading the credentials file: %v", err)
	}
	if mode := info.Mode().Perm(); !anyMode && runtime.GOOS != "windows" && mode&0o077 != 0 {
		return nil, errs.Errorf(errs.Forbidden, "%s has mode %04o, so other users may read its tokens; refusing to use it: run `chmod 600 %s` (and revoke its tokens if others could read them), or `dryad-registry logout`", path, mode, path)
	}
	if err := json.NewDecoder(f).Decode(c); err != nil {
		return nil, errs.Errorf(errs.Unavailable, "%s is not valid JSON (%v); remove it and run `dryad-registry login` again", path, err)
	}
	if c.Registries == nil {
		c.Registries = map[string]*Credential{}
	}
	return c, nil
}

// For returns the credential stored for a registry, or nil.
func (c *Credentials) For(baseURL string) *Credential {
	return c.Registries[baseURL]
}

// Only returns the registry of the one credential stored, when exactly
// one is.
func (c *Credentials) Only() (string, bool) {
	if len(c.Registries) != 1 {
		return "", false
	}
	for u := range c.Registries {
		return u, true
	}
	return "", false
}

// URLs lists the registries with a stored credential, sorted.
func (c *Credentials) URLs() []string {
	var out []string
	for u := range c.Registries {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// Save writes the file atomically: a temporary file with mode 0600 in the
// same folder (created with mode 0700, and tightened to it), renamed over
// the old one. With no credential left the file is removed.
func (c *Credentials) Save() error {
	dir := filepath.Dir(c.Path)
	if len(c.Registries) == 0 {
		if err := os.Remove(c.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return errs.Errorf(errs.Unavailable, "removing %s: %v", c.Path, err)
		}
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return errs.Errorf(errs.Unavailable, "creating %s: %v", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return errs.Errorf(errs.Unavailable, "setting the mode of %s to 0700: %v", dir, err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".credentials-*.json")
	if err != nil {
		return errs.Errorf(errs.Unavailable, "writing the credentials file: %v", err)
	}
	defer os.Remove(f.Name())
	// CreateTemp makes the file 0600; Chmod keeps it so whatever the umask.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return errs.Errorf(errs.Unavailable, "writing the credentials file: %v", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), c.Path)
	}
	if err != nil {
		return errs.Errorf(errs.Unavailable, "writing %s: %v", c.Path, err)
	}
	return nil
}
