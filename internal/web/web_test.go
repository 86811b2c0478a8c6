package web

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/registry"
)

func TestNewChart(t *testing.T) {
	days := make([]registry.DayCount, 90)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range days {
		days[i] = registry.DayCount{Day: start.AddDate(0, 0, i).Format(time.DateOnly)}
	}
	days[10].Downloads = 3
	days[89].Downloads = 170
	c := newChart(days)
	if len(c.Bars) != 90 || c.Total != 173 || c.Peak.Day != "2026-03-31" || c.Peak.Downloads != 170 {
		t.Fatalf("chart: %d bars, total %d, peak %+v", len(c.Bars), c.Total, c.Peak)
	}
	plot := c.Bottom - c.Top
	// The axis tops out at 200 (the next round number above 170).
	if got := c.Bars[89].H; got != round2(plot*170/200) {
		t.Errorf("peak bar height %v, want %v", got, round2(plot*170/200))
	}
	if c.Bars[10].H < 1 || c.Bars[11].H != 0 {
		t.Errorf("small and empty days: %v %v", c.Bars[10].H, c.Bars[11].H)
	}
	for i, b := range c.Bars {
		if b.Y+b.H != c.Bottom || b.X < chartLeft || b.X+b.W > chartWidth {
			t.Errorf("bar %d out of the plot: %+v", i, b)
		}
		if i > 0 && b.X <= c.Bars[i-1].X {
			t.Errorf("bar %d is not right of bar %d", i, i-1)
		}
	}
	if len(c.Ticks) != 3 || c.Ticks[0].Label != "0" || c.Ticks[1].Label != "100" || c.Ticks[2].Label != "200" {
		t.Errorf("ticks: %+v", c.Ticks)
	}
	if c.Labels[0].Label != "Jan 1" || c.Labels[2].Label != "Mar 31" {
		t.Errorf("labels: %+v", c.Labels)
	}
	if empty := newChart(nil); empty.Total != 0 || len(empty.Bars) != 0 {
		t.Errorf("empty chart: %+v", empty)
	}
}

func TestNiceCeil(t *testing.T) {
	for _, tt := range []struct{ in, want int64 }{
		{0, 1}, {1, 1}, {2, 2}, {3, 5}, {5, 5}, {6, 10}, {10, 10}, {11, 20}, {170, 200}, {201, 500}, {999, 1000}, {1001, 2000},
	} {
		if got := niceCeil(tt.in); got != tt.want {
			t.Errorf("niceCeil(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, tt := range []struct {
		got, want string
	}{
		{formatNumber(0), "0"},
		{formatNumber(999), "999"},
		{formatNumber(1000), "1,000"},
		{formatNumber(1234567), "1,234,567"},
		{formatNumber(-1234), "-1,234"},
		{plural(1, "version", "versions"), "1 version"},
		{plural(2000, "version", "versions"), "2,000 versions"},
		{sentence("wrong username or password"), "Wrong username or password."},
		{sentence("Already done!"), "Already done!"},
		{period("acorn@1.0.0 already exists"), "acorn@1.0.0 already exists."},
		{period("package \"x\" not found"), "Package \"x\" not found."},
		{period("webkit cannot be deleted"), "webkit cannot be deleted."},
		{filesURL("pkg", "1.0.0+build.1", "docs/a b#c.md"), "/packages/pkg/1.0.0+build.1/files/docs/a%20b%23c.md"},
		{rawURL("pkg", "1.0.0", ""), "/packages/pkg/1.0.0/files/?raw=1"},
		{displayVersion("1.2.3"), "v1.2.3"},
		{displayVersion("dev"), "dev"},
		{initial("émile"), "É"},
		{parentPath("a/b/c"), "a/b"},
		{parentPath("a"), ""},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		10 * time.Second: "just now", 5 * time.Minute: "5 minutes ago", time.Hour: "1 hour ago",
		3 * 24 * time.Hour: "3 days ago", 60 * 24 * time.Hour: "2 months ago", 400 * 24 * time.Hour: "Mar 27, 2025",
		// A clock a little ahead is "just now"; a date in the future is a date.
		-30 * time.Second: "just now", -3 * 24 * time.Hour: "May 4, 2026",
	} {
		if got := ago(now.Add(-d), now); got != want {
			t.Errorf("ago(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "/home",
		"/dashboard":             "/dashboard",
		"/search?q=a#x":          "/search?q=a#x",
		"//evil.example":         "/home",
		"/\\evil.example":        "/home",
		"https://evil.example/":  "/home",
		"javascript:alert(1)":    "/home",
		"dashboard":              "/home",
		"/%2F%2Fevil.example/xy": "/%2F%2Fevil.example/xy",
	} {
		if got := localPath(in, "/home"); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFieldErrors checks the one mapping of registry errors to a form:
// an error naming one of the form's fields (directly or through an
// input=field pair) goes beside it, any other user error above the form,
// and internal errors are left to the error page.
func TestFieldErrors(t *testing.T) {
	for _, tt := range []struct {
		err    error
		fields []string
		want   string
		ok     bool
	}{
		{errs.Field(errs.Invalid, "username", "username must be 3 to 20 characters long"), []string{"username", "email"}, "username: Username must be 3 to 20 characters long.", true},
		{errs.OnField(errs.New(errs.Conflict, `email "a@b.c" is already registered`), "email"), []string{"username", "email"}, `email: Email "a@b.c" is already registered.`, true},
		{errs.Field(errs.Forbidden, "current_password", "the current password is wrong"), []string{"current_password=current", "new_password=new"}, "current: The current password is wrong.", true},
		{errs.Field(errs.Invalid, "scopes", "unknown scope"), []string{"name"}, ": Unknown scope.", true},
		{errs.New(errs.RateLimited, "too many attempts"), []string{"password"}, ": Too many attempts.", true},
		{errors.New("disk on fire"), []string{"password"}, "", false},
	} {
		fe := fieldErrors{}
		ok := fe.add(tt.err, tt.fields...)
		got := ""
		for k, v := range fe {
			got = k + ": " + v
		}
		if ok != tt.ok || got != tt.want {
			t.Errorf("add(%v, %v) = %v %q, want %v %q", tt.err, tt.fields, ok, got, tt.ok, tt.want)
		}
	}
	// The first error of a field is kept: it is the one to fix first.
	fe := fieldErrors{}
	fe.set("name", "first")
	fe.set("name", "second")
	if fe["name"] != "first" {
		t.Errorf("set kept %q", fe["name"])
	}
}

func TestIsBinary(t *testing.T) {
	for in, want := range map[string]bool{
		"plain text\n": false, "héllo ✓": false, "a\x00b": true, "\xff\xfe": true, "": false,
	} {
		if got := isBinary([]byte(in)); got != want {
			t.Errorf("isBinary(%q) = %v", in, got)
		}
	}
}

func TestBadge(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1k", 1234: "1.2k", 34567: "34k", 5600000: "5.6M", 7e9: "7G"} {
		if got := compactNumber(n); got != want {
			t.Errorf("compactNumber(%d) = %q, want %q", n, got, want)
		}
	}
	svg := string(drawBadge(badge{Label: "a<b", Value: `"&"`, Colour: "#000"}))
	if strings.Contains(svg, "a<b") || !strings.Contains(svg, "a&lt;b") || !strings.Contains(svg, "&#34;&amp;&#34;") {
		t.Errorf("badge text not escaped: %s", svg)
	}
	if textWidth("1.10.100") <= textWidth("1.2.0") || textWidth("") != 0 {
		t.Errorf("textWidth does not grow with the text")
	}
}
