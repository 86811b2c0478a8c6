package registry_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/registry/registrytest"
)

func versionNames(vs []registry.Version) string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Package+"@"+v.Version)
	}
	return strings.Join(out, " ")
}

func TestRecentVersions(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	for _, p := range [][2]string{{"left_pad", "1.0.0"}, {"right_pad", "1.0.0"}, {"left_pad", "0.9.0"}, {"gone", "1.0.0"}, {"right_pad", "2.0.0"}, {"left_pad", "0.8.0"}} {
		f.Publish(alice, pkg(p[0], p[1]))
		f.Clock.Advance(time.Minute)
	}
	_, err := f.Service.SetYanked(ctx, alice, "right-pad", "1.0.0", true, ip)
	checkErr(t, "yank", err, success, "")
	_, err = f.Service.DeleteVersion(ctx, alice, "left-pad", "0.9.0", ip)
	checkErr(t, "delete version", err, success, "")
	_, err = f.Service.DeletePackage(ctx, alice, "gone", ip)
	checkErr(t, "delete package", err, success, "")

	for _, tt := range []struct {
		limit int
		want  string
	}{
		// Newest first by publish, deleted ones left out, yanked ones kept.
		{10, "left_pad@0.8.0 right_pad@2.0.0 right_pad@1.0.0 left_pad@1.0.0"},
		{2, "left_pad@0.8.0 right_pad@2.0.0"},
		{0, ""},
	} {
		got, err := f.Service.RecentVersions(ctx, tt.limit)
		if !checkErr(t, "recent", err, success, "") {
			continue
		}
		if versionNames(got) != tt.want {
			t.Errorf("RecentVersions(%d) = %q, want %q", tt.limit, versionNames(got), tt.want)
		}
	}

	for _, tt := range []struct {
		name string
		want string
		kind errs.Kind
	}{
		// By publish time, not by version precedence.
		{"left-pad", "left_pad@0.8.0 left_pad@1.0.0", success},
		{"right_pad", "right_pad@2.0.0 right_pad@1.0.0", success},
		{"gone", "", errs.Gone},
		{"nothing", "", errs.NotFound},
	} {
		p, err := f.Service.PackageFeed(ctx, tt.name)
		if !checkErr(t, "feed of "+tt.name, err, tt.kind, "") || err != nil {
			continue
		}
		if versionNames(p.Versions) != tt.want {
			t.Errorf("PackageFeed(%s) = %q, want %q", tt.name, versionNames(p.Versions), tt.want)
		}
	}
}
