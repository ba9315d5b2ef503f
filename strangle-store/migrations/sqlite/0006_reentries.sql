-- Re-entry after a stop: a session that re-enters the same trading day names the day's first
-- session and its number (0 and NULL for a day's first session, and for sessions written
-- before these columns existed).
ALTER TABLE sessions ADD COLUMN reentry_of TEXT;
ALTER TABLE sessions ADD COLUMN reentry BIGINT NOT NULL DEFAULT 0;
