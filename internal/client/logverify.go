package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/tlog"
)

// LogAuditor audits a registry's transparency log from the outside, as
// any user can: it recomputes the whole tree from the records the
// registry serves, checks the checkpoint's signature, checks that the log
// only grew since the checkpoint it saw last (kept in a state file), and
// checks every publish record against what the registry serves now.
type LogAuditor struct {
	Registry *Registry
	// Key is the verifier key the checkpoints must be signed with; when
	// empty, the key of the state file, else (the first time) the one the
	// registry shows.
	Key string
	// StatePath is the file keeping the last checkpoint seen.
	StatePath string
	UserAgent string
	// HTTP is the client to use; http.DefaultClient when nil.
	HTTP *http.Client
}

// LogState is what the auditor keeps between runs: the last tree it
// verified, and the key that signed it. The key, not the URL (which may
// change, or name one of several instances), identifies the log.
type LogState struct {
	Registry   string    `json:"registry"`
	Key        string    `json:"key"`
	Size       int64     `json:"size"`
	Hash       tlog.Hash `json:"hash"`
	Checkpoint string    `json:"checkpoint"`
}

// LogReport is the outcome of an audit. Problems says exactly what
// differs; an audit with problems does not move the saved state.
type LogReport struct {
	Key string
	// KeySource tells where Key came from: flag, state or registry.
	KeySource string
	Tree      tlog.Tree
	// Previous is the tree of the last audit, if any.
	Previous  *tlog.Tree
	Publishes int
	Packages  int
	Problems  []string
}

// DefaultLogStatePath is the state file of a registry in the user's
// config folder.
func DefaultLogStatePath(baseURL string) (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", errs.Wrap(errs.Invalid, err, "no config folder to keep the log state in; pass --state FILE")
	}
	name := strings.NewReplacer("://", "_", "/", "_", ":", "_").Replace(baseURL)
	return filepath.Join(dir, "dryad-registry", "log", name+".json"), nil
}

// Verify audits the log. Failing to reach the registry or to read the
// state is an error; what the audit finds wrong is in the report.
func (a *LogAuditor) Verify(ctx context.Context) (*LogReport, error) {
	rep := &LogReport{}
	problem := func(format string, args ...any) { rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...)) }
	state, err := readLogState(a.StatePath)
	if err != nil {
		return nil, err
	}
	served, err := a.get(ctx, "/api/log/key")
	if err != nil {
		return nil, err
	}
	servedKey := strings.TrimSpace(string(served))
	switch {
	case a.Key != "":
		rep.Key, rep.KeySource = a.Key, "flag"
	case state != nil:
		rep.Key, rep.KeySource = state.Key, "state"
	default:
		rep.Key, rep.KeySource = servedKey, "registry"
	}
	if servedKey != rep.Key {
		problem("the registry shows the key %s, not %s (from the %s)", servedKey, rep.Key, rep.KeySource)
	}
	if state != nil && state.Key != rep.Key {
		problem("the last audit checked checkpoints signed by %s, this one by %s", state.Key, rep.Key)
	}
	cp, err := a.get(ctx, "/api/log/checkpoint")
	if err != nil {
		return nil, err
	}
	rep.Tree, err = tlog.OpenCheckpoint(cp, rep.Key)
	if err != nil {
		problem("%v", err)
		return rep, nil
	}

	// Every record, from the data tiles; then the whole tree, recomputed.
	var records [][]byte
	for _, t := range tlog.DataTiles(rep.Tree.N) {
		data, err := a.get(ctx, "/api/log/"+t.Path())
		if err != nil {
			return nil, err
		}
		recs := tlog.SplitRecords(data)
		if len(recs) != t.W {
			problem("data tile %s holds %d records, want %d", t.Path(), len(recs), t.W)
			return rep, nil
		}
		records = append(records, recs...)
	}
	mem, err := tlog.Build(records)
	if err != nil {
		return nil, err
	}
	computed, err := tlog.TreeHash(rep.Tree.N, mem)
	if err != nil {
		return nil, err
	}
	if computed != rep.Tree.Hash {
		problem("the %d records the registry serves hash to %s, but its signed checkpoint says %s", rep.Tree.N, computed, rep.Tree.Hash)
	}
	// The hash tiles must be those of the records: name the first record
	// whose served hash differs.
	for _, t := range tlog.Tiles(rep.Tree.N) {
		want, err := tlog.TileData(t, mem)
		if err != nil {
			return nil, err
		}
		got, err := a.get(ctx, "/api/log/"+t.Path())
		if err != nil {
			return nil, err
		}
		if string(got) != string(want) {
			problem("hash tile %s differs from the hashes of the records%s", t.Path(), firstRecordOf(t, got, want))
		}
	}
	if state != nil {
		prev := tlog.Tree{N: state.Size, Hash: state.Hash}
		rep.Previous = &prev
		if err := tlog.CheckExtends(rep.Tree, prev, mem); err != nil {
			problem("%v", err)
		}
	}

	// Every publish record against what the registry serves now.
	a.checkPublishes(ctx, records, rep, problem)

	if len(rep.Problems) == 0 {
		err := writeLogState(a.StatePath, &LogState{Registry: a.Registry.BaseURL, Key: rep.Key, Size: rep.Tree.N, Hash: rep.Tree.Hash, Checkpoint: string(cp)})
		if err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// firstRecordOf names the first record whose hash differs in a level-0
// hash tile.
func firstRecordOf(t tlog.Tile, got, want []byte) string {
	if t.L != 0 {
		return ""
	}
	for i := 0; i+32 <= len(want); i += 32 {
		if i+32 > len(got) || string(got[i:i+32]) != string(want[i:i+32]) {
			return fmt.Sprintf(" (first at record #%d)", t.N<<tlog.TileHeight+int64(i/32))
		}
	}
	return ""
}

// versionState is what the log says of one version.
type versionState struct {
	index   int64
	sha256  string
	yanked  bool
	deleted bool
}

func (a *LogAuditor) checkPublishes(ctx context.Context, records [][]byte, rep *LogReport, problem func(string, ...any)) {
	byPackage := map[string]map[string]*versionState{}
	for i, data := range records {
		r, err := tlog.ParseRecord(data)
		if err != nil {
			problem("record #%d: %v", i, err)
			continue
		}
		vs := byPackage[r.Package]
		if vs == nil {
			vs = map[string]*versionState{}
			byPackage[r.Package] = vs
		}
		switch r.Kind {
		case tlog.Publish:
			if vs[r.Version] != nil {
				problem("record #%d publishes %s@%s again (first published by record #%d)", i, r.Package, r.Version, vs[r.Version].index)
				continue
			}
			vs[r.Version] = &versionState{index: int64(i), sha256: r.SHA256}
			rep.Publishes++
		case tlog.Yank, tlog.Unyank, tlog.Delete:
			v := vs[r.Version]
			if v == nil {
				problem("record #%d: %s of %s@%s, which no earlier record publishes", i, r.Kind, r.Package, r.Version)
				continue
			}
			if r.Kind == tlog.Delete {
				v.deleted = true
			} else {
				v.yanked = r.Kind == tlog.Yank
			}
		}
	}
	names := make([]string, 0, len(byPackage))
	for n := range byPackage {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		rep.Packages++
		var doc struct {
			Versions []struct {
				Version  string `json:"version"`
				Checksum string `json:"checksum"`
				Yanked   bool   `json:"yanked"`
			} `json:"versions"`
		}
		body, status, err := a.fetch(ctx, "/api/packages/"+url.PathEscape(name))
		if err != nil {
			problem("%s: %v", name, err)
			continue
		}
		switch {
		case status == http.StatusGone || status == http.StatusNotFound:
		case status != http.StatusOK:
			problem("%s: the registry answered %d", name, status)
			continue
		default:
			if err := json.Unmarshal(body, &doc); err != nil {
				problem("%s: unreadable package document: %v", name, err)
				continue
			}
		}
		logged := byPackage[name]
		servedVersions := map[string]bool{}
		for _, sv := range doc.Versions {
			servedVersions[sv.Version] = true
			v := logged[sv.Version]
			switch {
			case v == nil:
				problem("%s@%s is served (sha256 %s) but no record of the log publishes it", name, sv.Version, sv.Checksum)
			case v.deleted:
				problem("%s@%s is served, but the log deleted it", name, sv.Version)
			case v.sha256 != sv.Checksum:
				problem("%s@%s: the log's record #%d says sha256 %s, the registry serves %s", name, sv.Version, v.index, v.sha256, sv.Checksum)
			case v.yanked != sv.Yanked:
				problem("%s@%s: the log says yanked=%v, the registry serves yanked=%v", name, sv.Version, v.yanked, sv.Yanked)
			}
		}
		for ver, v := range logged {
			if !v.deleted && !servedVersions[ver] {
				problem("%s@%s was published (record #%d) and never deleted in the log, but the registry does not serve it", name, ver, v.index)
			}
		}
	}
}

// get fetches a path of the registry; any answer but 200 is an error.
func (a *LogAuditor) get(ctx context.Context, path string) ([]byte, error) {
	body, status, err := a.fetch(ctx, path)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, errs.Errorf(errs.Unavailable, "GET %s: %d %s: %.200s", path, status, http.StatusText(status), body)
	}
	return body, nil
}

// fetch GETs a path of the registry, waiting and asking again (a few
// times) when a rate limit answers 429: an audit reads every tile and
// package.
func (a *LogAuditor) fetch(ctx context.Context, path string) ([]byte, int, error) {
	for attempt := 1; ; attempt++ {
		body, status, retryAfter, err := a.fetchOnce(ctx, path)
		if err != nil || status != http.StatusTooManyRequests || attempt == 8 {
			return body, status, err
		}
		select {
		case <-ctx.Done():
			return nil, 0, errs.Wrap(errs.Unavailable, ctx.Err(), "interrupted")
		case <-time.After(retryAfter):
		}
	}
}

func (a *LogAuditor) fetchOnce(ctx context.Context, path string) ([]byte, int, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.Registry.BaseURL+path, nil)
	if err != nil {
		return nil, 0, 0, errs.Wrap(errs.Invalid, err, err.Error())
	}
	req.Header.Set("User-Agent", a.UserAgent)
	hc := a.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, 0, errs.Wrap(errs.Unavailable, err, fmt.Sprintf("cannot reach the registry at %s: %v", a.Registry.BaseURL, err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, 0, 0, errs.Wrap(errs.Unavailable, err, fmt.Sprintf("reading %s: %v", path, err))
	}
	wait := time.Second
	if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && n > 0 && n <= 60 {
		wait = time.Duration(n) * time.Second
	}
	return body, resp.StatusCode, wait, nil
}

func readLogState(path string) (*LogState, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, err.Error())
	}
	var s LogState
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, errs.Errorf(errs.Invalid, "%s is not a log state file (%v); move it away to start over", path, err)
	}
	return &s, nil
}

func writeLogState(path string, s *LogState) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return errs.Wrap(errs.Unavailable, err, err.Error())
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return errs.Wrap(errs.Unavailable, err, err.Error())
	}
	if err := os.Rename(tmp, path); err != nil {
		return errs.Wrap(errs.Unavailable, err, err.Error())
	}
	return nil
}
