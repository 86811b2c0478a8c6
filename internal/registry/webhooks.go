package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/manifest"
	"github.com/dryad-lang/registry/internal/store"
)

// Webhook events. A hook subscribes to some of them (or all). To add an
// event: a constant here, its name in webhookEvents with a description,
// and a call of queueWebhooks (in the transaction of the change) or
// NotifyWebhooks where it happens; receivers ignore events they do not know.
const (
	EventVersionPublished = "version.published"
	EventVersionYanked    = "version.yanked"
	EventVersionUnyanked  = "version.unyanked"
	EventVersionDeleted   = "version.deleted"
	EventPackageDeleted   = "package.deleted"
	EventOwnerAdded       = "owner.added"
	EventOwnerRemoved     = "owner.removed"
	// EventDependentsAffected tells a package's hooks that one of its
	// dependencies changed in a way that affects it (a version it may
	// resolve to was yanked); its Data says which.
	EventDependentsAffected = "dependents.affected"
)

// WebhookEventInfo names and describes an event hooks may subscribe to.
type WebhookEventInfo struct {
	Name, Description string
}

var webhookEvents = []WebhookEventInfo{
	{EventVersionPublished, "a version was published"},
	{EventVersionYanked, "a version was yanked"},
	{EventVersionUnyanked, "a yanked version was restored"},
	{EventVersionDeleted, "a version was deleted"},
	{EventPackageDeleted, "the package was deleted"},
	{EventOwnerAdded, "an owner was added"},
	{EventOwnerRemoved, "an owner was removed"},
	{EventDependentsAffected, "a dependency of the package changed in a way that affects it"},
}

// WebhookEvents lists the events hooks may subscribe to, in display order.
func WebhookEvents() []WebhookEventInfo { return slices.Clone(webhookEvents) }

func knownEvent(name string) bool {
	return slices.ContainsFunc(webhookEvents, func(e WebhookEventInfo) bool { return e.Name == name })
}

// MaxWebhooks bounds the hooks of one package, and the registry-wide ones.
const MaxWebhooks = 10

// Webhook is an HTTP callback told about changes to a package, or to every
// package (Package "", registry-wide).
type Webhook struct {
	ID      int64
	Package string
	URL     string
	// Events are the events it wants; empty means every event.
	Events    []string
	Active    bool
	CreatedBy string
	CreatedAt time.Time
	// Secret signs the deliveries; it is set only in CreateWebhook's
	// answer, the one time it is shown.
	Secret string
}

// WebhookInput is what creates a hook.
type WebhookInput struct {
	URL string
	// Secret, when empty, is generated.
	Secret string
	// Events, when empty, means every event.
	Events []string
	// Inactive creates the hook switched off (nothing is queued for it).
	Inactive bool
}

// WebhookDelivery is one event sent (or to send) to one hook, with its
// attempts.
type WebhookDelivery struct {
	ID        int64
	WebhookID int64
	// GUID is the id the receiver sees (X-Dryad-Delivery).
	GUID    string
	Event   string
	Package string
	// State is "pending", "delivered" or "failed".
	State    string
	Attempts []WebhookAttempt
	// NextAttemptAt is when a pending delivery is tried next.
	NextAttemptAt *time.Time
	LastStatus    int
	LastError     string
	CreatedAt     time.Time
}

// WebhookAttempt is one attempt at a delivery: the receiver's status (0
// when it did not answer) or the error, and when the next attempt was
// planned (nil after the last one).
type WebhookAttempt struct {
	At            time.Time
	Status        int
	Error         string
	Duration      time.Duration
	NextAttemptAt *time.Time
}

// WebhookEvent is a change to tell hooks about.
type WebhookEvent struct {
	// Name is one of the Event constants.
	Name string
	// Package is the package's canonical name; Version the version, when
	// the event is about one.
	Package string
	Version string
	// Actor is the username of who made the change ("" for the registry).
	Actor string
	Time  time.Time
	// Data holds the event's own fields (the owner of an owner event, the
	// dependency of dependents.affected, …); they are sent under "data".
	Data map[string]any
}

// NotifyWebhooks queues ev for the active hooks of the package (by any
// spelling of its name) that want it, and for the registry-wide ones, in
// one transaction of its own. Code already inside the transaction of the
// change it reports calls queueWebhooks instead, so that the event is
// queued if and only if the change commits. Deliveries are sent by the
// webhook worker (internal/webhook), retried until they succeed or run out
// of attempts.
func (s *Service) NotifyWebhooks(ctx context.Context, ev WebhookEvent) error {
	defer s.webhookWork()
	return s.store.Transact(ctx, func(tx store.Queries) error {
		var pkgID int64
		if ev.Package != "" {
			pk, err := tx.GetPackage(ctx, manifest.NormalizeName(ev.Package))
			if err != nil {
				return err
			}
			pkgID, ev.Package = pk.ID, pk.Name
		}
		return s.queueWebhooks(ctx, tx, pkgID, ev)
	})
}

// queueWebhooks queues ev in tx for the hooks of package pkgID (0: only
// the registry-wide hooks) that want it: one delivery each, with its own
// id and payload.
func (s *Service) queueWebhooks(ctx context.Context, tx store.Queries, pkgID int64, ev WebhookEvent) error {
	if !knownEvent(ev.Name) {
		return fmt.Errorf("registry: unknown webhook event %q", ev.Name)
	}
	hooks, err := tx.ActiveWebhooks(ctx, pkgID)
	if err != nil || len(hooks) == 0 {
		return err
	}
	if ev.Time.IsZero() {
		ev.Time = s.utcNow()
	}
	for _, h := range hooks {
		if len(h.Events) > 0 && !slices.Contains(h.Events, ev.Name) {
			continue
		}
		guid, err := newDeliveryID()
		if err != nil {
			return err
		}
		body, err := s.webhookPayload(guid, h.PackageID == 0, ev)
		if err != nil {
			return err
		}
		d := &store.WebhookDelivery{WebhookID: h.ID, GUID: guid, Event: ev.Name, Package: ev.Package, Payload: body, CreatedAt: s.utcNow()}
		if err := tx.EnqueueDelivery(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// webhookPayload is the JSON body of a delivery (README "Webhooks"). It is
// built once, when the event is queued, so that every attempt sends the
// same bytes under the same signature.
func (s *Service) webhookPayload(guid string, registryWide bool, ev WebhookEvent) ([]byte, error) {
	scope := "package"
	if registryWide {
		scope = "registry"
	}
	data := ev.Data
	if data == nil {
		data = map[string]any{}
	}
	var version any
	if ev.Version != "" {
		version = ev.Version
	}
	return json.Marshal(map[string]any{
		"id":       guid,
		"event":    ev.Name,
		"package":  ev.Package,
		"version":  version,
		"actor":    ev.Actor,
		"time":     ev.Time.UTC().Format(time.RFC3339Nano),
		"registry": s.registryURL(),
		"hook":     scope,
		"data":     data,
	})
}

// registryURL is the registry's address as payloads name it.
func (s *Service) registryURL() string {
	if s.opts.PublicURL != "" {
		return s.opts.PublicURL
	}
	return "https://" + s.opts.Domain
}

// webhookWork wakes the webhook worker, if any; called after the
// transaction that queued deliveries committed, so that it finds them.
func (s *Service) webhookWork() {
	if s.opts.OnWebhookWork != nil {
		s.opts.OnWebhookWork()
	}
}

func newDeliveryID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// hookScope finds the package whose hooks p manages (pkg "" for the
// registry-wide hooks, admins only) and checks that p may: an owner of the
// package or an admin, with a credential allowed to manage owners.
func (s *Service) hookScope(ctx context.Context, p *auth.Principal, pkg string) (*store.Package, error) {
	if pkg == "" {
		return nil, requireAdmin(p)
	}
	if p == nil {
		return nil, errs.New(errs.Unauthenticated, "log in or send an API token to manage webhooks")
	}
	if err := p.Require(auth.ScopeOwners, pkg); err != nil {
		return nil, err
	}
	pk, err := s.lookupPackage(ctx, pkg)
	if err != nil {
		return nil, err
	}
	if err := s.requireOwner(ctx, s.store, p, pk); err != nil {
		return nil, err
	}
	return pk, nil
}

func pkgIDOf(pk *store.Package) int64 {
	if pk == nil {
		return 0
	}
	return pk.ID
}

func newWebhook(pk *store.Package, h *store.Webhook) Webhook {
	out := Webhook{ID: h.ID, URL: h.URL, Events: h.Events, Active: h.Active, CreatedBy: h.CreatedBy, CreatedAt: h.CreatedAt.UTC()}
	if out.Events == nil {
		out.Events = []string{}
	}
	if pk != nil {
		out.Package = pk.Name
	}
	return out
}

// WebhookList is a package's hooks (Package "": the registry-wide ones).
type WebhookList struct {
	// Package is the package's canonical name.
	Package string
	Hooks   []Webhook
}

// Webhooks lists a package's hooks (pkg "": the registry-wide ones),
// without their secrets.
func (s *Service) Webhooks(ctx context.Context, p *auth.Principal, pkg string) (*WebhookList, error) {
	pk, err := s.hookScope(ctx, p, pkg)
	if err != nil {
		return nil, err
	}
	hs, err := s.store.ListWebhooks(ctx, pkgIDOf(pk))
	if err != nil {
		return nil, err
	}
	out := &WebhookList{Hooks: []Webhook{}}
	if pk != nil {
		out.Package = pk.Name
	}
	for i := range hs {
		out.Hooks = append(out.Hooks, newWebhook(pk, &hs[i]))
	}
	return out, nil
}

// CreateWebhook adds a hook to a package (pkg "": a registry-wide hook, by
// an admin). The answer carries the secret, which is never shown again.
func (s *Service) CreateWebhook(ctx context.Context, p *auth.Principal, pkg string, in WebhookInput, ip string) (*Webhook, error) {
	pk, err := s.hookScope(ctx, p, pkg)
	if err != nil {
		s.auditDenied(ctx, p, ip, "webhook_create", pkg, in.URL, err)
		return nil, err
	}
	u, err := s.checkWebhookURL(ctx, in.URL)
	if err != nil {
		return nil, err
	}
	events, err := checkEvents(in.Events)
	if err != nil {
		return nil, err
	}
	secret := in.Secret
	if secret == "" {
		if secret, err = newDeliveryID(); err != nil {
			return nil, err
		}
		secret = "whsec_" + secret
	} else if len(secret) < 16 || len(secret) > 200 || strings.ContainsFunc(secret, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return nil, errs.New(errs.Invalid, "a webhook secret must be 16 to 200 printable characters; leave it empty to have one generated")
	}
	h := &store.Webhook{PackageID: pkgIDOf(pk), URL: u, Secret: secret, Events: events, Active: !in.Inactive,
		CreatedBy: p.Username, CreatedAt: s.utcNow()}
	err = s.store.Transact(ctx, func(tx store.Queries) error {
		if pk != nil {
			// Held so that two creations at once cannot pass the limit.
			if _, err := tx.LockPackage(ctx, pk.NormalizedName); err != nil {
				return err
			}
		}
		hs, err := tx.ListWebhooks(ctx, h.PackageID)
		if err != nil {
			return err
		}
		if len(hs) >= MaxWebhooks {
			return errs.Errorf(errs.Conflict, "%s already has %d webhooks, the most allowed; delete one first", scopeName(pk), MaxWebhooks)
		}
		if err := tx.CreateWebhook(ctx, h); err != nil {
			return err
		}
		e := actor(p, ip)
		e.At, e.Action, e.Package, e.Target, e.Outcome = h.CreatedAt, "webhook_create", normOf(pk), u, store.OutcomeSuccess
		return tx.AddAudit(ctx, &e)
	})
	if err != nil {
		return nil, err
	}
	out := newWebhook(pk, h)
	out.Secret = secret
	return &out, nil
}

func scopeName(pk *store.Package) string {
	if pk == nil {
		return "the registry"
	}
	return pk.Name
}

func normOf(pk *store.Package) string {
	if pk == nil {
		return ""
	}
	return pk.NormalizedName
}

// DeleteWebhook removes a package's hook (pkg "": a registry-wide one)
// with its delivery log.
func (s *Service) DeleteWebhook(ctx context.Context, p *auth.Principal, pkg string, id int64, ip string) error {
	pk, err := s.hookScope(ctx, p, pkg)
	if err != nil {
		s.auditDenied(ctx, p, ip, "webhook_delete", pkg, fmt.Sprint(id), err)
		return err
	}
	h, err := s.hookOf(ctx, pk, id)
	if err != nil {
		return err
	}
	return s.store.Transact(ctx, func(tx store.Queries) error {
		if err := tx.DeleteWebhook(ctx, h.ID); err != nil {
			return err
		}
		e := actor(p, ip)
		e.Action, e.Package, e.Target, e.Outcome = "webhook_delete", normOf(pk), h.URL, store.OutcomeSuccess
		e.At = s.utcNow()
		return tx.AddAudit(ctx, &e)
	})
}

// SetWebhookActive switches a package's hook (pkg "": a registry-wide
// one) on or off. An inactive hook gets nothing queued; what was queued
// before is still sent.
func (s *Service) SetWebhookActive(ctx context.Context, p *auth.Principal, pkg string, id int64, active bool, ip string) (*Webhook, error) {
	pk, err := s.hookScope(ctx, p, pkg)
	if err != nil {
		s.auditDenied(ctx, p, ip, "webhook_update", pkg, fmt.Sprint(id), err)
		return nil, err
	}
	h, err := s.hookOf(ctx, pk, id)
	if err != nil {
		return nil, err
	}
	err = s.store.Transact(ctx, func(tx store.Queries) error {
		if err := tx.SetWebhookActive(ctx, h.ID, active); err != nil {
			return err
		}
		e := actor(p, ip)
		e.At, e.Action, e.Package, e.Target, e.Outcome = s.utcNow(), "webhook_update", normOf(pk), h.URL, store.OutcomeSuccess
		e.Detail = "inactive"
		if active {
			e.Detail = "active"
		}
		return tx.AddAudit(ctx, &e)
	})
	if err != nil {
		return nil, err
	}
	h.Active = active
	out := newWebhook(pk, h)
	return &out, nil
}

// hookOf finds hook id among those of pk (nil: the registry-wide ones).
func (s *Service) hookOf(ctx context.Context, pk *store.Package, id int64) (*store.Webhook, error) {
	h, err := s.store.GetWebhook(ctx, id)
	if err == nil && h.PackageID != pkgIDOf(pk) {
		err = errs.New(errs.NotFound, "not this scope's hook")
	}
	if errors.Is(err, errs.NotFound) {
		return nil, errs.Errorf(errs.NotFound, "%s has no webhook %d", scopeName(pk), id)
	}
	return h, err
}

// DeliveryList is the latest deliveries to a package's hooks (Package "":
// to the registry-wide ones).
type DeliveryList struct {
	// Package is the package's canonical name.
	Package    string
	Deliveries []WebhookDelivery
}

// WebhookDeliveries lists the latest deliveries (up to limit, at most 100)
// to a package's hooks (pkg "": to the registry-wide ones), newest first,
// each with its attempts.
func (s *Service) WebhookDeliveries(ctx context.Context, p *auth.Principal, pkg string, limit int) (*DeliveryList, error) {
	pk, err := s.hookScope(ctx, p, pkg)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	ds, err := s.store.ListDeliveries(ctx, store.DeliveryFilter{PackageID: pkgIDOf(pk), Limit: limit})
	if err != nil {
		return nil, err
	}
	out := &DeliveryList{Deliveries: []WebhookDelivery{}}
	if pk != nil {
		out.Package = pk.Name
	}
	for i := range ds {
		d := &ds[i]
		as, err := s.store.ListAttempts(ctx, d.ID)
		if err != nil {
			return nil, err
		}
		wd := WebhookDelivery{ID: d.ID, WebhookID: d.WebhookID, GUID: d.GUID, Event: d.Event, Package: d.Package,
			State: d.State, LastStatus: d.LastStatus, LastError: d.LastError, CreatedAt: d.CreatedAt.UTC(), Attempts: []WebhookAttempt{}}
		if d.State == store.DeliveryPending {
			next := d.NextAttemptAt.UTC()
			wd.NextAttemptAt = &next
		}
		for _, a := range as {
			wd.Attempts = append(wd.Attempts, WebhookAttempt{At: a.At.UTC(), Status: a.Status, Error: a.Error, Duration: a.Duration, NextAttemptAt: a.NextAttemptAt})
		}
		out.Deliveries = append(out.Deliveries, wd)
	}
	return out, nil
}

// Redeliver sends a failed delivery of a package's hook (pkg "": of a
// registry-wide hook) once more, at once; if that attempt fails too, the
// delivery is failed again.
func (s *Service) Redeliver(ctx context.Context, p *auth.Principal, pkg string, deliveryID int64, ip string) error {
	pk, err := s.hookScope(ctx, p, pkg)
	if err != nil {
		return err
	}
	d, err := s.store.GetDelivery(ctx, deliveryID)
	if errors.Is(err, errs.NotFound) {
		return errs.Errorf(errs.NotFound, "%s has no webhook delivery %d", scopeName(pk), deliveryID)
	}
	if err != nil {
		return err
	}
	if _, err := s.hookOf(ctx, pk, d.WebhookID); err != nil {
		return errs.Errorf(errs.NotFound, "%s has no webhook delivery %d", scopeName(pk), deliveryID)
	}
	if err := s.store.Redeliver(ctx, d.ID, s.utcNow()); err != nil {
		return err
	}
	s.webhookWork()
	return nil
}

func checkEvents(in []string) ([]string, error) {
	out := []string{}
	for _, e := range in {
		e = strings.TrimSpace(e)
		if e == "" || slices.Contains(out, e) {
			continue
		}
		if !knownEvent(e) {
			names := make([]string, len(webhookEvents))
			for i, k := range webhookEvents {
				names[i] = k.Name
			}
			return nil, errs.Errorf(errs.Invalid, "unknown webhook event %q; the events are %s (none for all)", e, strings.Join(names, ", "))
		}
		out = append(out, e)
	}
	if len(out) == len(webhookEvents) {
		out = []string{} // every event, including those added later
	}
	return out, nil
}

// checkWebhookURL checks a hook's URL: absolute http or https, with a
// host that (unless WebhookAllowPrivate) resolves only to public
// addresses. The worker checks the addresses again when it connects, since
// a name may resolve differently later.
func (s *Service) checkWebhookURL(ctx context.Context, raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Opaque != "" {
		return "", errs.New(errs.Invalid, "a webhook URL must be an absolute http:// or https:// URL, such as https://ci.example.org/hooks/dryad")
	}
	if u.User != nil {
		return "", errs.New(errs.Invalid, "a webhook URL must not carry a user name or password; the deliveries are signed with the hook's secret instead")
	}
	if len(raw) > 2000 {
		return "", errs.New(errs.Invalid, "a webhook URL must be at most 2000 characters")
	}
	u.Fragment = ""
	if s.opts.WebhookAllowPrivate {
		return u.String(), nil
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		ips, err := net.DefaultResolver.LookupNetIP(lctx, "ip", host)
		if err != nil || len(ips) == 0 {
			return "", errs.Errorf(errs.Unprocessable, "the webhook host %q does not resolve; check the URL", host)
		}
		addrs = ips
	}
	for _, a := range addrs {
		if ForbiddenWebhookAddr(a) {
			return "", errs.Errorf(errs.Unprocessable, "the webhook host %q is a loopback, private or link-local address (%s); webhooks go to public addresses only (an operator may allow others with WEBHOOK_ALLOW_PRIVATE=true)", host, a)
		}
	}
	return u.String(), nil
}

// ForbiddenWebhookAddr reports an address webhooks must not reach unless
// the operator allows it: loopback, private, link-local, unspecified,
// multicast and shared (carrier-grade NAT) addresses, which would let a
// hook probe the registry's own network.
func ForbiddenWebhookAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsUnspecified() || a.IsMulticast() || a.IsInterfaceLocalMulticast() ||
		netip.MustParsePrefix("100.64.0.0/10").Contains(a) || netip.MustParsePrefix("0.0.0.0/8").Contains(a)
}

// WebhookLogRetention is how long finished deliveries (delivered or
// failed) stay in the delivery log.
const WebhookLogRetention = 30 * 24 * time.Hour

// PruneWebhookDeliveries removes the deliveries that finished more than
// WebhookLogRetention ago, and counts them.
func (s *Service) PruneWebhookDeliveries(ctx context.Context) (int64, error) {
	return s.store.PruneDeliveries(ctx, s.utcNow().Add(-WebhookLogRetention))
}

// WebhookQueue is the registry's side of the webhook worker: the durable
// delivery queue.
type WebhookQueue struct{ s *Service }

// WebhookQueue returns the registry's side of the webhook worker.
func (s *Service) WebhookQueue() *WebhookQueue { return &WebhookQueue{s} }

// PendingDelivery is a claimed delivery with what sending it needs.
type PendingDelivery struct {
	ID      int64
	GUID    string
	Event   string
	URL     string
	Secret  string
	Payload []byte
	// Attempts counts the earlier attempts.
	Attempts int
}

// Claim claims up to n deliveries due at now for lease. Deliveries of a
// hook paused after they were queued are still sent: pausing stops new
// events only.
func (q *WebhookQueue) Claim(ctx context.Context, now time.Time, lease time.Duration, n int) ([]PendingDelivery, error) {
	ds, err := q.s.store.ClaimDeliveries(ctx, now, lease, n)
	if err != nil {
		return nil, err
	}
	var out []PendingDelivery
	for _, d := range ds {
		h, err := q.s.store.GetWebhook(ctx, d.WebhookID)
		if errors.Is(err, errs.NotFound) {
			continue // deleted while claimed: its deliveries are gone too
		}
		if err != nil {
			return out, err
		}
		out = append(out, PendingDelivery{ID: d.ID, GUID: d.GUID, Event: d.Event, URL: h.URL, Secret: h.Secret,
			Payload: d.Payload, Attempts: d.Attempts})
	}
	return out, nil
}

// Record records an attempt at a claimed delivery: delivered, or failed
// for good (next nil), or to retry at next. errs.Conflict says another
// worker recorded it first (this one's lease ran out).
func (q *WebhookQueue) Record(ctx context.Context, d PendingDelivery, at time.Time, status int, errText string, took time.Duration, delivered bool, next *time.Time) error {
	state := store.DeliveryPending
	switch {
	case delivered:
		state, next = store.DeliveryDelivered, nil
	case next == nil:
		state = store.DeliveryFailed
	}
	a := &store.WebhookAttempt{DeliveryID: d.ID, At: at, Status: status, Error: errText, Duration: took, NextAttemptAt: next}
	return q.s.store.RecordAttempt(ctx, a, d.Attempts, state)
}
