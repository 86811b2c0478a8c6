package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dryad-lang/registry/internal/testenv"
)

// hookCall is one delivery a receiver got.
type hookCall struct {
	Path, Event, Delivery, Package, Version string
	// Status is what the receiver answered.
	Status int
}

// hookReceiver is a webhook receiver on 127.0.0.1 that checks every
// delivery's signature as a real receiver would, and answers 500 to the
// first attempt of each delivery on the paths in flaky, and 503 always on
// those in down.
type hookReceiver struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	secrets map[string]string // path -> secret
	calls   []hookCall
	seen    map[string]int // delivery id -> attempts received
	flaky   map[string]bool
	down    map[string]bool
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{t: t, secrets: map[string]string{}, seen: map[string]int{}, flaky: map[string]bool{}, down: map[string]bool{}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		h.t.Errorf("reading a delivery: %v", err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	secret, ok := h.secrets[r.URL.Path]
	if !ok {
		h.t.Errorf("delivery to %s, which has no hook", r.URL.Path)
		w.WriteHeader(404)
		return
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if got := r.Header.Get("X-Dryad-Signature-256"); !hmac.Equal([]byte(got), []byte(want)) {
		h.t.Errorf("delivery to %s: signature %q, want %q", r.URL.Path, got, want)
	}
	var p struct {
		ID, Event, Package, Registry string
		Version                      *string
	}
	if err := json.Unmarshal(body, &p); err != nil {
		h.t.Errorf("delivery body is not JSON: %v\n%s", err, body)
	}
	if r.Method != "POST" || r.Header.Get("Content-Type") != "application/json" || p.Event != r.Header.Get("X-Dryad-Event") ||
		p.ID != r.Header.Get("X-Dryad-Delivery") || !strings.HasPrefix(r.Header.Get("User-Agent"), "Dryad-Registry/") {
		h.t.Errorf("delivery %s %s: headers %v, body %s", r.Method, r.URL.Path, r.Header, body)
	}
	h.seen[p.ID]++
	status := 204
	if h.down[r.URL.Path] || (h.flaky[r.URL.Path] && h.seen[p.ID] == 1) {
		status = 500
		if h.down[r.URL.Path] {
			status = 503
		}
	}
	c := hookCall{Path: r.URL.Path, Event: p.Event, Delivery: p.ID, Package: p.Package, Status: status}
	if p.Version != nil {
		c.Version = *p.Version
	}
	h.calls = append(h.calls, c)
	w.WriteHeader(status)
	fmt.Fprint(w, "receiver says ", status)
}

// events lists the successful deliveries to path, in arrival order, as
// "event package@version".
func (h *hookReceiver) events(path string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, c := range h.calls {
		if c.Path == path && c.Status < 300 {
			out = append(out, strings.TrimSuffix(c.Event+" "+c.Package+"@"+c.Version, "@"))
		}
	}
	return out
}

func (h *hookReceiver) calls2(path string) []hookCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []hookCall
	for _, c := range h.calls {
		if c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

// hook creates a hook for path and records its secret for the checks.
func (h *hookReceiver) hook(r *testRegistry, apiPath, token, path string, body map[string]any) map[string]any {
	h.t.Helper()
	body["url"] = h.srv.URL + path
	res := r.expect(201, "POST", apiPath, token, body).JSON(h.t)
	secret, _ := res["secret"].(string)
	if secret == "" {
		h.t.Fatalf("creating a hook: no secret in %v", res)
	}
	h.mu.Lock()
	h.secrets[path] = secret
	h.mu.Unlock()
	return res
}

func sameSet(got, want []string) bool {
	a, b := slices.Clone(got), slices.Clone(want)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestWebhooks runs the registry with a receiver on a loopback server:
// signed deliveries for publishes, yanks and owner changes, per-event
// filters, registry-wide hooks, retries after a failure with every
// attempt in the delivery log, and a failed delivery sent again.
func TestWebhooks(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		r := startRegistry(t, regOptions{Engine: engine, Env: map[string]string{
			"WEBHOOK_ALLOW_PRIVATE": "true", "WEBHOOK_RETRY_BASE": "50ms", "WEBHOOK_MAX_ATTEMPTS": "3",
		}})
		recv := newHookReceiver(t)
		alice := r.signUp("alice")
		bob := r.signUp("bob")
		r.signUp("root")
		ensureAdmin(t, r, "root")
		root := r.login("root")
		r.expect(201, "POST", "/api/upload", alice, pkg{name: "hooked", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")

		const hooks = "/api/packages/hooked/webhooks"
		all := recv.hook(r, hooks, alice, "/all", map[string]any{"secret": "the receiver's own secret"})
		if all["secret"] != "the receiver's own secret" || all["package"] != "hooked" || len(all["events"].([]any)) != 0 {
			t.Errorf("created hook: %v", all)
		}
		recv.hook(r, hooks, alice, "/yanks", map[string]any{"events": []string{"version.yanked"}})
		recv.mu.Lock()
		recv.flaky["/flaky"] = true
		recv.down["/down"] = true
		recv.mu.Unlock()
		recv.hook(r, hooks, alice, "/flaky", map[string]any{"events": []string{"version.published"}})
		recv.hook(r, hooks, alice, "/down", map[string]any{"events": []string{"owner.added"}})
		recv.hook(r, "/api/admin/webhooks", root, "/global", map[string]any{})

		// The secret is shown once: never in the list.
		list := r.expect(200, "GET", hooks, alice, nil)
		if strings.Contains(string(list.Body), "secret") || len(list.JSON(t)["webhooks"].([]any)) != 4 {
			t.Errorf("hook list: %s", list.Body)
		}
		r.expect(403, "GET", hooks, bob, nil)
		r.expect(403, "GET", "/api/admin/webhooks", alice, nil)
		r.expect(400, "POST", hooks, alice, map[string]any{"url": "gopher://x"})

		r.expect(201, "POST", "/api/upload", alice, pkg{name: "hooked", version: "1.1.0"}.archive(t), "Content-Type", "application/gzip")
		r.expect(200, "PUT", "/api/packages/hooked/versions/1.1.0/yank", alice, nil)
		r.expect(200, "PUT", "/api/packages/hooked/owners", alice, map[string]any{"users": []string{"bob"}})
		r.expect(201, "POST", "/api/upload", bob, pkg{name: "elsewhere", version: "0.1.0"}.archive(t), "Content-Type", "application/gzip")

		wantAll := []string{"version.published hooked@1.1.0", "version.yanked hooked@1.1.0", "owner.added hooked"}
		wantGlobal := append(slices.Clone(wantAll), "version.published elsewhere@0.1.0")
		testenv.Eventually(t, "deliveries to every hook", func() (bool, string) {
			state := fmt.Sprintf("all %v, yanks %v, flaky %v, global %v", recv.events("/all"), recv.events("/yanks"),
				recv.events("/flaky"), recv.events("/global"))
			return sameSet(recv.events("/all"), wantAll) && sameSet(recv.events("/yanks"), []string{"version.yanked hooked@1.1.0"}) &&
				sameSet(recv.events("/flaky"), []string{"version.published hooked@1.1.0"}) &&
				sameSet(recv.events("/global"), wantGlobal), state
		})

		// The flaky receiver saw the same delivery twice: the 500, then
		// the retry it accepted; the log has both attempts.
		flaky := recv.calls2("/flaky")
		if len(flaky) != 2 || flaky[0].Delivery != flaky[1].Delivery || flaky[0].Status != 500 || flaky[1].Status != 204 {
			t.Errorf("flaky receiver calls: %+v", flaky)
		}
		type attempt struct {
			Status        int     `json:"status"`
			Error         string  `json:"error"`
			NextAttemptAt *string `json:"next_attempt_at"`
		}
		type delivery struct {
			ID       int64     `json:"id"`
			GUID     string    `json:"delivery"`
			Event    string    `json:"event"`
			State    string    `json:"state"`
			Attempts []attempt `json:"attempts"`
		}
		deliveries := func() []delivery {
			var out struct{ Deliveries []delivery }
			if err := json.Unmarshal(r.expect(200, "GET", hooks+"/deliveries?limit=100", alice, nil).Body, &out); err != nil {
				t.Fatal(err)
			}
			return out.Deliveries
		}
		find := func(guid string) *delivery {
			for _, d := range deliveries() {
				if d.GUID == guid {
					return &d
				}
			}
			return nil
		}
		// The receiver answered before the registry recorded the answer.
		var d *delivery
		testenv.Eventually(t, "the retried delivery to be recorded", func() (bool, string) {
			d = find(flaky[0].Delivery)
			return d != nil && d.State == "delivered", fmt.Sprintf("%+v", d)
		})
		if len(d.Attempts) != 2 || d.Attempts[0].Status != 500 ||
			!strings.Contains(d.Attempts[0].Error, "receiver says 500") || d.Attempts[0].NextAttemptAt == nil || d.Attempts[1].Status != 204 {
			t.Errorf("delivery log of the retried delivery: %+v", d)
		}

		// The receiver that is down gets WEBHOOK_MAX_ATTEMPTS attempts,
		// then the delivery is failed; sent again, it gets one more.
		var failed *delivery
		testenv.Eventually(t, "the delivery to the down receiver to fail", func() (bool, string) {
			calls := recv.calls2("/down")
			if len(calls) == 0 {
				return false, "no call yet"
			}
			failed = find(calls[0].Delivery)
			return failed != nil && failed.State == "failed", fmt.Sprintf("%d calls, delivery %+v", len(calls), failed)
		})
		if n := len(recv.calls2("/down")); n != 3 || len(failed.Attempts) != 3 || failed.Attempts[2].NextAttemptAt != nil {
			t.Errorf("down receiver got %d calls; delivery %+v", n, failed)
		}
		r.expect(409, "POST", fmt.Sprintf("%s/deliveries/%d/redeliver", hooks, find(flaky[0].Delivery).ID), alice, nil)
		r.expect(403, "POST", fmt.Sprintf("%s/deliveries/%d/redeliver", hooks, failed.ID), r.signUp("mallory"), nil)
		recv.mu.Lock()
		recv.down["/down"] = false
		recv.mu.Unlock()
		r.expect(202, "POST", fmt.Sprintf("%s/deliveries/%d/redeliver", hooks, failed.ID), alice, nil)
		testenv.Eventually(t, "the redelivery", func() (bool, string) {
			d := find(failed.GUID)
			return d != nil && d.State == "delivered" && len(d.Attempts) == 4, fmt.Sprintf("%+v", d)
		})

		// The metrics count the outcomes.
		// (counted just after each attempt is recorded, so waited for).
		testenv.Eventually(t, "every outcome counted", func() (bool, string) {
			samples := parseMetrics(t, string(r.expect(200, "GET", "/metrics", "", nil).Body))
			var got []string
			ok := true
			for _, o := range []string{"delivered", "retry", "failed"} {
				n, _ := sum(samples, "dryad_webhook_deliveries_total", "outcome", o)
				got = append(got, fmt.Sprintf("%s=%v", o, n))
				ok = ok && n >= 1
			}
			return ok, strings.Join(got, " ")
		})

		// Deleting the hook stops its deliveries and drops its log.
		id := int64(all["id"].(float64))
		r.expect(200, "DELETE", fmt.Sprintf("%s/%d", hooks, id), alice, nil)
		r.expect(404, "DELETE", fmt.Sprintf("%s/%d", hooks, id), alice, nil)
		if strings.Contains(r.Logs(), "the receiver's own secret") {
			t.Error("a hook's secret is in the registry's log")
		}
	})
}
