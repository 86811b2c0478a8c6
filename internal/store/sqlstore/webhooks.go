package sqlstore

import (
	"context"
	"database/sql"
	"sort"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/store"
)

const webhookCols = `id, COALESCE(package_id, 0), url, secret, events, active, created_by, created_at`

func scanWebhook(row interface{ Scan(...any) error }) (*store.Webhook, error) {
	var h store.Webhook
	err := row.Scan(&h.ID, &h.PackageID, &h.URL, &h.Secret, jsonList{&h.Events}, &h.Active, &h.CreatedBy, timeCol{&h.CreatedAt})
	return &h, err
}

// packageRef is a package id as a nullable column: 0 is a registry-wide
// hook, which has none.
func packageRef(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func (x q) CreateWebhook(ctx context.Context, h *store.Webhook) error {
	if h.CreatedAt.IsZero() {
		h.CreatedAt = time.Now().UTC()
	}
	h.CreatedAt = h.CreatedAt.UTC().Truncate(time.Microsecond)
	err := x.w.QueryRowContext(ctx, `INSERT INTO webhooks (package_id, url, secret, events, active, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		packageRef(h.PackageID), h.URL, h.Secret, listArg(h.Events), h.Active, h.CreatedBy, utc(h.CreatedAt)).Scan(&h.ID)
	return x.wrap(err, "webhook")
}

func (x q) GetWebhook(ctx context.Context, id int64) (*store.Webhook, error) {
	h, err := scanWebhook(x.r.QueryRowContext(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE id = $1`, id))
	if err != nil {
		return nil, x.wrap(err, "webhook")
	}
	return h, nil
}

func (x q) listWebhooks(ctx context.Context, query string, args ...any) ([]store.Webhook, error) {
	rows, err := x.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, x.wrap(err, "webhooks")
	}
	defer rows.Close()
	var out []store.Webhook
	for rows.Next() {
		h, err := scanWebhook(rows)
		if err != nil {
			return nil, x.wrap(err, "webhooks")
		}
		out = append(out, *h)
	}
	return out, x.wrap(rows.Err(), "webhooks")
}

func (x q) ListWebhooks(ctx context.Context, packageID int64) ([]store.Webhook, error) {
	return x.listWebhooks(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE COALESCE(package_id, 0) = $1 ORDER BY id`, packageID)
}

func (x q) ActiveWebhooks(ctx context.Context, packageID int64) ([]store.Webhook, error) {
	return x.listWebhooks(ctx, `SELECT `+webhookCols+` FROM webhooks
		WHERE active AND (package_id IS NULL OR package_id = $1) ORDER BY id`, packageID)
}

func (x q) SetWebhookActive(ctx context.Context, id int64, active bool) error {
	res, err := x.w.ExecContext(ctx, `UPDATE webhooks SET active = $2 WHERE id = $1`, id, active)
	return x.wrap(mustAffect(res, err, "webhook"), "webhook")
}

// DeleteWebhook removes the attempts and deliveries itself rather than
// relying on cascades, so that it does not depend on the engine enforcing
// them.
func (x q) DeleteWebhook(ctx context.Context, id int64) error {
	return x.atomic(ctx, func(t q) error {
		if _, err := t.w.ExecContext(ctx, `DELETE FROM webhook_attempts WHERE delivery_id IN
			(SELECT id FROM webhook_deliveries WHERE webhook_id = $1)`, id); err != nil {
			return t.wrap(err, "webhook")
		}
		if _, err := t.w.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE webhook_id = $1`, id); err != nil {
			return t.wrap(err, "webhook")
		}
		res, err := t.w.ExecContext(ctx, `DELETE FROM webhooks WHERE id = $1`, id)
		return t.wrap(mustAffect(res, err, "webhook"), "webhook")
	})
}

const deliveryCols = `id, webhook_id, guid, event, package, payload, state, attempts, next_attempt_at,
	last_status, last_error, created_at, updated_at`

func scanDelivery(row interface{ Scan(...any) error }) (*store.WebhookDelivery, error) {
	var d store.WebhookDelivery
	err := row.Scan(&d.ID, &d.WebhookID, &d.GUID, &d.Event, &d.Package, bytesCol{&d.Payload}, &d.State, &d.Attempts,
		timeCol{&d.NextAttemptAt}, &d.LastStatus, &d.LastError, timeCol{&d.CreatedAt}, timeCol{&d.UpdatedAt})
	return &d, err
}

func (x q) EnqueueDelivery(ctx context.Context, d *store.WebhookDelivery) error {
	if d.CreatedAt.IsZero() {
		d.CreatedAt = time.Now().UTC()
	}
	d.CreatedAt = d.CreatedAt.UTC().Truncate(time.Microsecond)
	if d.NextAttemptAt.IsZero() {
		d.NextAttemptAt = d.CreatedAt
	}
	d.State, d.UpdatedAt = store.DeliveryPending, d.CreatedAt
	err := x.w.QueryRowContext(ctx, `INSERT INTO webhook_deliveries
		(webhook_id, guid, event, package, payload, state, next_attempt_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`,
		d.WebhookID, d.GUID, d.Event, d.Package, string(d.Payload), d.State, utc(d.NextAttemptAt), utc(d.CreatedAt)).Scan(&d.ID)
	return x.wrap(err, "webhook delivery")
}

// ClaimDeliveries picks the due rows in a materialised CTE, evaluated
// exactly once, locking them and skipping rows another claimer holds; then
// leases what it picked. (With the picking subquery inside the UPDATE's
// WHERE, as ClaimGitJobs has it, PostgreSQL may run the subquery more than
// once and claim more rows than the limit.) Deliveries have no order
// between them: any due one may go.
func (x q) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.WebhookDelivery, error) {
	rows, err := x.w.QueryContext(ctx, `
		WITH picked AS MATERIALIZED (
			SELECT id FROM webhook_deliveries
			WHERE state = 'pending' AND next_attempt_at <= $1
			ORDER BY next_attempt_at, id LIMIT `+itoa(limit)+` `+x.d.SkipLocked+`
		)
		UPDATE webhook_deliveries SET next_attempt_at = $2
		FROM picked WHERE webhook_deliveries.id = picked.id
		RETURNING `+qualifiedDeliveryCols,
		utc(now), utc(now.Add(lease)))
	if err != nil {
		return nil, x.wrap(err, "webhook deliveries")
	}
	defer rows.Close()
	var out []store.WebhookDelivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, x.wrap(err, "webhook deliveries")
		}
		out = append(out, *d)
	}
	sort.Slice(out, func(i, k int) bool { return out[i].ID < out[k].ID })
	return out, x.wrap(rows.Err(), "webhook deliveries")
}

// qualifiedDeliveryCols is deliveryCols naming the table, for statements
// that join another relation with an id.
var qualifiedDeliveryCols = func() string {
	var cs []string
	for _, c := range strings.Split(deliveryCols, ",") {
		cs = append(cs, "webhook_deliveries."+strings.TrimSpace(c))
	}
	return strings.Join(cs, ", ")
}()

func (x q) RecordAttempt(ctx context.Context, a *store.WebhookAttempt, attempts int, state string) error {
	if len(a.Error) > 2000 {
		a.Error = a.Error[:2000]
	}
	a.At = a.At.UTC().Truncate(time.Microsecond)
	return x.atomic(ctx, func(t q) error {
		next := a.At
		if a.NextAttemptAt != nil {
			next = *a.NextAttemptAt
		}
		res, err := t.w.ExecContext(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, state = $3,
			next_attempt_at = $4, last_status = $5, last_error = $6, updated_at = $7
			WHERE id = $1 AND attempts = $2`, a.DeliveryID, attempts, state, utc(next), a.Status, a.Error, utc(a.At))
		if err := mustAffect(res, err, "webhook delivery"); errs.KindOf(err) == errs.NotFound {
			return errs.Errorf(errs.Conflict, "webhook delivery %d was recorded by another worker", a.DeliveryID)
		} else if err != nil {
			return t.wrap(err, "webhook delivery")
		}
		err = t.w.QueryRowContext(ctx, `INSERT INTO webhook_attempts (delivery_id, at, status, error, duration_ms, next_attempt_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			a.DeliveryID, utc(a.At), a.Status, a.Error, a.Duration.Milliseconds(), nullTime(a.NextAttemptAt)).Scan(&a.ID)
		return t.wrap(err, "webhook attempt")
	})
}

func (x q) GetDelivery(ctx context.Context, id int64) (*store.WebhookDelivery, error) {
	d, err := scanDelivery(x.r.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE id = $1`, id))
	if err != nil {
		return nil, x.wrap(err, "webhook delivery")
	}
	return d, nil
}

func (x q) ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]store.WebhookDelivery, error) {
	limit, _ := page(f.Limit, 0)
	var rows *sql.Rows
	var err error
	if f.WebhookID != 0 {
		rows, err = x.r.QueryContext(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries
			WHERE webhook_id = $1 ORDER BY id DESC LIMIT `+itoa(limit), f.WebhookID)
	} else {
		rows, err = x.r.QueryContext(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries
			WHERE webhook_id IN (SELECT id FROM webhooks WHERE COALESCE(package_id, 0) = $1)
			ORDER BY id DESC LIMIT `+itoa(limit), f.PackageID)
	}
	if err != nil {
		return nil, x.wrap(err, "webhook deliveries")
	}
	defer rows.Close()
	var out []store.WebhookDelivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, x.wrap(err, "webhook deliveries")
		}
		out = append(out, *d)
	}
	return out, x.wrap(rows.Err(), "webhook deliveries")
}

func (x q) ListAttempts(ctx context.Context, deliveryID int64) ([]store.WebhookAttempt, error) {
	rows, err := x.r.QueryContext(ctx, `SELECT id, delivery_id, at, status, error, duration_ms, next_attempt_at
		FROM webhook_attempts WHERE delivery_id = $1 ORDER BY id`, deliveryID)
	if err != nil {
		return nil, x.wrap(err, "webhook attempts")
	}
	defer rows.Close()
	var out []store.WebhookAttempt
	for rows.Next() {
		var a store.WebhookAttempt
		var ms int64
		if err := rows.Scan(&a.ID, &a.DeliveryID, timeCol{&a.At}, &a.Status, &a.Error, &ms, nullTimeCol{&a.NextAttemptAt}); err != nil {
			return nil, x.wrap(err, "webhook attempts")
		}
		a.Duration = time.Duration(ms) * time.Millisecond
		out = append(out, a)
	}
	return out, x.wrap(rows.Err(), "webhook attempts")
}

func (x q) Redeliver(ctx context.Context, id int64, now time.Time) error {
	return x.atomic(ctx, func(t q) error {
		d, err := t.GetDelivery(ctx, id)
		if err != nil {
			return err
		}
		if d.State != store.DeliveryFailed {
			return errs.Errorf(errs.Conflict, "delivery %s is %s; only a failed delivery can be sent again", d.GUID, d.State)
		}
		_, err = t.w.ExecContext(ctx, `UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $2, updated_at = $2
			WHERE id = $1`, id, utc(now))
		return t.wrap(err, "webhook delivery")
	})
}

func (x q) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := x.atomic(ctx, func(t q) error {
		const done = `SELECT id FROM webhook_deliveries WHERE state <> 'pending' AND updated_at < $1`
		if _, err := t.w.ExecContext(ctx, `DELETE FROM webhook_attempts WHERE delivery_id IN (`+done+`)`, utc(before)); err != nil {
			return t.wrap(err, "webhook attempts")
		}
		res, err := t.w.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE id IN (`+done+`)`, utc(before))
		if err != nil {
			return t.wrap(err, "webhook deliveries")
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
