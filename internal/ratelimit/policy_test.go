package ratelimit_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/ratelimit"
	"github.com/dryad-lang/registry/internal/ratelimit/memory"
)

func TestTableDefaults(t *testing.T) {
	tab := ratelimit.NewTable(ratelimit.Rates{Install: 100, API: 10, Upload: 2})
	// An install of 500 dependencies fetches 1000 documents and archives.
	if tab.Install.Limit.Burst < 1000 {
		t.Errorf("install burst %d cannot hold an install of 500 dependencies", tab.Install.Limit.Burst)
	}
	for _, tc := range []struct {
		p     ratelimit.Policy
		rate  float64
		burst int
		say   string
	}{
		{tab.Install, 100, 2000, "100 requests a second per client, in bursts of 2000"},
		{tab.API, 10, 20, "10 requests a second per client, in bursts of 20"},
		{tab.Upload, 2, 5, "2 requests a second per client, in bursts of 5"},
		{tab.Form, 10, 20, "10 requests a second per client, in bursts of 20"},
		{tab.LoginPair, 5.0 / 900, 5, "5 per 15 minutes per account and address"},
		{tab.LoginAccount, 20.0 / 900, 20, "20 per 15 minutes per account"},
		{tab.LoginClient, 20.0 / 900, 20, "20 per 15 minutes per address"},
	} {
		if tc.p.Limit.Rate != tc.rate || tc.p.Limit.Burst != tc.burst || tc.p.Describe() != tc.say {
			t.Errorf("%s: %+v %q, want rate %v burst %d %q", tc.p.Name, tc.p.Limit, tc.p.Describe(), tc.rate, tc.burst, tc.say)
		}
		if err := tc.p.Limit.Validate(); err != nil {
			t.Errorf("%s: %v", tc.p.Name, err)
		}
	}
	names := map[string]bool{}
	for _, p := range tab.All() {
		if names[p.Name] {
			t.Errorf("two policies named %s share their buckets", p.Name)
		}
		names[p.Name] = true
	}
	// A slow rate still allows one request; an upload burst at least 5.
	slow := ratelimit.NewTable(ratelimit.Rates{Install: 0.05, API: 0.05, Upload: 0.05})
	if slow.Install.Limit.Burst != 1 || slow.API.Limit.Burst != 1 || slow.Upload.Limit.Burst != 5 {
		t.Errorf("slow bursts: %d %d %d", slow.Install.Limit.Burst, slow.API.Limit.Burst, slow.Upload.Limit.Burst)
	}
	if slow.Install.Describe() != "3 requests a minute per client, in bursts of 1" {
		t.Errorf("slow install: %q", slow.Install.Describe())
	}
}

func TestPolicyAllow(t *testing.T) {
	ctx := context.Background()
	lim := memory.New(memory.Options{})
	p := ratelimit.NewTable(ratelimit.Rates{Install: 0.5, API: 0.05, Upload: 1}).API
	if _, err := p.Allow(ctx, lim, "ip:192.0.2.1"); err != nil {
		t.Fatalf("first request: %v", err)
	}
	res, err := p.Allow(ctx, lim, "ip:192.0.2.1")
	if !errors.Is(err, errs.RateLimited) || res.Allowed {
		t.Fatalf("second request: %+v, %v; want refused", res, err)
	}
	if d, ok := errs.RetryAfter(err); !ok || d <= 0 || d > 20*time.Second {
		t.Errorf("Retry-After %v", d)
	}
	if msg := errs.Message(err); !strings.Contains(msg, "the api limit (3 requests a minute per client, in bursts of 1)") || !strings.Contains(msg, "retry after 20 s") {
		t.Errorf("refusal %q does not name the limit and the wait", msg)
	}
	// Another client, and the same client under another policy, have
	// buckets of their own.
	if _, err := p.Allow(ctx, lim, "ip:192.0.2.2"); err != nil {
		t.Errorf("another client: %v", err)
	}
	install := ratelimit.NewTable(ratelimit.Rates{Install: 0.5}).Install
	if _, err := install.Allow(ctx, lim, "ip:192.0.2.1"); err != nil {
		t.Errorf("the install policy: %v", err)
	}
	// A policy turned off asks no limiter.
	off := ratelimit.NewTable(ratelimit.Rates{}).Upload
	for range 10 {
		if _, err := off.Allow(ctx, nil, "ip:192.0.2.1"); err != nil {
			t.Fatalf("a limit turned off refused: %v", err)
		}
	}
}
