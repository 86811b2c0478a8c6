package auth

import (
	"crypto/rand"
	"fmt"

	"golang.org/x/crypto/bcrypt"

	"github.com/dryad-lang/registry/internal/errs"
)

// DefaultBcryptCost is the production cost: about a quarter of a second per
// hash on current servers, slow enough to make offline guessing expensive.
const DefaultBcryptCost = 12

// MaxPasswordBytes is bcrypt's input limit. Longer passwords are refused, not
// truncated or pre-hashed: silent truncation would let two different
// passwords match, and pre-hashing would tie stored hashes to a scheme no
// other bcrypt tool understands. 72 bytes is far beyond what guessing reaches.
const MaxPasswordBytes = 72

// Hasher hashes and verifies passwords with bcrypt at one cost. It also keeps
// a dummy hash at that cost so that a login for a user who does not exist
// costs the same work as one for a user who does.
type Hasher struct {
	cost  int
	dummy []byte
	// compare is bcrypt.CompareHashAndPassword; tests replace it to observe
	// which hash each path checks.
	compare func(hash, password []byte) error
}

// NewHasher returns a Hasher at the given bcrypt cost: DefaultBcryptCost in
// production, bcrypt.MinCost in tests. It spends one hash making the dummy.
func NewHasher(cost int) (*Hasher, error) {
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("auth: bcrypt cost %d outside %d..%d", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	// The dummy's password is random and thrown away: no login can match it.
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("auth: dummy password: %w", err)
	}
	dummy, err := bcrypt.GenerateFromPassword(secret, cost)
	if err != nil {
		return nil, fmt.Errorf("auth: dummy hash: %w", err)
	}
	return &Hasher{cost: cost, dummy: dummy, compare: bcrypt.CompareHashAndPassword}, nil
}

// Cost is the bcrypt cost new hashes get.
func (h *Hasher) Cost() int { return h.cost }

// Hash returns the bcrypt hash of password, to store in place of it.
func (h *Hasher) Hash(password string) (string, error) {
	if len(password) > MaxPasswordBytes {
		return "", errPasswordTooLong()
	}
	b, err := bcrypt.GenerateFromPassword([]byte(password), h.cost)
	if err != nil {
		return "", errs.Wrap(errs.Internal, err, "")
	}
	return string(b), nil
}

// Verify reports whether password matches hash. Passwords over
// MaxPasswordBytes never match: bcrypt would compare only their first 72
// bytes. That early answer depends on the input alone, not on the account,
// so it reveals nothing about which users exist.
func (h *Hasher) Verify(hash, password string) bool {
	if len(password) > MaxPasswordBytes {
		return false
	}
	return h.compare([]byte(hash), []byte(password)) == nil
}

// VerifyDummy does the work of Verify against the dummy hash and discards the
// result. Call it when the login names no user, then answer exactly as for a
// wrong password: both paths then cost one bcrypt comparison at h's cost.
func (h *Hasher) VerifyDummy(password string) {
	h.Verify(string(h.dummy), password)
}

// NeedsRehash reports whether hash was made at another cost than h's (or is
// not a bcrypt hash), so the caller can rehash the password after a
// successful login; it keeps every account's login cost equal to the dummy's.
func (h *Hasher) NeedsRehash(hash string) bool {
	cost, err := bcrypt.Cost([]byte(hash))
	return err != nil || cost != h.cost
}
