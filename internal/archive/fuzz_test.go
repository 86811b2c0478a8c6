package archive

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/dryad-lang/registry/internal/errs"
)

// FuzzCanonicalize feeds arbitrary uploads to Canonicalize: it must never
// panic, must refuse with errs.Invalid, and what it accepts must come out
// canonical: canonicalizing the output again gives the same bytes.
func FuzzCanonicalize(f *testing.F) {
	m := ent{Name: "oaklibs.json", Body: manifestJSON}
	f.Add(tgz(f, m))
	f.Add(tgz(f, m, ent{Name: "src/", Type: tar.TypeDir}, ent{Name: "src/a.dryad", Body: "a", Mode: 0o755}))
	f.Add(tgz(f, ent{Name: "pkg/oaklibs.json", Body: manifestJSON}, ent{Name: "pkg/README.md", Body: "# r"}))
	f.Add(tgz(f, ent{Name: "./", Type: tar.TypeDir}, ent{Name: "./oaklibs.json", Body: manifestJSON}, ent{Name: "._x", Body: "j"}))
	f.Add(tgz(f, m, ent{Name: "../evil", Body: "x"}))
	f.Add(tgz(f, m, ent{Name: "l", Type: tar.TypeSymlink, Link: "/"}))
	f.Add(gz(f, concat(rawEntry("oaklibs.json", tar.TypeReg, manifestJSON), rawPAX(map[string]string{"path": "caf\u00e9"}), rawEntry("x", tar.TypeReg, "x"), endOfArchive)))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		checkCanonical(t, data, dir)
	})
}

// FuzzCanonicalizeTar is FuzzCanonicalize with the gzip layer added by the
// test, so that mutations reach the tar headers instead of breaking the
// gzip checksum.
func FuzzCanonicalizeTar(f *testing.F) {
	m := ent{Name: "oaklibs.json", Body: manifestJSON}
	f.Add(tarOf(f, []ent{m}))
	f.Add(tarOf(f, []ent{m, {Name: "src/", Type: tar.TypeDir}, {Name: "src/a.dryad", Body: "a", Mode: 0o755}}))
	f.Add(tarOf(f, []ent{{Name: "pkg/oaklibs.json", Body: manifestJSON}, {Name: "pkg/README.md", Body: "# r"}, {Name: "pkg/" + strings.Repeat("x", 120), Body: "long"}}))
	f.Add(tarOf(f, []ent{m, {Name: "caf\u00e9", Body: "pax", Format: tar.FormatPAX}, {Name: "g", Body: "gnu", Format: tar.FormatGNU}}))
	f.Add(concat(rawEntry("oaklibs.json", tar.TypeReg, manifestJSON), rawPAX(map[string]string{"path": "a/b"}), rawEntry("x", tar.TypeReg, "x"), endOfArchive))
	f.Add(concat(rawEntry("oaklibs.json", tar.TypeReg, manifestJSON), rawEntry("././@LongLink", 'L', "long/name\x00"), rawEntry("x", tar.TypeReg, "x"), endOfArchive))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		checkCanonical(t, gz(t, fixChecksums(data)), dir)
	})
}

// fixChecksums recomputes the checksum of every block that looks like a
// tar header, so that mutated headers are parsed rather than refused at
// once for their checksum.
func fixChecksums(data []byte) []byte {
	data = bytes.Clone(data)
	for off := 0; off+512 <= len(data); off += 512 {
		b := data[off : off+512]
		if !bytes.HasPrefix(b[257:], []byte("ustar")) {
			continue
		}
		copy(b[148:156], "        ")
		var sum int64
		for _, c := range b {
			sum += int64(c)
		}
		copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	}
	return data
}

// checkCanonical canonicalizes data and checks the properties every upload
// must have, accepted or not.
func checkCanonical(t *testing.T, data []byte, dir string) {
	lim := Limits{MaxUnpackedSize: 1 << 20, MaxEntries: 100, MaxPathLength: 128, MaxDepth: 8, MaxManifestSize: 4096}
	var out bytes.Buffer
	pkg, err := Canonicalize(t.Context(), bytes.NewReader(data), &out, dir, lim)
	if err != nil {
		if errs.KindOf(err) != errs.Invalid {
			t.Fatalf("refused with kind %v, want Invalid: %v", errs.KindOf(err), err)
		}
		return
	}
	var again bytes.Buffer
	pkg2, err := Canonicalize(t.Context(), bytes.NewReader(out.Bytes()), &again, dir, lim)
	if err != nil {
		t.Fatalf("canonical output refused: %v", err)
	}
	if !bytes.Equal(out.Bytes(), again.Bytes()) || pkg.SHA256 != pkg2.SHA256 {
		t.Fatal("canonical output is not a fixed point")
	}
	if err := Walk(t.Context(), bytes.NewReader(out.Bytes()), func(File, io.Reader) error { return nil }); err != nil {
		t.Fatalf("Walk refuses canonical output: %v", err)
	}
}
