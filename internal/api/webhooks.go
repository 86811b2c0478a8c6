package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/registry"
)

// Webhooks of a package live under /api/packages/{name}/webhooks (its
// owners and admins), registry-wide ones under /api/admin/webhooks
// (admins); the handlers serve both, the path saying which.

type webhookBody struct {
	URL    string   `json:"url"`
	Secret string   `json:"secret"`
	Events []string `json:"events"`
	// Active defaults to true.
	Active *bool `json:"active"`
}

type webhookJSON struct {
	ID        int64     `json:"id"`
	Package   *string   `json:"package"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Active    bool      `json:"active"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	// Secret is sent once, in the answer to the creation.
	Secret string `json:"secret,omitempty"`
}

func newWebhookJSON(h *registry.Webhook) webhookJSON {
	out := webhookJSON{ID: h.ID, URL: h.URL, Events: h.Events, Active: h.Active, CreatedBy: h.CreatedBy,
		CreatedAt: h.CreatedAt, Secret: h.Secret}
	if h.Package != "" {
		out.Package = &h.Package
	}
	return out
}

type attemptJSON struct {
	At            time.Time  `json:"at"`
	Status        int        `json:"status"`
	Error         string     `json:"error,omitempty"`
	DurationMS    int64      `json:"duration_ms"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
}

type deliveryJSON struct {
	ID            int64         `json:"id"`
	WebhookID     int64         `json:"webhook_id"`
	GUID          string        `json:"delivery"`
	Event         string        `json:"event"`
	Package       string        `json:"package"`
	State         string        `json:"state"`
	NextAttemptAt *time.Time    `json:"next_attempt_at"`
	LastStatus    int           `json:"last_status"`
	LastError     string        `json:"last_error,omitempty"`
	CreatedAt     time.Time     `json:"created_at"`
	Attempts      []attemptJSON `json:"attempts"`
}

// hookScope is the package a webhook route is about: "" under /api/admin.
func hookScope(r *http.Request) string { return r.PathValue("name") }

// scopeName is a package's canonical name as answers carry it, null for
// the registry-wide hooks ("").
func scopeName(name string) *string {
	if name == "" {
		return nil
	}
	return &name
}

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	hs, err := a.reg.Webhooks(r.Context(), principal(r), hookScope(r))
	if err != nil {
		return err
	}
	out := []webhookJSON{}
	for i := range hs.Hooks {
		out = append(out, newWebhookJSON(&hs.Hooks[i]))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"name": scopeName(hs.Package), "webhooks": out})
}

func (a *API) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var b webhookBody
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	in := registry.WebhookInput{URL: b.URL, Secret: b.Secret, Events: b.Events, Inactive: b.Active != nil && !*b.Active}
	h, err := a.reg.CreateWebhook(r.Context(), principal(r), hookScope(r), in, clientIP(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusCreated, newWebhookJSON(h))
}

func pathID(r *http.Request, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.Errorf(errs.NotFound, "no %s with id %q; ids are the numbers the list shows", what, r.PathValue("id"))
	}
	return id, nil
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "webhook")
	if err != nil {
		return err
	}
	if err := a.reg.DeleteWebhook(r.Context(), principal(r), hookScope(r), id, clientIP(r)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"deleted": id})
}

type webhookPatch struct {
	Active *bool `json:"active"`
}

func (a *API) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "webhook")
	if err != nil {
		return err
	}
	var b webhookPatch
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	if b.Active == nil {
		return errs.New(errs.Invalid, `send {"active": true} or {"active": false}; a webhook's URL, secret and events do not change (delete it and create another)`)
	}
	h, err := a.reg.SetWebhookActive(r.Context(), principal(r), hookScope(r), id, *b.Active, clientIP(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newWebhookJSON(h))
}

func (a *API) webhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return errs.New(errs.Invalid, "limit must be a number from 1 to 100")
		}
		limit = n
	}
	ds, err := a.reg.WebhookDeliveries(r.Context(), principal(r), hookScope(r), limit)
	if err != nil {
		return err
	}
	out := []deliveryJSON{}
	for _, d := range ds.Deliveries {
		dj := deliveryJSON{ID: d.ID, WebhookID: d.WebhookID, GUID: d.GUID, Event: d.Event, Package: d.Package, State: d.State,
			NextAttemptAt: d.NextAttemptAt, LastStatus: d.LastStatus, LastError: d.LastError, CreatedAt: d.CreatedAt, Attempts: []attemptJSON{}}
		for _, at := range d.Attempts {
			dj.Attempts = append(dj.Attempts, attemptJSON{At: at.At, Status: at.Status, Error: at.Error,
				DurationMS: at.Duration.Milliseconds(), NextAttemptAt: at.NextAttemptAt})
		}
		out = append(out, dj)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"name": scopeName(ds.Package), "deliveries": out})
}

func (a *API) redeliver(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "webhook delivery")
	if err != nil {
		return err
	}
	if err := a.reg.Redeliver(r.Context(), principal(r), hookScope(r), id, clientIP(r)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, map[string]any{"redelivering": id})
}
