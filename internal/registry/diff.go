package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/dryad-lang/registry/internal/archive"
	"github.com/dryad-lang/registry/internal/cache"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/manifest"
	"github.com/dryad-lang/registry/internal/textdiff"
)

// What changed between two versions of a package, read from their
// archives: files added, removed and changed, the manifest's fields, the
// dependencies, and line diffs of changed text files. Versions are
// immutable, so a diff is too: it is cached by the two archives' checksums.

// The bounds of a diff, so that two large versions cannot make one request
// expensive: files above MaxDiffFileSize, or whose diff needs more than
// MaxDiffEdits added and removed lines, are listed without their lines,
// and once MaxDiffLines lines are shown the remaining files are too.
const (
	MaxDiffFileSize = 256 << 10
	MaxDiffEdits    = 2000
	MaxDiffLines    = 10000
	// diffContext is how many unchanged lines surround each change.
	diffContext = 3
	// maxDiffKept bounds the bytes of file content kept in memory per
	// archive while walking it; files beyond it are compared by hash only.
	maxDiffKept = 16 << 20
)

// diffTTL bounds how long a computed diff is cached; it never changes, so
// this only frees memory.
const diffTTL = time.Hour

// FileChangeKind says how a file differs between two versions.
type FileChangeKind string

// The kinds of file changes.
const (
	FileAdded   FileChangeKind = "added"
	FileRemoved FileChangeKind = "removed"
	FileChanged FileChangeKind = "changed"
)

// VersionDiff is what changed from one version of a package to another.
type VersionDiff struct {
	Package string
	From    string
	To      string
	// Files are the files added, removed or changed, by path.
	Files []FileChange
	// Unchanged counts the files alike in both versions.
	Unchanged int
	// Manifest are the changes of oaklibs.json's fields, by field, the
	// dependency lists aside (they are in Dependencies).
	Manifest []FieldChange
	// Dependencies are the dependencies added, removed or whose range
	// changed, runtime ones first, each group by name.
	Dependencies []DependencyChange
}

// FileChange is one file that differs.
type FileChange struct {
	Path string
	Kind FileChangeKind
	// OldSize and NewSize are the sizes in each version (0 where absent).
	OldSize int64
	NewSize int64
	// ModeChanged is set when only the executable bit changed, or with
	// the content.
	ModeChanged bool
	// Binary is set for a file that is not UTF-8 text in either version.
	Binary bool
	// Hunks is a changed text file's unified diff; TooLarge says it is
	// not shown, because of the bounds above.
	Hunks    []textdiff.Hunk
	TooLarge bool
}

// FieldChange is a manifest field that differs; Old or New is "" where
// the field is absent. Values are JSON, strings without their quotes.
type FieldChange struct {
	Field string
	Old   string
	New   string
}

// DependencyChange is a dependency added (Old ""), removed (New "") or
// whose range changed.
type DependencyChange struct {
	Name string
	Dev  bool
	Old  string
	New  string
}

// DiffVersions compares two versions of a package: 404 when either is
// unknown, 410 when either was deleted, 422 when they are the same.
func (s *Service) DiffVersions(ctx context.Context, name, from, to string) (*VersionDiff, error) {
	a, err := s.LookupArchive(ctx, name, from)
	if err != nil {
		return nil, err
	}
	b, err := s.LookupArchive(ctx, name, to)
	if err != nil {
		return nil, err
	}
	if a.VersionID == b.VersionID {
		return nil, errs.Errorf(errs.Unprocessable, "%s and %s are the same version of %s; choose two different versions to compare", from, to, a.Package)
	}
	diffs := cache.ReadThrough[*VersionDiff]{Cache: s.cache, Name: "diff", TTL: diffTTL}
	d, err := diffs.Get(ctx, a.Checksum+"/"+b.Checksum, func(ctx context.Context) (*VersionDiff, error) {
		return s.computeDiff(ctx, a, b)
	})
	if err != nil {
		return nil, err
	}
	// Two versions may have the same files (a republish under a new
	// number): the cached diff is by content, the names are the asked ones.
	out := *d
	out.Package, out.From, out.To = a.Package, a.Version, b.Version
	return &out, nil
}

// diffFile is what a diff needs of one file of an archive.
type diffFile struct {
	size    int64
	exec    bool
	sum     [sha256.Size]byte
	content []byte // nil when not kept
	binary  bool
}

// readDiffFiles walks an archive once, hashing every file and keeping
// the content of those small enough.
func (s *Service) readDiffFiles(ctx context.Context, ref *ArchiveRef) (map[string]*diffFile, error) {
	f, err := s.OpenArchive(ctx, ref)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	files := map[string]*diffFile{}
	kept := int64(0)
	err = archive.Walk(ctx, f, func(e archive.File, content io.Reader) error {
		if e.IsDir {
			return nil
		}
		df := &diffFile{size: e.Size, exec: e.Mode&0o111 != 0}
		h := sha256.New()
		if e.Size <= MaxDiffFileSize && kept+e.Size <= maxDiffKept {
			var buf bytes.Buffer
			if _, err := io.Copy(io.MultiWriter(h, &buf), content); err != nil {
				return err
			}
			df.content = buf.Bytes()
			kept += e.Size
			df.binary = isBinaryContent(df.content)
		} else if _, err := io.Copy(h, content); err != nil {
			return err
		}
		h.Sum(df.sum[:0])
		files[e.Path] = df
		return nil
	})
	if err != nil {
		s.log.ErrorContext(ctx, "reading a stored archive", "package", ref.Package, "version", ref.Version, "err", err)
		return nil, errs.Wrap(errs.Unavailable, err, "the archive of "+ref.Package+"@"+ref.Version+" cannot be read")
	}
	return files, nil
}

// isBinaryContent reports whether b looks like something other than text:
// a NUL byte in its first 8000 bytes, or invalid UTF-8.
func isBinaryContent(b []byte) bool {
	return bytes.IndexByte(b[:min(len(b), 8000)], 0) >= 0 || !utf8.Valid(b)
}

func (s *Service) computeDiff(ctx context.Context, a, b *ArchiveRef) (*VersionDiff, error) {
	old, err := s.readDiffFiles(ctx, a)
	if err != nil {
		return nil, err
	}
	cur, err := s.readDiffFiles(ctx, b)
	if err != nil {
		return nil, err
	}
	d := &VersionDiff{Files: []FileChange{}, Manifest: []FieldChange{}, Dependencies: []DependencyChange{}}
	paths := make([]string, 0, len(old)+len(cur))
	for p := range old {
		paths = append(paths, p)
	}
	for p := range cur {
		if old[p] == nil {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	shown := 0
	for _, p := range paths {
		o, n := old[p], cur[p]
		switch {
		case o == nil:
			d.Files = append(d.Files, FileChange{Path: p, Kind: FileAdded, NewSize: n.size, Binary: n.content != nil && n.binary})
		case n == nil:
			d.Files = append(d.Files, FileChange{Path: p, Kind: FileRemoved, OldSize: o.size, Binary: o.content != nil && o.binary})
		case o.sum == n.sum && o.exec == n.exec:
			d.Unchanged++
		default:
			c := FileChange{Path: p, Kind: FileChanged, OldSize: o.size, NewSize: n.size, ModeChanged: o.exec != n.exec}
			if o.sum != n.sum {
				switch {
				case o.content == nil || n.content == nil:
					c.TooLarge = true
				case o.binary || n.binary:
					c.Binary = true
				case shown >= MaxDiffLines:
					c.TooLarge = true
				default:
					edits, ok := textdiff.Lines(textdiff.SplitLines(string(o.content)), textdiff.SplitLines(string(n.content)), MaxDiffEdits)
					if !ok {
						c.TooLarge = true
						break
					}
					c.Hunks = textdiff.Hunks(edits, diffContext)
					for _, h := range c.Hunks {
						shown += len(h.Lines)
					}
				}
			}
			d.Files = append(d.Files, c)
		}
	}
	d.Manifest, d.Dependencies = manifestChanges(contentOf(old["oaklibs.json"]), contentOf(cur["oaklibs.json"]))
	return d, nil
}

func contentOf(f *diffFile) []byte {
	if f == nil {
		return nil
	}
	return f.content
}

// dependencyFields are the manifest's dependency lists, compared apart.
var dependencyFields = map[string]bool{"dependencies": true, "dev_dependencies": true}

// manifestChanges compares two oaklibs.json files field by field, and
// their dependency lists name by name. A manifest that does not parse
// counts as empty (the registry accepted it once; a diff is no place to
// refuse it).
func manifestChanges(oldJSON, newJSON []byte) ([]FieldChange, []DependencyChange) {
	var o, n map[string]json.RawMessage
	json.Unmarshal(oldJSON, &o)
	json.Unmarshal(newJSON, &n)
	fields := map[string]bool{}
	for k := range o {
		fields[k] = true
	}
	for k := range n {
		fields[k] = true
	}
	changes := []FieldChange{}
	for _, k := range sortedKeys(fields) {
		if dependencyFields[k] {
			continue
		}
		ov, nv := fieldText(o[k]), fieldText(n[k])
		if ov != nv {
			changes = append(changes, FieldChange{Field: k, Old: ov, New: nv})
		}
	}
	deps := []DependencyChange{}
	for _, f := range []string{"dependencies", "dev_dependencies"} {
		var od, nd map[string]string
		json.Unmarshal(o[f], &od)
		json.Unmarshal(n[f], &nd)
		names := map[string]bool{}
		for k := range od {
			names[k] = true
		}
		for k := range nd {
			names[k] = true
		}
		for _, k := range sortedKeys(names) {
			// The same dependency may be spelled differently (case,
			// - or _); a respelling alone is no change.
			ov, nv := od[k], nd[k]
			if ov == "" {
				ov = lookupNormalized(od, k)
			}
			if nv == "" {
				nv = lookupNormalized(nd, k)
			}
			if ov != nv {
				deps = append(deps, DependencyChange{Name: k, Dev: f == "dev_dependencies", Old: ov, New: nv})
			}
		}
	}
	return changes, dedupeDependencies(deps)
}

// lookupNormalized finds name in m under any spelling of it.
func lookupNormalized(m map[string]string, name string) string {
	want := manifest.NormalizeName(name)
	for k, v := range m {
		if manifest.NormalizeName(k) == want {
			return v
		}
	}
	return ""
}

// dedupeDependencies drops the second of two entries for one respelled
// dependency (each spelling finds the other's range).
func dedupeDependencies(deps []DependencyChange) []DependencyChange {
	seen := map[string]bool{}
	out := deps[:0]
	for _, d := range deps {
		key := manifest.NormalizeName(d.Name)
		if d.Dev {
			key = "dev:" + key
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, d)
	}
	return out
}

// fieldText is a manifest value as a diff shows it: strings as they are,
// anything else as compact JSON, "" when absent.
func fieldText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return string(raw)
	}
	return buf.String()
}
