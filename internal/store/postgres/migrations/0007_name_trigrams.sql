-- Package names by trigram (pg_trgm), so that a search for part of a name
-- (LIKE '%json%') finds its packages through an index rather than by
-- reading every package. pg_trgm ships with PostgreSQL and is a trusted
-- extension (the database's owner may create it); where it cannot be
-- created, searches still work, by reading the table, and the start says
-- nothing more than this notice.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%): name searches read the whole packages table', SQLERRM;
END
$$;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX packages_name_trgm ON packages USING GIN (normalized_name gin_trgm_ops);
    END IF;
END
$$;
