package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/testenv"
)

// TestCrashConsistency publishes from several clients at once and kills
// the server (SIGKILL) at a random moment, round after round, on both
// engines. After the last restart every version the registry shows has its
// archive with the checksum it serves, verify finds no version without its
// archive and no damaged one, and no temp file outlives the upload
// timeout. Archives stored by a publish the kill cut short before its
// commit are allowed: they are the orphans the sweep removes.
func TestCrashConsistency(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		seed := uint64(time.Now().UnixNano())
		rng := rand.New(rand.NewPCG(seed, 1))
		t.Logf("seed %d", seed)
		o := regOptions{Engine: engine, DataDir: t.TempDir(), Env: map[string]string{"UPLOAD_TIMEOUT": "1s"}}
		r := startRegistry(t, o)
		o.DatabaseURL = r.Config.DatabaseURL
		tok := r.apiToken(r.signUp("crash"), []string{"publish"})
		const rounds, publishers = 20, 4
		for round := range rounds {
			if round > 0 {
				r = startRegistry(t, o)
			}
			var wg sync.WaitGroup
			stop := make(chan struct{})
			published := make(chan struct{})
			var once sync.Once
			for p := range publishers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						a := pkg{name: fmt.Sprintf("crash%d", p), version: fmt.Sprintf("%d.%d.0", round, i),
							files: map[string]string{"data.bin": strings.Repeat(fmt.Sprint(round, p, i), 20_000)}}.archive(t)
						// Errors are expected: the server dies under them.
						res, err := tryFetch(http.DefaultClient, "POST", r.URL+"/api/upload", tok, a, "Content-Type", "application/gzip")
						if err != nil || res.Status >= 500 {
							return
						}
						if res.Status == 201 {
							once.Do(func() { close(published) })
						}
					}
				}()
			}
			// Even rounds die at any point from the start, the first
			// publish included; odd ones once a version got through, so
			// that crashes also meet a registry with versions (however
			// slow the machine is today).
			if round%2 == 1 {
				select {
				case <-published:
				case <-time.After(2 * time.Minute):
					t.Fatalf("round %d: no publish succeeded in 2 minutes", round)
				}
			}
			time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
			r.Kill()
			close(stop)
			wg.Wait()
		}

		// The last crash's temp files are older than UPLOAD_TIMEOUT (1s)
		// at the next start, which removes them.
		time.Sleep(1100 * time.Millisecond)
		r = startRegistry(t, o)
		published := 0
		for p := range publishers {
			res := r.do("GET", fmt.Sprintf("/api/packages/crash%d/versions", p), "", nil)
			if res.Status == 404 {
				continue
			}
			var list struct {
				Versions []struct {
					Version  string `json:"version"`
					Checksum string `json:"checksum"`
				} `json:"versions"`
			}
			decodeJSON(t, res, &list)
			for _, v := range list.Versions {
				published++
				b := r.expect(200, "GET", fmt.Sprintf("/packages/crash%d/%s.tar.gz", p, v.Version), "", nil).Body
				if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != v.Checksum {
					t.Errorf("crash%d@%s: the archive served does not match its checksum", p, v.Version)
				}
			}
		}
		testenv.Eventually(t, "the temp folder emptied at start", func() (bool, string) {
			n := len(tempFiles(r.DataDir))
			return n == 0, fmt.Sprint(n, " files")
		})
		r.Stop()
		if published == 0 {
			t.Fatalf("no version was published in %d rounds", rounds)
		}
		code, out, errOut := opsCommand(t, target{DataDir: o.DataDir, DatabaseURL: o.DatabaseURL}, "verify", "--upload-timeout", "1s")
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if line != "" && !strings.Contains(line, "has no version") && !strings.HasPrefix(line, "verify: no problems") {
				t.Errorf("verify: %s", line)
			}
		}
		if code != 0 && !strings.Contains(out, "has no version") {
			t.Errorf("verify: exit %d\n%s%s", code, out, errOut)
		}
		t.Logf("%d versions published over %d crashes", published, rounds)
	})
}

// decodeJSON decodes a response body into v.
func decodeJSON(t testing.TB, res *response, v any) {
	t.Helper()
	if err := json.Unmarshal(res.Body, v); err != nil {
		t.Fatalf("decoding %s: %v", res.Body, err)
	}
}

// tempFiles lists what is in the package store's temp folder.
func tempFiles(dataDir string) []string {
	entries, _ := os.ReadDir(filepath.Join(dataDir, "packages", "tmp"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
