package backup

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
)

func TestGitPath(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"git/mylib.git/HEAD", true},
		{"git/mylib.git/objects/pack/pack-1.pack", true},
		{"git/mylib.git/", true},
		{"git/mylib.git/../../etc/passwd", false},
		{"git/../x.git/HEAD", false},
		{"git//mylib.git/HEAD", false},
		{"git/mylib/HEAD", false},
		{"git/.tmp-x.git/HEAD", false},
		{"git/mylib.git/./HEAD", false},
		{"git/mylib.git/a\\b", false},
		{"git/", false},
		{"packages/mylib.git/HEAD", false},
	} {
		_, err := gitPath(c.name)
		if (err == nil) != c.ok {
			t.Errorf("gitPath(%q) = %v, want ok %v", c.name, err, c.ok)
		}
	}
}

func TestNames(t *testing.T) {
	at := time.Date(2026, 3, 14, 2, 0, 0, 123456789, time.FixedZone("X", 3600))
	name := FileName(at)
	if name != "dryad-registry-20260314T010000.123Z.tar" || !IsBackupName(name) {
		t.Errorf("FileName = %q", name)
	}
	for _, n := range []string{".dryad-registry-20260314T010000.123Z.tar.partial", "dryad-registry-latest.tar", "notes.txt"} {
		if IsBackupName(n) {
			t.Errorf("IsBackupName(%q)", n)
		}
	}
	sum := strings.Repeat("0a", 32)
	if got, ok := blobOfMember(blobMember(sum)); !ok || got != sum {
		t.Errorf("blobOfMember(blobMember) = %q %v", got, ok)
	}
	for _, n := range []string{"packages/sha256/ff/" + sum + ".tar.gz", "packages/sha256/0a/" + sum, "packages/sha256/0a/x.tar.gz"} {
		if _, ok := blobOfMember(n); ok {
			t.Errorf("blobOfMember(%q) accepted", n)
		}
	}
}

func TestPrune(t *testing.T) {
	dir := t.TempDir()
	var made []string
	for i := range 5 {
		n := FileName(time.Date(2026, 1, 1+i, 2, 0, 0, 0, time.UTC))
		made = append(made, n)
		os.WriteFile(filepath.Join(dir, n), nil, 0o600)
	}
	for _, n := range []string{"keep-me.tar", ".dryad-registry-20200101T000000.000Z.tar.partial"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o600)
	}
	removed, err := Prune(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 3 || filepath.Base(removed[0]) != made[0] {
		t.Errorf("removed %v", removed)
	}
	left, _ := List(dir)
	if strings.Join(left, ",") != made[3]+","+made[4] {
		t.Errorf("left %v", left)
	}
	for _, n := range []string{"keep-me.tar", ".dryad-registry-20200101T000000.000Z.tar.partial"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("Prune touched %s", n)
		}
	}
	if _, err := Prune(dir, 0); err == nil {
		t.Error("Prune(0) accepted")
	}
}

// member writes a tar member with its checksum record, as Write does.
func member(tw *tar.Writer, h *tar.Header, body []byte) {
	s := sha256.Sum256(body)
	h.Format = tar.FormatPAX
	h.PAXRecords = map[string]string{paxSHA256: hex.EncodeToString(s[:])}
	if h.Typeflag == 0 {
		h.Typeflag = tar.TypeReg
	}
	h.Size = int64(len(body))
	if h.Mode == 0 {
		h.Mode = 0o644
	}
	tw.WriteHeader(h)
	tw.Write(body)
}

// A backup is untrusted input: members outside the known layout, links,
// paths leaving the git folder and members after the manifest are refused
// before anything is written.
func TestCheckRefusesUnsafeMembers(t *testing.T) {
	header, _ := json.Marshal(Header{Format: Format, FormatVersion: FormatVersion, WithGit: true, Tables: []string{"users"}})
	for _, c := range []struct {
		name string
		add  func(tw *tar.Writer)
		want string
	}{
		{"path leaves the git folder", func(tw *tar.Writer) {
			member(tw, &tar.Header{Name: "git/x.git/../../../etc/cron.d/evil"}, []byte("x"))
		}, "not a safe path"},
		{"symbolic link", func(tw *tar.Writer) {
			tw.WriteHeader(&tar.Header{Name: "git/x.git/HEAD", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"})
		}, "not a regular file"},
		{"unknown member", func(tw *tar.Writer) {
			member(tw, &tar.Header{Name: "etc/passwd"}, []byte("x"))
		}, "unexpected member"},
		{"archive under a wrong name", func(tw *tar.Writer) {
			member(tw, &tar.Header{Name: blobMember(strings.Repeat("ab", 32))}, []byte("not those bytes"))
		}, "its header records"},
		{"table the header does not list", func(tw *tar.Writer) {
			member(tw, &tar.Header{Name: "metadata/secrets.jsonl.gz"}, []byte("x"))
		}, "does not list"},
		{"future format", nil, "format version 99"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			h := header
			if c.add == nil {
				h = bytes.Replace(header, []byte(`"format_version":1`), []byte(`"format_version":99`), 1)
			}
			member(tw, &tar.Header{Name: headerName}, h)
			if c.add != nil {
				c.add(tw)
			}
			member(tw, &tar.Header{Name: manifestName}, []byte(`{"members":[]}`))
			tw.Close()
			_, err := Check(context.Background(), &buf)
			if !errors.Is(err, errs.Invalid) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Check = %v, want Invalid with %q", err, c.want)
			}
		})
	}
}
