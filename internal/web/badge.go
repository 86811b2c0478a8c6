package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
)

// Badges are the small two-box images a README embeds to show a package's
// latest version or downloads, in the shape shields.io made common. They
// are drawn here, so that a README's badge costs no third-party request.

// badgeMaxAge is how long browsers and CDNs may keep a badge: a new
// version shows within minutes, and the ETag makes a recheck cheap.
const badgeMaxAge = 300

// Badge colours.
const (
	badgeLabelColour   = "#555"
	badgeVersionColour = "#2f855a"
	badgePreColour     = "#dd6b20"
	badgeCountColour   = "#3182ce"
	badgeMissingColour = "#9f9f9f"
)

// badge is one badge: a label box and a value box.
type badge struct {
	Label, Value, Colour string
}

// badgeVersion serves GET /badge/{file}, where file is {name}.svg: the
// package's latest version.
func (w *Web) badgeVersion(rw http.ResponseWriter, r *http.Request) error {
	name, ok := strings.CutSuffix(r.PathValue("file"), ".svg")
	if !ok || name == "" {
		return errs.Errorf(errs.NotFound, "badges are at /badge/{name}.svg")
	}
	w.serveBadge(rw, r, name, func(b *badge, latest string, _ int64) {
		b.Label = "dryad"
		switch {
		case latest == "":
			b.Value, b.Colour = "yanked", badgeMissingColour
		case strings.Contains(latest, "-"):
			b.Value, b.Colour = "v"+latest, badgePreColour
		default:
			b.Value, b.Colour = "v"+latest, badgeVersionColour
		}
	})
	return nil
}

// badgeDownloads serves GET /badge/{name}/downloads.svg: the package's
// downloads of all time.
func (w *Web) badgeDownloads(rw http.ResponseWriter, r *http.Request) error {
	w.serveBadge(rw, r, r.PathValue("name"), func(b *badge, _ string, downloads int64) {
		b.Label, b.Value, b.Colour = "downloads", compactNumber(downloads), badgeCountColour
	})
	return nil
}

// serveBadge draws the badge fill makes of the package name, or a grey
// "not found" badge with status 404 (a README keeps showing an image).
func (w *Web) serveBadge(rw http.ResponseWriter, r *http.Request, name string, fill func(b *badge, latest string, downloads int64)) {
	h := rw.Header()
	h.Set("Content-Type", "image/svg+xml")
	// An SVG opened on its own is a document: it may run nothing.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("X-Content-Type-Options", "nosniff")
	// The package page's model: cached, so a popular README's badge
	// costs no query.
	p, err := w.packagePageView(r.Context(), name, "")
	if err != nil {
		kind := errs.KindOf(err)
		if kind != errs.NotFound && kind != errs.Gone {
			w.log.WarnContext(r.Context(), "badge", "package", name, "err", err)
			h.Set("Cache-Control", "no-store")
			rw.WriteHeader(kind.Status())
			if r.Method != http.MethodHead {
				rw.Write(drawBadge(badge{Label: "dryad", Value: "unavailable", Colour: badgeMissingColour}))
			}
			return
		}
		h.Set("Cache-Control", "public, max-age=60")
		rw.WriteHeader(http.StatusNotFound)
		if r.Method != http.MethodHead {
			rw.Write(drawBadge(badge{Label: "dryad", Value: "not found", Colour: badgeMissingColour}))
		}
		return
	}
	var b badge
	fill(&b, p.Latest, p.Downloads.Total)
	svg := drawBadge(b)
	sum := sha256.Sum256(svg)
	h.Set("ETag", strconv.Quote(hex.EncodeToString(sum[:12])))
	h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", badgeMaxAge))
	http.ServeContent(rw, r, "", time.Time{}, bytes.NewReader(svg))
}

// drawBadge renders b as SVG: each box as wide as its text plus padding.
func drawBadge(b badge) []byte {
	lw, vw := textWidth(b.Label)+12, textWidth(b.Value)+12
	label, value := html.EscapeString(b.Label), html.EscapeString(b.Value)
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="20" role="img" aria-label="%s: %s">`, lw+vw, label, value)
	fmt.Fprintf(&s, `<title>%s: %s</title>`, label, value)
	s.WriteString(`<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`)
	fmt.Fprintf(&s, `<clipPath id="r"><rect width="%d" height="20" rx="3" fill="#fff"/></clipPath>`, lw+vw)
	fmt.Fprintf(&s, `<g clip-path="url(#r)"><rect width="%d" height="20" fill="%s"/><rect x="%d" width="%d" height="20" fill="%s"/><rect width="%d" height="20" fill="url(#s)"/></g>`,
		lw, badgeLabelColour, lw, vw, b.Colour, lw+vw)
	s.WriteString(`<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">`)
	for _, t := range []struct {
		x    float64
		text string
	}{{float64(lw) / 2, label}, {float64(lw) + float64(vw)/2, value}} {
		fmt.Fprintf(&s, `<text x="%g" y="15" fill="#010101" fill-opacity=".3">%s</text><text x="%g" y="14">%s</text>`, t.x, t.text, t.x, t.text)
	}
	s.WriteString(`</g></svg>`)
	return []byte(s.String())
}

// textWidth estimates the width in pixels of s in 11 px Verdana, from
// classes of characters: close enough that the text never overflows its
// box, without shipping font metrics.
func textWidth(s string) int {
	w := 0.0
	for _, c := range s {
		switch {
		case strings.ContainsRune("iljtfI.,:;'!|() ", c):
			w += 4
		case strings.ContainsRune("mwMW@%", c):
			w += 11
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			w += 7.5
		case c < 0x80:
			w += 7
		default:
			w += 11
		}
	}
	return int(w + 0.5)
}

// compactNumber writes n as a badge does: 999, 1.2k, 34k, 5.6M.
func compactNumber(n int64) string {
	unit := func(d int64, suffix string) string {
		if n < 10*d {
			return strconv.FormatFloat(float64(n/(d/10))/10, 'f', -1, 64) + suffix
		}
		return strconv.FormatInt(n/d, 10) + suffix
	}
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10)
	case n < 1000000:
		return unit(1000, "k")
	case n < 1000000000:
		return unit(1000000, "M")
	}
	return unit(1000000000, "G")
}
