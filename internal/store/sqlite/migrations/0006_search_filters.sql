-- Trending packages (the home page) sum the downloads of the last days:
-- an index by day reads only those rows, not the whole history.
CREATE INDEX version_downloads_day ON version_downloads (day);
