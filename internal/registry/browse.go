package registry

import (
	"context"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/archive"
	"github.com/dryad-lang/registry/internal/cache"
	"github.com/dryad-lang/registry/internal/errs"
)

// ArchiveEntry is a file or folder of a published archive.
type ArchiveEntry struct {
	// Path is slash-separated and relative to the package root.
	Path  string
	IsDir bool
	Size  int64
}

// Name is the last element of the entry's path.
func (e ArchiveEntry) Name() string { return path.Base(e.Path) }

// ArchivePath is what lies at a path of a version's archive: a folder with
// its entries, or a file with its content.
type ArchivePath struct {
	Package string
	Version string
	Yanked  bool
	// Path is "" for the package root.
	Path  string
	IsDir bool
	// Entries are a folder's children: folders first, then files, by name.
	Entries []ArchiveEntry
	// Size is a file's size; Content holds it unless TooLarge.
	Size     int64
	Content  []byte
	TooLarge bool
}

// archiveListTTL bounds how long an archive's file list is cached; an
// archive's bytes never change, so this only frees memory.
const archiveListTTL = time.Hour

// BrowseArchive returns what lies at p in the archive of name@version.
// File contents larger than max bytes are not read (TooLarge is set).
// Unknown paths are 404; deleted versions 410.
func (s *Service) BrowseArchive(ctx context.Context, name, version, p string, max int64) (*ArchivePath, error) {
	ref, err := s.LookupArchive(ctx, name, version)
	if err != nil {
		return nil, err
	}
	p = strings.Trim(p, "/")
	list, err := s.archiveList(ctx, ref)
	if err != nil {
		return nil, err
	}
	out := &ArchivePath{Package: ref.Package, Version: ref.Version, Yanked: ref.Yanked, Path: p}
	var entry *ArchiveEntry
	if p == "" {
		entry = &ArchiveEntry{IsDir: true}
	} else {
		i := sort.Search(len(list), func(i int) bool { return list[i].Path >= p })
		if i < len(list) && list[i].Path == p {
			entry = &list[i]
		}
	}
	if entry == nil {
		return nil, errs.Errorf(errs.NotFound, "%s@%s has no file %q", ref.Package, ref.Version, p)
	}
	if entry.IsDir {
		out.IsDir = true
		out.Entries = childrenOf(list, p)
		return out, nil
	}
	out.Size = entry.Size
	if entry.Size > max {
		out.TooLarge = true
		return out, nil
	}
	f, err := s.OpenArchive(ctx, ref)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, _, err := archive.ReadFile(f, p, max)
	if err != nil {
		return nil, err
	}
	out.Content = data
	return out, nil
}

// CopyArchiveFile streams the file at p of name@version's archive: start
// is called with the file's description before the first byte is written
// to w (for headers). Folders and unknown paths are 404.
func (s *Service) CopyArchiveFile(ctx context.Context, name, version, p string, start func(ArchiveEntry), w io.Writer) error {
	ref, err := s.LookupArchive(ctx, name, version)
	if err != nil {
		return err
	}
	f, err := s.OpenArchive(ctx, ref)
	if err != nil {
		return err
	}
	defer f.Close()
	want := strings.Trim(p, "/")
	found := false
	err = archive.Walk(ctx, f, func(e archive.File, content io.Reader) error {
		if e.Path != want || e.IsDir {
			return nil
		}
		found = true
		start(ArchiveEntry{Path: e.Path, Size: e.Size})
		if _, err := io.Copy(w, content); err != nil {
			return err
		}
		return fs.SkipAll
	})
	if err != nil {
		return err
	}
	if !found {
		return errs.Errorf(errs.NotFound, "%s@%s has no file %q", ref.Package, ref.Version, want)
	}
	return nil
}

// archiveList returns every entry of a version's archive sorted by path,
// folders included even when the archive has no entry of their own.
func (s *Service) archiveList(ctx context.Context, ref *ArchiveRef) ([]ArchiveEntry, error) {
	files := cache.ReadThrough[[]ArchiveEntry]{Cache: s.cache, Name: "files", TTL: archiveListTTL}
	return files.Get(ctx, ref.Checksum, func(ctx context.Context) ([]ArchiveEntry, error) { return s.readArchiveList(ctx, ref) })
}

func (s *Service) readArchiveList(ctx context.Context, ref *ArchiveRef) ([]ArchiveEntry, error) {
	f, err := s.OpenArchive(ctx, ref)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	seen := map[string]bool{}
	var list []ArchiveEntry
	addDirs := func(p string) {
		for d := path.Dir(p); d != "." && !seen[d]; d = path.Dir(d) {
			seen[d] = true
			list = append(list, ArchiveEntry{Path: d, IsDir: true})
		}
	}
	err = archive.Walk(ctx, f, func(e archive.File, _ io.Reader) error {
		addDirs(e.Path)
		if !seen[e.Path] {
			seen[e.Path] = true
			list = append(list, ArchiveEntry{Path: e.Path, IsDir: e.IsDir, Size: e.Size})
		}
		return nil
	})
	if err != nil {
		s.log.ErrorContext(ctx, "reading a stored archive", "package", ref.Package, "version", ref.Version, "err", err)
		return nil, errs.Wrap(errs.Unavailable, err, "the archive of "+ref.Package+"@"+ref.Version+" cannot be read")
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Path < list[j].Path })
	return list, nil
}

// childrenOf returns the direct children of folder dir ("" for the root),
// folders first, then files, each group by name.
func childrenOf(list []ArchiveEntry, dir string) []ArchiveEntry {
	out := []ArchiveEntry{}
	for _, e := range list {
		parent := path.Dir(e.Path)
		if parent == "." {
			parent = ""
		}
		if parent == dir {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].IsDir != out[j].IsDir {
			return out[i].IsDir
		}
		return out[i].Path < out[j].Path
	})
	return out
}
