package auth

import (
	"slices"
	"strings"
	"testing"

	"github.com/dryad-lang/registry/internal/errs"
)

func TestParseScopes(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string
		want []Scope
		err  string // part of the message; "" for success
	}{
		{"one", []string{"publish"}, []Scope{ScopePublish}, ""},
		{"all, any order", []string{"owners", "publish", "yank"}, []Scope{ScopePublish, ScopeYank, ScopeOwners}, ""},
		{"duplicates", []string{"yank", "yank"}, []Scope{ScopeYank}, ""},
		{"none", nil, nil, "at least one scope"},
		{"empty list", []string{}, nil, "at least one scope"},
		{"unknown", []string{"publish", "admin"}, nil, `unknown scope "admin"`},
		{"case matters", []string{"Publish"}, nil, `unknown scope "Publish"`},
		{"empty name", []string{""}, nil, `unknown scope ""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseScopes(tc.in)
			if tc.err != "" {
				checkErr(t, err, kind(errs.Invalid), tc.err)
				if !strings.Contains(errs.Message(err), "publish, yank, owners") {
					t.Errorf("message %q does not list the valid scopes", errs.Message(err))
				}
				return
			}
			checkErr(t, err, nil)
			if !slices.Equal(got, tc.want) {
				t.Errorf("ParseScopes(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
