package e2e

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/testenv"
)

// The application's own rate limits (API_RATE_LIMIT, UPLOAD_RATE_LIMIT and
// the login limits), on one instance and shared by instances through Redis.

// limitedRates makes limits whose buckets refill so slowly (one request
// every 20 s) that no test refills them by waiting: a client has one API
// request (the burst is twice the rate, at least one), one install request
// and five uploads.
var limitedRates = map[string]string{"INSTALL_RATE_LIMIT": "0.05", "API_RATE_LIMIT": "0.05", "UPLOAD_RATE_LIMIT": "0.05", "TRUSTED_PROXIES": "127.0.0.1/32"}

// withEnv returns base with extra added.
func withEnv(base map[string]string, extra ...string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(extra); i += 2 {
		out[extra[i]] = extra[i+1]
	}
	return out
}

// checkRetryWithin checks a 429 answer and that its Retry-After is at most
// max seconds.
func checkRetryWithin(t testing.TB, res *response, max int) {
	t.Helper()
	checkRateLimited(t, res)
	if n, _ := strconv.Atoi(res.Header.Get("Retry-After")); n > max {
		t.Errorf("Retry-After %d, want at most %d", n, max)
	}
}

// TestAPIRateLimitBurst checks the default limit, 10 requests a second with
// bursts of 20, against a burst of concurrent requests.
func TestAPIRateLimitBurst(t *testing.T) {
	r := startRegistry(t, regOptions{Env: map[string]string{"API_RATE_LIMIT": "10", "UPLOAD_RATE_LIMIT": "2"}})
	tok := r.signUp("bursty")
	r.expect(201, "POST", "/api/upload", tok, pkg{name: "bursty", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")

	const n, workers = 60, 6
	results := make([]*response, n)
	errs := make([]error, n)
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i], errs[i] = tryFetch(http.DefaultClient, "GET", r.URL+"/api/packages/bursty/versions", tok, nil)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	ok, limited := 0, 0
	for i, res := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		switch res.Status {
		case 200:
			ok++
		case 429:
			limited++
			checkRetryWithin(t, res, 1)
			if res.Header.Get("X-RateLimit-Limit") != "20" || res.Header.Get("X-RateLimit-Remaining") != "0" {
				t.Errorf("429 with X-RateLimit-Limit %q, X-RateLimit-Remaining %q", res.Header.Get("X-RateLimit-Limit"), res.Header.Get("X-RateLimit-Remaining"))
			}
		default:
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
	}
	// The user's bucket starts full (20) and refills at 10 a second while
	// the burst lasts; how long it lasts is up to the machine.
	most := 20 + int(math.Ceil(elapsed.Seconds()*10)) + 1
	if ok < 20 || ok > most {
		t.Errorf("%d of %d requests in %v answered; want from 20 to %d", ok, n, elapsed, most)
	}
	if limited != n-ok {
		t.Errorf("%d limited, want %d", limited, n-ok)
	}
	// Installs have a limit of their own, far larger: the same client,
	// over its API limit, still installs.
	for i := 0; i < 30; i++ {
		r.expect(200, "GET", "/api/packages/bursty", tok, nil)
		r.expect(200, "GET", "/packages/bursty/1.0.0.tar.gz", tok, nil)
	}
}

// TestRateLimitKeys checks whom the limits count: users by account
// (whatever their credential), others by address; installs (metadata,
// downloads, health) and uploads apart from other calls; liveness not at
// all; forwarded addresses only from trusted proxies.
func TestRateLimitKeys(t *testing.T) {
	dir := t.TempDir()
	// Accounts and a package are made on an instance without limits; the
	// limited instance then serves the same data folder.
	setup := startRegistry(t, regOptions{DataDir: dir})
	alice, bob := setup.signUp("alice"), setup.signUp("bob")
	aliceToken := setup.apiToken(alice, []string{"publish"})
	setup.expect(201, "POST", "/api/upload", alice, pkg{name: "limited", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")
	setup.Stop()

	r := startRegistry(t, regOptions{DataDir: dir, Env: limitedRates})
	// A client connecting from 127.0.0.2, which is not a trusted proxy.
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 5 * time.Second}
	untrusted := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	t.Cleanup(untrusted.CloseIdleConnections)

	for _, s := range []struct {
		name, method, path, token string
		client                    *http.Client
		headers                   []string
		want                      int
	}{
		{name: "an address: first request", method: "GET", path: "/api/packages/limited/versions", want: 200},
		{name: "an address: over its limit", method: "GET", path: "/api/packages/limited/versions", want: 429},
		{name: "alice: counted as herself, not by address", method: "GET", path: "/api/auth/profile", token: alice, want: 200},
		{name: "alice with an API token: the same account", method: "GET", path: "/api/auth/profile", token: aliceToken, want: 429},
		{name: "bob: his own account", method: "GET", path: "/api/auth/profile", token: bob, want: 200},
		{name: "a bad token: counted by address", method: "GET", path: "/api/auth/profile", token: "oak_not-a-token", want: 429},
		{name: "installs apart: the metadata", method: "GET", path: "/api/packages/limited", want: 200},
		{name: "installs apart: a download counted with it", method: "GET", path: "/packages/limited/1.0.0.tar.gz", want: 429},
		{name: "installs apart: health counted with them", method: "GET", path: "/api/health", want: 429},
		{name: "liveness is not limited", method: "GET", path: "/health", want: 200},
		{name: "liveness is not limited (again)", method: "GET", path: "/health", want: 200},
		{name: "behind a trusted proxy: the forwarded address", method: "GET", path: "/api/packages/limited/versions", headers: []string{"X-Forwarded-For", "203.0.113.7"}, want: 200},
		{name: "behind a trusted proxy: that address over its limit", method: "GET", path: "/api/packages/limited/versions", headers: []string{"X-Forwarded-For", "203.0.113.7"}, want: 429},
		{name: "behind a trusted proxy: a made-up address before the real one", method: "GET", path: "/api/packages/limited/versions", headers: []string{"X-Forwarded-For", "198.51.100.1, 203.0.113.7"}, want: 429},
		{name: "behind a trusted proxy: another client", method: "GET", path: "/api/packages/limited/versions", headers: []string{"X-Forwarded-For", "203.0.113.8"}, want: 200},
		{name: "behind a trusted proxy: X-Real-IP", method: "GET", path: "/api/packages/limited/versions", headers: []string{"X-Real-IP", "203.0.113.9"}, want: 200},
		{name: "behind a trusted proxy: X-Real-IP over its limit", method: "GET", path: "/api/packages/limited/versions", headers: []string{"X-Real-IP", "203.0.113.9"}, want: 429},
		{name: "behind a trusted proxy: its installs by that address", method: "GET", path: "/packages/limited/1.0.0.tar.gz", headers: []string{"X-Real-IP", "203.0.113.9"}, want: 200},
		{name: "an untrusted peer: first request", client: untrusted, method: "GET", path: "/api/packages/limited/versions", headers: []string{"X-Forwarded-For", "203.0.113.20"}, want: 200},
		{name: "an untrusted peer: its X-Forwarded-For is ignored", client: untrusted, method: "GET", path: "/api/packages/limited/versions", headers: []string{"X-Forwarded-For", "203.0.113.21"}, want: 429},
		{name: "an untrusted peer: its X-Real-IP is ignored", client: untrusted, method: "GET", path: "/api/packages/limited/versions", headers: []string{"X-Real-IP", "203.0.113.22"}, want: 429},
	} {
		c := s.client
		if c == nil {
			c = http.DefaultClient
		}
		res := fetch(t, c, s.method, r.URL+s.path, s.token, nil, s.headers...)
		if res.Status != s.want {
			t.Errorf("%s: status %d, want %d\n%s", s.name, res.Status, s.want, res.Body)
			continue
		}
		if res.Status == 429 {
			checkRetryWithin(t, res, 20)
			limit := "api"
			if strings.HasPrefix(s.name, "installs") {
				limit = "install"
			}
			if msg := res.JSON(t)["message"].(string); !strings.Contains(msg, "the "+limit+" limit") {
				t.Errorf("%s: the 429 does not name the %s limit: %q", s.name, limit, msg)
			}
		}
	}

	// Uploads have their own limit: alice, over her API limit, still
	// publishes five versions, and the sixth waits.
	for i := 1; i <= 6; i++ {
		res := r.publish(aliceToken, pkg{name: "limited", version: fmt.Sprintf("1.0.%d", i)}.archive(t))
		want := 201
		if i == 6 {
			want = 429
		}
		if res.Status != want {
			t.Fatalf("upload %d: status %d, want %d\n%s", i, res.Status, want, res.Body)
		}
		if res.Status == 429 {
			checkRetryWithin(t, res, 20)
		}
	}
	// Bob's uploads are counted apart from alice's.
	r.expect(201, "POST", "/api/upload", bob, pkg{name: "bobs", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")
}

// TestRateLimitsSharedAcrossInstances checks that instances sharing Redis
// share the limits: a client cannot multiply its budget by spreading its
// requests, nor its password guesses.
func TestRateLimitsSharedAcrossInstances(t *testing.T) {
	db := testenv.NewPostgresDatabase(t)
	rds := testenv.StartRedis(t, testenv.RedisOptions{Password: true, Persist: true})
	setup := startRegistry(t, regOptions{DatabaseURL: db})
	alice := setup.signUp("alice")
	setup.signUp("bob")
	setup.Stop()

	env := withEnv(limitedRates, "REDIS_URL", rds.URL())
	a := startRegistry(t, regOptions{DatabaseURL: db, Env: env})
	b := startRegistry(t, regOptions{DatabaseURL: db, Env: env})

	a.expect(200, "GET", "/api/stats", "", nil)
	checkRetryWithin(t, b.expect(429, "GET", "/api/stats", "", nil), 20)
	b.expect(200, "GET", "/api/auth/profile", alice, nil)
	checkRetryWithin(t, a.expect(429, "GET", "/api/auth/profile", alice, nil), 20)

	// Twenty wrong passwords for bob on A, each from another address so
	// that neither the per-address API limit nor the per-pair login limit
	// stops them first...
	for i := 1; i <= 20; i++ {
		a.expect(401, "POST", "/api/auth/login", "", map[string]string{"username": "bob", "password": "wrong password " + strconv.Itoa(i)},
			"X-Forwarded-For", fmt.Sprintf("192.0.2.%d", i))
	}
	// ...and B refuses even the right one from an address that failed on
	// the account, while bob's own address still logs in.
	res := b.expect(429, "POST", "/api/auth/login", "", map[string]string{"username": "bob", "password": "correct-horse-bob"},
		"X-Forwarded-For", "192.0.2.3")
	b.expect(200, "POST", "/api/auth/login", "", map[string]string{"username": "bob", "password": "correct-horse-bob"},
		"X-Forwarded-For", "198.51.100.77")
	checkRateLimited(t, res)
}
