package auth

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dryad-lang/registry/internal/errs"
)

// Scope is one kind of action an API token may perform.
type Scope string

// The scopes a token can be given. Logins (JWT or session) hold them all.
const (
	// ScopePublish publishes new packages and new versions of owned ones.
	ScopePublish Scope = "publish"
	// ScopeYank yanks and unyanks versions.
	ScopeYank Scope = "yank"
	// ScopeOwners adds and removes a package's co-owners.
	ScopeOwners Scope = "owners"
)

// allScopes lists the scopes in their canonical order.
var allScopes = [...]Scope{ScopePublish, ScopeYank, ScopeOwners}

// scopeList is the scopes as users type them, for error messages.
func scopeList() string {
	names := make([]string, len(allScopes))
	for i, s := range allScopes {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// ParseScopes checks the scopes requested for a token and returns them
// without duplicates, in canonical order. At least one is required; an
// unknown one is an errs.Invalid error that lists the valid ones.
func ParseScopes(names []string) ([]Scope, error) {
	if len(names) == 0 {
		return nil, errs.New(errs.Invalid, "give the token at least one scope: "+scopeList())
	}
	want := make(map[Scope]bool, len(names))
	for _, n := range names {
		s := Scope(n)
		if !slices.Contains(allScopes[:], s) {
			return nil, errs.New(errs.Invalid, fmt.Sprintf("unknown scope %q; valid scopes are %s", n, scopeList()))
		}
		want[s] = true
	}
	var out []Scope
	for _, s := range allScopes {
		if want[s] {
			out = append(out, s)
		}
	}
	return out, nil
}
