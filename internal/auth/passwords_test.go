package auth

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/testenv"
)

func testHasher(t *testing.T) *Hasher {
	t.Helper()
	h, err := NewHasher(bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestDefaultBcryptCostIsTwelve(t *testing.T) {
	if DefaultBcryptCost != 12 {
		t.Fatalf("DefaultBcryptCost = %d, want 12", DefaultBcryptCost)
	}
	if testing.Short() && !testenv.InCI() {
		t.Skip("a cost-12 hash is slow; the constant is checked above")
	}
	h, err := NewHasher(DefaultBcryptCost)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := bcrypt.Cost(h.dummy); err != nil || c != 12 {
		t.Errorf("dummy hash cost = %d, %v; want 12", c, err)
	}
}

func TestNewHasherCost(t *testing.T) {
	for _, tc := range []struct {
		cost int
		ok   bool
	}{
		{bcrypt.MinCost - 1, false},
		{bcrypt.MinCost, true},
		{bcrypt.MaxCost + 1, false},
		{0, false},
	} {
		h, err := NewHasher(tc.cost)
		if (err == nil) != tc.ok {
			t.Errorf("NewHasher(%d) error = %v, want ok=%v", tc.cost, err, tc.ok)
		}
		if err == nil && h.Cost() != tc.cost {
			t.Errorf("NewHasher(%d).Cost() = %d", tc.cost, h.Cost())
		}
	}
}

func TestHashAndVerify(t *testing.T) {
	h := testHasher(t)
	max := strings.Repeat("é", MaxPasswordBytes/2) // 72 bytes, 36 characters
	for _, tc := range []struct {
		name, password, attempt string
		want                    bool
	}{
		{"same", "correct horse battery", "correct horse battery", true},
		{"wrong", "correct horse battery", "correct horse batterY", false},
		{"empty attempt", "correct horse battery", "", false},
		{"unicode", "pässwörd-日本語", "pässwörd-日本語", true},
		{"exactly 72 bytes", max, max, true},
		// bcrypt alone would accept this: it reads only the first 72 bytes.
		{"72 bytes plus more", max, max + "x", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hash, err := h.Hash(tc.password)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(hash, tc.password) {
				t.Fatalf("hash %q contains the password", hash)
			}
			if c, err := bcrypt.Cost([]byte(hash)); err != nil || c != h.Cost() {
				t.Errorf("hash cost = %d, %v; want %d", c, err, h.Cost())
			}
			if got := h.Verify(hash, tc.attempt); got != tc.want {
				t.Errorf("Verify = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHashIsSalted(t *testing.T) {
	h := testHasher(t)
	a, err := h.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("two hashes of one password are equal (%q): no salt", a)
	}
}

func TestHashRefusesOver72Bytes(t *testing.T) {
	h := testHasher(t)
	_, err := h.Hash(strings.Repeat("a", MaxPasswordBytes+1))
	checkErr(t, err, kind(errs.Invalid), "at most 72 bytes")
}

func TestVerifyRejectsGarbageHash(t *testing.T) {
	h := testHasher(t)
	for _, hash := range []string{"", "plain", "$2a$04$short"} {
		if h.Verify(hash, "plain") {
			t.Errorf("Verify(%q, ...) = true", hash)
		}
	}
}

// TestVerifyDummyRunsBcrypt checks that a login for a missing user makes the
// same bcrypt comparison, at the same cost, as one for an existing user; it
// observes the work done rather than timing it.
func TestVerifyDummyRunsBcrypt(t *testing.T) {
	h := testHasher(t)
	stored, err := h.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	var seen [][]byte
	h.compare = func(hash, password []byte) error {
		seen = append(seen, hash)
		return bcrypt.CompareHashAndPassword(hash, password)
	}

	h.Verify(stored, "a wrong guess")
	h.VerifyDummy("a wrong guess")

	if len(seen) != 2 {
		t.Fatalf("bcrypt ran %d times, want once per path", len(seen))
	}
	if string(seen[1]) != string(h.dummy) {
		t.Errorf("VerifyDummy compared against %q, not the dummy hash", seen[1])
	}
	for i, hash := range seen {
		if c, err := bcrypt.Cost(hash); err != nil || c != h.Cost() {
			t.Errorf("comparison %d ran at cost %d (%v), want %d", i, c, err, h.Cost())
		}
	}
}

func TestDummyHashMatchesNoPassword(t *testing.T) {
	h := testHasher(t)
	for _, p := range []string{"", "password", "correct horse battery"} {
		if h.Verify(string(h.dummy), p) {
			t.Errorf("dummy hash matches %q", p)
		}
	}
}

func TestNeedsRehash(t *testing.T) {
	h := testHasher(t)
	same, err := h.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	other, err := bcrypt.GenerateFromPassword([]byte("correct horse battery"), bcrypt.MinCost+1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, hash string
		want       bool
	}{
		{"same cost", same, false},
		{"other cost", string(other), true},
		{"not bcrypt", "not a hash", true},
	} {
		if got := h.NeedsRehash(tc.hash); got != tc.want {
			t.Errorf("%s: NeedsRehash = %v, want %v", tc.name, got, tc.want)
		}
	}
}
