package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/dryad-lang/registry/internal/blob"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/store"
)

// Options configure Write and Create.
type Options struct {
	// Store is read in one snapshot; it must implement store.Dumper.
	Store store.Store
	// Blobs holds the package archives.
	Blobs blob.Store
	// GitDir, when not empty, is the folder of git repositories to include.
	GitDir string
	// RegistryVersion is recorded in the backup.
	RegistryVersion string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Create writes a backup into dir under a name holding its creation time
// (FileName) and returns its path. The file is written as
// dir/.NAME.partial, synced, and renamed into place only when complete:
// a failed or interrupted backup never leaves a file with a backup's name.
func Create(ctx context.Context, dir string, o Options) (string, *Manifest, error) {
	o.defaults()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", nil, fmt.Errorf("backup folder %s: %w", dir, err)
	}
	// Two backups in the same millisecond would share a name.
	var name string
	for {
		name = FileName(o.Now())
		if _, err := os.Lstat(filepath.Join(dir, name)); errors.Is(err, os.ErrNotExist) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	final := filepath.Join(dir, name)
	partial := filepath.Join(dir, "."+name+".partial")
	// A backup holds password and token hashes: readable by its owner only.
	f, err := os.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", nil, fmt.Errorf("creating the backup file: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(partial)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	m, err := Write(ctx, bw, dir, o)
	if err != nil {
		return "", nil, err
	}
	if err := bw.Flush(); err != nil {
		return "", nil, fmt.Errorf("writing the backup file: %w", err)
	}
	if err := f.Sync(); err != nil {
		return "", nil, fmt.Errorf("syncing the backup file: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", nil, fmt.Errorf("closing the backup file: %w", err)
	}
	if err := os.Rename(partial, final); err != nil {
		return "", nil, fmt.Errorf("naming the backup file: %w", err)
	}
	ok = true
	if err := syncDir(dir); err != nil {
		return "", nil, fmt.Errorf("syncing the backup folder: %w", err)
	}
	return final, m, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Write writes a backup to w: the metadata of one snapshot of the store,
// the archive of every version in it, and, with GitDir, the git
// repositories. tmpDir holds a few scratch files while it runs (the
// metadata of one table at a time, compressed, and the member list).
// Memory stays flat whatever the registry's size.
func Write(ctx context.Context, w io.Writer, tmpDir string, o Options) (*Manifest, error) {
	o.defaults()
	dumper, ok := o.Store.(store.Dumper)
	if !ok {
		return nil, fmt.Errorf("backup: the %s store cannot export its records", o.Store.Driver())
	}
	now := o.Now().UTC()
	bw := &writer{
		tw:      tar.NewWriter(w),
		tmpDir:  tmpDir,
		modTime: now.Truncate(time.Second),
		m: Manifest{Header: Header{
			Format: Format, FormatVersion: FormatVersion, Created: now, RegistryVersion: o.RegistryVersion,
			Engine: o.Store.Driver(), WithGit: o.GitDir != "", Tables: store.DumpTables(),
		}},
	}
	bw.m.Counts.Rows = map[string]int64{}
	var err error
	if bw.list, err = os.CreateTemp(tmpDir, ".dryad-registry-members-*"); err != nil {
		return nil, fmt.Errorf("backup scratch file: %w", err)
	}
	defer func() {
		bw.list.Close()
		os.Remove(bw.list.Name())
	}()
	bw.listBuf = bufio.NewWriter(bw.list)

	hb, _ := json.MarshalIndent(bw.m.Header, "", "  ")
	if err := bw.addBytes(headerName, append(hb, '\n')); err != nil {
		return nil, err
	}
	if err := o.Store.Snapshot(ctx, func(tx store.Queries) error {
		return bw.dump(ctx, dumper, tx, o)
	}); err != nil {
		bw.closeSpool()
		return nil, err
	}
	o.Logger.Info("backup: metadata and archives written", "archives", bw.m.Counts.Archives, "bytes", bw.m.Counts.ArchiveBytes)
	if o.GitDir != "" {
		if err := bw.addGit(ctx, o.GitDir); err != nil {
			return nil, err
		}
		o.Logger.Info("backup: git repositories written", "repositories", bw.m.Counts.GitRepositories, "files", bw.m.Counts.GitFiles)
	}
	if err := bw.finish(); err != nil {
		return nil, err
	}
	return &bw.m, nil
}

// writer writes the members of one backup.
type writer struct {
	tw      *tar.Writer
	tmpDir  string
	modTime time.Time
	m       Manifest
	// list holds the manifest's member entries until the end, so that
	// the member list costs no memory.
	list    *os.File
	listBuf *bufio.Writer
	members int64
	// spool is the table being dumped.
	spool *spool
	// failed is the version row whose archive could not be copied.
	failed *failedVersion
}

type failedVersion struct {
	packageID int64
	version   string
	err       error
}

// record adds a member to the manifest's list.
func (bw *writer) record(m Member) error {
	b, _ := json.Marshal(m)
	if bw.members > 0 {
		bw.listBuf.WriteString(",\n")
	}
	bw.members++
	_, err := bw.listBuf.Write(b)
	return err
}

func (bw *writer) header(name string, size int64, sum string) *tar.Header {
	return &tar.Header{
		Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: bw.modTime,
		Format: tar.FormatPAX, PAXRecords: map[string]string{paxSHA256: sum},
	}
}

func (bw *writer) addBytes(name string, b []byte) error {
	sum := sha256.Sum256(b)
	hexSum := hex.EncodeToString(sum[:])
	if err := bw.tw.WriteHeader(bw.header(name, int64(len(b)), hexSum)); err != nil {
		return writeErr(err)
	}
	if _, err := bw.tw.Write(b); err != nil {
		return writeErr(err)
	}
	return bw.record(Member{Name: name, Size: int64(len(b)), SHA256: hexSum})
}

// addReader copies size bytes of r as a member whose SHA-256 must be sum;
// content that turns out otherwise fails the backup.
func (bw *writer) addReader(name string, size int64, sum string, r io.Reader) error {
	if err := bw.tw.WriteHeader(bw.header(name, size, sum)); err != nil {
		return writeErr(err)
	}
	h := sha256.New()
	n, err := io.Copy(bw.tw, io.TeeReader(io.LimitReader(r, size), h))
	if err != nil {
		return writeErr(err)
	}
	if n != size {
		return fmt.Errorf("%s: %d bytes read, %d expected (changed while copied?)", name, n, size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return fmt.Errorf("%s: content has SHA-256 %s, expected %s", name, got, sum)
	}
	return bw.record(Member{Name: name, Size: size, SHA256: sum})
}

// writeErr marks a failure to write the backup itself.
func writeErr(err error) error {
	return fmt.Errorf("writing the backup: %w", err)
}

// errStopDump stops a dump after a version's archive failed; the failure
// itself is in writer.failed.
var errStopDump = errors.New("backup: archive failed")

// dump writes every table and, with the versions, their archives.
func (bw *writer) dump(ctx context.Context, d store.Dumper, tx store.Queries, o Options) error {
	var ci struct{ checksum, size, pkg, version int }
	err := d.Dump(ctx, tx, func(table string, columns []string, row []any) error {
		if row == nil {
			if err := bw.finishSpool(); err != nil {
				return err
			}
			if table == "versions" {
				ci.checksum, ci.size, ci.pkg, ci.version = -1, -1, -1, -1
				for i, c := range columns {
					switch c {
					case "checksum":
						ci.checksum = i
					case "size":
						ci.size = i
					case "package_id":
						ci.pkg = i
					case "version":
						ci.version = i
					}
				}
				if ci.checksum < 0 || ci.size < 0 || ci.pkg < 0 || ci.version < 0 {
					return errors.New("backup: the versions table lacks a column it needs")
				}
			}
			return bw.startSpool(table, columns)
		}
		if table == "versions" {
			sum, _ := row[ci.checksum].(string)
			size, _ := row[ci.size].(int64)
			if err := bw.addBlob(ctx, o.Blobs, sum, size); err != nil {
				pkgID, _ := row[ci.pkg].(int64)
				version, _ := row[ci.version].(string)
				bw.failed = &failedVersion{packageID: pkgID, version: version, err: err}
				return errStopDump
			}
		}
		return bw.spool.add(row)
	})
	if errors.Is(err, errStopDump) && bw.failed != nil {
		name := fmt.Sprintf("package #%d", bw.failed.packageID)
		if p, perr := tx.GetPackageByID(ctx, bw.failed.packageID); perr == nil {
			name = p.Name
		}
		return fmt.Errorf("%s@%s: %w", name, bw.failed.version, bw.failed.err)
	}
	if err != nil {
		return err
	}
	return bw.finishSpool()
}

// addBlob copies one archive, checking it against its row.
func (bw *writer) addBlob(ctx context.Context, blobs blob.Store, sum string, size int64) error {
	if !blob.ValidSum(sum) {
		return fmt.Errorf("the version's checksum %q is not a SHA-256", sum)
	}
	f, err := blobs.Open(ctx, sum)
	if errors.Is(err, errs.NotFound) {
		return fmt.Errorf("archive %s is missing from package storage (run dryad-registry verify)", sum)
	}
	if err != nil {
		return fmt.Errorf("opening archive %s: %w", sum, err)
	}
	defer f.Close()
	if f.Size() != size {
		return fmt.Errorf("archive %s has %d bytes, its version row says %d (run dryad-registry verify)", sum, f.Size(), size)
	}
	if err := bw.addReader(blobMember(sum), size, sum, f); err != nil {
		return err
	}
	bw.m.Counts.Archives++
	bw.m.Counts.ArchiveBytes += size
	return nil
}

// spool collects one table's rows, compressed, in a scratch file, until
// the table is complete and its member's size is known.
type spool struct {
	table string
	f     *os.File
	h     hash.Hash
	gz    *gzip.Writer
	buf   *bufio.Writer
	enc   *json.Encoder
	rows  int64
}

func (bw *writer) startSpool(table string, columns []string) error {
	f, err := os.CreateTemp(bw.tmpDir, ".dryad-registry-spool-*")
	if err != nil {
		return fmt.Errorf("backup scratch file: %w", err)
	}
	s := &spool{table: table, f: f, h: sha256.New()}
	s.buf = bufio.NewWriterSize(io.MultiWriter(f, s.h), 256<<10)
	s.gz, _ = gzip.NewWriterLevel(s.buf, gzip.DefaultCompression)
	s.enc = json.NewEncoder(s.gz)
	s.enc.SetEscapeHTML(false)
	bw.spool = s
	return s.enc.Encode(tableHeader{Table: table, Columns: columns})
}

// tableHeader is the first line of a metadata member.
type tableHeader struct {
	Table   string   `json:"table"`
	Columns []string `json:"columns"`
}

func (s *spool) add(row []any) error {
	s.rows++
	return s.enc.Encode(row)
}

// finishSpool appends the spooled table, if any, to the backup.
func (bw *writer) finishSpool() error {
	s := bw.spool
	if s == nil {
		return nil
	}
	defer bw.closeSpool()
	if err := s.gz.Close(); err != nil {
		return fmt.Errorf("backup scratch file: %w", err)
	}
	if err := s.buf.Flush(); err != nil {
		return fmt.Errorf("backup scratch file: %w", err)
	}
	size, err := s.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	sum := hex.EncodeToString(s.h.Sum(nil))
	if err := bw.addReader(metadataDir+s.table+".jsonl.gz", size, sum, bufio.NewReaderSize(s.f, 256<<10)); err != nil {
		return err
	}
	bw.m.Counts.Rows[s.table] = s.rows
	return nil
}

func (bw *writer) closeSpool() {
	if bw.spool != nil {
		bw.spool.f.Close()
		os.Remove(bw.spool.f.Name())
		bw.spool = nil
	}
}

// finish appends the manifest and ends the tar stream.
func (bw *writer) finish() error {
	if err := bw.listBuf.Flush(); err != nil {
		return fmt.Errorf("backup scratch file: %w", err)
	}
	// The manifest's member list comes from the scratch file; the rest is
	// small. Its SHA-256 is computed first, for the member's own header.
	hb, _ := json.Marshal(bw.m.Header)
	prefix := append(bytes.TrimSuffix(hb, []byte("}")), []byte(`,"members":[`+"\n")...)
	cb, _ := json.Marshal(bw.m.Counts)
	suffix := []byte("\n],\"counts\":" + string(cb) + "}\n")
	listSize, err := bw.list.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	content := func() (io.Reader, error) {
		if _, err := bw.list.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		return io.MultiReader(bytes.NewReader(prefix), bufio.NewReader(bw.list), bytes.NewReader(suffix)), nil
	}
	r, err := content()
	if err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return err
	}
	if r, err = content(); err != nil {
		return err
	}
	size := int64(len(prefix)) + listSize + int64(len(suffix))
	if err := bw.tw.WriteHeader(bw.header(manifestName, size, hex.EncodeToString(h.Sum(nil)))); err != nil {
		return writeErr(err)
	}
	if _, err := io.Copy(bw.tw, r); err != nil {
		return writeErr(err)
	}
	if err := bw.tw.Close(); err != nil {
		return writeErr(err)
	}
	return nil
}
