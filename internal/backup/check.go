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
	"fmt"
	"hash"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/dryad-lang/registry/internal/errs"
)

// Check reads a whole backup and verifies it without changing anything:
// the format, the SHA-256 of every member against its header and against
// the manifest, the list of members against the manifest, and the row
// count of every table. It returns the manifest, without its member list
// (which is compared as it streams, in constant memory). A backup that
// fails is errs.Invalid, with a message naming what is wrong.
func Check(ctx context.Context, r io.Reader) (*Manifest, error) {
	tr := tar.NewReader(r)
	var (
		header  *Header
		listed  = sha256.New() // the members as read
		counts  = Counts{Rows: map[string]int64{}}
		nMember int
	)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := tr.Next()
		if err == io.EOF {
			return nil, corrupt("it ends before its manifest.json: the file is incomplete (cut short while copied?)")
		}
		if err != nil {
			return nil, corrupt("it is not a readable tar file (%v)", err)
		}
		nMember++
		if nMember == 1 {
			if h.Name != headerName {
				return nil, corrupt("it does not start with %s: not a Dryad registry backup", headerName)
			}
		}
		if h.Name == manifestName {
			m, err := readManifest(tr, h, listed, nMember-1)
			if err != nil {
				return nil, err
			}
			if err := compareCounts(m.Counts, counts, header.WithGit); err != nil {
				return nil, err
			}
			if _, err := tr.Next(); err != io.EOF {
				return nil, corrupt("it has members after manifest.json")
			}
			return m, nil
		}
		if h.Typeflag == tar.TypeDir {
			if _, err := gitPath(h.Name); err != nil {
				return nil, corrupt("%v", err)
			}
			addListed(listed, Member{Name: h.Name, Dir: true})
			continue
		}
		if h.Typeflag != tar.TypeReg {
			return nil, corrupt("member %s is not a regular file", h.Name)
		}
		want := h.PAXRecords[paxSHA256]
		var rowErr error
		sum := sha256.New()
		var body io.Reader = io.TeeReader(tr, sum)
		switch {
		case nMember == 1:
			header, err = readHeader(body)
			if err != nil {
				return nil, err
			}
		case header == nil:
			return nil, corrupt("member %s comes before the header", h.Name)
		default:
			if table, ok := tableOfMember(h.Name); ok {
				if !slices.Contains(header.Tables, table) {
					return nil, corrupt("member %s holds a table the header does not list", h.Name)
				}
				// A damaged member is reported as such below, rather than
				// by what its damage broke.
				n, err := countRows(body, table)
				if err != nil {
					rowErr = fmt.Errorf("member %s: %v", h.Name, err)
				}
				counts.Rows[table] = n
			} else if name, ok := blobOfMember(h.Name); ok {
				if want != name {
					return nil, corrupt("archive member %s: its header records SHA-256 %s", h.Name, want)
				}
				counts.Archives++
				counts.ArchiveBytes += h.Size
			} else if strings.HasPrefix(h.Name, gitDir) {
				if _, err := gitPath(h.Name); err != nil {
					return nil, corrupt("%v", err)
				}
				if !header.WithGit {
					return nil, corrupt("member %s: git repositories in a backup whose header says none", h.Name)
				}
				counts.GitFiles++
			} else {
				return nil, corrupt("unexpected member %s", h.Name)
			}
		}
		if _, err := io.Copy(io.Discard, body); err != nil {
			return nil, corrupt("reading member %s: %v", h.Name, err)
		}
		got := hex.EncodeToString(sum.Sum(nil))
		if got != want {
			return nil, corrupt("member %s is damaged: its SHA-256 is %s, the backup recorded %s", h.Name, got, want)
		}
		if rowErr != nil {
			return nil, corrupt("%v", rowErr)
		}
		addListed(listed, Member{Name: h.Name, Size: h.Size, SHA256: got})
	}
}

// corrupt is the error for a backup that cannot be restored.
func corrupt(format string, args ...any) error {
	return errs.Errorf(errs.Invalid, "the backup cannot be restored: "+format, args...)
}

// addListed adds a member to a running digest of the member list, so the
// list can be compared with the manifest's without keeping it.
func addListed(h hash.Hash, m Member) {
	b, _ := json.Marshal(m)
	h.Write(b)
	h.Write([]byte{'\n'})
}

func readHeader(r io.Reader) (*Header, error) {
	var h Header
	if err := json.NewDecoder(io.LimitReader(r, 1<<20)).Decode(&h); err != nil {
		return nil, corrupt("%s is not valid JSON (%v)", headerName, err)
	}
	if h.Format != Format {
		return nil, corrupt("%s names format %q, not %q: not a Dryad registry backup", headerName, h.Format, Format)
	}
	if h.FormatVersion > FormatVersion || h.FormatVersion < 1 {
		return nil, corrupt("it has format version %d and this dryad-registry reads version %d; restore it with the dryad-registry that wrote it (%s) or a newer one",
			h.FormatVersion, FormatVersion, h.RegistryVersion)
	}
	return &h, nil
}

// countRows decompresses a metadata member, checks its header line names
// the table, and counts its rows.
func countRows(r io.Reader, table string) (int64, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return 0, err
	}
	br := bufio.NewReaderSize(gz, 64<<10)
	first, err := br.ReadBytes('\n')
	if err != nil {
		return 0, fmt.Errorf("no header line: %v", err)
	}
	var th tableHeader
	if err := json.Unmarshal(first, &th); err != nil || th.Table != table || len(th.Columns) == 0 {
		return 0, fmt.Errorf("its first line does not describe table %s", table)
	}
	var n int64
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 || err == bufio.ErrBufferFull {
			n++
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// readManifest reads the manifest member, comparing its member list with
// the digest of the members read, as it streams.
func readManifest(tr *tar.Reader, h *tar.Header, listed hash.Hash, n int) (*Manifest, error) {
	sum := sha256.New()
	tee := io.TeeReader(tr, sum)
	dec := json.NewDecoder(tee)
	var m Manifest
	fields := map[string]json.RawMessage{}
	inList := sha256.New()
	count := 0
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, corrupt("manifest.json is not a JSON object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, corrupt("manifest.json: %v", err)
		}
		key, _ := t.(string)
		if key != "members" {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, corrupt("manifest.json: %v", err)
			}
			fields[key] = raw
			continue
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			return nil, corrupt("manifest.json: members is not a list")
		}
		for dec.More() {
			var mem Member
			if err := dec.Decode(&mem); err != nil {
				return nil, corrupt("manifest.json: %v", err)
			}
			addListed(inList, mem)
			count++
		}
		if _, err := dec.Token(); err != nil {
			return nil, corrupt("manifest.json: %v", err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, corrupt("manifest.json: %v", err)
	}
	// What the decoder buffered already went through the hash.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return nil, corrupt("reading manifest.json: %v", err)
	}
	rest, _ := json.Marshal(fields)
	if err := json.Unmarshal(rest, &m); err != nil {
		return nil, corrupt("manifest.json: %v", err)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != h.PAXRecords[paxSHA256] {
		return nil, corrupt("manifest.json is damaged: its SHA-256 is %s, the backup recorded %s", got, h.PAXRecords[paxSHA256])
	}
	if count != n || !bytes.Equal(inList.Sum(nil), listed.Sum(nil)) {
		return nil, corrupt("manifest.json lists %d members that differ from the %d the file holds (members missing, added or altered)", count, n)
	}
	return &m, nil
}

func compareCounts(want, got Counts, withGit bool) error {
	for _, t := range slices.Sorted(maps.Keys(want.Rows)) {
		if got.Rows[t] != want.Rows[t] {
			return corrupt("table %s holds %d rows, the manifest says %d", t, got.Rows[t], want.Rows[t])
		}
	}
	if len(got.Rows) != len(want.Rows) {
		return corrupt("it holds %d tables, the manifest lists %d", len(got.Rows), len(want.Rows))
	}
	if got.Archives != want.Archives || got.ArchiveBytes != want.ArchiveBytes {
		return corrupt("it holds %d archives (%d bytes), the manifest says %d (%d bytes)", got.Archives, got.ArchiveBytes, want.Archives, want.ArchiveBytes)
	}
	if withGit && got.GitFiles != want.GitFiles {
		return corrupt("it holds %d git files, the manifest says %d", got.GitFiles, want.GitFiles)
	}
	return nil
}
