-- +goose Up
-- Who was in a managed Zoom meeting (DESIGN.md §6): one row per participant
-- session, keyed by the meeting instance (uuid) and Zoom's in-meeting
-- participant id (user_id), which Zoom assigns anew on every join. Rows are
-- filled by meeting.participant_joined and _left and by the past-participants
-- report read after the meeting ends, in any order: each fills in what is
-- still unknown. application_id is the application the session was matched
-- to; NULL is unmatched (a guest, another e-mail), listed for manual 受付.
CREATE TABLE zoom_attendance (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id         BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    schedule_id    BIGINT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    zoom_id        BIGINT NOT NULL,
    instance_uuid  TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    name           TEXT NOT NULL DEFAULT '',
    email          TEXT NOT NULL DEFAULT '', -- as Zoom shows it: often empty
    registrant_id  TEXT NOT NULL DEFAULT '',
    joined_at      TIMESTAMPTZ,
    left_at        TIMESTAMPTZ,
    application_id BIGINT REFERENCES applications (id) ON DELETE SET NULL,
    matched_by     TEXT NOT NULL DEFAULT '', -- registrant, email or manual
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX zoom_attendance_session ON zoom_attendance (instance_uuid, participant_id);
CREATE INDEX zoom_attendance_application ON zoom_attendance (application_id);
CREATE INDEX zoom_attendance_unmatched ON zoom_attendance (schedule_id) WHERE application_id IS NULL;
-- Stays with no leave: after the schedule's end they mean a report to read.
CREATE INDEX zoom_attendance_open ON zoom_attendance (joined_at) WHERE left_at IS NULL;

-- A join through a personal link is matched by its registrant id.
CREATE INDEX zoom_registrants_registrant ON zoom_registrants (meeting_id, registrant_id);

-- +goose Down
DROP INDEX zoom_registrants_registrant;
DROP TABLE zoom_attendance;
