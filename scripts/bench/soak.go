package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// soakOptions are the flags of `bench soak`.
type soakOptions struct {
	base      string
	token     string
	pid       int
	rate      int           // requests a second, all kinds together
	duration  time.Duration // how long to run
	every     time.Duration // how often to sample the server
	packages  int           // seeded packages pkg-0000 … to read
	flatRatio float64       // the largest end/start ratio of RSS and open files that counts as flat
}

// soak drives the registry with a fixed rate of mixed traffic (per 100
// requests: 60 installs, metadata then archive, 15 searches, 15 pages, 10
// publishes of new versions), samples the server's RSS and open files,
// prints a line per sample and a verdict: no 5xx, no failed request, and
// RSS and open files flat (the last quarter's average within flatRatio of
// the second quarter's, after warming up).
func soak(ctx context.Context, o soakOptions) error {
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var sent, fails, server5xx atomic.Int64
	counts := make([]atomic.Int64, 4)
	var failMu sync.Mutex
	firstFails := []string{}
	fail := func(s string) {
		fails.Add(1)
		failMu.Lock()
		if len(firstFails) < 5 {
			firstFails = append(firstFails, s)
		}
		failMu.Unlock()
	}
	get := func(path string, wantBody bool) (int, []byte) {
		req, _ := http.NewRequestWithContext(ctx, "GET", o.base+path, nil)
		resp, err := c.Do(req)
		if err != nil {
			fail(fmt.Sprintf("GET %s: %v", path, err))
			return 0, nil
		}
		defer resp.Body.Close()
		var b []byte
		if wantBody {
			b, _ = io.ReadAll(resp.Body)
		} else {
			io.Copy(io.Discard, resp.Body)
		}
		return resp.StatusCode, b
	}
	check := func(what string, status, want int) {
		if status >= 500 {
			server5xx.Add(1)
		}
		if status != want && status != 0 {
			fail(fmt.Sprintf("%s: %d, want %d", what, status, want))
		}
	}
	var published atomic.Int64
	request := func(n int64) {
		r := rand.IntN(100)
		name := fmt.Sprintf("pkg-%04d", rand.IntN(o.packages))
		switch {
		case r < 60:
			counts[0].Add(1)
			status, body := get("/api/packages/"+name, true)
			check("metadata of "+name, status, 200)
			if i := bytes.Index(body, []byte(`"download_url":"`)); i >= 0 {
				rest := body[i+len(`"download_url":"`):]
				u := string(rest[:bytes.IndexByte(rest, '"')])
				st, _ := get(strings.TrimPrefix(u, o.base), false)
				check("download "+u, st, 200)
			}
		case r < 75:
			counts[1].Add(1)
			st, _ := get("/api/search?q=bench+"+strconv.Itoa(rand.IntN(50)), false)
			check("search", st, 200)
		case r < 90:
			counts[2].Add(1)
			path := "/"
			if r%2 == 0 {
				path = "/packages/" + name
			}
			st, _ := get(path, false)
			check("page "+path, st, 200)
		default:
			counts[3].Add(1)
			v := fmt.Sprintf("2.%d.0", published.Add(1))
			a := archive("soak-"+strconv.FormatInt(n%20, 10), v, "", nil)
			req, _ := http.NewRequestWithContext(ctx, "POST", o.base+"/api/upload", bytes.NewReader(a))
			req.Header.Set("Authorization", "Bearer "+o.token)
			req.Header.Set("Content-Type", "application/gzip")
			resp, err := c.Do(req)
			if err != nil {
				fail("publish: " + err.Error())
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			check("publish "+v, resp.StatusCode, 201)
		}
	}

	type sample struct {
		at       time.Duration
		rss, fds int64
	}
	var samples []sample
	take := func(at time.Duration) sample {
		s := sample{at: at, rss: procStatus(o.pid, "VmRSS"), fds: openFiles(o.pid)}
		samples = append(samples, s)
		fmt.Printf("%8s  RSS %6.1f MiB  open files %4d  requests %7d  5xx %d  failed %d\n",
			at.Round(time.Second), float64(s.rss)/1024, s.fds, sent.Load(), server5xx.Load(), fails.Load())
		return s
	}

	start := time.Now()
	tick := time.NewTicker(time.Second / time.Duration(o.rate))
	defer tick.Stop()
	sampleTick := time.NewTicker(o.every)
	defer sampleTick.Stop()
	var wg sync.WaitGroup
	take(0)
	for time.Since(start) < o.duration {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-sampleTick.C:
			take(time.Since(start))
		case <-tick.C:
			n := sent.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				request(n)
			}()
		}
	}
	wg.Wait()
	take(time.Since(start))

	avg := func(from, to float64, f func(sample) int64) float64 {
		var sum, n float64
		for _, s := range samples {
			if q := float64(s.at) / float64(o.duration); q >= from && q <= to {
				sum += float64(f(s))
				n++
			}
		}
		return sum / max(n, 1)
	}
	rss := func(s sample) int64 { return s.rss }
	fds := func(s sample) int64 { return s.fds }
	rssRatio := avg(0.75, 1.01, rss) / avg(0.25, 0.5, rss)
	fdRatio := avg(0.75, 1.01, fds) / avg(0.25, 0.5, fds)
	sorted := append([]sample(nil), samples...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].rss < sorted[j].rss })
	fmt.Printf("\n%d requests in %s at %d/s: %d installs (metadata and archive), %d searches, %d pages, %d publishes\n",
		sent.Load(), o.duration, o.rate, counts[0].Load(), counts[1].Load(), counts[2].Load(), counts[3].Load())
	fmt.Printf("5xx: %d; failed requests: %d\n", server5xx.Load(), fails.Load())
	fmt.Printf("RSS: %.1f MiB at start, peak %.1f MiB, last quarter / second quarter %.2f\n",
		float64(samples[0].rss)/1024, float64(sorted[len(sorted)-1].rss)/1024, rssRatio)
	fmt.Printf("open files: last quarter / second quarter %.2f\n", fdRatio)
	for _, f := range firstFails {
		fmt.Println("  failed:", f)
	}
	switch {
	case server5xx.Load() > 0 || fails.Load() > 0:
		return fmt.Errorf("soak failed: %d 5xx, %d failed requests", server5xx.Load(), fails.Load())
	case rssRatio > o.flatRatio || fdRatio > o.flatRatio:
		return fmt.Errorf("soak failed: RSS or open files grew (ratios %.2f, %.2f; flat is at most %.2f)", rssRatio, fdRatio, o.flatRatio)
	}
	fmt.Println("soak passed: no 5xx, no failure, RSS and open files flat")
	return nil
}

// procStatus reads a field of /proc/PID/status, in kB.
func procStatus(pid int, field string) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}

// openFiles counts the process's open file descriptors.
func openFiles(pid int) int64 {
	entries, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return int64(len(entries))
}
