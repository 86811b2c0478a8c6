package archive

import (
	"archive/tar"
	"bytes"
	"strings"
	"testing"

	"github.com/dryad-lang/registry/internal/errs"
)

func TestCanonicalizeRefuses(t *testing.T) {
	m := ent{Name: "oaklibs.json", Body: manifestJSON}
	valid := tgz(t, m, ent{Name: "src/main.dryad", Body: strings.Repeat("print 1\n", 2000)})
	rawTar := func(parts ...[]byte) []byte { return gz(t, concat(parts...)) }
	manifestRaw := rawEntry("oaklibs.json", tar.TypeReg, manifestJSON)

	tests := []struct {
		name string
		data []byte
		lim  Limits
		want string // a part of the message
	}{
		// The container.
		{"empty upload", nil, Limits{}, "upload is empty"},
		{"not gzip", []byte("PK\x03\x04 this is a zip file"), Limits{}, "not gzip-compressed"},
		{"gzip but not tar", gz(t, bytes.Repeat([]byte("hello tar? "), 100)), Limits{}, "not a tar archive"},
		{"truncated gzip", valid[:len(valid)/2], Limits{}, "truncated"},
		{"truncated gzip trailer", valid[:len(valid)-4], Limits{}, "truncated"},
		{"corrupt gzip checksum", func() []byte {
			b := bytes.Clone(valid)
			b[len(b)-8] ^= 0xff
			return b
		}(), Limits{}, "checksum"},
		{"truncated tar inside a file", gz(t, tarOf(t, []ent{m, {Name: "big", Body: strings.Repeat("x", 5000)}})[:2048]), Limits{}, "truncated"},
		{"data after the tar archive", gz(t, concat(tarOf(t, []ent{m}), []byte("hidden payload"))), Limits{}, "data after the end of the tar archive"},
		{"second tar after the first", gz(t, concat(tarOf(t, []ent{m}), tarOf(t, []ent{{Name: "evil", Body: "x"}}))), Limits{}, "data after the end of the tar archive"},
		{"concatenated gzip members", concat(tgz(t, m), tgz(t, ent{Name: "evil.dryad", Body: "x"})), Limits{}, "data after the end of the tar archive"},
		{"garbage after the gzip stream", concat(valid, []byte("trailing garbage")), Limits{}, "after the end of the gzip stream"},
		{"zero header then garbage", rawTar(manifestRaw, make([]byte, 512), rawEntry("x", tar.TypeReg, "x")), Limits{}, "invalid tar data"},

		// Paths.
		{"absolute path", tgz(t, m, ent{Name: "/etc/passwd", Body: "x"}), Limits{}, `"/etc/passwd": absolute paths`},
		{"dot-dot", tgz(t, m, ent{Name: "../etc/passwd", Body: "x"}), Limits{}, `"../etc/passwd": ".." path segments`},
		{"dot-dot inside", tgz(t, m, ent{Name: "a/../../b", Body: "x"}), Limits{}, `".." path segments`},
		{"dot-dot at the end", tgz(t, m, ent{Name: "a/..", Type: tar.TypeDir}), Limits{}, `".." path segments`},
		{"dot segment", tgz(t, m, ent{Name: "a/./b", Body: "x"}), Limits{}, `"." path segments`},
		{"double dot prefix", tgz(t, m, ent{Name: "././b", Body: "x"}), Limits{}, `"." path segments`},
		{"empty segment", tgz(t, m, ent{Name: "a//b", Body: "x"}), Limits{}, "empty path segment"},
		{"backslash", tgz(t, m, ent{Name: `..\..\evil`, Body: "x"}), Limits{}, "backslashes"},
		{"control character", tgz(t, m, ent{Name: "a\x01b", Body: "x"}), Limits{}, "control character"},
		{"newline", tgz(t, m, ent{Name: "Icon\r", Body: "x"}), Limits{}, "control character"},
		{"C1 control", tgz(t, m, ent{Name: "a\u0085b", Body: "x"}), Limits{}, "control character"},
		{"NUL in PAX path", rawTar(manifestRaw, rawPAX(map[string]string{"path": "a\x00b"}), rawEntry("x", tar.TypeReg, "x"), endOfArchive), Limits{}, ""},
		{"not UTF-8", rawTar(manifestRaw, rawEntry("caf\xe9", tar.TypeReg, "x"), endOfArchive), Limits{}, "not valid UTF-8"},
		{"invisible character", tgz(t, m, ent{Name: ".g\u200cit/config", Body: "x"}), Limits{}, "invisible formatting character U+200C"},
		{"right-to-left override", tgz(t, m, ent{Name: "evil\u202egpj.dryad", Body: "x"}), Limits{}, "invisible formatting character U+202E"},
		{"replacement character", tgz(t, m, ent{Name: "caf\ufffd", Body: "x"}), Limits{}, "U+FFFD"},
		{"colon", tgz(t, m, ent{Name: "file.txt:stream", Body: "x"}), Limits{}, `character ':'`},
		{"question mark", tgz(t, m, ent{Name: "what?", Body: "x"}), Limits{}, `character '?'`},
		{"windows device", tgz(t, m, ent{Name: "lib/aux.dryad", Body: "x"}), Limits{}, "device name on Windows"},
		{"windows device dir", tgz(t, m, ent{Name: "CON/", Type: tar.TypeDir}), Limits{}, "device name on Windows"},
		{"trailing dot", tgz(t, m, ent{Name: "lib./x", Body: "x"}), Limits{}, "ends with a dot or a space"},
		{"trailing space", tgz(t, m, ent{Name: "x ", Body: "x"}), Limits{}, "ends with a dot or a space"},
		{"file named like the root", rawTar(manifestRaw, rawEntry("./", tar.TypeReg, ""), endOfArchive), Limits{}, "a file cannot be named after the archive root"},
		{"file name with slash", rawTar(manifestRaw, rawEntry("notadir/", tar.TypeReg, "x"), endOfArchive), Limits{}, `must not end with "/"`},
		{".git folder", tgz(t, m, ent{Name: ".git/config", Body: "[core]"}), Limits{}, "remove the .git folder"},
		{".git in a subfolder", tgz(t, m, ent{Name: "vendor/x/.GIT/HEAD", Body: "ref"}), Limits{}, "remove the .git folder"},
		{".git as a file", tgz(t, m, ent{Name: "sub/.git", Body: "gitdir: x"}), Limits{}, "remove the .git folder"},
		{"NTFS short name of .git", tgz(t, m, ent{Name: "GIT~1/config", Body: "x"}), Limits{}, "remove the .git folder"},
		{"PAX path written by archive/tar", tgz(t, m, ent{Name: "../über", Body: "x"}), Limits{}, `"../über": ".." path segments`},
		{"raw PAX path override", rawTar(manifestRaw, rawPAX(map[string]string{"path": "/abs"}), rawEntry("innocent", tar.TypeReg, "x"), endOfArchive), Limits{}, `"/abs": absolute`},
		{"GNU long name", rawTar(manifestRaw, rawEntry("././@LongLink", 'L', "../"+strings.Repeat("a", 150)+"\x00"), rawEntry("short", tar.TypeReg, "x"), endOfArchive), Limits{}, `".." path segments`},
		{"long path", tgz(t, m, ent{Name: strings.Repeat("d/", 20) + "f", Body: "x"}), Limits{MaxPathLength: 30}, "41 bytes long; the limit is 30"},
		{"huge GNU long name", rawTar(manifestRaw, rawEntry("././@LongLink", 'L', strings.Repeat("a", 100000)+"\x00"), rawEntry("short", tar.TypeReg, "x"), endOfArchive), Limits{}, "100000 bytes long; the limit is 512"},
		{"too deep", tgz(t, m, ent{Name: "a/b/c/d/e", Body: "x"}), Limits{MaxDepth: 4}, "5 folders deep; the limit is 4"},

		// Entry types.
		{"symlink", tgz(t, m, ent{Name: "passwd", Type: tar.TypeSymlink, Link: "/etc/passwd"}), Limits{}, `"passwd": symbolic links are not allowed`},
		{"symlink to a folder then a file through it", tgz(t, m, ent{Name: "link", Type: tar.TypeSymlink, Link: "/tmp"}, ent{Name: "link/x", Body: "x"}), Limits{}, "symbolic links"},
		{"hard link", tgz(t, m, ent{Name: "copy", Type: tar.TypeLink, Link: "oaklibs.json"}), Limits{}, "hard links are not allowed"},
		{"char device", tgz(t, m, ent{Name: "tty", Type: tar.TypeChar}), Limits{}, "device files"},
		{"block device", tgz(t, m, ent{Name: "sda", Type: tar.TypeBlock}), Limits{}, "device files"},
		{"fifo", tgz(t, m, ent{Name: "pipe", Type: tar.TypeFifo}), Limits{}, "named pipes"},
		{"GNU sparse", rawTar(manifestRaw, rawGNUSparse("sparse"), endOfArchive), Limits{}, "sparse"},
		{"PAX sparse 0.1", rawTar(manifestRaw, rawPAX(map[string]string{"GNU.sparse.major": "0", "GNU.sparse.minor": "1", "GNU.sparse.numblocks": "0", "GNU.sparse.map": "", "GNU.sparse.name": "s", "GNU.sparse.realsize": "0"}), rawEntry("s", tar.TypeReg, ""), endOfArchive), Limits{}, `"s": sparse files are not supported`},
		{"PAX sparse 1.0", rawTar(manifestRaw, rawPAX(map[string]string{"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": "s", "GNU.sparse.realsize": "0"}), rawEntry("GNUSparseFile.0/s", tar.TypeReg, string(pad([]byte("0\n")))), endOfArchive), Limits{}, `"s": sparse files are not supported`},
		{"contiguous file", rawTar(manifestRaw, rawEntry("c", tar.TypeCont, "x"), endOfArchive), Limits{}, `tar entry type '7' is not supported`},
		{"unknown type", rawTar(manifestRaw, rawEntry("z", 'Z', ""), endOfArchive), Limits{}, `tar entry type 'Z' is not supported`},
		{"global header with a path", tgz(t, ent{Name: "g", Type: tar.TypeXGlobalHeader, PAX: map[string]string{"path": "../x"}}, m), Limits{}, `global PAX header with a "path" record`},

		// Collisions.
		{"duplicate file", tgz(t, m, ent{Name: "a", Body: "1"}, ent{Name: "a", Body: "2"}), Limits{}, `"a": the path appears twice`},
		{"duplicate manifest", tgz(t, m, m), Limits{}, "appears twice"},
		{"duplicate after ./", tgz(t, m, ent{Name: "a", Body: "1"}, ent{Name: "./a", Body: "2"}), Limits{}, "appears twice"},
		{"duplicate folder", tgz(t, m, ent{Name: "d/", Type: tar.TypeDir}, ent{Name: "d/", Type: tar.TypeDir}), Limits{}, "appears twice"},
		{"case collision", tgz(t, m, ent{Name: "README.md", Body: "1"}, ent{Name: "readme.md", Body: "2"}), Limits{}, `"README.md" and "readme.md" differ only in letter case`},
		{"case collision of folders", tgz(t, m, ent{Name: "Src/a", Body: "1"}, ent{Name: "src/b", Body: "2"}), Limits{}, `"Src" and "src" differ only in letter case`},
		{"Unicode normalisation collision", tgz(t, m, ent{Name: "caf\u00e9", Body: "1"}, ent{Name: "cafe\u0301", Body: "2"}), Limits{}, "Unicode normalisation"},
		{"Unicode case collision", tgz(t, m, ent{Name: "STRASSE", Body: "1"}, ent{Name: "stra\u00dfe", Body: "2"}), Limits{}, "differ only in letter case"},
		{"file then folder", tgz(t, m, ent{Name: "a", Body: "1"}, ent{Name: "a/b", Body: "2"}), Limits{}, `"a" is used both as a file and as a folder`},
		{"folder then file", tgz(t, m, ent{Name: "a/b", Body: "1"}, ent{Name: "a", Body: "2"}), Limits{}, "used both as a file and as a folder"},
		{"file and folder entry", tgz(t, m, ent{Name: "a", Body: "1"}, ent{Name: "a/", Type: tar.TypeDir}), Limits{}, "appears twice"},

		// Limits.
		{"too many entries", tgz(t, m, ent{Name: "a", Body: "1"}, ent{Name: "b", Body: "1"}, ent{Name: "c", Body: "1"}), Limits{MaxEntries: 3}, "more than 3 entries"},
		{"too many entries with parents", tgz(t, m, ent{Name: "a/b/c/d", Body: "1"}), Limits{MaxEntries: 3}, "more than 3 entries (folders included)"},
		{"too many dropped entries", tgz(t, m, ent{Name: "._a"}, ent{Name: "._b"}, ent{Name: "._c"}), Limits{MaxEntries: 3}, "more than 3 entries"},
		{"unpacked size", tgz(t, m, ent{Name: "big", Body: strings.Repeat("x", 2000)}), Limits{MaxUnpackedSize: 1000}, "more than 1000 bytes unpacked"},
		{"size in the header only", rawTar(manifestRaw, rawHeader("huge", tar.TypeReg, 1<<40, "")), Limits{}, "more than 512 MiB unpacked"},
		{"dropped files count too", tgz(t, m, ent{Name: "__MACOSX/._big", Body: strings.Repeat("x", 2000)}), Limits{MaxUnpackedSize: 1000}, "unpacked"},
		{"zeros after the archive", gz(t, concat(tarOf(t, []ent{m}), make([]byte, 3<<20))), Limits{MaxUnpackedSize: 1024, MaxEntries: 10}, "uncompressed archive is larger than"},
		{"manifest too large", tgz(t, ent{Name: "oaklibs.json", Body: manifestJSON + strings.Repeat(" ", 100)}), Limits{MaxManifestSize: 64}, "oaklibs.json is 133 bytes; the limit is 64 bytes"},

		// Layout.
		{"no manifest", tgz(t, ent{Name: "src/main.dryad", Body: "x"}, ent{Name: "README.md", Body: "x"}), Limits{}, "no oaklibs.json at the root of the archive (files inside one top-level folder are accepted too, but this archive has 2 top-level entries)"},
		{"no manifest in the folder", tgz(t, ent{Name: "pkg/src/main.dryad", Body: "x"}), Limits{}, `nor in its top-level folder "pkg/"`},
		{"manifest too deep", tgz(t, ent{Name: "a/b/oaklibs.json", Body: manifestJSON}), Limits{}, `nor in its top-level folder "a/"`},
		{"manifest in one of two folders", tgz(t, ent{Name: "a/oaklibs.json", Body: manifestJSON}, ent{Name: "b/x", Body: "x"}), Limits{}, "2 top-level entries"},
		{"manifest in uppercase", tgz(t, ent{Name: "OAKLIBS.JSON", Body: manifestJSON}), Limits{}, `found "OAKLIBS.JSON": the name must be exactly oaklibs.json`},
		{"manifest is a folder", tgz(t, ent{Name: "oaklibs.json/", Type: tar.TypeDir}, ent{Name: "oaklibs.json/x", Body: "x"}), Limits{}, "oaklibs.json is a folder"},
		{"manifest is a symlink", tgz(t, ent{Name: "oaklibs.json", Type: tar.TypeSymlink, Link: "/etc/passwd"}), Limits{}, "symbolic links"},
		{"only junk", tgz(t, ent{Name: "__MACOSX/oaklibs.json", Body: manifestJSON}), Limits{}, "the upload contains no files"},
		{"empty tar", gz(t, tarOf(t, nil)), Limits{}, "the upload contains no files"},
		{"empty gzip", gz(t, nil), Limits{}, "the upload contains no files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var out bytes.Buffer
			pkg, err := Canonicalize(t.Context(), bytes.NewReader(tt.data), &out, dir, tt.lim)
			if err == nil {
				t.Fatalf("accepted; files %v", pkg.Files)
			}
			t.Log(errs.Message(err))
			if k := errs.KindOf(err); k != errs.Invalid {
				t.Errorf("kind %v, want Invalid: %v", k, err)
			}
			if !strings.Contains(errs.Message(err), tt.want) {
				t.Errorf("message %q\nwant it to contain %q", errs.Message(err), tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("wrote %d bytes to dst for a refused upload", out.Len())
			}
			assertEmptyDir(t, dir)
		})
	}
}
