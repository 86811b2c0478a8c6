-- The registry's metadata on SQLite. Timestamps are TIMESTAMP text in UTC
-- (the driver writes them in a sortable layout), booleans are 0/1, lists
-- are JSON text. The same tables exist on PostgreSQL with native types.

CREATE TABLE users (
    id                 INTEGER PRIMARY KEY,
    username           TEXT NOT NULL,
    email              TEXT NOT NULL,
    full_name          TEXT NOT NULL DEFAULT '',
    password_hash      TEXT NOT NULL,
    role               TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    disabled           INTEGER NOT NULL DEFAULT 0,
    credential_version INTEGER NOT NULL DEFAULT 1,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    last_login_at      TIMESTAMP
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL DEFAULT '[]',
    packages     TEXT NOT NULL DEFAULT '[]',
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    expires_at   TIMESTAMP,
    revoked_at   TIMESTAMP
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE sessions (
    id_hash            TEXT PRIMARY KEY,
    user_id            INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_version INTEGER NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    expires_at         TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE packages (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL,
    normalized_name  TEXT NOT NULL UNIQUE,
    description      TEXT NOT NULL DEFAULT '',
    keywords         TEXT NOT NULL DEFAULT '[]',
    homepage         TEXT NOT NULL DEFAULT '',
    repository       TEXT NOT NULL DEFAULT '',
    license          TEXT NOT NULL DEFAULT '',
    latest           TEXT NOT NULL DEFAULT '',
    downloads        INTEGER NOT NULL DEFAULT 0,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    deleted_at       TIMESTAMP,
    mirror_pushed_at TIMESTAMP,
    mirror_error     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX packages_downloads ON packages (downloads DESC);
CREATE INDEX packages_updated ON packages (updated_at DESC);

-- Text search over name, keywords and description, kept in step with the
-- packages table by triggers.
CREATE VIRTUAL TABLE packages_fts USING fts5 (
    name, keywords, description,
    content = 'packages', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER packages_fts_insert AFTER INSERT ON packages BEGIN
    INSERT INTO packages_fts (rowid, name, keywords, description)
    VALUES (new.id, replace(new.name, '_', ' '), new.keywords, new.description);
END;
CREATE TRIGGER packages_fts_delete AFTER DELETE ON packages BEGIN
    INSERT INTO packages_fts (packages_fts, rowid, name, keywords, description)
    VALUES ('delete', old.id, replace(old.name, '_', ' '), old.keywords, old.description);
END;
CREATE TRIGGER packages_fts_update AFTER UPDATE OF name, keywords, description ON packages BEGIN
    INSERT INTO packages_fts (packages_fts, rowid, name, keywords, description)
    VALUES ('delete', old.id, replace(old.name, '_', ' '), old.keywords, old.description);
    INSERT INTO packages_fts (rowid, name, keywords, description)
    VALUES (new.id, replace(new.name, '_', ' '), new.keywords, new.description);
END;

CREATE TABLE versions (
    id            INTEGER PRIMARY KEY,
    package_id    INTEGER NOT NULL REFERENCES packages (id),
    version       TEXT NOT NULL,
    version_key   TEXT NOT NULL,
    manifest      TEXT NOT NULL,
    checksum      TEXT NOT NULL,
    size          INTEGER NOT NULL,
    unpacked_size INTEGER NOT NULL DEFAULT 0,
    file_count    INTEGER NOT NULL DEFAULT 0,
    readme        TEXT NOT NULL DEFAULT '',
    readme_html   TEXT NOT NULL DEFAULT '',
    yanked        INTEGER NOT NULL DEFAULT 0,
    yanked_at     TIMESTAMP,
    deleted_at    TIMESTAMP,
    published_at  TIMESTAMP NOT NULL,
    publisher_id  INTEGER NOT NULL REFERENCES users (id),
    git_commit    TEXT NOT NULL DEFAULT '',
    downloads     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (package_id, version_key)
);
CREATE INDEX versions_checksum ON versions (checksum);

CREATE TABLE dependencies (
    version_id INTEGER NOT NULL REFERENCES versions (id),
    name       TEXT NOT NULL,
    version_range TEXT NOT NULL,
    dev        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (version_id, name, dev)
);
CREATE INDEX dependencies_name ON dependencies (name);

CREATE TABLE owners (
    package_id INTEGER NOT NULL REFERENCES packages (id),
    user_id    INTEGER NOT NULL REFERENCES users (id),
    added_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (package_id, user_id)
);
CREATE INDEX owners_user ON owners (user_id);

CREATE TABLE version_downloads (
    version_id INTEGER NOT NULL REFERENCES versions (id),
    day        TEXT NOT NULL,
    count      INTEGER NOT NULL,
    PRIMARY KEY (version_id, day)
);

CREATE TABLE download_batches (
    batch_id   TEXT PRIMARY KEY,
    applied_at TIMESTAMP NOT NULL
);

CREATE TABLE audit_events (
    id       INTEGER PRIMARY KEY,
    at       TIMESTAMP NOT NULL,
    actor_id INTEGER,
    actor    TEXT NOT NULL DEFAULT '',
    ip       TEXT NOT NULL DEFAULT '',
    action   TEXT NOT NULL,
    package  TEXT NOT NULL DEFAULT '',
    target   TEXT NOT NULL DEFAULT '',
    outcome  TEXT NOT NULL,
    detail   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_actor ON audit_events (lower(actor), id);
CREATE INDEX audit_events_package ON audit_events (package, id);
CREATE INDEX audit_events_action ON audit_events (action, id);

CREATE TABLE git_jobs (
    id              INTEGER PRIMARY KEY,
    package_id      INTEGER NOT NULL REFERENCES packages (id),
    kind            TEXT NOT NULL,
    version         TEXT NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX git_jobs_package ON git_jobs (package_id, id);
