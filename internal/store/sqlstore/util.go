package sqlstore

import (
	"strconv"
	"strings"
)

// page bounds a limit and offset: limit in 1..1000 (default 20), offset ≥ 0.
func page(limit, offset int) (int, int) {
	if limit <= 0 {
		limit = 20
	}
	if limit > 1000 {
		limit = 1000
	}
	if offset < 0 {
		offset = 0
	}
	return limit, offset
}

func itoa(n int) string { return strconv.Itoa(n) }

// likeEscape escapes LIKE wildcards so a user's text matches literally
// (used with ESCAPE '\').
func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

func quote(s string) string { return strconv.Quote(s) }
