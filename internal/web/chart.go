package web

import (
	"math"
	"time"

	"github.com/dryad-lang/registry/internal/registry"
)

// chart is a bar chart of downloads per day, laid out on the server so
// the page needs no script to draw it: the template only writes the
// rectangles and labels computed here into an inline SVG.
type chart struct {
	Width, Height float64
	// Left, Top, Bottom frame the plot area.
	Left, Top, Bottom float64
	Bars              []bar
	Ticks             []tick
	Labels            []xLabel
	Total             int64
	Peak              registry.DayCount
	Days              int
}

type bar struct {
	X, Y, W, H float64
	Day        string
	Count      int64
}

type tick struct {
	Y     float64
	Label string
}

type xLabel struct {
	X      float64
	Label  string
	Anchor string
}

// Chart geometry, in SVG user units (the SVG scales to its box).
const (
	chartWidth  = 720
	chartHeight = 160
	chartLeft   = 44
	chartTop    = 8
	chartBottom = 22
	chartGap    = 1.5
)

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// newChart lays out daily counts (oldest first).
func newChart(days []registry.DayCount) chart {
	c := chart{Width: chartWidth, Height: chartHeight, Left: chartLeft, Top: chartTop, Bottom: chartHeight - chartBottom, Days: len(days)}
	if len(days) == 0 {
		return c
	}
	var peak int64
	for _, d := range days {
		c.Total += d.Downloads
		if d.Downloads > peak {
			peak = d.Downloads
			c.Peak = d
		}
	}
	top := niceCeil(peak)
	plotW := float64(chartWidth - chartLeft)
	plotH := c.Bottom - chartTop
	step := plotW / float64(len(days))
	for i, d := range days {
		h := plotH * float64(d.Downloads) / float64(top)
		if d.Downloads > 0 && h < 1 {
			h = 1 // a day with downloads is always visible
		}
		c.Bars = append(c.Bars, bar{
			X: round2(chartLeft + float64(i)*step + chartGap/2), W: round2(max(step-chartGap, 0.5)),
			Y: round2(c.Bottom - h), H: round2(h), Day: d.Day, Count: d.Downloads,
		})
	}
	for _, f := range []int64{0, top / 2, top} {
		if f == top/2 && (top%2 != 0 || top < 2) {
			continue
		}
		c.Ticks = append(c.Ticks, tick{Y: round2(c.Bottom - plotH*float64(f)/float64(top)), Label: formatNumber(f)})
	}
	label := func(i int, anchor string) xLabel {
		t, _ := time.Parse(time.DateOnly, days[i].Day)
		return xLabel{X: round2(chartLeft + (float64(i)+0.5)*step), Label: t.Format("Jan 2"), Anchor: anchor}
	}
	c.Labels = []xLabel{label(0, "start"), label(len(days)/2, "middle"), label(len(days)-1, "end")}
	return c
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten (at least 1),
// so the axis reads in round numbers.
func niceCeil(n int64) int64 {
	if n <= 1 {
		return 1
	}
	p := int64(1)
	for p*10 < n {
		p *= 10
	}
	for _, m := range []int64{1, 2, 5, 10} {
		if m*p >= n {
			return m * p
		}
	}
	return 10 * p
}
