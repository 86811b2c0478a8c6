package backup

import (
	"context"
	"fmt"

	"github.com/dryad-lang/registry/internal/store"
	"github.com/dryad-lang/registry/internal/tlog"
)

// ProblemLog: the transparency log disagrees with itself or with the
// versions (a record missing or changed, a stored hash that is not the
// records', a version whose publish record is missing or says another
// checksum).
const ProblemLog = "log"

// logChunk is how many records or hashes VerifyLog reads at once.
const logChunk = 1000

// VerifyLog checks the transparency log against the database, in one
// snapshot: the records are numbered without gaps and parse, the stored
// hashes are those recomputed from the records, and every version has a
// publish record with its checksum (and a delete record when deleted),
// while every publish record has its version. It calls report for each
// problem and returns the number of records, or an error when it could not
// finish.
func VerifyLog(ctx context.Context, st store.Store, report func(Problem)) (records int64, problems int, err error) {
	problem := func(pkg, version, format string, args ...any) {
		problems++
		report(Problem{Kind: ProblemLog, Package: pkg, Version: version, Detail: fmt.Sprintf(format, args...)})
	}
	err = st.Snapshot(ctx, func(tx store.Queries) error {
		size, err := tx.LogSize(ctx)
		if err != nil {
			return err
		}
		records = size
		type key struct{ pkg, version string }
		type logged struct {
			index   int64
			sha256  string
			deleted bool
			seen    bool
		}
		publishes := map[key]*logged{}
		var data [][]byte
		for from := int64(0); from < size; from += logChunk {
			recs, err := tx.LogRecords(ctx, from, min(from+logChunk, size))
			if err != nil {
				return err
			}
			for _, r := range recs {
				if want := int64(len(data)); r.Index != want {
					problem("", "", "record #%d is missing (the next one is #%d)", want, r.Index)
					return nil
				}
				data = append(data, r.Data)
				rec, err := tlog.ParseRecord(r.Data)
				if err != nil {
					problem("", "", "record #%d: %v", r.Index, err)
					continue
				}
				if string(rec.Kind) != r.Kind || rec.Package != r.Package || rec.Subject() != r.Subject {
					problem(rec.Package, rec.Subject(), "record #%d is filed as %s %s %s but says %s %s %s", r.Index, r.Kind, r.Package, r.Subject, rec.Kind, rec.Package, rec.Subject())
				}
				k := key{rec.Package, rec.Version}
				switch rec.Kind {
				case tlog.Publish:
					publishes[k] = &logged{index: r.Index, sha256: rec.SHA256}
				case tlog.Delete:
					if p := publishes[k]; p != nil {
						p.deleted = true
					}
				}
			}
		}
		if int64(len(data)) != size {
			problem("", "", "the log holds %d records, its head says %d", len(data), size)
			return nil
		}
		mem, err := tlog.Build(data)
		if err != nil {
			return err
		}
		for from := 0; from < len(mem); from += logChunk {
			to := min(from+logChunk, len(mem))
			idx := make([]int64, to-from)
			for i := range idx {
				idx[i] = int64(from + i)
			}
			stored, err := tx.LogHashes(ctx, idx)
			if err != nil {
				problem("", "", "stored hashes %d to %d: %v", from, to-1, err)
				return nil
			}
			for i, h := range stored {
				if string(h) != string(mem[from+i][:]) {
					problem("", "", "stored hash #%d is not the one of the records (the records or the hash were changed)", from+i)
				}
			}
		}

		unlogged := 0
		err = tx.AllVersions(ctx, func(p *store.Package, v *store.Version) error {
			l := publishes[key{p.NormalizedName, v.Version}]
			switch {
			case l == nil && size == 0:
				unlogged++
			case l == nil:
				problem(p.Name, v.Version, "no publish record in the log")
				return nil
			case l.sha256 != v.Checksum:
				problem(p.Name, v.Version, "publish record #%d says sha256 %s, the version says %s", l.index, l.sha256, v.Checksum)
			case l.deleted != (v.DeletedAt != nil):
				problem(p.Name, v.Version, "deleted=%v, but the log says deleted=%v", v.DeletedAt != nil, l.deleted)
			}
			l.seen = true
			return nil
		})
		if err != nil {
			return err
		}
		if unlogged > 0 {
			problem("", "", "the log is empty but %d versions exist: versions published before the registry kept a log enter it when the server next starts", unlogged)
		}
		for k, l := range publishes {
			if !l.seen {
				problem(k.pkg, k.version, "publish record #%d has no version in the database", l.index)
			}
		}
		return nil
	})
	return records, problems, err
}
