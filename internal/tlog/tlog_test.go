package tlog

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
)

var at = time.Date(2025, 3, 14, 12, 0, 0, 123000, time.UTC)

func TestRecordRoundTrip(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	for _, r := range []Record{
		{Kind: Publish, Package: "left-pad", Version: "1.0.0+build.1", SHA256: sum, Actor: "alice", Time: at},
		{Kind: Yank, Package: "left-pad", Version: "1.0.0", Actor: "alice", Time: at},
		{Kind: Unyank, Package: "left-pad", Version: "1.0.0", Actor: "alice", Time: at},
		{Kind: Delete, Package: "left-pad", Version: "1.0.0", Time: at},
		{Kind: OwnerAdd, Package: "left-pad", User: "bob", Actor: "alice", Time: at},
		{Kind: OwnerRemove, Package: "left-pad", User: "bob", Actor: "alice", Time: at},
	} {
		data, err := r.Encode()
		if err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		back, err := ParseRecord(data)
		if err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		if *back != r {
			t.Errorf("%q parsed as %+v, want %+v", data, back, r)
		}
	}
	if got, _ := (&Record{Kind: Publish, Package: "a", Version: "1.0.0", SHA256: sum, Actor: "al", Time: at}).Encode(); string(got) != "publish a 1.0.0 "+sum+" al 2025-03-14T12:00:00.000123Z\n" {
		t.Errorf("publish line %q", got)
	}
	for _, bad := range []string{
		"publish a 1.0.0 al 2025-03-14T12:00:00Z\n",
		"publish a 1.0.0 " + sum + " al 2025-03-14T12:00:00Z",
		"yank a 1.0.0 al 2025-03-14T13:00:00+01:00\n",
		"yank a  al 2025-03-14T12:00:00Z\n",
		"rename a b al 2025-03-14T12:00:00Z\n",
		"publish a 1.0.0 " + strings.ToUpper(sum) + " al 2025-03-14T12:00:00Z\n",
	} {
		if _, err := ParseRecord([]byte(bad)); err == nil {
			t.Errorf("ParseRecord(%q) succeeded", bad)
		}
	}
	if _, err := (&Record{Kind: OwnerAdd, Package: "a", User: "b c", Time: at}).Encode(); err == nil {
		t.Error("a user with a space encoded")
	}
}

func records(n int) [][]byte {
	var out [][]byte
	for i := range n {
		r := Record{Kind: Yank, Package: "p", Version: fmt.Sprintf("1.0.%d", i), Actor: "a", Time: at}
		data, _ := r.Encode()
		out = append(out, data)
	}
	return out
}

func TestTreeProofsAndTiles(t *testing.T) {
	recs := records(600)
	mem, err := Build(recs)
	if err != nil {
		t.Fatal(err)
	}
	size := int64(len(recs))
	th, err := TreeHash(size, mem)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int64{0, 1, 255, 256, 599} {
		proof, err := ProveRecord(size, n, mem)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckRecord(proof, size, th, n, recs[n]); err != nil {
			t.Errorf("record %d: %v", n, err)
		}
		if err := CheckRecord(proof, size, th, n, recs[(n+1)%size]); err == nil {
			t.Errorf("record %d: proof accepted another record", n)
		}
	}
	byRange := func(from, to int64) ([][]byte, error) { return recs[from:to], nil }
	for _, tile := range append(Tiles(size), DataTiles(size)...) {
		data, err := ReadTile(tile.Path(), size, mem, byRange)
		if err != nil {
			t.Fatalf("%s: %v", tile.Path(), err)
		}
		if tile.L == -1 {
			got := SplitRecords(data)
			if int64(len(got)) != int64(tile.W) || string(got[0]) != string(recs[tile.N<<TileHeight]) {
				t.Errorf("%s: %d records", tile.Path(), len(got))
			}
		}
	}
	for _, path := range []string{"tile/8/0/003", "tile/8/0/002.p/89", "tile/8/data/002.p/89", "tile/8/1/000", "tile/4/0/000", "nope"} {
		if _, err := ReadTile(path, size, mem, byRange); !errors.Is(err, errs.NotFound) {
			t.Errorf("%s: %v, want not found", path, err)
		}
	}
}

func TestCheckpoints(t *testing.T) {
	skey, err := GenerateKey("registry.example")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	recs := records(20)
	mem, _ := Build(recs)
	tree := func(n int64, m Memory) Tree {
		h, err := TreeHash(n, m)
		if err != nil {
			t.Fatal(err)
		}
		return Tree{N: n, Hash: h}
	}
	cp, err := s.Sign(tree(20, mem))
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenCheckpoint(cp, s.VerifierKey())
	if err != nil || got != tree(20, mem) {
		t.Fatalf("OpenCheckpoint = %v, %v", got, err)
	}
	otherKey, _ := GenerateKey("registry.example")
	other, _ := NewSigner(otherKey)
	if _, err := OpenCheckpoint(cp, other.VerifierKey()); err == nil {
		t.Error("checkpoint opened with another key")
	}
	if err := CheckExtends(tree(20, mem), tree(7, mem), mem); err != nil {
		t.Errorf("growth refused: %v", err)
	}
	forked := append([][]byte{}, recs...)
	forked[3] = records(30)[25]
	fmem, _ := Build(forked)
	if err := CheckExtends(tree(20, fmem), tree(7, mem), fmem); err == nil {
		t.Error("a fork was accepted")
	}
	if err := CheckExtends(tree(7, mem), tree(20, mem), mem); err == nil {
		t.Error("a shrunk log was accepted")
	}
}
