// Package tlog is the registry's transparency log: an append-only Merkle
// tree (in the tiled layout of golang.org/x/mod/sumdb/tlog) of records of
// every publish, yank, unyank, delete and owner change, and the signed
// checkpoints (tree heads in the note format of golang.org/x/mod/sumdb/note)
// that let clients prove the tree only ever grew.
//
// The package is pure computation: it encodes and parses records, computes
// the hashes a new record adds, serves tiles and proofs from a hash reader,
// and signs and opens checkpoints. Storing the records and hashes is the
// metadata store's job; appending them in the transaction of the change they
// record is the registry's.
package tlog

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Kind is what a record records.
type Kind string

// Kinds of records.
const (
	Publish     Kind = "publish"      // a version was published
	Yank        Kind = "yank"         // a version was yanked
	Unyank      Kind = "unyank"       // a yanked version was restored
	Delete      Kind = "delete"       // a version was deleted
	OwnerAdd    Kind = "owner-add"    // a user became an owner of a package
	OwnerRemove Kind = "owner-remove" // a user stopped owning a package
)

// Record is one entry of the log. Its encoding is one line of
// space-separated fields, which is what the tree hashes:
//
//	publish <package> <version> <sha256> <actor> <time>
//	yank|unyank|delete <package> <version> <actor> <time>
//	owner-add|owner-remove <package> <user> <actor> <time>
//
// Package is the normalised package name, SHA256 the lowercase hex checksum
// of the canonical archive, Actor the user who made the change (the
// publisher, for a publish; "-" when no user did) and Time the instant in
// UTC (RFC 3339 with nanoseconds).
type Record struct {
	Kind    Kind
	Package string
	// Version is set on version records.
	Version string
	// SHA256 is set on publish records.
	SHA256 string
	// User is the owner an owner record adds or removes.
	User  string
	Actor string
	Time  time.Time
}

// Subject is the field after the package: the version, or the user of an
// owner record.
func (r *Record) Subject() string {
	if r.Kind == OwnerAdd || r.Kind == OwnerRemove {
		return r.User
	}
	return r.Version
}

// Encode returns the record's canonical line (ending in a newline). A
// record with an unknown kind or a field that is empty or holds spaces or
// control characters is an error: it could not be parsed back as itself.
func (r *Record) Encode() ([]byte, error) {
	actor := r.Actor
	if actor == "" {
		actor = "-"
	}
	fields := []string{string(r.Kind), r.Package, r.Subject()}
	switch r.Kind {
	case Publish:
		if len(r.SHA256) != 64 || strings.Trim(r.SHA256, "0123456789abcdef") != "" {
			return nil, fmt.Errorf("tlog: publish record of %s@%s: checksum %q is not lowercase hex SHA-256", r.Package, r.Version, r.SHA256)
		}
		fields = append(fields, r.SHA256)
	case Yank, Unyank, Delete, OwnerAdd, OwnerRemove:
	default:
		return nil, fmt.Errorf("tlog: unknown record kind %q", r.Kind)
	}
	if r.Time.IsZero() {
		return nil, fmt.Errorf("tlog: %s record of %s has no time", r.Kind, r.Package)
	}
	fields = append(fields, actor, r.Time.UTC().Format(time.RFC3339Nano))
	for _, f := range fields {
		if f == "" || strings.IndexFunc(f, func(c rune) bool { return unicode.IsSpace(c) || unicode.IsControl(c) }) >= 0 {
			return nil, fmt.Errorf("tlog: %s record of %s: field %q is empty or holds spaces", r.Kind, r.Package, f)
		}
	}
	return []byte(strings.Join(fields, " ") + "\n"), nil
}

// ParseRecord parses a record's line. Only canonical lines parse: the
// record's Encode gives back exactly data.
func ParseRecord(data []byte) (*Record, error) {
	line, ok := strings.CutSuffix(string(data), "\n")
	if !ok || strings.Contains(line, "\n") {
		return nil, fmt.Errorf("tlog: a record is one line ending in a newline: %q", data)
	}
	f := strings.Split(line, " ")
	if len(f) < 5 {
		return nil, fmt.Errorf("tlog: record %q has too few fields", line)
	}
	r := &Record{Kind: Kind(f[0]), Package: f[1]}
	want := 5
	switch r.Kind {
	case Publish:
		want = 6
		r.Version = f[2]
		if len(f) == want {
			r.SHA256 = f[3]
		}
	case Yank, Unyank, Delete:
		r.Version = f[2]
	case OwnerAdd, OwnerRemove:
		r.User = f[2]
	default:
		return nil, fmt.Errorf("tlog: record %q has an unknown kind", line)
	}
	if len(f) != want {
		return nil, fmt.Errorf("tlog: %s record %q has %d fields, want %d", r.Kind, line, len(f), want)
	}
	r.Actor = f[want-2]
	if r.Actor == "-" {
		r.Actor = ""
	}
	t, err := time.Parse(time.RFC3339Nano, f[want-1])
	if err != nil {
		return nil, fmt.Errorf("tlog: record %q: bad time: %v", line, err)
	}
	r.Time = t.UTC()
	again, err := r.Encode()
	if err != nil {
		return nil, err
	}
	if string(again) != string(data) {
		return nil, fmt.Errorf("tlog: record %q is not in canonical form", line)
	}
	return r, nil
}
