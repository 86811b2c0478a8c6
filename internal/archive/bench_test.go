package archive

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
)

// BenchmarkCanonicalize measures one upload holding a single file of zeros.
// The bytes allocated per operation must stay the same whatever the size:
// content is streamed through a spool file, never held in memory.
func BenchmarkCanonicalize(b *testing.B) {
	for _, size := range []int64{1 << 20, 20 << 20, 200 << 20} {
		data := zeroArchive(b, size)
		b.Run(fmt.Sprintf("zeros-%dMiB", size>>20), func(b *testing.B) {
			dir := b.TempDir()
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Canonicalize(b.Context(), bytes.NewReader(data), io.Discard, dir, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCanonicalizeManyFiles measures the other extreme: the most
// entries allowed, each tiny.
func BenchmarkCanonicalizeManyFiles(b *testing.B) {
	ents := []ent{{Name: "oaklibs.json", Body: manifestJSON}}
	for i := range 9000 {
		ents = append(ents, ent{Name: fmt.Sprintf("src/d%02d/f%04d.dryad", i%90, i), Body: strings.Repeat("x", i%200)})
	}
	data := tgz(b, ents...)
	dir := b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Canonicalize(b.Context(), bytes.NewReader(data), io.Discard, dir, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
