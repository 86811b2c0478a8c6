-- Package names by trigram, so that a search for part of a name finds its
-- packages through an index rather than by reading every package: FTS5's
-- trigram tokenizer answers a quoted phrase of three characters or more
-- with the rows containing it. Kept in step with packages by triggers.
CREATE VIRTUAL TABLE package_names USING fts5 (
    normalized_name,
    content = 'packages', content_rowid = 'id',
    tokenize = 'trigram'
);
CREATE TRIGGER package_names_insert AFTER INSERT ON packages BEGIN
    INSERT INTO package_names (rowid, normalized_name) VALUES (new.id, new.normalized_name);
END;
CREATE TRIGGER package_names_delete AFTER DELETE ON packages BEGIN
    INSERT INTO package_names (package_names, rowid, normalized_name) VALUES ('delete', old.id, old.normalized_name);
END;
CREATE TRIGGER package_names_update AFTER UPDATE OF normalized_name ON packages BEGIN
    INSERT INTO package_names (package_names, rowid, normalized_name) VALUES ('delete', old.id, old.normalized_name);
    INSERT INTO package_names (rowid, normalized_name) VALUES (new.id, new.normalized_name);
END;
INSERT INTO package_names (package_names) VALUES ('rebuild');
