package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// The install path as Oak walks it: one GET /api/packages/{name} per
// dependency, all at once, then the archive of each.

// publishMany publishes n packages named prefix000, prefix001, … with
// eight uploads at a time, and returns their names.
func publishMany(t *testing.T, r *testRegistry, token, prefix string, n int) []string {
	t.Helper()
	names := make([]string, n)
	next := make(chan int)
	errc := make(chan error, n)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				res, err := tryFetch(http.DefaultClient, "POST", r.URL+"/api/upload", token,
					pkg{name: names[i], version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")
				if err == nil && res.Status != 201 {
					err = fmt.Errorf("publish %s: %d %s", names[i], res.Status, res.Body)
				}
				if err != nil {
					errc <- err
				}
			}
		}()
	}
	for i := range n {
		names[i] = fmt.Sprintf("%s%03d", prefix, i)
		next <- i
	}
	close(next)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	return names
}

// installBurst sends every metadata request at once, then every archive
// download at once, as a client from one address, and checks each answer
// as Oak does: status, the Oak fields and the archive's checksum.
func installBurst(t *testing.T, c *http.Client, base string, names []string) {
	t.Helper()
	type doc struct {
		Name        string `json:"name"`
		Version     string `json:"version"`
		DownloadURL string `json:"download_url"`
		Checksum    string `json:"checksum"`
		FileSize    *int64 `json:"file_size"`
	}
	docs := make([]doc, len(names))
	problems := make([]string, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := tryFetch(c, "GET", base+"/api/packages/"+name, "", nil, "Accept", "*/*")
			switch {
			case err != nil:
				problems[i] = err.Error()
			case res.Status != 200:
				problems[i] = fmt.Sprintf("metadata %d %s", res.Status, res.Body)
			case json.Unmarshal(res.Body, &docs[i]) != nil || docs[i].Name != name || docs[i].FileSize == nil:
				problems[i] = fmt.Sprintf("metadata body %s", res.Body)
			}
		}()
	}
	wg.Wait()
	failures(t, "metadata", names, problems)
	for i := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := tryFetch(c, "GET", docs[i].DownloadURL, "", nil)
			if err != nil {
				problems[i] = err.Error()
				return
			}
			sum := sha256.Sum256(res.Body)
			if res.Status != 200 || hex.EncodeToString(sum[:]) != docs[i].Checksum || int64(len(res.Body)) != *docs[i].FileSize {
				problems[i] = fmt.Sprintf("download %d, %d bytes", res.Status, len(res.Body))
			}
		}()
	}
	wg.Wait()
	failures(t, "download", names, problems)
}

// failures reports the requests that failed, a few of them in full.
func failures(t *testing.T, what string, names, problems []string) {
	t.Helper()
	var bad []string
	for i, p := range problems {
		if p != "" {
			bad = append(bad, names[i]+": "+p)
		}
	}
	if len(bad) > 0 {
		t.Fatalf("%d of %d %s requests failed; the first: %s", len(bad), len(names), what, strings.Join(bad[:min(3, len(bad))], "; "))
	}
}

// TestInstallBurstDefaultLimits installs a project of 500 dependencies, all
// requested at once from one address, under the default rate limits: every
// answer is a real package. Writes keep their own, much smaller limit.
func TestInstallBurstDefaultLimits(t *testing.T) {
	dir := t.TempDir()
	setup := startRegistry(t, regOptions{DataDir: dir})
	tok := setup.apiToken(setup.signUp("many"), []string{"publish"})
	names := publishMany(t, setup, tok, "dep", 500)
	setup.Stop()

	r := startRegistry(t, regOptions{DataDir: dir, DefaultLimits: true})
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	installBurst(t, c, r.URL, names)
	r.expect(200, "GET", "/api/health", "", nil)

	// Other API requests keep API_RATE_LIMIT (10 a second, bursts of 20):
	// searches in a row from the same address soon run into it, and the
	// refusal names the limit.
	for i := 0; ; i++ {
		res := r.do("GET", "/api/search?q=dep", "", nil)
		if res.Status == 429 {
			checkRateLimited(t, res)
			if msg := res.JSON(t)["message"].(string); !strings.Contains(msg, "api limit") || !strings.Contains(msg, "10 requests a second") {
				t.Errorf("429 message does not name the limit: %q", msg)
			}
			if i < 20 {
				t.Errorf("refused after %d searches; the burst is 20", i)
			}
			break
		}
		if res.Status != 200 || i == 500 {
			t.Fatalf("search %d: %d %s", i, res.Status, res.Body)
		}
	}
}

// TestEveryVersionYanked checks the answer for a package none of whose
// versions installs by default: a 404 naming the yanked versions, not a
// document without a version (which Oak would turn into a placeholder);
// the exact versions stay available; the web page says the same; and
// unyanking brings the document back at once, cached refusal or not.
func TestEveryVersionYanked(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		r := startRegistry(t, regOptions{Engine: engine})
		tok := r.signUp("yanker")
		for _, v := range []string{"1.0.0", "1.1.0"} {
			r.expect(201, "POST", "/api/upload", tok, pkg{name: "all_yanked", version: v}.archive(t), "Content-Type", "application/gzip")
		}
		r.expect(200, "GET", "/api/packages/all-yanked", "", nil) // cached before the yanks
		for _, v := range []string{"1.0.0", "1.1.0"} {
			r.expect(200, "PUT", "/api/packages/all_yanked/versions/"+v+"/yank", tok, nil)
		}
		for range 2 { // the second answer comes from the cache
			res := r.expect(404, "GET", "/api/packages/ALL-YANKED", "", nil)
			var e errorJSON
			json.Unmarshal(res.Body, &e)
			if e.Error != "not_found" || !strings.Contains(e.Message, "every version of all_yanked is yanked (1.1.0, 1.0.0)") {
				t.Errorf("all yanked: %s", res.Body)
			}
		}
		doc := r.expect(200, "GET", "/api/packages/all_yanked?version=1.0.0", "", nil).JSON(t)
		if doc["version"] != "1.0.0" || doc["yanked"] != true || doc["checksum"] == nil {
			t.Errorf("an exact yanked version: %v", doc)
		}
		r.expect(200, "GET", "/packages/all_yanked/1.1.0.tar.gz", "", nil)
		page := r.expect(404, "GET", "/packages/all_yanked", "", nil)
		if !strings.Contains(string(page.Body), "Every version of all_yanked is yanked</strong> (") ||
			strings.Contains(string(page.Body), `id="pkg_install"`) {
			t.Errorf("the package page does not say every version is yanked, or still offers an install command")
		}
		r.expect(200, "GET", "/packages/all_yanked/1.0.0", "", nil)

		r.expect(200, "DELETE", "/api/packages/all_yanked/versions/1.0.0/yank", tok, nil)
		if v := r.expect(200, "GET", "/api/packages/all_yanked", "", nil).JSON(t)["version"]; v != "1.0.0" {
			t.Errorf("after unyanking 1.0.0 the latest is %v", v)
		}
		r.expect(200, "GET", "/packages/all_yanked", "", nil)
	})
}
