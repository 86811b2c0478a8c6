package gitrepo

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkCommitVersion records versions of a 1 000-file package (2 MB
// uncompressed, in 50 folders); each iteration is a new version whose files
// all differ from the previous version's.
func BenchmarkCommitVersion(b *testing.B) {
	r := newRepos(b)
	const files = 1000
	archives := make([][]byte, 8)
	for i := range archives {
		fs := make([]tfile, files)
		for j := range fs {
			fs[j] = tfile{
				path: fmt.Sprintf("src/mod%02d/file%04d.dryad", j%50, j),
				body: fmt.Sprintf("// version %d, file %d\n", i, j) + strings.Repeat("fn f() { return 1 }\n", 100),
				exec: j%100 == 0,
			}
		}
		archives[i] = canonicalArchive(b, fs)
	}
	files0, _ := archiveFiles(b, archives[0])
	size := 0
	for _, body := range files0 {
		size += len(body)
	}
	b.SetBytes(int64(size))
	parent := ""
	n := 0
	for b.Loop() {
		id, err := r.CommitVersion(b.Context(), Version{
			Package: "bench", Version: fmt.Sprintf("1.0.%d", n),
			Archive:    bytes.NewReader(archives[n%len(archives)]),
			AuthorName: "Ada", AuthorEmail: "ada@example.org", Time: publishTime(n), Parent: parent, Latest: true,
		})
		if err != nil {
			b.Fatal(err)
		}
		parent = id
		n++
	}
}
