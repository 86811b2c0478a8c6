// Package client is the HTTP client of the registry's own command line:
// finding the registry a folder publishes to (oak-registry.json, as Oak
// writes it), packing a package, and uploading it with a progress report;
// the account and package calls of login, yank, owner, token and search
// (API), and the credentials file login keeps tokens in.
// Errors are errs kinds: errs.Invalid for a mistake in what the user asked
// (the command exits 2), anything else for a failure (it exits 1).
package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/dryad-lang/registry/internal/errs"
)

// OakRegistryFile is the name of the file `oak registry add` and
// `oak registry set-default` write in the current folder.
const OakRegistryFile = "oak-registry.json"

// Registry is the registry a command talks to.
type Registry struct {
	// BaseURL is scheme://host[:port][/path], without a trailing slash.
	BaseURL string
	// OakName is the registry's name in oak-registry.json, when it was
	// found there.
	OakName string
}

// FindRegistry returns the registry of flag: a URL, or the name of a
// registry in dir's oak-registry.json ("" for its default registry).
func FindRegistry(dir, flag string) (*Registry, error) {
	raw, reg := flag, &Registry{}
	if raw == "" || !strings.Contains(raw, "://") {
		b, err := os.ReadFile(filepath.Join(dir, OakRegistryFile))
		if errors.Is(err, os.ErrNotExist) {
			if raw != "" {
				return nil, errs.Errorf(errs.Invalid, "--registry %q is not a URL and there is no %s here to look the name up in", raw, OakRegistryFile)
			}
			return nil, errs.New(errs.Invalid, "which registry? pass --registry URL (or run `oak registry add NAME URL` and `oak registry set-default NAME` in this folder)")
		}
		if err != nil {
			return nil, errs.Errorf(errs.Unavailable, "reading %s: %v", OakRegistryFile, err)
		}
		var cfg struct {
			DefaultRegistry string            `json:"default_registry"`
			Registries      map[string]string `json:"registries"`
		}
		if err := json.Unmarshal(b, &cfg); err != nil {
			return nil, errs.Errorf(errs.Unavailable, "%s is not valid JSON (%v); pass --registry URL", OakRegistryFile, err)
		}
		name := raw
		if name == "" {
			name = cfg.DefaultRegistry
		}
		u, ok := cfg.Registries[name]
		if !ok || name == "" {
			return nil, errs.Errorf(errs.Invalid, "%s has no registry named %q; pass --registry URL", OakRegistryFile, name)
		}
		reg.OakName, raw = name, u
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, errs.Errorf(errs.Invalid, "registry URL %q: want http(s)://host[:port][/path]", raw)
	}
	reg.BaseURL = strings.TrimRight(u.String(), "/")
	return reg, nil
}

// HumanSize writes a byte count for people: 512 B, 3.4 KiB, 100.0 MiB.
func HumanSize(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}
