-- The transparency log (internal/tlog). log_records holds every record,
-- numbered from 0 without gaps, with the package and subject (version or
-- owner) it is about for lookups; log_hashes holds the Merkle tree's stored
-- hashes (lowercase hex) by their tlog stored-hash index. log_head is the
-- one row an append locks: it holds the log's size, so that appends from
-- several instances are serialised and every record gets the next index.
CREATE TABLE log_records (
    idx     BIGINT PRIMARY KEY,
    kind    TEXT NOT NULL,
    package TEXT NOT NULL,
    subject TEXT NOT NULL,
    data    TEXT NOT NULL
);
CREATE INDEX log_records_subject ON log_records (package, subject);

CREATE TABLE log_hashes (
    idx  BIGINT PRIMARY KEY,
    hash TEXT NOT NULL
);

CREATE TABLE log_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    size BIGINT NOT NULL
);
INSERT INTO log_head (id, size) VALUES (1, 0);
