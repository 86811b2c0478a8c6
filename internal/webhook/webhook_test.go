package webhook_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/registry/registrytest"
	"github.com/dryad-lang/registry/internal/testenv"
	"github.com/dryad-lang/registry/internal/webhook"
)

func TestSignAndVerify(t *testing.T) {
	body := []byte(`{"event":"version.published"}`)
	// The HMAC-SHA256 of body keyed with "It's a Secret to Everybody",
	// computed independently (openssl dgst -sha256 -hmac).
	sig := webhook.Sign("It's a Secret to Everybody", body)
	if want := "sha256=90985dd37ee711c92e8f99cf6d52cdb53aa14f7da96c78465f0068b4aca70117"; sig != want {
		t.Fatalf("Sign = %q, want %q", sig, want)
	}
	if !webhook.Verify("It's a Secret to Everybody", body, sig) {
		t.Error("Verify refuses the signature Sign made")
	}
	if webhook.Verify("another secret", body, sig) || webhook.Verify("It's a Secret to Everybody", append(body, ' '), sig) {
		t.Error("Verify accepts a wrong secret or a changed body")
	}
}

// fixture is a registry with a package whose hook points at url, and one
// publish queued for it.
func fixture(t *testing.T, url string) (*registrytest.Fixture, *auth.Principal) {
	t.Helper()
	f := registrytest.New(t, func(o *registry.Options) { o.WebhookAllowPrivate = true })
	alice := f.SignUp("alice")
	f.Publish(alice, testenv.Package{Name: "hooked", Version: "1.0.0"})
	if _, err := f.Service.CreateWebhook(context.Background(), alice, "hooked", registry.WebhookInput{URL: url}, registrytest.IP); err != nil {
		t.Fatal(err)
	}
	f.Publish(alice, testenv.Package{Name: "hooked", Version: "1.1.0"})
	return f, alice
}

// attemptOnce runs one worker step and returns the delivery's log.
func attemptOnce(t *testing.T, f *registrytest.Fixture, p *auth.Principal, o webhook.Options) registry.WebhookDelivery {
	t.Helper()
	o.Queue, o.Logger = f.Service.WebhookQueue(), slog.New(slog.DiscardHandler)
	w, err := webhook.NewWorker(o)
	if err != nil {
		t.Fatal(err)
	}
	if did, err := w.Step(context.Background()); err != nil || !did {
		t.Fatalf("Step = %v, %v", did, err)
	}
	ds, err := f.Service.WebhookDeliveries(context.Background(), p, "hooked", 10)
	if err != nil || len(ds.Deliveries) != 1 {
		t.Fatalf("deliveries = %+v, %v", ds, err)
	}
	return ds.Deliveries[0]
}

// TestPrivateAddressRefusedAtDial checks that a hook whose host resolves
// to a loopback address is refused when the worker connects, whatever was
// allowed when it was created (DNS rebinding).
func TestPrivateAddressRefusedAtDial(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	f, alice := fixture(t, srv.URL+"/hook")
	d := attemptOnce(t, f, alice, webhook.Options{MaxAttempts: 1})
	if hits.Load() != 0 || d.State != "failed" || len(d.Attempts) != 1 || d.Attempts[0].Status != 0 ||
		!strings.Contains(d.Attempts[0].Error, "loopback") {
		t.Errorf("hits %d, delivery %+v", hits.Load(), d)
	}
}

func TestRedirects(t *testing.T) {
	var other atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { other.Add(1) }))
	defer elsewhere.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/moved":
			http.Redirect(w, r, "/new", http.StatusPermanentRedirect)
		case "/away":
			// Another host name for another server.
			http.Redirect(w, r, strings.Replace(elsewhere.URL, "127.0.0.1", "localhost", 1)+"/x", http.StatusTemporaryRedirect)
		case "/new":
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()

	f, alice := fixture(t, srv.URL+"/moved")
	if d := attemptOnce(t, f, alice, webhook.Options{AllowPrivate: true}); d.State != "delivered" || d.Attempts[0].Status != 204 {
		t.Errorf("same-host redirect: %+v", d)
	}
	f, alice = fixture(t, srv.URL+"/away")
	d := attemptOnce(t, f, alice, webhook.Options{AllowPrivate: true})
	if other.Load() != 0 || d.State != "pending" || d.Attempts[0].Status != 307 || !strings.Contains(d.Attempts[0].Error, "not followed") ||
		d.NextAttemptAt == nil {
		t.Errorf("redirect to another host: other server hit %d times, delivery %+v", other.Load(), d)
	}
}

// TestAnswerKeptShort checks that the log keeps only the start of a long
// error answer.
func TestAnswerKeptShort(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, strings.Repeat("upstream exploded ", 10000))
	}))
	defer srv.Close()
	f, alice := fixture(t, srv.URL+"/hook")
	d := attemptOnce(t, f, alice, webhook.Options{AllowPrivate: true, MaxAttempts: 2})
	if d.State != "pending" || d.Attempts[0].Status != 502 || !strings.HasPrefix(d.Attempts[0].Error, "502 Bad Gateway: upstream exploded") ||
		len(d.Attempts[0].Error) > 600 {
		t.Errorf("delivery %+v (error of %d bytes)", d, len(d.Attempts[0].Error))
	}
}
