// Package backup exports the whole registry into one portable archive and
// loads it back, and verifies that stored archives and metadata agree.
//
// A backup is a tar file (docs/backup-format.md describes it for other
// tools) holding, in this order:
//
//	backup.json                          format, creation time, registry version, engine
//	metadata/<table>.jsonl.gz            one table: a header line, then one JSON array per row
//	packages/sha256/ab/<sha256>.tar.gz   the package archives, named by their SHA-256
//	git/<name>.git/...                   the git repositories (with --with-git)
//	manifest.json                        every member with its size and SHA-256, and counts
//
// The metadata does not depend on the database engine (store.Dumper), so a
// backup of SQLite restores into PostgreSQL. Everything streams: rows and
// files pass through in constant memory, whatever the registry's size.
package backup

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"
)

// Format identifies backup files; FormatVersion changes when a reader of
// the previous version could no longer restore them.
const (
	Format        = "dryad-registry-backup"
	FormatVersion = 1
)

// Member names.
const (
	headerName   = "backup.json"
	manifestName = "manifest.json"
	metadataDir  = "metadata/"
	packagesDir  = "packages/sha256/"
	gitDir       = "git/"
	// paxSHA256 is the PAX record carrying a member's SHA-256 in its own
	// header, so each member is checked as it is read.
	paxSHA256 = "DRYAD.sha256"
)

// Header is the first member: what a reader needs to decide whether it can
// restore the file before reading further.
type Header struct {
	Format          string    `json:"format"`
	FormatVersion   int       `json:"format_version"`
	Created         time.Time `json:"created"`
	RegistryVersion string    `json:"registry_version"`
	// Engine is the database the metadata was read from ("sqlite",
	// "postgres"); the metadata itself is engine-independent.
	Engine  string `json:"engine"`
	WithGit bool   `json:"with_git"`
	// Tables lists the metadata tables, in the order they load.
	Tables []string `json:"tables"`
}

// Member is one entry of the manifest.
type Member struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	// Dir marks a folder (git repositories only); it has no content.
	Dir bool `json:"dir,omitempty"`
}

// Counts are what a backup holds.
type Counts struct {
	// Rows counts the rows of each table.
	Rows map[string]int64 `json:"rows"`
	// Archives is the number of package archives, ArchiveBytes their size.
	Archives     int64 `json:"archives"`
	ArchiveBytes int64 `json:"archive_bytes"`
	// GitRepositories and GitFiles count what --with-git copied.
	GitRepositories int64 `json:"git_repositories"`
	GitFiles        int64 `json:"git_files"`
}

// Manifest is the last member: the header's fields, every member before it
// in order, and the counts.
type Manifest struct {
	Header
	Members []Member `json:"members"`
	Counts  Counts   `json:"counts"`
}

// fileRE matches backup files written by Create; the UTC time in the name
// makes name order the creation order.
var fileRE = regexp.MustCompile(`^dryad-registry-\d{8}T\d{6}\.\d{3}Z\.tar$`)

// FileName is the name of a backup created at t.
func FileName(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("dryad-registry-%s.%03dZ.tar", t.Format("20060102T150405"), t.Nanosecond()/1e6)
}

// IsBackupName reports whether name is the name of a backup file.
func IsBackupName(name string) bool { return fileRE.MatchString(name) }

// blobMember is the member name of an archive.
func blobMember(sum string) string { return packagesDir + sum[:2] + "/" + sum + ".tar.gz" }

// blobOfMember returns the SHA-256 an archive member is named by.
func blobOfMember(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, packagesDir)
	if !ok {
		return "", false
	}
	dir, file, ok := strings.Cut(rest, "/")
	sum, isTarGz := strings.CutSuffix(file, ".tar.gz")
	if !ok || !isTarGz || !sumRE.MatchString(sum) || dir != sum[:2] {
		return "", false
	}
	return sum, true
}

var sumRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// tableOfMember returns the table a metadata member holds.
func tableOfMember(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, metadataDir)
	if !ok {
		return "", false
	}
	table, ok := strings.CutSuffix(rest, ".jsonl.gz")
	return table, ok && table != "" && !strings.Contains(table, "/")
}

// gitPath checks a git member's name and returns its path below the git
// folder: relative, clean, inside a repository folder named *.git, never
// leaving the folder.
func gitPath(name string) (string, error) {
	rest, ok := strings.CutPrefix(strings.TrimSuffix(name, "/"), gitDir)
	if !ok || rest == "" || path.Clean(rest) != rest || strings.HasPrefix(rest, "/") ||
		rest == ".." || strings.HasPrefix(rest, "../") || strings.Contains(rest, "\\") {
		return "", fmt.Errorf("backup member %q is not a safe path in the git folder", name)
	}
	repo, _, _ := strings.Cut(rest, "/")
	if !strings.HasSuffix(repo, ".git") || strings.HasPrefix(repo, ".") {
		return "", fmt.Errorf("backup member %q is not inside a repository folder", name)
	}
	return rest, nil
}
