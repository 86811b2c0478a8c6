package tlog

import (
	"bytes"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/dryad-lang/registry/internal/errs"
)

// TileHeight is the height of the tiles the registry serves: 2^8 hashes or
// records per full tile, as Go's checksum database.
const TileHeight = 8

// Hash, Tree and HashReader are those of golang.org/x/mod/sumdb/tlog, so
// that callers can hand them to its proof checks.
type (
	Hash           = tlog.Hash
	Tree           = tlog.Tree
	HashReader     = tlog.HashReader
	HashReaderFunc = tlog.HashReaderFunc
	Tile           = tlog.Tile
)

// FirstHashIndex is the stored-hash index of the first hash record n adds.
func FirstHashIndex(n int64) int64 { return tlog.StoredHashIndex(0, n) }

// AppendHashes returns the hashes that record n (the size of the log before
// it) adds to the stored hashes, in order from FirstHashIndex(n); r reads
// the hashes stored so far.
func AppendHashes(n int64, data []byte, r HashReader) ([]Hash, error) {
	return tlog.StoredHashes(n, data, r)
}

// TreeHash is the root hash of the tree of the first n records.
func TreeHash(n int64, r HashReader) (Hash, error) { return tlog.TreeHash(n, r) }

// ProveRecord proves that record n is in the tree of size t.
func ProveRecord(t, n int64, r HashReader) ([]Hash, error) { return tlog.ProveRecord(t, n, r) }

// CheckRecord checks a proof that data is record n of the tree of size t
// and hash th.
func CheckRecord(proof []Hash, t int64, th Hash, n int64, data []byte) error {
	return tlog.CheckRecord(proof, t, th, n, tlog.RecordHash(data))
}

// CheckExtends checks that the tree newer extends the tree older, reading
// newer's hashes from r: the log only grew, nothing in older changed.
func CheckExtends(newer, older Tree, r HashReader) error {
	if older.N > newer.N {
		return fmt.Errorf("the log shrank from %d records to %d", older.N, newer.N)
	}
	proof, err := tlog.ProveTree(newer.N, older.N, r)
	if err != nil {
		return err
	}
	if err := tlog.CheckTree(proof, newer.N, newer.Hash, older.N, older.Hash); err != nil {
		return fmt.Errorf("the tree of %d records (%s) does not extend the tree of %d records seen before (%s): the log was rewritten",
			newer.N, newer.Hash, older.N, older.Hash)
	}
	return nil
}

// Records reads records [from, to) of the log.
type Records func(from, to int64) ([][]byte, error)

// ReadTile returns the content of the tile at path (a tlog tile path, such
// as tile/8/0/x001/234.p/5, or tile/8/data/000 for records) in the log of
// size records. A tile the log does not hold yet is errs.NotFound. The
// content of a path never changes: a partial tile's path names its width.
func ReadTile(path string, size int64, r HashReader, records Records) ([]byte, error) {
	t, err := tlog.ParseTilePath(path)
	if err != nil || t.H != TileHeight {
		return nil, errs.Errorf(errs.NotFound, "no tile %s: tiles are tile/%d/<level>/<index>[.p/<width>]", path, TileHeight)
	}
	level := t.L
	if level < 0 {
		level = 0
	}
	if t.N<<uint(t.H)+int64(t.W) > size>>uint(level*t.H) {
		return nil, errs.Errorf(errs.NotFound, "no tile %s: the log has %d records", path, size)
	}
	if t.L >= 0 {
		return tlog.ReadTileData(t, r)
	}
	start := t.N << uint(t.H)
	recs, err := records(start, start+int64(t.W))
	if err != nil {
		return nil, err
	}
	return JoinRecords(recs), nil
}

// JoinRecords is the content of a data tile: the records, each ending in a
// newline, separated by blank lines (as Go's checksum database).
func JoinRecords(recs [][]byte) []byte {
	return bytes.Join(recs, []byte("\n"))
}

// SplitRecords splits a data tile back into its records.
func SplitRecords(data []byte) [][]byte {
	if len(data) == 0 {
		return nil
	}
	parts := bytes.Split(data, []byte("\n\n"))
	for i := range parts[:len(parts)-1] {
		parts[i] = append(parts[i], '\n')
	}
	return parts
}

// Memory is a whole tree's stored hashes in memory, for recomputing a log
// from its records.
type Memory []Hash

// ReadHashes implements HashReader.
func (m Memory) ReadHashes(indexes []int64) ([]Hash, error) {
	out := make([]Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m)) {
			return nil, fmt.Errorf("hash %d is not in the tree", x)
		}
		out[i] = m[x]
	}
	return out, nil
}

// Build computes the stored hashes of the log of records.
func Build(records [][]byte) (Memory, error) {
	var m Memory
	for n, data := range records {
		hs, err := tlog.StoredHashes(int64(n), data, m)
		if err != nil {
			return nil, err
		}
		m = append(m, hs...)
	}
	return m, nil
}

// Tiles lists the tiles of a log of size records that hold its hashes
// (levels 0 and up), partial tiles at the right edge included.
func Tiles(size int64) []Tile { return tlog.NewTiles(TileHeight, 0, size) }

// DataTiles lists the data tiles of a log of size records.
func DataTiles(size int64) []Tile {
	var out []Tile
	for start := int64(0); start < size; start += 1 << TileHeight {
		w := min(size-start, 1<<TileHeight)
		out = append(out, Tile{H: TileHeight, L: -1, N: start >> TileHeight, W: int(w)})
	}
	return out
}

// TileData is the content of hash tile t of the tree whose stored hashes r reads.
func TileData(t Tile, r HashReader) ([]byte, error) { return tlog.ReadTileData(t, r) }

// StoredHashes adapts a reader of stored hashes as byte slices (as the
// metadata store keeps them) to a HashReader.
func StoredHashes(read func(indexes []int64) ([][]byte, error)) HashReader {
	return HashReaderFunc(func(indexes []int64) ([]Hash, error) {
		raw, err := read(indexes)
		if err != nil {
			return nil, err
		}
		out := make([]Hash, len(raw))
		for i := range raw {
			if len(raw[i]) != len(out[i]) {
				return nil, fmt.Errorf("stored hash %d has %d bytes", indexes[i], len(raw[i]))
			}
			copy(out[i][:], raw[i])
		}
		return out, nil
	})
}

// Bytes returns hashes as byte slices, to store them.
func Bytes(hs []Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = hs[i][:]
	}
	return out
}
