package tlog

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Signer signs checkpoints with a note private key.
type Signer struct {
	signer note.Signer
	vkey   string
}

// NewSigner returns the signer of a note private key
// (PRIVATE+KEY+<name>+<hash>+<key>, as note.GenerateKey makes) of an
// Ed25519 key.
func NewSigner(skey string) (*Signer, error) {
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("log signing key: %w", err)
	}
	// The key is the fifth field; its base64 may itself hold '+'.
	rest := skey
	for range 4 {
		_, rest, _ = strings.Cut(rest, "+")
	}
	raw, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return nil, errors.New("log signing key: not an Ed25519 note key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(s.Name(), pub)
	if err != nil {
		return nil, err
	}
	return &Signer{signer: s, vkey: vkey}, nil
}

// GenerateKey returns a new note private key named name.
func GenerateKey(name string) (string, error) {
	skey, _, err := note.GenerateKey(rand.Reader, name)
	return skey, err
}

// VerifierKey is the public key that checks the signer's checkpoints
// (<name>+<hash>+<key>).
func (s *Signer) VerifierKey() string { return s.vkey }

// Name is the key's name, the signature line's first word.
func (s *Signer) Name() string { return s.signer.Name() }

// Sign returns the checkpoint of tree t: its head in tlog.FormatTree form,
// signed.
func (s *Signer) Sign(t Tree) ([]byte, error) {
	return note.Sign(&note.Note{Text: string(tlog.FormatTree(t))}, s.signer)
}

// OpenCheckpoint checks a checkpoint's signature with the verifier key
// vkey and returns its tree.
func OpenCheckpoint(msg []byte, vkey string) (Tree, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return Tree{}, fmt.Errorf("log key %q: %w", vkey, err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return Tree{}, fmt.Errorf("checkpoint not signed by %s: %w", v.Name(), err)
	}
	t, err := tlog.ParseTree([]byte(n.Text))
	if err != nil {
		return Tree{}, fmt.Errorf("checkpoint: %w", err)
	}
	return t, nil
}
