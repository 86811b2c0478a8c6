package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/dryad-lang/registry/internal/client"
)

// runSearch searches a registry's packages and prints a table (or JSON).
func runSearch(ctx context.Context, env *environment, args []string) error {
	var o remoteOptions
	fs := newFlagSet(env, "search", "search [QUERY...] [--keyword K] [--owner USER] [--updated week|month|year] [--limit N] [--registry URL|NAME] [--json]")
	o.addRegistryFlags(fs)
	limit := fs.Int("limit", 20, "show at most this many packages (1 to 100)")
	keyword := fs.String("keyword", "", "only the packages having this keyword")
	owner := fs.String("owner", "", "only the packages this user owns")
	updated := fs.String("updated", "", "only the packages updated within the last week, month or year")
	positional, err := parseWithArgs(fs, env, args)
	if err != nil {
		return err
	}
	if *limit < 1 || *limit > 100 {
		return &exitError{code: 2, msg: "search: --limit must be between 1 and 100"}
	}
	query := strings.Join(positional, " ")
	r, err := newRemote(env, "search", o.registry)
	if err != nil {
		return err
	}
	res, err := r.api("").Find(ctx, client.SearchParams{Query: query, Keyword: *keyword, Owner: *owner, Updated: *updated, Limit: *limit})
	if err != nil {
		return r.fail(err)
	}
	if o.json {
		return printJSON(env, res)
	}
	if len(res.Packages) == 0 {
		fmt.Fprintf(env.stderr, "no packages match %q%s\n", query, filtersText(*keyword, *owner, *updated))
		return nil
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tDESCRIPTION\tDOWNLOADS")
	for _, p := range res.Packages {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", p.Name, p.Version, shorten(p.Description, 60), p.Downloads)
	}
	tw.Flush()
	if res.HasMore {
		fmt.Fprintf(env.stderr, "%d of %d packages; narrow the query or raise --limit\n", len(res.Packages), res.Total)
	}
	return nil
}

// shorten cuts s to n runes on one line, marking the cut.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// filtersText describes the filters in use, for the "no packages" line.
func filtersText(keyword, owner, updated string) string {
	var f []string
	if keyword != "" {
		f = append(f, "keyword "+keyword)
	}
	if owner != "" {
		f = append(f, "owner "+owner)
	}
	if updated != "" {
		f = append(f, "updated within a "+updated)
	}
	if len(f) == 0 {
		return ""
	}
	return " with " + strings.Join(f, ", ")
}
