-- Webhooks: HTTP callbacks told about changes to packages. A hook with a
-- package_id belongs to that package (managed by its owners); one without
-- is registry-wide (managed by admins) and hears about every package. The
-- secret is kept in clear because every delivery is signed with it
-- (HMAC-SHA256); it is shown once, at creation, and never again. events
-- is a JSON list of event names, '[]' meaning every event.
CREATE TABLE webhooks (
    id         INTEGER PRIMARY KEY,
    package_id INTEGER REFERENCES packages (id),
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    events     TEXT NOT NULL DEFAULT '[]',
    active     INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhooks_package ON webhooks (package_id, id);

-- The durable delivery queue and its log. A delivery is enqueued in the
-- transaction of the change it tells about, so no change is lost once it
-- was acknowledged. state is pending (waiting for its next attempt at
-- next_attempt_at, or leased by a worker, which pushes next_attempt_at past
-- the attempt), delivered or failed (attempts ran out). guid is the id the
-- receiver sees (X-Dryad-Delivery, and in the payload).
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    webhook_id      INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    guid            TEXT NOT NULL UNIQUE,
    event           TEXT NOT NULL,
    package         TEXT NOT NULL DEFAULT '',
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);

-- One row per attempt of a delivery: its answer (status 0 when none came)
-- or error, how long it took, and when the next attempt was planned.
CREATE TABLE webhook_attempts (
    id              INTEGER PRIMARY KEY,
    delivery_id     INTEGER NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    at              TIMESTAMP NOT NULL,
    status          INTEGER NOT NULL DEFAULT 0,
    error           TEXT NOT NULL DEFAULT '',
    duration_ms     INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
