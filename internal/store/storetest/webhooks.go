package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/store"
)

func newHook(t *testing.T, s store.Queries, packageID int64, url string, events ...string) *store.Webhook {
	t.Helper()
	h := &store.Webhook{PackageID: packageID, URL: url, Secret: "s3cret", Events: events, Active: true, CreatedBy: "hooks", CreatedAt: t0}
	must(t, s.CreateWebhook(ctx, h))
	return h
}

func newDelivery(t *testing.T, s store.Queries, h *store.Webhook, guid string, at time.Time) *store.WebhookDelivery {
	t.Helper()
	d := &store.WebhookDelivery{WebhookID: h.ID, GUID: guid, Event: "version.published", Package: "pkg",
		Payload: []byte(`{"event":"version.published"}`), CreatedAt: at}
	must(t, s.EnqueueDelivery(ctx, d))
	return d
}

func testWebhooks(t *testing.T, s store.Store) {
	u := newUser(t, s, "hooks")
	a, b := newPackage(t, s, "ha", u), newPackage(t, s, "hb", u)
	ha := newHook(t, s, a.ID, "https://a.example/hook", "version.published", "version.yanked")
	hb := newHook(t, s, b.ID, "https://b.example/hook")
	global := newHook(t, s, 0, "https://all.example/hook")
	off := &store.Webhook{PackageID: a.ID, URL: "https://off.example/", Secret: "x", Active: false, CreatedAt: t0}
	must(t, s.CreateWebhook(ctx, off))

	got, err := s.GetWebhook(ctx, ha.ID)
	must(t, err)
	if got.PackageID != a.ID || got.URL != ha.URL || got.Secret != "s3cret" || !slices.Equal(got.Events, ha.Events) ||
		!got.Active || got.CreatedBy != "hooks" || !got.CreatedAt.Equal(t0) {
		t.Errorf("GetWebhook = %+v, want %+v", got, ha)
	}
	if g, err := s.GetWebhook(ctx, global.ID); err != nil || g.PackageID != 0 || len(g.Events) != 0 {
		t.Errorf("registry-wide hook = %+v, %v", g, err)
	}
	_, err = s.GetWebhook(ctx, 9999)
	wantKind(t, err, errs.NotFound)

	ids := func(hs []store.Webhook) []int64 {
		var out []int64
		for _, h := range hs {
			out = append(out, h.ID)
		}
		return out
	}
	list, err := s.ListWebhooks(ctx, a.ID)
	must(t, err)
	if !slices.Equal(ids(list), []int64{ha.ID, off.ID}) {
		t.Errorf("ListWebhooks(a) = %v", ids(list))
	}
	list, err = s.ListWebhooks(ctx, 0)
	must(t, err)
	if !slices.Equal(ids(list), []int64{global.ID}) {
		t.Errorf("ListWebhooks(registry-wide) = %v", ids(list))
	}
	active, err := s.ActiveWebhooks(ctx, a.ID)
	must(t, err)
	if !slices.Equal(ids(active), []int64{ha.ID, global.ID}) {
		t.Errorf("ActiveWebhooks(a) = %v, want a's active hook and the registry-wide one", ids(active))
	}
	active, err = s.ActiveWebhooks(ctx, 0)
	must(t, err)
	if !slices.Equal(ids(active), []int64{global.ID}) {
		t.Errorf("ActiveWebhooks(0) = %v", ids(active))
	}

	// Switched off, a hook no longer hears anything; switched on again, it does.
	must(t, s.SetWebhookActive(ctx, ha.ID, false))
	if active, err := s.ActiveWebhooks(ctx, a.ID); err != nil || !slices.Equal(ids(active), []int64{global.ID}) {
		t.Errorf("ActiveWebhooks after switching a's hook off = %v, %v", ids(active), err)
	}
	must(t, s.SetWebhookActive(ctx, ha.ID, true))
	if got, err := s.GetWebhook(ctx, ha.ID); err != nil || !got.Active {
		t.Errorf("switched on again: %+v, %v", got, err)
	}
	wantKind(t, s.SetWebhookActive(ctx, 9999, true), errs.NotFound)

	// Deleting a hook takes its deliveries and their attempts along.
	d := newDelivery(t, s, hb, "gone-1", t0)
	must(t, s.RecordAttempt(ctx, &store.WebhookAttempt{DeliveryID: d.ID, At: t0, Status: 500}, 0, store.DeliveryPending))
	must(t, s.DeleteWebhook(ctx, hb.ID))
	_, err = s.GetDelivery(ctx, d.ID)
	wantKind(t, err, errs.NotFound)
	wantKind(t, s.DeleteWebhook(ctx, hb.ID), errs.NotFound)
}

func testWebhookQueue(t *testing.T, s store.Store) {
	u := newUser(t, s, "queue")
	p := newPackage(t, s, "hq", u)
	h := newHook(t, s, p.ID, "https://q.example/hook")
	d1 := newDelivery(t, s, h, "d-1", t0)
	d2 := newDelivery(t, s, h, "d-2", t0.Add(time.Second))
	d3 := newDelivery(t, s, h, "d-3", t0.Add(time.Hour))
	if d1.State != store.DeliveryPending || d1.ID == 0 {
		t.Fatalf("enqueued %+v", d1)
	}
	wantKind(t, s.EnqueueDelivery(ctx, &store.WebhookDelivery{WebhookID: h.ID, GUID: "d-1", Event: "x", Payload: []byte("{}")}), errs.Conflict)

	// A claim takes no more than it was asked for.
	one, err := s.ClaimDeliveries(ctx, t0, time.Minute, 1)
	must(t, err)
	if len(one) != 1 || one[0].ID != d1.ID {
		t.Fatalf("claimed %d deliveries with limit 1: %+v", len(one), one)
	}
	// d1's lease ends at t0+1m.
	claimed, err := s.ClaimDeliveries(ctx, t0.Add(time.Minute), time.Minute, 10)
	must(t, err)
	if len(claimed) != 2 || claimed[0].ID != d1.ID || claimed[1].ID != d2.ID || string(claimed[0].Payload) != `{"event":"version.published"}` {
		t.Fatalf("claimed %+v; want the two due deliveries", claimed)
	}
	// Leased: another worker gets nothing until the lease runs out.
	again, err := s.ClaimDeliveries(ctx, t0.Add(90*time.Second), time.Minute, 10)
	must(t, err)
	if len(again) != 0 {
		t.Fatalf("claimed leased deliveries: %+v", again)
	}

	// d1 is delivered; d2 fails and is due again in an hour.
	must(t, s.RecordAttempt(ctx, &store.WebhookAttempt{DeliveryID: d1.ID, At: t0.Add(time.Minute), Status: 204, Duration: 15 * time.Millisecond},
		0, store.DeliveryDelivered))
	retry := t0.Add(2 * time.Hour)
	must(t, s.RecordAttempt(ctx, &store.WebhookAttempt{DeliveryID: d2.ID, At: t0.Add(time.Minute), Error: "connection refused",
		NextAttemptAt: &retry}, 0, store.DeliveryPending))
	// A worker whose lease ran out cannot record over the one that won.
	wantKind(t, s.RecordAttempt(ctx, &store.WebhookAttempt{DeliveryID: d2.ID, At: t0.Add(time.Minute)}, 0, store.DeliveryDelivered), errs.Conflict)

	got, err := s.GetDelivery(ctx, d2.ID)
	must(t, err)
	if got.State != store.DeliveryPending || got.Attempts != 1 || got.LastError != "connection refused" || !got.NextAttemptAt.Equal(retry) {
		t.Errorf("after a failed attempt: %+v", got)
	}
	// At d3's time only d3 is due; d2 waits for its retry.
	claimed, err = s.ClaimDeliveries(ctx, t0.Add(time.Hour), time.Minute, 10)
	must(t, err)
	if len(claimed) != 1 || claimed[0].ID != d3.ID {
		t.Fatalf("claimed %+v; want d-3 only", claimed)
	}
	must(t, s.RecordAttempt(ctx, &store.WebhookAttempt{DeliveryID: d3.ID, At: t0.Add(time.Hour), Status: 200}, 0, store.DeliveryDelivered))
	claimed, err = s.ClaimDeliveries(ctx, retry, time.Minute, 10)
	must(t, err)
	if len(claimed) != 1 || claimed[0].ID != d2.ID || claimed[0].Attempts != 1 {
		t.Fatalf("retry claim = %+v", claimed)
	}
	must(t, s.RecordAttempt(ctx, &store.WebhookAttempt{DeliveryID: d2.ID, At: retry, Status: 502}, 1, store.DeliveryFailed))

	attempts, err := s.ListAttempts(ctx, d2.ID)
	must(t, err)
	if len(attempts) != 2 || attempts[0].Error != "connection refused" || attempts[0].NextAttemptAt == nil ||
		!attempts[0].NextAttemptAt.Equal(retry) || attempts[1].Status != 502 || attempts[1].NextAttemptAt != nil {
		t.Errorf("attempts = %+v", attempts)
	}
	if a, err := s.ListAttempts(ctx, d1.ID); err != nil || len(a) != 1 || a[0].Duration != 15*time.Millisecond || a[0].Status != 204 {
		t.Errorf("d-1 attempts = %+v, %v", a, err)
	}

	// Failed deliveries are not claimed, until sent again.
	if c, err := s.ClaimDeliveries(ctx, retry.Add(time.Hour), time.Minute, 10); err != nil || len(c) != 0 {
		t.Fatalf("claim after failure = %+v, %v; want none", c, err)
	}
	wantKind(t, s.Redeliver(ctx, d1.ID, retry), errs.Conflict)
	must(t, s.Redeliver(ctx, d2.ID, retry.Add(2*time.Hour)))
	if c, err := s.ClaimDeliveries(ctx, retry.Add(2*time.Hour), time.Minute, 10); err != nil || len(c) != 1 || c[0].ID != d2.ID {
		t.Fatalf("claim after redeliver = %+v, %v", c, err)
	}

	// Pruning keeps pending deliveries and recent ones: d1 (delivered at
	// t0+1m) goes, d3 (delivered at t0+1h) stays with the rest.
	n, err := s.PruneDeliveries(ctx, t0.Add(30*time.Minute))
	must(t, err)
	if n != 1 {
		t.Errorf("PruneDeliveries removed %d, want 1", n)
	}
	_, err = s.GetDelivery(ctx, d1.ID)
	wantKind(t, err, errs.NotFound)
	if a, err := s.ListAttempts(ctx, d1.ID); err != nil || len(a) != 0 {
		t.Errorf("attempts of a pruned delivery: %+v, %v", a, err)
	}

	list, err := s.ListDeliveries(ctx, store.DeliveryFilter{PackageID: p.ID, Limit: 2})
	must(t, err)
	if len(list) != 2 || list[0].ID != d3.ID || list[1].ID != d2.ID {
		t.Errorf("ListDeliveries newest first = %+v", list)
	}
	list, err = s.ListDeliveries(ctx, store.DeliveryFilter{WebhookID: h.ID})
	must(t, err)
	if len(list) != 2 {
		t.Errorf("ListDeliveries of the hook = %d, want 2", len(list))
	}
	if list, err := s.ListDeliveries(ctx, store.DeliveryFilter{}); err != nil || len(list) != 0 {
		t.Errorf("registry-wide deliveries = %+v, %v", list, err)
	}
}

// testWebhookConcurrentClaims has several workers claim one queue at
// once: every delivery is claimed exactly once.
func testWebhookConcurrentClaims(t *testing.T, s store.Store) {
	u := newUser(t, s, "claims")
	p := newPackage(t, s, "hc", u)
	h := newHook(t, s, p.ID, "https://c.example/hook")
	const n = 40
	for i := range n {
		newDelivery(t, s, h, fmt.Sprintf("c-%d", i), t0)
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for {
				got, err := s.ClaimDeliveries(ctx, t0.Add(time.Second), time.Hour, 3)
				if err != nil {
					errc <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					seen[d.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Errorf("claimed %d deliveries, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("delivery %d claimed %d times", id, c)
		}
	}
}
