package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The catalogue of the scale benchmark (scripts/bench-scale.sh): packages
// pkg-00000 … each with one version, a distinct word in its description
// (w<i>), one of 50 keywords (k<i%50>) and a dependency on scale-huge,
// whose versions (1.0.0 … 1.<n-1>.0) make the largest metadata document.

// scaleArchive is the archive of the scale catalogue's package i.
func scaleArchive(i int) []byte {
	name := fmt.Sprintf("pkg-%05d", i)
	return archiveWith(name, "1.0.0", fmt.Sprintf("Scale benchmark package %d, word w%d", i, i),
		fmt.Sprintf(`"scale", "k%d"`, i%50), `"scale-huge": "^1.0.0"`, nil)
}

// scaleSeed publishes the packages [from, to) of the catalogue with workers
// concurrent clients, and first, when huge > 0, huge versions of
// scale-huge one after another.
func scaleSeed(ctx context.Context, base, tokenFile string, from, to, workers, huge int) error {
	c, err := scaleClient(ctx, base, tokenFile)
	if err != nil {
		return err
	}
	start := time.Now()
	for v := range huge {
		a := archiveWith("scale-huge", fmt.Sprintf("1.%d.0", v), "A package with many versions", `"scale"`, "", nil)
		if err := c.call(ctx, "POST", "/api/upload", a, http.StatusCreated, nil); err != nil {
			return err
		}
	}
	if huge > 0 {
		fmt.Fprintf(os.Stderr, "  %d versions of scale-huge published in %.1fs\n", huge, time.Since(start).Seconds())
	}
	start = time.Now()
	n, err := publishAll(ctx, c, from, to, workers, scaleArchive)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "  %d packages published in %.1fs (%.0f/s)\n", n, time.Since(start).Seconds(), float64(n)/time.Since(start).Seconds())
	return nil
}

// scaleClient signs up (once; the token is kept in tokenFile) or reads the
// token of an earlier run.
func scaleClient(ctx context.Context, base, tokenFile string) (*client, error) {
	c := &client{base: base, http: &http.Client{Timeout: 5 * time.Minute}}
	if b, err := os.ReadFile(tokenFile); err == nil {
		c.token = strings.TrimSpace(string(b))
		return c, nil
	}
	user := map[string]string{"username": "scaler", "email": "scaler@example.org", "password": "a long benchmark passphrase"}
	if err := c.call(ctx, "POST", "/api/auth/register", user, http.StatusCreated, nil); err != nil {
		return nil, err
	}
	var login struct{ Token string }
	if err := c.call(ctx, "POST", "/api/auth/login", map[string]string{"username": user["username"], "password": user["password"]}, http.StatusOK, &login); err != nil {
		return nil, err
	}
	c.token = login.Token
	var tok struct{ Token string }
	if err := c.call(ctx, "POST", "/api/tokens", map[string]any{"name": "scale", "scopes": []string{"publish"}}, http.StatusCreated, &tok); err != nil {
		return nil, err
	}
	c.token = tok.Token
	return c, os.WriteFile(tokenFile, []byte(tok.Token+"\n"), 0o600)
}

// publishAll publishes archive(i) for i in [from, to) with workers clients,
// and returns how many were published.
func publishAll(ctx context.Context, c *client, from, to, workers int, archive func(int) []byte) (int, error) {
	jobs := make(chan int)
	var done atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				if err := c.call(ctx, "POST", "/api/upload", archive(i), http.StatusCreated, nil); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					continue
				}
				done.Add(1)
			}
		})
	}
feed:
	for i := from; i < to; i++ {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	return int(done.Load()), firstErr
}

// figure is one measurement of the scale benchmark.
type figure struct {
	// Rate is requests (or publishes) per second.
	Rate float64 `json:"rate"`
	// P50 and P99 are latencies in milliseconds (0 for publishes).
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
}

// scaleReads are the read cases, each a list of paths taken in turn.
func scaleReads(packages, huge int) [][2]string {
	mid := packages / 2
	return [][2]string{
		{"search: a name", fmt.Sprintf("/api/search?q=pkg-%05d", mid)},
		{"search: a rare word", fmt.Sprintf("/api/search?q=w%d", mid)},
		{"search: every package", "/api/search?q=scale"},
		{"search: a keyword", "/api/search?keyword=k7"},
		{fmt.Sprintf("metadata, %d versions", huge), "/api/packages/scale-huge"},
		{"one version of it, uncached", fmt.Sprintf("/api/packages/scale-huge?version=1.%d.0", huge/2)},
		{"resolve a range in it", fmt.Sprintf("/api/packages/scale-huge/resolve?range=%%3E%%3D1.%d.0", huge/3)},
		{"home page", "/"},
		{"package page", fmt.Sprintf("/packages/pkg-%05d", mid)},
		{fmt.Sprintf("package page, %d versions", huge), "/packages/scale-huge"},
		{"search page", fmt.Sprintf("/search?q=w%d", mid)},
	}
}

// scaleMeasure measures the reads with clients concurrent clients for
// duration each, then the publish throughput: seq new packages one after
// another, then conc new packages with 8 clients. It writes the figures as
// JSON to out.
func scaleMeasure(ctx context.Context, base, tokenFile string, packages, huge, clients int, duration time.Duration, seq, conc int, out string) error {
	c, err := scaleClient(ctx, base, tokenFile)
	if err != nil {
		return err
	}
	figures := map[string]figure{}
	var order []string
	for _, rd := range scaleReads(packages, huge) {
		f, err := measureReads(ctx, c.http, base+rd[1], clients, duration)
		if err != nil {
			return fmt.Errorf("%s: %w", rd[0], err)
		}
		fmt.Fprintf(os.Stderr, "  %-30s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms\n", rd[0], f.Rate, f.P50, f.P99)
		figures[rd[0]] = f
		order = append(order, rd[0])
	}
	// New packages beyond the catalogue, so the runs never collide.
	next := packages + 500_000
	for _, p := range []struct {
		name    string
		n, conc int
	}{{"publish, one client", seq, 1}, {"publish, 8 clients", conc, 8}} {
		start := time.Now()
		n, err := publishAll(ctx, c, next, next+p.n, p.conc, scaleArchive)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		next += p.n
		f := figure{Rate: float64(n) / time.Since(start).Seconds()}
		fmt.Fprintf(os.Stderr, "  %-30s %8.1f publishes/s\n", p.name, f.Rate)
		figures[p.name] = f
		order = append(order, p.name)
	}
	b, err := json.MarshalIndent(struct {
		Order   []string          `json:"order"`
		Figures map[string]figure `json:"figures"`
	}{order, figures}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(out, b, 0o644)
}

// measureReads sends GET url from clients goroutines, one request after
// another each, for duration, and returns the rate and latencies. Any
// answer but 200 fails the measurement.
func measureReads(ctx context.Context, hc *http.Client, url string, clients int, duration time.Duration) (figure, error) {
	ctx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			for ctx.Err() == nil {
				t0 := time.Now()
				req, _ := http.NewRequestWithContext(context.WithoutCancel(ctx), "GET", url, nil)
				res, err := hc.Do(req)
				if err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusOK {
						err = fmt.Errorf("GET %s: %s", url, res.Status)
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if firstErr != nil {
		return figure{}, firstErr
	}
	if len(lat) == 0 {
		return figure{}, fmt.Errorf("GET %s: no answer in %s", url, duration)
	}
	slices.Sort(lat)
	ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	return figure{Rate: float64(len(lat)) / time.Since(start).Seconds(), P50: ms(0.50), P99: ms(0.99)}, nil
}

// scaleReport prints the figures of a small and a large catalogue side by
// side, with the ratio of their costs (time per request or publish: large
// over small; above 2 misses the goal).
func scaleReport(small, large string, extra []string) error {
	load := func(path string) (order []string, f map[string]figure, err error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, err
		}
		var v struct {
			Order   []string          `json:"order"`
			Figures map[string]figure `json:"figures"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		return v.Order, v.Figures, nil
	}
	order, a, err := load(small)
	if err != nil {
		return err
	}
	_, b, err := load(large)
	if err != nil {
		return err
	}
	fmt.Printf("%-30s %10s %9s %9s   %10s %9s %9s   %6s\n", "", "small", "", "", "large", "", "", "cost")
	fmt.Printf("%-30s %10s %9s %9s   %10s %9s %9s   %6s\n", "case", "per s", "p50 ms", "p99 ms", "per s", "p50 ms", "p99 ms", "ratio")
	for _, k := range order {
		x, y := a[k], b[k]
		ratio := "-"
		if y.Rate > 0 {
			ratio = fmt.Sprintf("%.2f", x.Rate/y.Rate)
		}
		fmt.Printf("%-30s %10.1f %9.2f %9.2f   %10.1f %9.2f %9.2f   %6s\n", k, x.Rate, x.P50, x.P99, y.Rate, y.P50, y.P99, ratio)
	}
	// Extra lines are NAME=SMALL_SECONDS=LARGE_SECONDS=SMALL_UNITS=LARGE_UNITS:
	// whole-registry jobs, compared per unit (version) rather than whole.
	for _, e := range extra {
		f := strings.Split(e, "=")
		if len(f) != 5 {
			return fmt.Errorf("bad -extra %q", e)
		}
		var s1, s2, u1, u2 float64
		fmt.Sscan(f[1], &s1)
		fmt.Sscan(f[2], &s2)
		fmt.Sscan(f[3], &u1)
		fmt.Sscan(f[4], &u2)
		fmt.Printf("%-30s %9.2fs %9s %9s   %9.2fs %9s %9s   %6.2f  (per version: %.2f ms, %.2f ms)\n", f[0], s1, "", "", s2, "", "",
			(s2/u2)/(s1/u1), s1/u1*1000, s2/u2*1000)
	}
	return nil
}
