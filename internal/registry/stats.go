package registry

import (
	"context"
	"sync"
	"time"

	"github.com/dryad-lang/registry/internal/store"
)

// StatsDays is how many days of per-day downloads the stats cover.
const StatsDays = 90

// PackageStats are a package's downloads per version and per day.
type PackageStats struct {
	Name     string
	Total    int64
	Since    string
	Daily    []DayCount
	Versions []VersionStats
}

// DayCount is a number of downloads on one UTC day.
type DayCount struct {
	Day       string
	Downloads int64
}

// VersionStats are one version's downloads.
type VersionStats struct {
	Version string
	Total   int64
	Daily   []DayCount
}

// Stats returns a package's download statistics for the last StatsDays
// days, every day present (zeros included) so charts need no gap filling.
func (s *Service) Stats(ctx context.Context, name string) (*PackageStats, error) {
	p, err := s.lookupPackage(ctx, name)
	if err != nil {
		return nil, err
	}
	vs, err := s.store.ListVersions(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	today := s.utcNow().Truncate(24 * time.Hour)
	first := today.AddDate(0, 0, -(StatsDays - 1))
	since := first.Format(time.DateOnly)
	perVersion, err := s.store.VersionDownloads(ctx, p.ID, since)
	if err != nil {
		return nil, err
	}
	days := make([]string, StatsDays)
	for i := range days {
		days[i] = first.AddDate(0, 0, i).Format(time.DateOnly)
	}
	fill := func(counts []store.DailyDownloads) []DayCount {
		m := make(map[string]int64, len(counts))
		for _, c := range counts {
			m[c.Day] += c.Count
		}
		out := make([]DayCount, len(days))
		for i, d := range days {
			out[i] = DayCount{Day: d, Downloads: m[d]}
		}
		return out
	}
	st := &PackageStats{Name: p.Name, Total: p.Downloads, Since: since, Versions: []VersionStats{}}
	var all []store.DailyDownloads
	newestFirst(vs)
	for i := range vs {
		v := &vs[i]
		if v.DeletedAt != nil {
			continue
		}
		all = append(all, perVersion[v.ID]...)
		st.Versions = append(st.Versions, VersionStats{Version: v.Version, Total: v.Downloads, Daily: fill(perVersion[v.ID])})
	}
	st.Daily = fill(all)
	return st, nil
}

// RegistryStats are registry-wide totals.
type RegistryStats struct {
	Packages  int64
	Versions  int64
	Users     int64
	Downloads int64
}

// totalsTTL is how long the registry-wide counts are kept: a change made
// through another instance shows in them within this.
const totalsTTL = 5 * time.Second

// totalsMemo keeps the registry-wide counts for totalsTTL. They are on the
// home page and in every health check, and counting them reads every row
// of the catalogue: kept, a view costs the same at 100 packages as at
// 100 000. A change made through this instance forgets them at once.
type totalsMemo struct {
	mu      sync.Mutex
	changes uint64 // changes made through this instance
	at      time.Time
	val     *RegistryStats
}

// forget drops the kept counts after a change.
func (m *totalsMemo) forget() {
	m.mu.Lock()
	m.changes++
	m.val = nil
	m.mu.Unlock()
}

// Totals counts what the registry holds.
func (s *Service) Totals(ctx context.Context) (*RegistryStats, error) {
	m := &s.totals
	m.mu.Lock()
	if m.val != nil && s.now().Sub(m.at) < totalsTTL {
		v := *m.val
		m.mu.Unlock()
		return &v, nil
	}
	seen, start := m.changes, s.now()
	m.mu.Unlock()

	t, err := s.store.Totals(ctx)
	if err != nil {
		return nil, err
	}
	v := RegistryStats{Packages: t.Packages, Versions: t.Versions, Users: t.Users, Downloads: t.Downloads}
	m.mu.Lock()
	// Counts read across a local change may miss it: not kept.
	if m.changes == seen {
		kept := v
		m.val, m.at = &kept, start
	}
	m.mu.Unlock()
	return &v, nil
}
