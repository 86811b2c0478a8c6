package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/httpx"
	"github.com/dryad-lang/registry/internal/registry"
)

// webhookLogSize is how many of the latest deliveries the pages show.
const webhookLogSize = 20

// hooksView is the webhooks section of the management page (a package's
// hooks) and of the admin page (the registry-wide ones).
type hooksView struct {
	// Action is the base of the section's forms.
	Action     string
	Hooks      []registry.Webhook
	Deliveries []registry.WebhookDelivery
	Events     []registry.WebhookEventInfo
	Max        int
	// Created is the hook just created, with its secret: the page that
	// answers the creation is the one place the secret is ever shown.
	Created *registry.Webhook
}

// hooks reads the webhooks section of a package (pkg "": the registry).
func (w *Web) hooks(r *http.Request, pkg, action string) (*hooksView, error) {
	p := stateOf(r).user
	hs, err := w.reg.Webhooks(r.Context(), p, pkg)
	if err != nil {
		return nil, err
	}
	ds, err := w.reg.WebhookDeliveries(r.Context(), p, pkg, webhookLogSize)
	if err != nil {
		return nil, err
	}
	return &hooksView{Action: action, Hooks: hs.Hooks, Deliveries: ds.Deliveries, Events: registry.WebhookEvents(), Max: registry.MaxWebhooks}, nil
}

func manageHooksAction(name string) string {
	return "/dashboard/packages/" + pathEscape(name) + "/webhooks"
}

// hookInput reads the creation form: url, secret (optional) and the
// checked events (none: all).
func hookInput(r *http.Request) registry.WebhookInput {
	f := r.PostForm
	return registry.WebhookInput{URL: strings.TrimSpace(f.Get("url")), Secret: f.Get("secret"), Events: f["events"],
		Inactive: f.Get("active") == "false"}
}

// createHook serves POST /dashboard/packages/{name}/webhooks. It answers
// with the page itself rather than a redirect, so that the new secret
// appears once and is kept nowhere (no flash cookie, no URL).
func (w *Web) createHook(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.form(rw, r)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	h, err := w.reg.CreateWebhook(r.Context(), p, name, hookInput(r), httpx.ClientOf(r).IP)
	if err != nil {
		return w.manageError(rw, r, err)
	}
	rw.Header().Set("Cache-Control", "no-store")
	return w.showManageData(rw, r, http.StatusCreated, manageData{Created: h})
}

// formID reads a positive id from a form field.
func formID(r *http.Request, field, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PostForm.Get(field), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.Errorf(errs.Invalid, "the form's %s is not a %s id; reload the page and try again", field, what)
	}
	return id, nil
}

// deleteHook serves POST /dashboard/packages/{name}/webhooks/delete: the
// field id.
func (w *Web) deleteHook(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.form(rw, r)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	id, err := formID(r, "id", "webhook")
	if err != nil {
		return err
	}
	if err := w.reg.DeleteWebhook(r.Context(), p, name, id, httpx.ClientOf(r).IP); err != nil {
		return w.manageError(rw, r, err)
	}
	setFlash(rw, r, "success", "The webhook was deleted, with its delivery log.")
	redirect(rw, r, "/dashboard/packages/"+pathEscape(name)+"#webhooks")
	return nil
}

// switchHook serves POST /dashboard/packages/{name}/webhooks/active: the
// fields id and active ("true" or "false").
func (w *Web) switchHook(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.form(rw, r)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	id, active, err := switchFields(r)
	if err != nil {
		return err
	}
	if _, err := w.reg.SetWebhookActive(r.Context(), p, name, id, active, httpx.ClientOf(r).IP); err != nil {
		return w.manageError(rw, r, err)
	}
	setFlash(rw, r, "success", switchedMessage(active))
	redirect(rw, r, "/dashboard/packages/"+pathEscape(name)+"#webhooks")
	return nil
}

func switchFields(r *http.Request) (int64, bool, error) {
	id, err := formID(r, "id", "webhook")
	if err != nil {
		return 0, false, err
	}
	switch r.PostForm.Get("active") {
	case "true":
		return id, true, nil
	case "false":
		return id, false, nil
	}
	return 0, false, errs.New(errs.Invalid, `the form's active must be "true" or "false"; reload the page and try again`)
}

func switchedMessage(active bool) string {
	if active {
		return "The webhook is active again: new events are sent to it."
	}
	return "The webhook is paused: new events are not sent to it until it is resumed."
}

// adminSwitchHook serves POST /admin/webhooks/active.
func (w *Web) adminSwitchHook(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.form(rw, r)
	if err != nil {
		return err
	}
	id, active, err := switchFields(r)
	if err != nil {
		return err
	}
	if _, err := w.reg.SetWebhookActive(r.Context(), p, "", id, active, httpx.ClientOf(r).IP); err != nil {
		return w.adminError(rw, r, err)
	}
	setFlash(rw, r, "success", switchedMessage(active))
	redirect(rw, r, "/admin#webhooks")
	return nil
}

// redeliverHook serves POST /dashboard/packages/{name}/webhooks/redeliver:
// the field delivery.
func (w *Web) redeliverHook(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.form(rw, r)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	id, err := formID(r, "delivery", "delivery")
	if err != nil {
		return err
	}
	if err := w.reg.Redeliver(r.Context(), p, name, id, httpx.ClientOf(r).IP); err != nil {
		return w.manageError(rw, r, err)
	}
	setFlash(rw, r, "success", "The delivery will be sent again in a moment; reload to see the attempt.")
	redirect(rw, r, "/dashboard/packages/"+pathEscape(name)+"#webhooks")
	return nil
}

// adminCreateHook serves POST /admin/webhooks: a registry-wide hook.
func (w *Web) adminCreateHook(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.form(rw, r)
	if err != nil {
		return err
	}
	h, err := w.reg.CreateWebhook(r.Context(), p, "", hookInput(r), httpx.ClientOf(r).IP)
	if err != nil {
		return w.adminError(rw, r, err)
	}
	rw.Header().Set("Cache-Control", "no-store")
	return w.showAdmin(rw, r, http.StatusCreated, adminData{Created: h})
}

// adminDeleteHook serves POST /admin/webhooks/delete: the field id.
func (w *Web) adminDeleteHook(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.form(rw, r)
	if err != nil {
		return err
	}
	id, err := formID(r, "id", "webhook")
	if err != nil {
		return err
	}
	if err := w.reg.DeleteWebhook(r.Context(), p, "", id, httpx.ClientOf(r).IP); err != nil {
		return w.adminError(rw, r, err)
	}
	setFlash(rw, r, "success", "The registry-wide webhook was deleted, with its delivery log.")
	redirect(rw, r, "/admin#webhooks")
	return nil
}

// adminRedeliverHook serves POST /admin/webhooks/redeliver: the field
// delivery.
func (w *Web) adminRedeliverHook(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.form(rw, r)
	if err != nil {
		return err
	}
	id, err := formID(r, "delivery", "delivery")
	if err != nil {
		return err
	}
	if err := w.reg.Redeliver(r.Context(), p, "", id, httpx.ClientOf(r).IP); err != nil {
		return w.adminError(rw, r, err)
	}
	setFlash(rw, r, "success", "The delivery will be sent again in a moment; reload to see the attempt.")
	redirect(rw, r, "/admin#webhooks")
	return nil
}

// adminError shows a refused change on the admin page, with the status of
// its kind.
func (w *Web) adminError(rw http.ResponseWriter, r *http.Request, err error) error {
	switch errs.KindOf(err) {
	case errs.Internal, errs.Unauthenticated, errs.Forbidden, errs.NotFound:
		return err
	}
	return w.showAdmin(rw, r, errs.KindOf(err).Status(), adminData{Error: period(errs.Message(err))})
}
