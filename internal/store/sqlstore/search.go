package sqlstore

import (
	"context"
	"encoding/json"
	"strings"
	"unicode"

	"github.com/dryad-lang/registry/internal/store"
)

// searchWords splits a query into lower-case words of letters and digits,
// the only characters either engine's text search needs (and the only ones
// that cannot be mistaken for query syntax).
func searchWords(s string) []string {
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	if len(f) > 8 {
		f = f[:8]
	}
	return f
}

// normalizeQuery maps a query to the form of normalized package names.
func normalizeQuery(s string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "-")
}

func (x q) SearchPackages(ctx context.Context, sq store.SearchQuery) (*store.SearchResult, error) {
	where := "p.deleted_at IS NULL AND p.latest <> ''"
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + itoa(len(args))
	}

	// The filter's placeholders come first so that the count query, which
	// has no ranking, binds exactly its own.
	if sq.Keyword != "" {
		// Keywords are stored as a JSON array of strings; the keyword's own
		// JSON form, quotes included, matches one element whole.
		quoted, err := json.Marshal(sq.Keyword)
		if err != nil {
			return nil, x.wrap(err, "search")
		}
		where += " AND p.keywords LIKE " + arg("%"+likeEscape(string(quoted))+"%") + ` ESCAPE '\'`
		if words := searchWords(sq.Keyword); len(words) > 0 && x.d.KeywordMatch != nil {
			cond, val := x.d.KeywordMatch(words, "$"+itoa(len(args)+1))
			args = append(args, val)
			where += " AND " + cond
		}
	}
	if sq.Owner != "" {
		// Through owners_user and users' unique lower(username) index.
		where += " AND p.id IN (SELECT o.package_id FROM owners o JOIN users u ON u.id = o.user_id WHERE lower(u.username) = lower(" + arg(sq.Owner) + "))"
	}
	if !sq.UpdatedSince.IsZero() {
		where += " AND p.updated_at >= " + arg(utc(sq.UpdatedSince))
	}
	text := normalizeQuery(sq.Text)
	var rankParts func() string
	if text != "" {
		contains := arg("%" + likeEscape(text) + "%")
		match := "p.normalized_name LIKE " + contains + ` ESCAPE '\'`
		if x.d.NameContains != nil {
			if cond, val, ok := x.d.NameContains(text, "$"+itoa(len(args)+1)); ok {
				args = append(args, val)
				match = cond
			}
		}
		words := searchWords(sq.Text)
		if len(words) > 0 {
			cond, val := x.d.TextMatch(words, "$"+itoa(len(args)+1))
			args = append(args, val)
			match = "(" + match + " OR " + cond + ")"
		}
		where += " AND " + match
		rankParts = func() string {
			keywordTier := "FALSE"
			if len(words) > 0 {
				var kw []string
				for _, w := range words {
					kw = append(kw, "lower(p.keywords) LIKE "+arg("%"+likeEscape(w)+"%")+` ESCAPE '\'`)
				}
				keywordTier = strings.Join(kw, " AND ")
			}
			return `CASE WHEN p.normalized_name = ` + arg(text) + ` THEN 0
				WHEN p.normalized_name LIKE ` + arg(likeEscape(text)+"%") + ` ESCAPE '\' THEN 1
				WHEN p.normalized_name LIKE ` + contains + ` ESCAPE '\' THEN 2
				WHEN ` + keywordTier + ` THEN 3 ELSE 4 END`
		}
	}
	var res store.SearchResult
	if !sq.NoTotal {
		if err := x.r.QueryRowContext(ctx, `SELECT count(*) FROM packages p WHERE `+where, args...).Scan(&res.Total); err != nil {
			return nil, x.wrap(err, "search")
		}
	}

	var order string
	switch sq.Sort {
	case store.SortDownloads:
		order = "p.downloads DESC, p.normalized_name"
	case store.SortRecent:
		order = "p.updated_at DESC, p.normalized_name"
	case store.SortName:
		order = "p.normalized_name"
	default:
		order = "p.downloads DESC, p.normalized_name"
		if rankParts != nil {
			order = rankParts() + ", " + order
		}
	}

	limit, offset := page(sq.Limit, sq.Offset)
	pkgs, err := x.listPackages(ctx, `SELECT `+packageColumns+` FROM packages p WHERE `+where+
		` ORDER BY `+order+` LIMIT `+itoa(limit)+` OFFSET `+itoa(offset), args...)
	if err != nil {
		return nil, err
	}
	res.Packages = pkgs
	return &res, nil
}
