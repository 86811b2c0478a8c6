-- The registry's own settings, one value per key. registry_id ties this
-- database to the package storage holding its archives (which keeps the
-- same id beside them): a registry started on another registry's storage,
-- or on a new database beside full storage, refuses to start rather than
-- see every archive as unreferenced. Not part of backups: a restored
-- registry is a registry of its own.
CREATE TABLE registry_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
