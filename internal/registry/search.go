package registry

import (
	"context"
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

// Search lists packages matching a query, ranked (see store.SearchQuery).
func (s *Service) Search(ctx context.Context, text, sort string, limit, offset int) (*SearchResult, error) {
	return s.search(ctx, store.SearchQuery{Text: text, Sort: sort, Limit: limit, Offset: offset})
}

// SearchKeyword lists the packages having keyword among their keywords
// (any case; keywords are kept in lower case), in the order sort names
// (default: most downloaded first).
func (s *Service) SearchKeyword(ctx context.Context, keyword, sort string, limit, offset int) (*SearchResult, error) {
	keyword = strings.ToLower(strings.TrimSpace(keyword))
	if keyword == "" || utf8.RuneCountInString(keyword) > manifest.MaxKeywordLength {
		return nil, errs.Errorf(errs.Invalid, "keyword %q: want 1 to %d characters", keyword, manifest.MaxKeywordLength)
	}
	if sort == "" || sort == store.SortRelevance {
		sort = store.SortDownloads
	}
	return s.search(ctx, store.SearchQuery{Keyword: keyword, Sort: sort, Limit: limit, Offset: offset})
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
		return nil, errs.Errorf(errs.Invalid, "sort %q: want relevance, downloads, recent or name", sort)
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
