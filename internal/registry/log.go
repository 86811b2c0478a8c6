package registry

import (
	"context"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/store"
	"github.com/dryad-lang/registry/internal/tlog"
)

// LogEntry is one record of the transparency log.
type LogEntry struct {
	Index int64
	// Data is the record as the tree hashes it; Record, the same parsed.
	Data   []byte
	Record *tlog.Record
}

// LogProof shows that a version's publish record is in the log: the
// record, its inclusion proof in the tree of the signed checkpoint, and
// the version's later records (yank, unyank, delete).
type LogProof struct {
	// Package is the package's canonical name.
	Package    string
	Publish    LogEntry
	Later      []LogEntry
	Tree       tlog.Tree
	Checkpoint []byte
	Proof      []tlog.Hash
}

// appendLog appends a record to the transparency log in tx, the
// transaction of the change it records. The log head stays locked until
// tx ends, so records get consecutive indexes whatever the instance.
func (s *Service) appendLog(ctx context.Context, tx store.Queries, r tlog.Record) error {
	r.Time = r.Time.UTC().Truncate(time.Microsecond)
	data, err := r.Encode()
	if err != nil {
		return err
	}
	size, err := tx.LockLog(ctx)
	if err != nil {
		return err
	}
	hashes, err := tlog.AppendHashes(size, data, storedHashes(ctx, tx))
	if err != nil {
		return err
	}
	rec := &store.LogRecord{Index: size, Kind: string(r.Kind), Package: r.Package, Subject: r.Subject(), Data: data}
	return tx.AppendLog(ctx, rec, tlog.FirstHashIndex(size), tlog.Bytes(hashes))
}

// storedHashes reads the log's stored hashes through q (a transaction, or
// the store).
func storedHashes(ctx context.Context, q store.Queries) tlog.HashReader {
	return tlog.StoredHashes(func(indexes []int64) ([][]byte, error) { return q.LogHashes(ctx, indexes) })
}

// logVersion appends a record of a change to a version.
func (s *Service) logVersion(ctx context.Context, tx store.Queries, kind tlog.Kind, pk *store.Package, v *store.Version, actor string, at time.Time) error {
	r := tlog.Record{Kind: kind, Package: pk.NormalizedName, Version: v.Version, Actor: actor, Time: at}
	if kind == tlog.Publish {
		r.SHA256 = v.Checksum
	}
	return s.appendLog(ctx, tx, r)
}

// logOwner appends a record of an owner change.
func (s *Service) logOwner(ctx context.Context, tx store.Queries, kind tlog.Kind, pk *store.Package, user, actor string, at time.Time) error {
	return s.appendLog(ctx, tx, tlog.Record{Kind: kind, Package: pk.NormalizedName, User: user, Actor: actor, Time: at})
}

// InitLog starts the transparency log of a registry that has versions from
// before it kept one: when the log is empty, every version gets a publish
// record (with its original time and checksum), and a yank or delete
// record for its current state, in version order, in one transaction.
// Registries started with the log do nothing here.
func (s *Service) InitLog(ctx context.Context) (int, error) {
	n := 0
	err := s.store.Transact(ctx, func(tx store.Queries) error {
		n = 0
		size, err := tx.LockLog(ctx)
		if err != nil || size > 0 {
			return err
		}
		type row struct {
			pk store.Package
			v  store.Version
		}
		var rows []row
		if err := tx.AllVersions(ctx, func(pk *store.Package, v *store.Version) error {
			rows = append(rows, row{*pk, *v})
			return nil
		}); err != nil {
			return err
		}
		for _, r := range rows {
			if err := s.logVersion(ctx, tx, tlog.Publish, &r.pk, &r.v, r.v.Publisher, r.v.PublishedAt); err != nil {
				return err
			}
			n++
			switch {
			case r.v.DeletedAt != nil:
				err = s.logVersion(ctx, tx, tlog.Delete, &r.pk, &r.v, "", *r.v.DeletedAt)
			case r.v.Yanked && r.v.YankedAt != nil:
				err = s.logVersion(ctx, tx, tlog.Yank, &r.pk, &r.v, "", *r.v.YankedAt)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// LogKey is the public key that checks the log's checkpoints, "" when the
// registry signs none.
func (s *Service) LogKey() string {
	if s.opts.LogSigner == nil {
		return ""
	}
	return s.opts.LogSigner.VerifierKey()
}

// logTree reads the current tree: its size and root hash.
func (s *Service) logTree(ctx context.Context) (tlog.Tree, error) {
	size, err := s.store.LogSize(ctx)
	if err != nil {
		return tlog.Tree{}, err
	}
	h, err := tlog.TreeHash(size, storedHashes(ctx, s.store))
	if err != nil {
		return tlog.Tree{}, errs.Wrap(errs.Internal, err, "reading the log's tree")
	}
	return tlog.Tree{N: size, Hash: h}, nil
}

func (s *Service) sign(t tlog.Tree) ([]byte, error) {
	if s.opts.LogSigner == nil {
		return nil, errs.New(errs.Unavailable, "this registry has no log signing key")
	}
	return s.opts.LogSigner.Sign(t)
}

// LogCheckpoint returns the latest signed checkpoint of the log.
func (s *Service) LogCheckpoint(ctx context.Context) ([]byte, tlog.Tree, error) {
	t, err := s.logTree(ctx)
	if err != nil {
		return nil, t, err
	}
	cp, err := s.sign(t)
	return cp, t, err
}

// LogTile returns a tile of the log (a tlog tile path: tile/8/<level>/…,
// tile/8/data/… for records); one the log does not hold yet is
// errs.NotFound.
func (s *Service) LogTile(ctx context.Context, path string) ([]byte, error) {
	size, err := s.store.LogSize(ctx)
	if err != nil {
		return nil, err
	}
	return tlog.ReadTile(path, size, storedHashes(ctx, s.store), func(from, to int64) ([][]byte, error) {
		recs, err := s.store.LogRecords(ctx, from, to)
		if err != nil {
			return nil, err
		}
		if int64(len(recs)) != to-from {
			return nil, errs.Errorf(errs.Internal, "log records %d to %d: %d found", from, to, len(recs))
		}
		out := make([][]byte, len(recs))
		for i := range recs {
			out[i] = recs[i].Data
		}
		return out, nil
	})
}

// LogRecord returns record n of the log.
func (s *Service) LogRecord(ctx context.Context, n int64) (*LogEntry, error) {
	recs, err := s.store.LogRecords(ctx, n, n+1)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, errs.Errorf(errs.NotFound, "the log has no record %d", n)
	}
	e, err := logEntry(&recs[0])
	return &e, err
}

func logEntry(r *store.LogRecord) (LogEntry, error) {
	rec, err := tlog.ParseRecord(r.Data)
	if err != nil {
		return LogEntry{}, errs.Wrap(errs.Internal, err, "reading the log")
	}
	return LogEntry{Index: r.Index, Data: r.Data, Record: rec}, nil
}

// VersionLog returns the log records of a version (deleted ones too): its
// publish record first, then its yanks, unyanks and delete. A version
// published before the log existed and not yet recorded has none.
func (s *Service) VersionLog(ctx context.Context, name, version string) ([]LogEntry, error) {
	_, out, err := s.versionLog(ctx, name, version)
	return out, err
}

func (s *Service) versionLog(ctx context.Context, name, version string) (*store.Package, []LogEntry, error) {
	pk, err := s.anyPackage(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.anyVersion(ctx, pk, version)
	if err != nil {
		return nil, nil, err
	}
	recs, err := s.store.FindLogRecords(ctx, pk.NormalizedName, v.Version)
	if err != nil {
		return nil, nil, err
	}
	var out []LogEntry
	for i := range recs {
		e, err := logEntry(&recs[i])
		if err != nil {
			return nil, nil, err
		}
		if e.Record.Kind != tlog.OwnerAdd && e.Record.Kind != tlog.OwnerRemove {
			out = append(out, e)
		}
	}
	return pk, out, nil
}

// LogLookup proves that a version's publish record is in the log, against
// the latest checkpoint.
func (s *Service) LogLookup(ctx context.Context, name, version string) (*LogProof, error) {
	pk, entries, err := s.versionLog(ctx, name, version)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 || entries[0].Record.Kind != tlog.Publish {
		return nil, errs.Errorf(errs.NotFound, "%s@%s has no publish record in the log", name, version)
	}
	t, err := s.logTree(ctx)
	if err != nil {
		return nil, err
	}
	cp, err := s.sign(t)
	if err != nil {
		return nil, err
	}
	proof, err := tlog.ProveRecord(t.N, entries[0].Index, storedHashes(ctx, s.store))
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "proving a log record")
	}
	p := &LogProof{Package: pk.Name, Publish: entries[0], Tree: t, Checkpoint: cp, Proof: proof}
	for _, e := range entries[1:] {
		if e.Index < t.N {
			p.Later = append(p.Later, e)
		}
	}
	return p, nil
}
