package auth

import (
	"strings"
	"testing"

	"github.com/dryad-lang/registry/internal/errs"
)

func TestValidatePackagePattern(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"mylib", true},
		{"mylib-*", true},
		{"mylib*", true},
		{"my_lib-core", true},
		{"0lib", true},
		{"m", true},
		{"m*", true},
		{strings.Repeat("a", 64), true},
		{strings.Repeat("a", 64) + "*", true},
		{strings.Repeat("a", 65), false},
		{"", false},
		{"*", false},
		{"-lib", false},
		{"_lib*", false},
		{"MyLib", false},
		{"my lib", false},
		{"my.lib", false},
		{"mylib-**", false},
		{"*-core", false},
		{"my*lib", false},
		{"mylib?", false},
		{"mylib/", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			err := ValidatePackagePattern(tc.in)
			if tc.ok {
				checkErr(t, err, nil)
			} else {
				checkErr(t, err, kind(errs.Invalid), "is not valid", "mylib-*")
			}
		})
	}
}

func TestMatchPackage(t *testing.T) {
	for _, tc := range []struct {
		patterns []string
		name     string
		want     bool
	}{
		{nil, "anything", true},
		{[]string{}, "anything", true},
		{[]string{"mylib-*"}, "mylib-core", true},
		{[]string{"mylib-*"}, "mylib_core", true},
		{[]string{"mylib_*"}, "mylib-core", true},
		{[]string{"mylib-*"}, "mylib-", true},
		// The '-' before '*' is literal: the bare name needs its own entry.
		{[]string{"mylib-*"}, "mylib", false},
		{[]string{"mylib*"}, "mylib", true},
		{[]string{"mylib*"}, "mylibrary", true},
		{[]string{"mylib-*"}, "other", false},
		{[]string{"mylib-*"}, "mylibx-core", false},
		{[]string{"mylib-*"}, "xmylib-core", false},
		{[]string{"mylib"}, "mylib", true},
		{[]string{"my-lib"}, "my_lib", true},
		{[]string{"mylib"}, "mylib-core", false},
		{[]string{"mylib"}, "MyLib", true},
		{[]string{"a", "b-*"}, "b-x", true},
		{[]string{"a", "b-*"}, "c", false},
	} {
		if got := MatchPackage(tc.patterns, tc.name); got != tc.want {
			t.Errorf("MatchPackage(%q, %q) = %v, want %v", tc.patterns, tc.name, got, tc.want)
		}
	}
}
