package registry

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/manifest"
	"github.com/dryad-lang/registry/internal/store"
)

// SearchResult is a page of packages.
type SearchResult struct {
	Packages []PackageSummary
	Total    int
	Limit    int
	Offset   int
	HasMore  bool
}

// PackageSummary describes a package in lists.
type PackageSummary struct {
	Name        string
	Version     string
	Description string
	Keywords    []string
	License     string
	Downloads   int64
	UpdatedAt   time.Time
}

// MaxPageSize is the largest page of a list.
const MaxPageSize = 100

// Top lists the first limit packages in the order sort names, without
// counting them all (Total and HasMore stay unset): the home page's lists.
func (s *Service) Top(ctx context.Context, sort string, limit int) (*SearchResult, error) {
	return s.search(ctx, store.SearchQuery{Sort: sort, Limit: limit, NoTotal: true})
}

// Search lists packages matching a query, ranked (see store.SearchQuery).
func (s *Service) Search(ctx context.Context, text, sort string, limit, offset int) (*SearchResult, error) {
	return s.search(ctx, store.SearchQuery{Text: text, Sort: sort, Limit: limit, Offset: offset})
}

// SearchQuery is a search with its optional filters; every field may be
// left empty, and the filters combine with the text and with each other.
type SearchQuery struct {
	Text string
	// Keyword keeps the packages having it among their keywords (any case).
	Keyword string
	// Owner keeps the packages the user of that username owns.
	Owner string
	// Updated keeps the packages updated within the last week, month or
	// year (see UpdatedWithin).
	Updated string
	// Sort is relevance, downloads, recent or name; the default is
	// relevance with a text, downloads without.
	Sort          string
	Limit, Offset int
}

// UpdatedWithin are the periods SearchQuery.Updated takes, in the order
// a form offers them.
var UpdatedWithin = []string{"week", "month", "year"}

// updatedPeriods are the lengths of the UpdatedWithin periods.
var updatedPeriods = map[string]time.Duration{"week": 7 * 24 * time.Hour, "month": 30 * 24 * time.Hour, "year": 365 * 24 * time.Hour}

// Find lists the packages matching a query and its filters. A filter
// value that cannot be valid is Invalid, with the field named so that a
// form can show the error beside it.
func (s *Service) Find(ctx context.Context, q SearchQuery) (*SearchResult, error) {
	sq := store.SearchQuery{Text: q.Text, Sort: q.Sort, Limit: q.Limit, Offset: q.Offset}
	if k := strings.ToLower(strings.TrimSpace(q.Keyword)); k != "" {
		if utf8.RuneCountInString(k) > manifest.MaxKeywordLength {
			return nil, errs.Field(errs.Invalid, "keyword", fmt.Sprintf("keyword %q: want at most %d characters", k, manifest.MaxKeywordLength))
		}
		sq.Keyword = k
	}
	if o := strings.TrimPrefix(strings.TrimSpace(q.Owner), "@"); o != "" {
		if len(o) > 100 {
			return nil, errs.Field(errs.Invalid, "owner", "owner: a username has at most 100 characters")
		}
		sq.Owner = o
	}
	if q.Updated != "" {
		d, ok := updatedPeriods[q.Updated]
		if !ok {
			return nil, errs.Field(errs.Invalid, "updated", fmt.Sprintf("updated %q: want week, month or year", q.Updated))
		}
		sq.UpdatedSince = s.utcNow().Add(-d)
	}
	if sq.Sort == "" && sq.Text == "" {
		sq.Sort = store.SortDownloads
	}
	return s.search(ctx, sq)
}

func (s *Service) search(ctx context.Context, q store.SearchQuery) (*SearchResult, error) {
	text, sort, limit, offset := q.Text, q.Sort, q.Limit, q.Offset
	switch sort {
	case "":
		sort = store.SortRelevance
		if text == "" {
			sort = store.SortDownloads
		}
	case store.SortRelevance, store.SortDownloads, store.SortRecent, store.SortName:
	default:
		return nil, errs.Field(errs.Invalid, "sort", fmt.Sprintf("sort %q: want relevance, downloads, recent or name", sort))
	}
	if limit == 0 {
		limit = 20
	}
	if limit < 1 || limit > MaxPageSize {
		return nil, errs.Errorf(errs.Invalid, "limit %d: want 1 to %d", limit, MaxPageSize)
	}
	if offset < 0 || offset > 100000 {
		return nil, errs.Errorf(errs.Invalid, "offset %d: want 0 to 100000", offset)
	}
	if len(text) > 200 {
		return nil, errs.New(errs.Invalid, "search text is limited to 200 characters")
	}
	q.Sort, q.Limit = sort, limit
	r, err := s.store.SearchPackages(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &SearchResult{Packages: []PackageSummary{}, Total: r.Total, Limit: limit, Offset: offset,
		HasMore: offset+len(r.Packages) < r.Total}
	for _, p := range r.Packages {
		out.Packages = append(out.Packages, summaryOf(&p))
	}
	return out, nil
}

func summaryOf(p *store.Package) PackageSummary {
	kw := p.Keywords
	if kw == nil {
		kw = []string{}
	}
	return PackageSummary{Name: p.Name, Version: p.Latest, Description: p.Description, Keywords: kw,
		License: p.License, Downloads: p.Downloads, UpdatedAt: p.UpdatedAt}
}

// UserPackages lists the live packages a user owns.
func (s *Service) UserPackages(ctx context.Context, userID int64) ([]PackageSummary, error) {
	ps, err := s.store.ListUserPackages(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := []PackageSummary{}
	for i := range ps {
		if ps[i].DeletedAt == nil {
			out = append(out, summaryOf(&ps[i]))
		}
	}
	return out, nil
}

// TrendingDays is the period the trending list counts downloads over.
const TrendingDays = 7

// TrendingPackage is a package with its downloads over the last
// TrendingDays days.
type TrendingPackage struct {
	PackageSummary
	Recent int64
}

// Trending lists the packages most downloaded over the last TrendingDays
// days (today included), most first. Downloads are counted per UTC day,
// so the period is whole days.
func (s *Service) Trending(ctx context.Context, limit int) ([]TrendingPackage, error) {
	if limit < 1 || limit > MaxPageSize {
		return nil, errs.Errorf(errs.Invalid, "limit %d: want 1 to %d", limit, MaxPageSize)
	}
	since := s.utcNow().Truncate(24*time.Hour).AddDate(0, 0, -(TrendingDays - 1)).Format(time.DateOnly)
	ps, err := s.store.TrendingPackages(ctx, since, limit)
	if err != nil {
		return nil, err
	}
	out := []TrendingPackage{}
	for i := range ps {
		out = append(out, TrendingPackage{PackageSummary: summaryOf(&ps[i].Package), Recent: ps[i].Recent})
	}
	return out, nil
}
