-- +goose Up
-- The applicants kaisai registered on a meeting's Zoom registrant list
-- (DESIGN.md §3): one row per meeting and e-mail while live. status is
-- adding (sent to Zoom, answer not yet known: looked up before anything is
-- sent again), registered, or cancelled (kept, for the applicant's history).
-- application_id is NULL once the application is deleted: its registrant
-- is then cancelled.
CREATE TABLE zoom_registrants (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id         BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    meeting_id     BIGINT NOT NULL REFERENCES zoom_meetings (id) ON DELETE CASCADE,
    application_id BIGINT REFERENCES applications (id) ON DELETE SET NULL,
    email          TEXT NOT NULL, -- lower-cased, as registered
    status         TEXT NOT NULL,
    registrant_id  TEXT NOT NULL DEFAULT '',
    join_url       TEXT NOT NULL DEFAULT '',
    error_kind     TEXT NOT NULL DEFAULT '',
    error_message  TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX zoom_registrants_live ON zoom_registrants (meeting_id, email) WHERE status <> 'cancelled';
CREATE INDEX zoom_registrants_application ON zoom_registrants (application_id);

-- A meeting's registrant list is reconciled by a job of its own: changes
-- that affect who should be registered set reg_due_at in their transaction.
ALTER TABLE zoom_meetings ADD COLUMN reg_due_at TIMESTAMPTZ;
ALTER TABLE zoom_meetings ADD COLUMN reg_lease_until TIMESTAMPTZ;
ALTER TABLE zoom_meetings ADD COLUMN reg_rev BIGINT NOT NULL DEFAULT 0;
ALTER TABLE zoom_meetings ADD COLUMN reg_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE zoom_meetings ADD COLUMN reg_error TEXT NOT NULL DEFAULT '';
ALTER TABLE zoom_meetings ADD COLUMN reg_checked_at TIMESTAMPTZ; -- Zoom's list last read and repaired
CREATE INDEX zoom_meetings_reg_due ON zoom_meetings (reg_due_at) WHERE reg_due_at IS NOT NULL;

-- +goose Down
DROP INDEX zoom_meetings_reg_due;
ALTER TABLE zoom_meetings DROP COLUMN reg_checked_at;
ALTER TABLE zoom_meetings DROP COLUMN reg_error;
ALTER TABLE zoom_meetings DROP COLUMN reg_attempts;
ALTER TABLE zoom_meetings DROP COLUMN reg_rev;
ALTER TABLE zoom_meetings DROP COLUMN reg_lease_until;
ALTER TABLE zoom_meetings DROP COLUMN reg_due_at;
DROP TABLE zoom_registrants;
