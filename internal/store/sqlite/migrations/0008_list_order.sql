-- The lists ordered by downloads and by last update (the home page, search
-- sorted that way) end with the name, to be stable: indexes holding the
-- name too give the first page straight from the index, instead of sorting
-- every package that ties (all of those never downloaded, say).
DROP INDEX packages_downloads;
DROP INDEX packages_updated;
CREATE INDEX packages_downloads ON packages (downloads DESC, normalized_name);
CREATE INDEX packages_updated ON packages (updated_at DESC, normalized_name);
