// Command bench holds the helpers of scripts/bench.sh, bench-scale.sh and
// soak.sh.
//
//	bench seed -url http://127.0.0.1:PORT -packages 1000 -versions 5 -many 50 -token-file F
//
// seeds a running registry through its HTTP API: an account, an API token
// (written to -token-file, for the publish benchmark), PACKAGES packages of
// VERSIONS versions each, bench-many with MANY versions, and bench-10k and
// bench-1m, whose archives are about 10 KB and 1 MB, for the download
// benchmarks.
//
//	bench baseline -dir D
//
// serves D/api/packages/NAME (the metadata documents, from memory) and
// D/packages/NAME/VERSION.tar.gz (through http.ServeContent) over loopback
// the way a bare net/http server would, and prints its URL: what net/http
// alone costs, beside the registry's figures.
//
//	bench soak -url U -token-file F -pid P -rate 50 -duration 10m
//
// drives the registry with a fixed rate of mixed traffic for a while and
// checks that nothing failed and that the server's memory and open files
// stayed flat (see soak.go).
//
//	bench scale-seed -url U -token-file F -from 0 -to 100 [-huge 1000]
//	bench scale-measure -url U -token-file F -packages N -out F.json
//	bench scale-report [-extra NAME=S1=S2=U1=U2] SMALL.json LARGE.json
//
// build the scale benchmark's catalogue, measure reads and publishes on it,
// and compare the figures of a small and a large catalogue (see scale.go).
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench seed|baseline|soak|scale-seed|scale-measure|scale-report [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "seed":
		fs := flag.NewFlagSet("seed", flag.ExitOnError)
		base := fs.String("url", "", "registry base URL (http://127.0.0.1:PORT)")
		packages := fs.Int("packages", 1000, "number of packages to publish")
		versions := fs.Int("versions", 5, "versions per package")
		workers := fs.Int("workers", 4, "concurrent uploads")
		many := fs.Int("many", 50, "versions of the package bench-many, whose metadata is measured apart")
		tokenFile := fs.String("token-file", "", "write the API token to this file")
		fs.Parse(os.Args[2:])
		if *base == "" {
			fmt.Fprintln(os.Stderr, "bench seed: -url is required")
			os.Exit(2)
		}
		err = seed(context.Background(), *base, *packages, *versions, *workers, *many, *tokenFile)
	case "soak":
		fs := flag.NewFlagSet("soak", flag.ExitOnError)
		var o soakOptions
		fs.StringVar(&o.base, "url", "", "registry base URL")
		tokenFile := fs.String("token-file", "", "API token (publish scope) file")
		fs.IntVar(&o.pid, "pid", 0, "the server's process id, to sample its memory and open files")
		fs.IntVar(&o.rate, "rate", 50, "requests a second")
		fs.DurationVar(&o.duration, "duration", 10*time.Minute, "how long to run")
		fs.DurationVar(&o.every, "every", 15*time.Second, "how often to sample the server")
		fs.IntVar(&o.packages, "packages", 1000, "seeded packages (pkg-0000 …) to read")
		fs.Float64Var(&o.flatRatio, "flat", 1.25, "largest growth of RSS and open files that counts as flat")
		fs.Parse(os.Args[2:])
		tok, rerr := os.ReadFile(*tokenFile)
		if o.base == "" || o.pid == 0 || rerr != nil {
			fmt.Fprintln(os.Stderr, "bench soak: -url, -pid and a readable -token-file are required")
			os.Exit(2)
		}
		o.token = strings.TrimSpace(string(tok))
		err = soak(context.Background(), o)
	case "scale-seed":
		fs := flag.NewFlagSet("scale-seed", flag.ExitOnError)
		base := fs.String("url", "", "registry base URL")
		tokenFile := fs.String("token-file", "", "API token file: read, or written after signing up")
		from := fs.Int("from", 0, "first package number")
		to := fs.Int("to", 100, "package number to stop before")
		workers := fs.Int("workers", 8, "concurrent uploads")
		huge := fs.Int("huge", 0, "versions of scale-huge to publish first")
		fs.Parse(os.Args[2:])
		err = scaleSeed(context.Background(), *base, *tokenFile, *from, *to, *workers, *huge)
	case "scale-measure":
		fs := flag.NewFlagSet("scale-measure", flag.ExitOnError)
		base := fs.String("url", "", "registry base URL")
		tokenFile := fs.String("token-file", "", "API token file")
		packages := fs.Int("packages", 100, "packages in the catalogue")
		huge := fs.Int("huge", 1000, "versions of scale-huge")
		clients := fs.Int("clients", 4, "concurrent clients of each read")
		duration := fs.Duration("duration", 5*time.Second, "length of each read's run")
		seq := fs.Int("seq", 100, "packages published by one client")
		conc := fs.Int("conc", 200, "packages published by 8 clients")
		out := fs.String("out", "", "JSON file of the figures")
		fs.Parse(os.Args[2:])
		err = scaleMeasure(context.Background(), *base, *tokenFile, *packages, *huge, *clients, *duration, *seq, *conc, *out)
	case "scale-report":
		fs := flag.NewFlagSet("scale-report", flag.ExitOnError)
		var extra multiFlag
		fs.Var(&extra, "extra", "NAME=SMALL_S=LARGE_S=SMALL_UNITS=LARGE_UNITS of a whole-registry job (repeatable)")
		fs.Parse(os.Args[2:])
		if fs.NArg() != 2 {
			fmt.Fprintln(os.Stderr, "bench scale-report: want the small and the large catalogue's JSON files")
			os.Exit(2)
		}
		err = scaleReport(fs.Arg(0), fs.Arg(1), extra)
	case "baseline":
		fs := flag.NewFlagSet("baseline", flag.ExitOnError)
		dir := fs.String("dir", "", "folder of the files to serve")
		fs.Parse(os.Args[2:])
		err = baseline(*dir)
	default:
		fmt.Fprintf(os.Stderr, "bench: unknown command %q; want seed, baseline, soak, scale-seed, scale-measure or scale-report\n", os.Args[1])
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// baseline serves dir's files with the same headers the registry sends,
// doing nothing else, until it is killed: the metadata documents of
// dir/api/packages/NAME from memory, the archives of
// dir/packages/NAME/VERSION.tar.gz from disk, as the registry does.
func baseline(dir string) error {
	type doc struct {
		body []byte
		etag string
	}
	docs := map[string]doc{}
	entries, err := os.ReadDir(filepath.Join(dir, "api", "packages"))
	if err != nil {
		return err
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, "api", "packages", e.Name()))
		if err != nil {
			return err
		}
		docs[e.Name()] = doc{b, fmt.Sprintf(`"%x"`, sha256.Sum256(b))}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/packages/{name}", func(w http.ResponseWriter, r *http.Request) {
		d, ok := docs[r.PathValue("name")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("ETag", d.etag)
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Content-Length", strconv.Itoa(len(d.body)))
		w.Write(d.body)
	})
	mux.HandleFunc("GET /packages/{name}/{file}", func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(filepath.Join(dir, "packages", filepath.Base(r.PathValue("name")), filepath.Base(r.PathValue("file"))))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		h := w.Header()
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("Content-Type", "application/gzip")
		http.ServeContent(w, r, "", time.Time{}, f)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("http://%s\n", l.Addr())
	return http.Serve(l, mux)
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// client talks to the registry.
type client struct {
	base  string
	token string
	http  *http.Client
}

// call sends a JSON request (or a raw archive when body is []byte) and
// decodes a JSON answer into out, failing unless the status is want.
func (c *client) call(ctx context.Context, method, path string, body any, want int, out any) error {
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ctype = bytes.NewReader(b), "application/gzip"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ctype)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func seed(ctx context.Context, base string, packages, versions, workers, many int, tokenFile string) error {
	c := &client{base: base, http: &http.Client{Timeout: 5 * time.Minute}}
	user := map[string]string{"username": "bencher", "email": "bencher@example.org", "password": "a long benchmark passphrase"}
	if err := c.call(ctx, "POST", "/api/auth/register", user, http.StatusCreated, nil); err != nil {
		return err
	}
	var login struct{ Token string }
	if err := c.call(ctx, "POST", "/api/auth/login", map[string]string{"username": user["username"], "password": user["password"]}, http.StatusOK, &login); err != nil {
		return err
	}
	c.token = login.Token
	var tok struct{ Token string }
	if err := c.call(ctx, "POST", "/api/tokens", map[string]any{"name": "bench", "scopes": []string{"publish"}}, http.StatusCreated, &tok); err != nil {
		return err
	}
	c.token = tok.Token
	if tokenFile != "" {
		if err := os.WriteFile(tokenFile, []byte(tok.Token+"\n"), 0o600); err != nil {
			return err
		}
	}

	// The download benchmarks' packages: incompressible payloads, so that
	// the archives are as large as their files.
	for _, p := range []struct {
		name string
		size int
	}{{"bench-10k", 10_000}, {"bench-1m", 1_000_000}} {
		payload := make([]byte, p.size)
		rand.Read(payload)
		if err := c.call(ctx, "POST", "/api/upload", archive(p.name, "1.0.0", "", payload), http.StatusCreated, nil); err != nil {
			return err
		}
	}
	// A package with many versions: its metadata document lists them all.
	for v := range many {
		if err := c.call(ctx, "POST", "/api/upload", archive("bench-many", fmt.Sprintf("1.%d.0", v), "", nil), http.StatusCreated, nil); err != nil {
			return err
		}
	}

	// PACKAGES × VERSIONS small packages, each with a dependency, as real
	// packages have.
	start := time.Now()
	jobs := make(chan int)
	var done atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				deps := `"bench-10k": "^1.0.0"`
				for v := range versions {
					a := archive(fmt.Sprintf("pkg-%04d", i), fmt.Sprintf("1.%d.0", v), deps, nil)
					if err := c.call(ctx, "POST", "/api/upload", a, http.StatusCreated, nil); err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
						return
					}
					if n := done.Add(1); n%500 == 0 {
						fmt.Fprintf(os.Stderr, "  %d of %d versions published (%.0f/s)\n", n, packages*versions, float64(n)/time.Since(start).Seconds())
					}
				}
			}
		}()
	}
	for i := range packages {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	fmt.Fprintf(os.Stderr, "  %d versions of %d packages published in %.1fs\n", done.Load(), packages, time.Since(start).Seconds())
	return nil
}

// archive builds a package's .tar.gz: oaklibs.json, a source file, a README
// and, when given, data.bin.
func archive(name, version, deps string, payload []byte) []byte {
	return archiveWith(name, version, "benchmark package "+name, `"bench"`, deps, payload)
}

// archiveWith is archive with a description and keywords (JSON strings,
// comma-separated) of the caller's.
func archiveWith(name, version, description, keywords, deps string, payload []byte) []byte {
	files := []struct {
		name string
		body []byte
	}{
		{"oaklibs.json", []byte(`{"name": "` + name + `", "version": "` + version + `", "description": "` + description +
			`", "license": "MIT", "keywords": [` + keywords + `], "dependencies": {` + deps + `}}`)},
		{"README.md", []byte("# " + name + "\n\nA package published by the benchmark.\n")},
		{"lib/" + name + ".dryad", []byte("export fn hello() { print(\"" + name + " " + version + "\") }\n")},
	}
	if payload != nil {
		files = append(files, struct {
			name string
			body []byte
		}{"data.bin", payload})
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range files {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: time.Unix(946684800, 0)})
		tw.Write(f.body)
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}
