package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sort"
	"time"

	"github.com/dryad-lang/registry/internal/archive"
	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/config"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/manifest"
	"github.com/dryad-lang/registry/internal/markdown"
	"github.com/dryad-lang/registry/internal/store"
	"github.com/dryad-lang/registry/internal/tlog"
)

// Published describes a version just published.
type Published struct {
	Package   string
	Version   string
	Checksum  string
	Size      int64
	Files     int
	Latest    string
	Published time.Time
	// Prefix is the top-level folder that was stripped from the upload.
	Prefix string
}

// Publish reads a package archive (gzip-compressed tar) from body and
// publishes it for the principal. The archive is re-packed into canonical
// form while it streams in (memory stays flat); the canonical archive is
// stored durably before the version row is committed, so the version appears
// whole or not at all.
func (s *Service) Publish(ctx context.Context, p *auth.Principal, body io.Reader, ip string) (*Published, error) {
	pub, reason, err := s.publish(ctx, p, body, ip)
	if err != nil {
		s.obs.PublishFailed(reason)
		return nil, err
	}
	s.obs.Published()
	return pub, nil
}

func (s *Service) publish(ctx context.Context, p *auth.Principal, body io.Reader, ip string) (*Published, string, error) {
	if p == nil {
		return nil, "unauthenticated", errs.New(errs.Unauthenticated, "log in or send an API token to publish")
	}
	// A token without the publish scope is refused before reading anything.
	if err := p.Require(auth.ScopePublish, ""); err != nil {
		return nil, "forbidden", err
	}

	w, err := s.blobs.Create(ctx)
	if err != nil {
		return nil, "storage", err
	}
	defer w.Cancel()

	upload := &limitedReader{r: body, max: s.opts.MaxPackageSize, h: sha256.New()}
	pkg, err := archive.Canonicalize(ctx, upload, w, s.blobs.TempDir(), s.opts.ArchiveLimits)
	if upload.tooLarge {
		return nil, "too_large", errs.Errorf(errs.TooLarge, "package archive is larger than the limit of %s", config.HumanSize(s.opts.MaxPackageSize))
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, "aborted", errs.Wrap(errs.Invalid, ctx.Err(), "upload interrupted or timed out")
		}
		return nil, "invalid_archive", err
	}
	m, err := manifest.Parse(pkg.Manifest)
	if err != nil {
		return nil, "invalid_manifest", err
	}
	if err := p.Require(auth.ScopePublish, m.Name); err != nil {
		s.auditPublish(ctx, p, ip, m.Name, m.Version, store.OutcomeDenied, errs.Message(err))
		return nil, "forbidden", err
	}
	sv, err := manifest.ParseVersion(m.Version)
	if err != nil {
		return nil, "invalid_manifest", err
	}
	// The rules are checked once before the archive is stored, so a refused
	// publish leaves nothing behind, and again inside the transaction, which
	// alone is authoritative under concurrent publishes.
	if _, err := s.publishRules(ctx, s.store, p, m, manifest.Key(sv), false); err != nil {
		reason := failureReason(err)
		if reason == "forbidden" {
			s.auditPublish(ctx, p, ip, m.Name, m.Version, store.OutcomeDenied, errs.Message(err))
		}
		return nil, reason, err
	}
	readmeHTML := ""
	if len(pkg.Readme) > 0 {
		if readmeHTML, err = s.md.RenderPackage(pkg.Readme, markdown.PackageLinks(m.Name, m.Version, pkg.ReadmePath)); err != nil {
			s.log.WarnContext(ctx, "rendering README", "package", m.Name, "err", err)
		}
	}

	sum, err := w.Commit(ctx)
	if err != nil {
		return nil, "storage", err
	}
	now := s.utcNow()
	v := &store.Version{
		Version:      m.Version,
		Key:          manifest.Key(sv),
		Manifest:     pkg.Manifest,
		Checksum:     sum,
		Size:         w.Size(),
		UnpackedSize: pkg.UnpackedSize,
		FileCount:    countFiles(pkg.Files),
		Readme:       string(pkg.Readme),
		ReadmeHTML:   readmeHTML,
		PublishedAt:  now,
		PublisherID:  p.UserID,
	}
	for _, name := range sortedKeys(m.Dependencies) {
		v.Dependencies = append(v.Dependencies, store.Dependency{Name: manifest.NormalizeName(name), Range: m.Dependencies[name]})
	}
	for _, name := range sortedKeys(m.DevDependencies) {
		v.Dependencies = append(v.Dependencies, store.Dependency{Name: manifest.NormalizeName(name), Range: m.DevDependencies[name], Dev: true})
	}

	var pk *store.Package
	var latest string
	for attempt := 0; attempt < 2; attempt++ {
		pk, latest, err = s.commitVersion(ctx, p, m, v, ip)
		// Two first publishes of a new name raced and this one lost the
		// package row: run again, now as a publish to an existing package.
		if !errors.Is(err, errPackageRace) {
			break
		}
	}
	if err != nil {
		// The stored archive is not removed here: identical bytes may
		// belong to a version committed concurrently. Archives no version
		// refers to are collected by SweepOrphanArchives.
		reason := failureReason(err)
		if reason == "forbidden" {
			s.auditPublish(ctx, p, ip, m.Name, m.Version, store.OutcomeDenied, errs.Message(err))
		}
		return nil, reason, err
	}
	s.invalidatePackage(ctx, pk.NormalizedName)
	s.gitWork()
	s.webhookWork()
	s.log.InfoContext(ctx, "published", "package", pk.Name, "version", v.Version, "checksum", sum, "size", v.Size,
		"user", p.Username, "upload_sha256", upload.sum())
	return &Published{
		Package: pk.Name, Version: v.Version, Checksum: sum, Size: v.Size, Files: v.FileCount,
		Latest: latest, Published: now, Prefix: pkg.Prefix,
	}, "", nil
}

var errPackageRace = errors.New("package created concurrently")

// commitVersion runs the publish transaction: ownership, immutability and
// dependency rules, the version row, the package's descriptive fields, the
// audit event and the git job, all committed together.
func (s *Service) commitVersion(ctx context.Context, p *auth.Principal, m *manifest.Manifest, v *store.Version, ip string) (*store.Package, string, error) {
	norm := manifest.NormalizeName(m.Name)
	var pk *store.Package
	var latest string
	err := s.store.Transact(ctx, func(tx store.Queries) error {
		var err error
		pk, err = s.publishRules(ctx, tx, p, m, v.Key, true)
		if err != nil {
			return err
		}
		if pk == nil {
			pk = &store.Package{Name: m.Name, NormalizedName: norm, CreatedAt: v.PublishedAt, UpdatedAt: v.PublishedAt}
			if err := tx.CreatePackage(ctx, pk); err != nil {
				if errors.Is(err, errs.Conflict) {
					return errPackageRace
				}
				return err
			}
			if err := tx.AddOwner(ctx, pk.ID, p.UserID, v.PublishedAt); err != nil {
				return err
			}
			if err := s.logOwner(ctx, tx, tlog.OwnerAdd, pk, p.Username, p.Username, v.PublishedAt); err != nil {
				return err
			}
		}
		v.PackageID = pk.ID
		if err := tx.CreateVersion(ctx, v); err != nil {
			return err
		}
		vs, err := tx.ListVersions(ctx, pk.ID)
		if err != nil {
			return err
		}
		if l := latestOf(vs); l != nil {
			latest = l.Version
		}
		oldLatest := pk.Latest
		pk.Latest = latest
		pk.UpdatedAt = v.PublishedAt
		pk.DeletedAt = nil
		if latest == v.Version || oldLatest == "" {
			applyManifest(pk, m)
		}
		if err := tx.UpdatePackage(ctx, pk); err != nil {
			return err
		}
		e := actor(p, ip)
		e.At, e.Action, e.Package, e.Target, e.Outcome = v.PublishedAt, "publish", pk.NormalizedName, pk.Name+"@"+v.Version, store.OutcomeSuccess
		e.Detail = fmt.Sprintf("sha256 %s, %d bytes", v.Checksum, v.Size)
		if err := tx.AddAudit(ctx, &e); err != nil {
			return err
		}
		if err := s.logVersion(ctx, tx, tlog.Publish, pk, v, p.Username, v.PublishedAt); err != nil {
			return err
		}
		if err := s.queueWebhooks(ctx, tx, pk.ID, WebhookEvent{Name: EventVersionPublished, Package: pk.Name, Version: v.Version,
			Actor: p.Username, Time: v.PublishedAt, Data: map[string]any{"checksum": v.Checksum}}); err != nil {
			return err
		}
		return tx.EnqueueGitJob(ctx, &store.GitJob{PackageID: pk.ID, Kind: store.GitCommit, Version: v.Version, CreatedAt: v.PublishedAt})
	})
	return pk, latest, err
}

// publishRules checks on q that p may publish m as version key: an
// existing package must be owned by p (or p is an admin), the version must
// never have been published, and every dependency must be satisfiable. It
// returns the package, or nil for a new name. With lock, the package row is
// held until the transaction ends.
func (s *Service) publishRules(ctx context.Context, q store.Queries, p *auth.Principal, m *manifest.Manifest, key string, lock bool) (*store.Package, error) {
	norm := manifest.NormalizeName(m.Name)
	var pk *store.Package
	var err error
	if lock {
		pk, err = q.LockPackage(ctx, norm)
	} else {
		pk, err = q.GetPackage(ctx, norm)
	}
	switch {
	case errors.Is(err, errs.NotFound):
		pk = nil
	case err != nil:
		return nil, err
	default:
		if err := s.requireOwner(ctx, q, p, pk); err != nil {
			return nil, err
		}
		existing, err := q.GetVersion(ctx, pk.ID, key)
		switch {
		case err == nil && existing.DeletedAt != nil:
			return nil, errs.Errorf(errs.Conflict, "%s@%s was published and then deleted; a version number is never reused: bump \"version\" in oaklibs.json", pk.Name, existing.Version)
		case err == nil:
			return nil, errs.Errorf(errs.Conflict, "%s@%s already exists (published %s); published versions are immutable: bump \"version\" in oaklibs.json",
				pk.Name, existing.Version, existing.PublishedAt.Format(time.RFC3339))
		case !errors.Is(err, errs.NotFound):
			return nil, err
		}
	}
	if err := s.checkDependencies(ctx, q, norm, m.Dependencies, lock); err != nil {
		return nil, err
	}
	return pk, nil
}

// failureReason labels a refused publish for metrics.
func failureReason(err error) string {
	switch errs.KindOf(err) {
	case errs.Forbidden:
		return "forbidden"
	case errs.Conflict:
		return "conflict"
	case errs.Unprocessable:
		return "dependencies"
	case errs.Unavailable:
		return "unavailable"
	}
	return "rejected"
}

// requireOwner allows owners, and admins acting with their login.
func (s *Service) requireOwner(ctx context.Context, q store.Queries, p *auth.Principal, pk *store.Package) error {
	if p.IsAdmin() {
		return nil
	}
	ok, err := q.IsOwner(ctx, pk.ID, p.UserID)
	if err != nil {
		return err
	}
	if !ok {
		return errs.Errorf(errs.Forbidden, "you are not an owner of %q; ask one of its owners to add you", pk.Name)
	}
	return nil
}

// checkDependencies requires every runtime dependency to be a package of
// this registry with a live version in range, and not the package itself.
// With lock (in the publish's transaction) each dependency's row is held
// shared until the commit, so a concurrent delete of the version that
// matched (which locks the row) waits and then finds this version among
// its dependents, or commits first and this check finds it gone: never
// both, on PostgreSQL's READ COMMITTED too. Sorted names keep the
// locking order the same everywhere.
func (s *Service) checkDependencies(ctx context.Context, q store.Queries, self string, deps map[string]string, lock bool) error {
	getPackage := q.GetPackage
	if lock {
		getPackage = q.LockPackageShared
	}
	for _, name := range sortedKeys(deps) {
		norm := manifest.NormalizeName(name)
		if norm == self {
			return errs.Errorf(errs.Unprocessable, "dependency %q is the package itself", name)
		}
		r, err := manifest.ParseRange(deps[name])
		if err != nil {
			return err
		}
		dp, err := getPackage(ctx, norm)
		if errors.Is(err, errs.NotFound) || (err == nil && dp.DeletedAt != nil) {
			return errs.Errorf(errs.Unprocessable, "dependency %q is not a package of this registry; publish it first or remove it from \"dependencies\"", name)
		}
		if err != nil {
			return err
		}
		vs, err := q.ListVersions(ctx, dp.ID)
		if err != nil {
			return err
		}
		if bestMatch(vs, r) == nil {
			avail := liveVersionList(vs, 5)
			if len(avail) == 0 {
				return errs.Errorf(errs.Unprocessable, "dependency %q has no installable version (all are yanked or deleted)", name)
			}
			return errs.Errorf(errs.Unprocessable, "dependency %q: no published version satisfies %q (available: %v)", name, deps[name], avail)
		}
	}
	return nil
}

// applyManifest copies the descriptive fields of the latest version's
// manifest to the package.
func applyManifest(pk *store.Package, m *manifest.Manifest) {
	pk.Description = m.Description
	pk.Keywords = m.Keywords
	pk.Homepage = m.Homepage
	pk.Repository = m.Repository
	pk.License = m.License
}

func (s *Service) auditPublish(ctx context.Context, p *auth.Principal, ip, name, version, outcome, detail string) {
	e := actor(p, ip)
	e.Action, e.Package, e.Target, e.Outcome, e.Detail = "publish", normalize(name), name+"@"+version, outcome, detail
	s.audit(ctx, &e)
}

// limitedReader reads at most max bytes, hashing them; reading more sets
// tooLarge and fails, so an oversized upload stops as soon as it is seen.
type limitedReader struct {
	r        io.Reader
	max, n   int64
	h        hash.Hash
	tooLarge bool
}

var errTooLarge = errors.New("upload larger than the limit")

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n > l.max {
		l.tooLarge = true
		return 0, errTooLarge
	}
	if rest := l.max + 1 - l.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	l.h.Write(p[:n])
	if l.n > l.max {
		l.tooLarge = true
		return n, errTooLarge
	}
	return n, err
}

func (l *limitedReader) sum() string { return hex.EncodeToString(l.h.Sum(nil)) }

func countFiles(fs []archive.File) int {
	n := 0
	for _, f := range fs {
		if !f.IsDir {
			n++
		}
	}
	return n
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
