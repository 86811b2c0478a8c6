package registry_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/blob"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/registry/registrytest"
	"github.com/dryad-lang/registry/internal/store"
	"github.com/dryad-lang/registry/internal/testenv"
)

// observer records the service's metrics events.
type observer struct {
	mu        sync.Mutex
	published int
	failed    []string
	downloads int
}

func (o *observer) Published() { o.mu.Lock(); o.published++; o.mu.Unlock() }
func (o *observer) PublishFailed(reason string) {
	o.mu.Lock()
	o.failed = append(o.failed, reason)
	o.mu.Unlock()
}
func (o *observer) Downloaded()        { o.mu.Lock(); o.downloads++; o.mu.Unlock() }
func (o *observer) CacheHit(bool)      {}
func (o *observer) RateLimited(string) {}
func (o *observer) lastFailure() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.failed[len(o.failed)-1]
}

// TestPublishRefusals checks every refusal of Publish with its kind, its
// message, its metrics label, and that it leaves nothing behind.
func TestPublishRefusals(t *testing.T) {
	ctx := context.Background()
	obs := &observer{}
	f := registrytest.New(t, registrytest.MaxPackageSize(64<<10), registrytest.Observer(obs))
	alice := f.SignUp("alice")
	bob := f.SignUp("bob")
	f.Publish(alice, pkg("base", "1.0.0"))
	f.Publish(alice, pkg("base", "1.1.0"))
	f.Publish(alice, pkg("my-lib", "1.0.0"))
	f.Publish(alice, pkg("yanked", "1.0.0"))
	if _, err := f.Service.SetYanked(ctx, alice, "yanked", "1.0.0", true, ip); err != nil {
		t.Fatal(err)
	}
	f.Publish(alice, pkg("gone", "1.0.0"))
	if _, err := f.Service.DeletePackage(ctx, alice, "gone", ip); err != nil {
		t.Fatal(err)
	}
	archives := f.Archives()

	big := make([]byte, 200<<10)
	rand.Read(big) // incompressible
	archive := func(p testenv.Package) []byte { return p.Archive(t) }
	tests := []struct {
		name   string
		p      *auth.Principal
		body   []byte
		kind   errs.Kind
		msg    string
		reason string
	}{
		{"anonymous", nil, archive(pkg("x1", "1.0.0")), errs.Unauthenticated, "log in", "unauthenticated"},
		{"not gzip", alice, []byte("this is not an archive"), errs.Invalid, "gzip", "invalid_archive"},
		{"no manifest", alice, testenv.TarGz(t, "", map[string]string{"README.md": "hi"}), errs.Invalid, "oaklibs.json", "invalid_archive"},
		{"path outside the package", alice, testenv.TarGz(t, "", map[string]string{"oaklibs.json": `{"name":"x3","version":"1.0.0"}`, "../evil": "x"}), errs.Invalid, "..", "invalid_archive"},
		{"too large", alice, archive(testenv.Package{Name: "big", Version: "1.0.0", Files: map[string]string{"blob.bin": string(big)}}), errs.TooLarge, "limit", "too_large"},
		{"bad name", alice, archive(pkg("Bad Name", "1.0.0")), errs.Invalid, "name", "invalid_manifest"},
		{"upper-case name", alice, archive(pkg("MY_PKG", "1.0.0")), errs.Invalid, "lowercase", "invalid_manifest"},
		{"reserved name", alice, archive(pkg("admin", "1.0.0")), errs.Invalid, "reserved", "invalid_manifest"},
		{"bad version", alice, archive(pkg("x2", "v1.0")), errs.Invalid, "version", "invalid_manifest"},
		{"four-part version", alice, archive(pkg("x2", "1.0.0.0")), errs.Invalid, "version", "invalid_manifest"},
		{"self dependency", alice, archive(withDeps("app", "1.0.0", map[string]string{"app": "*"})), errs.Invalid, "itself", "invalid_manifest"},
		{"bad range", alice, archive(withDeps("app", "1.0.0", map[string]string{"base": "^^1"})), errs.Invalid, "base", "invalid_manifest"},
		{"republish", alice, archive(pkg("base", "1.0.0")), errs.Conflict, "immutable", "conflict"},
		{"republish with build metadata", alice, archive(pkg("base", "1.0.0+build.2")), errs.Conflict, "already exists", "conflict"},
		{"not an owner", bob, archive(pkg("base", "2.0.0")), errs.Forbidden, "owner", "forbidden"},
		{"the same name spelled with _", bob, archive(pkg("my_lib", "2.0.0")), errs.Forbidden, `"my-lib"`, "forbidden"},
		{"unknown dependency", alice, archive(withDeps("app", "1.0.0", map[string]string{"ghost": "^1.0.0"})), errs.Unprocessable, `"ghost"`, "dependencies"},
		{"unsatisfiable dependency", alice, archive(withDeps("app", "1.0.0", map[string]string{"base": "^2.0.0"})), errs.Unprocessable, "[1.1.0 1.0.0]", "dependencies"},
		{"dependency with every version yanked", alice, archive(withDeps("app", "1.0.0", map[string]string{"yanked": "*"})), errs.Unprocessable, "no installable version", "dependencies"},
		{"dependency on a deleted package", alice, archive(withDeps("app", "1.0.0", map[string]string{"gone": "*"})), errs.Unprocessable, "not a package", "dependencies"},
	}
	for _, tt := range tests {
		_, err := f.Service.Publish(ctx, tt.p, bytes.NewReader(tt.body), ip)
		if checkErr(t, tt.name, err, tt.kind, tt.msg) && obs.lastFailure() != tt.reason {
			t.Errorf("%s: metrics reason %q, want %q", tt.name, obs.lastFailure(), tt.reason)
		}
	}
	if obs.published != 5 || len(obs.failed) != len(tests) {
		t.Errorf("metrics: %d published, %d failed", obs.published, len(obs.failed))
	}

	// Nothing of the refusals is visible or stored.
	for _, name := range []string{"x1", "x2", "x3", "big", "app"} {
		_, err := f.Service.Package(ctx, name)
		checkErr(t, "package "+name+" after refusals", err, errs.NotFound, "")
	}
	if p, _ := f.Service.Package(ctx, "base"); len(p.Versions) != 2 {
		t.Errorf("base has %d versions, want 2", len(p.Versions))
	}
	if n := f.Archives(); n != archives {
		t.Errorf("refused publishes stored %d archives", n-archives)
	}
	// Refusals for want of rights are audited as denied.
	root := f.Admin("root")
	ev, _ := f.Service.Audit(ctx, root, registry.AuditQuery{Action: "publish", Outcome: store.OutcomeDenied, Actor: "bob"})
	if ev.Total != 2 || ev.Events[0].Package != "my-lib" || ev.Events[0].Target != "my_lib@2.0.0" {
		t.Errorf("denied publishes: %+v", ev)
	}
}

// TestPublish checks what a publish stores and answers, new packages and
// new versions, canonical names, and which version the package describes.
func TestPublish(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	bob := f.SignUp("bob")
	root := f.Admin("root")

	first := testenv.Package{Name: "my_pkg", Version: "1.0.0", Prefix: "my_pkg-1.0.0",
		Fields: map[string]any{"description": "first", "keywords": []string{"alpha"}, "license": "MIT", "author": "Alice"},
		Files:  map[string]string{"README.md": "# My package\n"}}
	pub := f.Publish(alice, first)
	if pub.Package != "my_pkg" || pub.Version != "1.0.0" || !blob.ValidSum(pub.Checksum) || pub.Size <= 0 ||
		pub.Files != 3 || pub.Latest != "1.0.0" || !pub.Published.Equal(registrytest.Start) || pub.Prefix != "my_pkg-1.0.0" {
		t.Errorf("published %+v", pub)
	}
	// The stored archive is the one the checksum names.
	ref, err := f.Service.LookupArchive(ctx, "my_pkg", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	file, err := f.Service.OpenArchive(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n, _ := io.Copy(h, file)
	file.Close()
	if hex.EncodeToString(h.Sum(nil)) != pub.Checksum || n != pub.Size || ref.Checksum != pub.Checksum {
		t.Errorf("stored archive: %d bytes, sha256 %x; published %d bytes, %s", n, h.Sum(nil), pub.Size, pub.Checksum)
	}

	v, err := f.Service.Version(ctx, "MY-PKG", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if v.Package != "my_pkg" || v.Publisher != "alice" || v.Description != "first" || v.License != "MIT" || v.Author != "Alice" ||
		!slices.Equal(v.Keywords, []string{"alpha"}) || !v.HasReadme || !strings.Contains(v.ReadmeHTML, "My package") ||
		v.Dependencies == nil || v.DevDependencies == nil || v.FileCount != 3 || v.Prerelease || v.Yanked {
		t.Errorf("version %+v", v)
	}

	steps := []struct {
		name   string
		p      *auth.Principal
		pkg    testenv.Package
		kind   errs.Kind
		latest string // the package's latest version after the step
		desc   string // and its description
	}{
		{"other spelling by a non-owner", bob, withFields("my-pkg", "2.0.0", map[string]any{"description": "bob's"}), errs.Forbidden, "1.0.0", "first"},
		{"other spelling by the owner", alice, withFields("my-pkg", "1.1.0", map[string]any{"description": "second"}), success, "1.1.0", "second"},
		{"a lower version", alice, withFields("my_pkg", "1.0.1", map[string]any{"description": "a patch"}), success, "1.1.0", "second"},
		{"a prerelease", alice, withFields("my_pkg", "2.0.0-beta.1", map[string]any{"description": "beta"}), success, "1.1.0", "second"},
		{"an admin, not an owner", root, withFields("my_pkg", "1.2.0", map[string]any{"description": "by root"}), success, "1.2.0", "by root"},
		{"a satisfied dependency", alice, withDeps("app", "1.0.0", map[string]string{"my-pkg": "^1.1.0"}), success, "", ""},
		{"unknown dev dependencies are not checked", alice, testenv.Package{Name: "tool", Version: "1.0.0",
			Fields: map[string]any{"dev_dependencies": map[string]string{"ghost": "*"}}}, success, "", ""},
	}
	for _, tt := range steps {
		pub, err := f.TryPublish(tt.p, tt.pkg)
		if !checkErr(t, tt.name, err, tt.kind, "") || tt.latest == "" {
			continue
		}
		if err == nil && (pub.Package != "my_pkg" || pub.Latest != tt.latest) {
			t.Errorf("%s: published %s, latest %s", tt.name, pub.Package, pub.Latest)
		}
		p, err := f.Service.Package(ctx, "my-pkg")
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != "my_pkg" || p.Latest != tt.latest || p.Description != tt.desc || !slices.Equal(p.Owners, []string{"alice"}) {
			t.Errorf("%s: package %s latest %s %q, owners %v", tt.name, p.Name, p.Latest, p.Description, p.Owners)
		}
	}
	app, err := f.Service.Version(ctx, "app", "1.0.0")
	if err != nil || app.Dependencies["my-pkg"] != "^1.1.0" {
		t.Errorf("app's dependencies: %+v, %v", app, err)
	}
	if tool, err := f.Service.Version(ctx, "tool", "1.0.0"); err != nil || tool.DevDependencies["ghost"] != "*" {
		t.Errorf("tool's dev dependencies: %+v, %v", tool, err)
	}
	ev, _ := f.Service.Audit(ctx, root, registry.AuditQuery{Action: "publish", Package: "my_pkg", Outcome: store.OutcomeSuccess})
	if ev.Total != 5 {
		t.Errorf("%d publish events for my_pkg, want 5", ev.Total)
	}
}

// TestPublishImmutable checks that a version number is never published
// twice: not after a yank, a delete, or the package's deletion.
func TestPublishImmutable(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	bob := f.SignUp("bob")
	sum := f.Publish(alice, pkg("imm", "1.0.0")).Checksum
	f.Publish(alice, pkg("imm", "1.1.0"))
	if _, err := f.Service.SetYanked(ctx, alice, "imm", "1.0.0", true, ip); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Service.DeleteVersion(ctx, alice, "imm", "1.1.0", ip); err != nil {
		t.Fatal(err)
	}
	changed := testenv.Package{Name: "imm", Version: "1.0.0", Files: map[string]string{"new.txt": "other bytes"}}
	tests := []struct {
		name string
		p    *auth.Principal
		pkg  testenv.Package
		kind errs.Kind
		msg  string
	}{
		{"yanked version", alice, pkg("imm", "1.0.0"), errs.Conflict, "immutable"},
		{"yanked version, other bytes", alice, changed, errs.Conflict, "immutable"},
		{"deleted version", alice, pkg("imm", "1.1.0"), errs.Conflict, "never reused"},
		{"deleted version with build metadata", alice, pkg("imm", "1.1.0+rebuild"), errs.Conflict, "never reused"},
	}
	for _, tt := range tests {
		_, err := f.TryPublish(tt.p, tt.pkg)
		checkErr(t, tt.name, err, tt.kind, tt.msg)
	}
	if v, err := f.Service.Version(ctx, "imm", "1.0.0"); err != nil || v.Checksum != sum || !v.Yanked {
		t.Errorf("imm@1.0.0 after refused republishes: %+v, %v", v, err)
	}

	// A deleted package keeps its versions' numbers and its owners.
	if _, err := f.Service.DeletePackage(ctx, alice, "imm", ip); err != nil {
		t.Fatal(err)
	}
	after := []struct {
		name string
		p    *auth.Principal
		pkg  testenv.Package
		kind errs.Kind
	}{
		{"a version of the deleted package", alice, pkg("imm", "1.0.0"), errs.Conflict},
		{"the deleted package's name by another user", bob, pkg("imm", "2.0.0"), errs.Forbidden},
		{"a new version by its owner", alice, pkg("imm", "2.0.0"), success},
	}
	for _, tt := range after {
		_, err := f.TryPublish(tt.p, tt.pkg)
		checkErr(t, tt.name, err, tt.kind, "")
	}
	p, err := f.Service.Package(ctx, "imm")
	if err != nil || p.Latest != "2.0.0" || len(p.Versions) != 1 {
		t.Errorf("imm published again: %+v, %v", p, err)
	}
}

// TestPublishUpToTheLimit checks that an upload of exactly the limit is
// accepted and one byte more refused.
func TestPublishUpToTheLimit(t *testing.T) {
	ctx := context.Background()
	body := pkg("exact", "1.0.0").Archive(t)
	for _, tt := range []struct {
		limit int64
		kind  errs.Kind
	}{{int64(len(body)), success}, {int64(len(body)) - 1, errs.TooLarge}} {
		f := registrytest.New(t, registrytest.MaxPackageSize(tt.limit))
		if got := f.Service.MaxPackageSize(); got != tt.limit {
			t.Errorf("MaxPackageSize() = %d, want %d", got, tt.limit)
		}
		_, err := f.Service.Publish(ctx, f.SignUp("alice"), bytes.NewReader(body), ip)
		checkErr(t, fmt.Sprintf("a %d-byte upload under a limit of %d", len(body), tt.limit), err, tt.kind, "")
	}
}
