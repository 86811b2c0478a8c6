package registry_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/registry/registrytest"
	"github.com/dryad-lang/registry/internal/testenv"
)

func versionList(vs []registry.Version) string {
	return joined(vs, func(v registry.Version) string { return v.Version })
}

func TestPackage(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	carol := f.SignUp("carol")
	for _, v := range []string{"1.0.0", "2.0.0-beta.1", "1.1.0", "1.0.1"} {
		f.Publish(carol, pkg("semv", v))
		f.Clock.Advance(time.Minute)
	}
	f.Publish(carol, pkg("dropped", "1.0.0"))
	if _, err := f.Service.DeletePackage(ctx, carol, "dropped", ip); err != nil {
		t.Fatal(err)
	}

	lookups := []struct {
		name string
		kind errs.Kind
	}{
		{"semv", success},
		{"SEMV", success},
		{"ghost", errs.NotFound},
		{"Bad Name!", errs.NotFound},
		{"admin", errs.NotFound},
		{"dropped", errs.Gone},
	}
	for _, tt := range lookups {
		_, err := f.Service.Package(ctx, tt.name)
		checkErr(t, "Package("+tt.name+")", err, tt.kind, "")
	}

	p, err := f.Service.Package(ctx, "semv")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "semv" || p.Latest != "1.1.0" || p.Default() == nil || p.Default().Version != "1.1.0" ||
		versionList(p.Versions) != "2.0.0-beta.1 1.1.0 1.0.1 1.0.0" || !p.Versions[0].Prerelease || p.Versions[1].Prerelease ||
		len(p.Owners) != 1 || p.Owners[0] != "carol" || p.Keywords == nil ||
		!p.CreatedAt.Equal(registrytest.Start) || !p.UpdatedAt.Equal(registrytest.Start.Add(3*time.Minute)) {
		t.Errorf("semv: latest %s, versions %q, owners %v, created %v, updated %v", p.Latest, versionList(p.Versions), p.Owners, p.CreatedAt, p.UpdatedAt)
	}

	finds := []struct {
		asked, want string
		kind        errs.Kind
	}{
		{"1.0.0", "1.0.0", success},
		{"1.0.0+build.7", "1.0.0", success},
		{"2.0.0-beta.1", "2.0.0-beta.1", success},
		{"9.9.9", "", errs.NotFound},
		{"latest", "", errs.NotFound},
	}
	for _, tt := range finds {
		v, err := p.Find(tt.asked)
		if checkErr(t, "Find("+tt.asked+")", err, tt.kind, "") && err == nil && v.Version != tt.want {
			t.Errorf("Find(%s) = %s, want %s", tt.asked, v.Version, tt.want)
		}
	}
}

func TestDefaultVersion(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	publish := func(name string, versions ...string) {
		for _, v := range versions {
			f.Publish(alice, pkg(name, v))
		}
	}
	yank := func(name string, versions ...string) {
		for _, v := range versions {
			if _, err := f.Service.SetYanked(ctx, alice, name, v, true, ip); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish("pre", "0.1.0-alpha.2", "0.1.0-alpha.10")
	publish("rc", "1.0.0", "2.0.0-rc.1")
	yank("rc", "1.0.0")
	publish("all_yanked", "1.0.0", "1.1.0")
	yank("all_yanked", "1.0.0", "1.1.0")
	var many []string
	for i := range 12 {
		many = append(many, fmt.Sprintf("1.%d.0", i))
	}
	publish("many", many...)
	yank("many", many...)

	tests := []struct {
		name, want string // want "" for no default
		msg        string
	}{
		{"pre", "0.1.0-alpha.10", ""},
		{"rc", "2.0.0-rc.1", ""},
		{"ALL-YANKED", "", "every version of all_yanked is yanked (1.1.0, 1.0.0)"},
		{"many", "", "(1.11.0, 1.10.0, 1.9.0, 1.8.0, 1.7.0, 1.6.0, 1.5.0, 1.4.0, 1.3.0, 1.2.0, and 2 more)"},
	}
	for _, tt := range tests {
		p, err := f.Service.Package(ctx, tt.name)
		if err != nil {
			t.Fatal(err)
		}
		d := p.Default()
		switch {
		case tt.want != "" && (d == nil || d.Version != tt.want || p.Latest != tt.want):
			t.Errorf("%s: default %+v, latest %q, want %s", tt.name, d, p.Latest, tt.want)
		case tt.want == "" && (d != nil || p.Latest != ""):
			t.Errorf("%s: default %+v, latest %q, want none", tt.name, d, p.Latest)
		case tt.want == "":
			checkErr(t, tt.name+": NoDefault", p.NoDefault(), errs.NotFound, tt.msg)
		}
	}
	// The exact versions stay readable.
	if v, err := f.Service.Version(ctx, "all_yanked", "1.0.0"); err != nil || !v.Yanked {
		t.Errorf("a yanked version by its number: %+v, %v", v, err)
	}
}

func TestVersion(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	f.Publish(alice, pkg("semv", "1.0.0"))
	f.Publish(alice, pkg("semv", "1.1.0"))
	f.Publish(alice, pkg("semv", "2.0.0-beta.1"))
	f.Publish(alice, pkg("semv", "3.0.0+build.1"))
	f.Publish(alice, withDeps("app", "1.0.0", map[string]string{"semv": "^1.0.0"}))
	if _, err := f.Service.DeleteVersion(ctx, alice, "semv", "1.1.0", ip); err != nil {
		t.Fatal(err)
	}
	f.Publish(alice, pkg("dropped", "1.0.0"))
	if _, err := f.Service.DeletePackage(ctx, alice, "dropped", ip); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, pkg, version, want string
		prerelease               bool
		kind                     errs.Kind
	}{
		{"exact", "semv", "1.0.0", "1.0.0", false, success},
		{"other spelling, build metadata", "SEMV", "1.0.0+meta", "1.0.0", false, success},
		{"stored with build metadata", "semv", "3.0.0", "3.0.0+build.1", false, success},
		{"prerelease", "semv", "2.0.0-beta.1", "2.0.0-beta.1", true, success},
		{"unknown version", "semv", "9.9.9", "", false, errs.NotFound},
		{"not a version", "semv", "latest", "", false, errs.NotFound},
		{"unknown package", "ghost", "1.0.0", "", false, errs.NotFound},
		{"deleted version", "semv", "1.1.0", "", false, errs.Gone},
		{"deleted package", "dropped", "1.0.0", "", false, errs.Gone},
	}
	for _, tt := range tests {
		v, err := f.Service.Version(ctx, tt.pkg, tt.version)
		if checkErr(t, tt.name, err, tt.kind, "") && err == nil &&
			(v.Version != tt.want || v.Package != "semv" || v.Prerelease != tt.prerelease || v.Publisher != "alice" || len(v.Checksum) != 64) {
			t.Errorf("%s: %+v", tt.name, v)
		}
	}
	if v, _ := f.Service.Version(ctx, "app", "1.0.0"); v.Dependencies["semv"] != "^1.0.0" {
		t.Errorf("app's dependencies: %v", v.Dependencies)
	}
}

func TestResolve(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	for _, v := range []string{"1.0.0", "2.0.0-beta.1", "1.1.0", "1.0.1"} {
		f.Publish(alice, pkg("semv", v))
	}
	f.Publish(alice, pkg("gone", "1.0.0"))
	if _, err := f.Service.DeletePackage(ctx, alice, "gone", ip); err != nil {
		t.Fatal(err)
	}
	f.Publish(alice, pkg("yanked", "1.0.0"))
	if _, err := f.Service.SetYanked(ctx, alice, "yanked", "1.0.0", true, ip); err != nil {
		t.Fatal(err)
	}

	type tcase struct {
		pkg, rng, want string
		kind           errs.Kind
		msg            string
	}
	run := func(stage string, tests []tcase) {
		for _, tt := range tests {
			v, err := f.Service.Resolve(ctx, tt.pkg, tt.rng)
			what := fmt.Sprintf("%s: resolve %s %q", stage, tt.pkg, tt.rng)
			if checkErr(t, what, err, tt.kind, tt.msg) && err == nil && (v.Version != tt.want || v.Package != tt.pkg) {
				t.Errorf("%s = %s@%s, want %s", what, v.Package, v.Version, tt.want)
			}
		}
	}
	run("all live", []tcase{
		{"semv", "^1.0.0", "1.1.0", success, ""},
		{"semv", "~1.0.0", "1.0.1", success, ""},
		{"semv", "1.0.0", "1.0.0", success, ""},
		{"semv", "*", "1.1.0", success, ""},
		{"semv", "latest", "1.1.0", success, ""},
		{"semv", "", "1.1.0", success, ""},
		{"semv", ">=1.0.0 <1.1.0", "1.0.1", success, ""},
		{"semv", "^2.0.0-beta", "2.0.0-beta.1", success, ""},
		{"semv", "1.x", "1.1.0", success, ""},
		{"semv", "^3.0.0", "", errs.NotFound, "available: [2.0.0-beta.1 1.1.0 1.0.1 1.0.0]"},
		{"semv", "^^1", "", errs.Invalid, ""},
		{"ghost", "*", "", errs.NotFound, ""},
		{"gone", "*", "", errs.Gone, ""},
		{"yanked", "*", "", errs.NotFound, "no installable version"},
	})
	if _, err := f.Service.SetYanked(ctx, alice, "semv", "1.1.0", true, ip); err != nil {
		t.Fatal(err)
	}
	run("1.1.0 yanked", []tcase{
		{"semv", "^1.0.0", "1.0.1", success, ""},
		{"semv", "1.1.0", "", errs.NotFound, ""},
		{"semv", "*", "1.0.1", success, ""},
	})
}

func TestArchives(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	files := testenv.Package{Name: "files", Version: "1.0.0", Files: map[string]string{
		"README.md": "# hi", "src/a/deep.dryad": "deep", "docs/guide.md": strings.Repeat("g", 2000), "bin/run*": "#!/bin/sh\n"}}
	pub := f.Publish(alice, files)
	f.Publish(alice, pkg("files", "1.1.0"))
	f.Publish(alice, pkg("files", "1.2.0"))
	if _, err := f.Service.SetYanked(ctx, alice, "files", "1.1.0", true, ip); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Service.DeleteVersion(ctx, alice, "files", "1.2.0", ip); err != nil {
		t.Fatal(err)
	}

	lookups := []struct {
		version string
		kind    errs.Kind
		yanked  bool
	}{
		{"1.0.0", success, false},
		{"1.0.0+meta", success, false},
		{"1.1.0", success, true},
		{"1.2.0", errs.Gone, false},
		{"9.9.9", errs.NotFound, false},
		{"nope", errs.NotFound, false},
	}
	for _, tt := range lookups {
		ref, err := f.Service.LookupArchive(ctx, "FILES", tt.version)
		if checkErr(t, "LookupArchive "+tt.version, err, tt.kind, "") && err == nil && (ref.Yanked != tt.yanked || ref.Package != "files" || ref.Size <= 0) {
			t.Errorf("LookupArchive %s: %+v", tt.version, ref)
		}
	}
	ref, _ := f.Service.LookupArchive(ctx, "files", "1.0.0")
	if ref.Checksum != pub.Checksum || ref.Size != pub.Size || ref.Version != "1.0.0" {
		t.Errorf("ref %+v, published %+v", ref, pub)
	}
	_, err := f.Service.OpenArchive(ctx, &registry.ArchiveRef{Package: "files", Version: "9.0.0", Checksum: strings.Repeat("0", 64)})
	checkErr(t, "OpenArchive of a missing archive", err, errs.Unavailable, "")

	names := func(es []registry.ArchiveEntry) string {
		var out []string
		for _, e := range es {
			out = append(out, e.Name())
		}
		return strings.Join(out, " ")
	}
	browse := []struct {
		name, path string
		max        int64
		kind       errs.Kind
		dir        bool
		entries    string // a folder's entries
		content    string // a file's content
		tooLarge   bool
	}{
		{"root: folders first", "", 1 << 20, success, true, "bin docs lib src README.md oaklibs.json", "", false},
		{"a folder with no entry of its own", "src", 1 << 20, success, true, "a", "", false},
		{"slashes are trimmed", "/src/a/", 1 << 20, success, true, "deep.dryad", "", false},
		{"a file", "README.md", 1 << 20, success, false, "", "# hi", false},
		{"a file over max", "docs/guide.md", 100, success, false, "", "", true},
		{"no such path", "ghost.txt", 1 << 20, errs.NotFound, false, "", "", false},
	}
	for _, tt := range browse {
		a, err := f.Service.BrowseArchive(ctx, "files", "1.0.0", tt.path, tt.max)
		if !checkErr(t, "BrowseArchive: "+tt.name, err, tt.kind, "") || err != nil {
			continue
		}
		if a.IsDir != tt.dir || names(a.Entries) != tt.entries || string(a.Content) != tt.content || a.TooLarge != tt.tooLarge ||
			a.Package != "files" || a.Version != "1.0.0" {
			t.Errorf("BrowseArchive: %s: %+v", tt.name, a)
		}
	}
	if a, _ := f.Service.BrowseArchive(ctx, "files", "1.0.0", "docs/guide.md", 100); a.Size != 2000 {
		t.Errorf("too large a file's size: %d", a.Size)
	}
	if a, err := f.Service.BrowseArchive(ctx, "files", "1.1.0", "", 100); err != nil || !a.Yanked {
		t.Errorf("browsing a yanked version: %+v, %v", a, err)
	}
	_, err = f.Service.BrowseArchive(ctx, "files", "1.2.0", "", 100)
	checkErr(t, "browsing a deleted version", err, errs.Gone, "")

	copies := []struct {
		path, want string
		kind       errs.Kind
	}{
		{"lib/files.dryad", files.FileMap()["lib/files.dryad"], success},
		{"/src/a/deep.dryad", "deep", success},
		{"src", "", errs.NotFound},
		{"ghost", "", errs.NotFound},
	}
	for _, tt := range copies {
		var buf bytes.Buffer
		var started *registry.ArchiveEntry
		err := f.Service.CopyArchiveFile(ctx, "files", "1.0.0", tt.path, func(e registry.ArchiveEntry) {
			if buf.Len() != 0 {
				t.Errorf("CopyArchiveFile %s: start called after writing", tt.path)
			}
			started = &e
		}, &buf)
		if checkErr(t, "CopyArchiveFile "+tt.path, err, tt.kind, "") && err == nil &&
			(buf.String() != tt.want || started == nil || started.Size != int64(len(tt.want))) {
			t.Errorf("CopyArchiveFile %s: %q, entry %+v", tt.path, buf.String(), started)
		}
	}
}

func TestPackageScope(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	f.Publish(alice, pkg("my_lib", "1.0.0"))
	f.Publish(alice, pkg("other", "1.0.0"))
	before, beforeOther := f.Service.PackageScope(ctx, "my_lib"), f.Service.PackageScope(ctx, "other")
	if before == "" || f.Service.PackageScope(ctx, "MY-LIB") != before || beforeOther == before {
		t.Fatalf("scopes: %q, %q", before, beforeOther)
	}
	changes := []struct {
		name   string
		change func() error
	}{
		{"publish", func() error { _, err := f.TryPublish(alice, pkg("my-lib", "1.1.0")); return err }},
		{"yank", func() error { _, err := f.Service.SetYanked(ctx, alice, "my_lib", "1.1.0", true, ip); return err }},
		{"owners", func() error { _, err := f.Service.AddOwners(ctx, alice, "my_lib", []string{"alice"}, ip); return err }},
		{"delete", func() error { _, err := f.Service.DeleteVersion(ctx, alice, "my_lib", "1.1.0", ip); return err }},
	}
	for _, c := range changes {
		if err := c.change(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		after := f.Service.PackageScope(ctx, "my_lib")
		if after == before {
			t.Errorf("%s did not change the package's cache scope", c.name)
		}
		before = after
	}
	if f.Service.PackageScope(ctx, "other") != beforeOther {
		t.Error("changes to my_lib changed other's cache scope")
	}
}
