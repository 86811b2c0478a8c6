package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"

	"github.com/dryad-lang/registry/internal/testenv"
)

// ent is one entry of a hand-made test archive; the zero Type is a
// regular file.
type ent = testenv.Entry

// tarOf writes the entries, in the order given, with archive/tar.
func tarOf(t testing.TB, ents []ent) []byte {
	t.Helper()
	return testenv.Tar(t, ents...)
}

// gz compresses data as one gzip member.
func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	return testenv.Gzip(t, data)
}

// tgz is gz(tarOf(ents)).
func tgz(t testing.TB, ents ...ent) []byte {
	t.Helper()
	return gz(t, tarOf(t, ents))
}

// rawHeader builds a USTAR header block by hand, for entries archive/tar's
// writer refuses to produce.
func rawHeader(name string, typ byte, size int64, linkname string) []byte {
	b := make([]byte, 512)
	copy(b[0:100], name)
	copy(b[100:108], "0000644\x00")
	copy(b[108:116], "0000000\x00")
	copy(b[116:124], "0000000\x00")
	copy(b[124:136], fmt.Sprintf("%011o\x00", size))
	copy(b[136:148], fmt.Sprintf("%011o\x00", 946684800))
	b[156] = typ
	copy(b[157:257], linkname)
	copy(b[257:263], "ustar\x00")
	copy(b[263:265], "00")
	for i := 148; i < 156; i++ {
		b[i] = ' '
	}
	var sum int64
	for _, c := range b {
		sum += int64(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

// rawGNUSparse is an old-GNU sparse file header (type 'S') with an empty
// sparse map, which archive/tar reads but cannot write.
func rawGNUSparse(name string) []byte {
	b := rawHeader(name, tar.TypeGNUSparse, 0, "")
	copy(b[257:265], "ustar  \x00")
	copy(b[483:495], fmt.Sprintf("%011o\x00", 0))
	for i := 148; i < 156; i++ {
		b[i] = ' '
	}
	var sum int64
	for _, c := range b {
		sum += int64(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

// rawEntry is a raw header followed by its data, padded to a block.
func rawEntry(name string, typ byte, body string) []byte {
	out := rawHeader(name, typ, int64(len(body)), "")
	out = append(out, body...)
	return pad(out)
}

// rawPAX is a PAX extended header (type 'x') holding records, to be followed
// by the entry it applies to.
func rawPAX(records map[string]string) []byte {
	var data []byte
	for k, v := range records {
		rec := " " + k + "=" + v + "\n"
		n := len(rec)
		for {
			l := len(strconv.Itoa(n)) + len(rec)
			if l == n {
				break
			}
			n = l
		}
		data = append(data, strconv.Itoa(n)+rec...)
	}
	out := rawHeader("PaxHeaders/x", tar.TypeXHeader, int64(len(data)), "")
	out = append(out, data...)
	return pad(out)
}

func pad(b []byte) []byte {
	if r := len(b) % 512; r != 0 {
		b = append(b, make([]byte, 512-r)...)
	}
	return b
}

// endOfArchive is the two zero blocks that end a tar archive.
var endOfArchive = make([]byte, 1024)

// concat joins byte slices.
func concat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}

// canon runs Canonicalize with lim on data and returns the canonical bytes.
func canon(t testing.TB, data []byte, lim Limits) ([]byte, *Package, error) {
	t.Helper()
	var out bytes.Buffer
	pkg, err := Canonicalize(context.Background(), bytes.NewReader(data), &out, t.TempDir(), lim)
	return out.Bytes(), pkg, err
}

// mustCanon is canon that fails the test on an error.
func mustCanon(t testing.TB, data []byte) ([]byte, *Package) {
	t.Helper()
	out, pkg, err := canon(t, data, Limits{})
	if err != nil {
		t.Fatalf("Canonicalize: %v", err)
	}
	return out, pkg
}

// listing returns "path mode size" lines of a canonical archive, with its
// headers checked for the canonical owner and time.
func listing(t testing.TB, archive []byte) []string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || h.ModTime.Unix() != CanonicalModTime {
			t.Errorf("entry %q: owner %d:%d %q:%q mtime %v; want 0:0, no names, the canonical time", h.Name, h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime)
		}
		body, _ := io.ReadAll(tr)
		line := fmt.Sprintf("%s %o %d", h.Name, h.Mode, h.Size)
		if len(body) > 0 && len(body) < 40 {
			line += " " + string(body)
		}
		out = append(out, line)
	}
	return out
}

const manifestJSON = `{"name":"demo","version":"1.0.0"}`

// assertEmptyDir fails the test when dir holds anything: the spool file
// must be gone whatever happened.
func assertEmptyDir(t testing.TB, dir string) {
	t.Helper()
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("left behind in the temporary folder: %s", e.Name())
	}
}
