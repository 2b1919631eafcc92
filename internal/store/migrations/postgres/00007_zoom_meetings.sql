-- +goose Up
-- A Zoom group's meeting settings (DESIGN.md §2), set once per group;
-- zoom_conn_id is the ホスト (checked by the store to be the same
-- organization's; no REFERENCES, so that SQLite can drop the column on the
-- way down). NULL/defaults for the other venues.
ALTER TABLE schedule_groups ADD COLUMN zoom_conn_id BIGINT;
ALTER TABLE schedule_groups ADD COLUMN zoom_passcode TEXT NOT NULL DEFAULT '';
ALTER TABLE schedule_groups ADD COLUMN zoom_waiting_room BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE schedule_groups ADD COLUMN zoom_authentication BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE schedule_groups ADD COLUMN zoom_registration BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE schedule_groups ADD COLUMN zoom_host_video BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE schedule_groups ADD COLUMN zoom_participant_video BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE schedule_groups ADD COLUMN zoom_mute_upon_entry BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE schedule_groups ADD COLUMN zoom_registrant_emails BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE schedule_groups ADD COLUMN zoom_agenda TEXT NOT NULL DEFAULT '';

-- While set and in the future, one worker is creating (or looking for) a
-- meeting of this host: a meeting whose create answer was lost is found by
-- its topic and start time, which only one create at a time keeps unambiguous.
ALTER TABLE zoom_connections ADD COLUMN meeting_create_lock TIMESTAMPTZ;
-- When the Zoom user last linked: Zoom's app_deauthorized about an earlier
-- grant (delivered late) must not unlink a newer one.
ALTER TABLE zoom_connections ADD COLUMN linked_at TIMESTAMPTZ;

-- The Zoom meetings kaisai manages, one per schedule of a Zoom group, and
-- the work that keeps them in step (DESIGN.md §4). A change that needs Zoom
-- sets due_at (and bumps rev) in its own transaction; a job reconciles due
-- rows with Zoom. want 'absent' is a meeting to delete: its schedule, group
-- or event is gone (the references are then NULL), the group left Zoom, or
-- the host changed. A row is deleted once its meeting is deleted on Zoom.
CREATE TABLE zoom_meetings (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id            BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    conn_id           BIGINT NOT NULL REFERENCES zoom_connections (id) ON DELETE CASCADE,
    event_id          BIGINT REFERENCES events (id) ON DELETE SET NULL,
    group_id          BIGINT REFERENCES schedule_groups (id) ON DELETE SET NULL,
    schedule_id       BIGINT REFERENCES schedules (id) ON DELETE SET NULL,
    want              TEXT NOT NULL, -- present, absent
    zoom_id           BIGINT,        -- Zoom's meeting id, once created
    join_url          TEXT NOT NULL DEFAULT '',
    passcode          TEXT NOT NULL DEFAULT '',
    applied           TEXT NOT NULL DEFAULT '', -- JSON: the settings last applied on Zoom
    inflight          TEXT NOT NULL DEFAULT '', -- JSON: the settings being sent (their webhook echo is ours)
    zoom_state        TEXT NOT NULL DEFAULT '', -- '', deleted (on Zoom's side), changed (on Zoom's side)
    zoom_changes      TEXT NOT NULL DEFAULT '', -- the fields changed on Zoom's side
    create_started_at TIMESTAMPTZ, -- a create was sent and its outcome is not known yet
    rev               BIGINT NOT NULL DEFAULT 0,
    due_at            TIMESTAMPTZ,
    lease_until       TIMESTAMPTZ,
    attempts          INTEGER NOT NULL DEFAULT 0,
    error_kind        TEXT NOT NULL DEFAULT '',
    error_code        INTEGER NOT NULL DEFAULT 0,
    error_message     TEXT NOT NULL DEFAULT '',
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX zoom_meetings_schedule ON zoom_meetings (schedule_id) WHERE want = 'present';
CREATE INDEX zoom_meetings_due ON zoom_meetings (due_at) WHERE due_at IS NOT NULL;
CREATE UNIQUE INDEX zoom_meetings_zoom_id ON zoom_meetings (zoom_id);
CREATE INDEX zoom_meetings_event ON zoom_meetings (event_id);
CREATE INDEX zoom_meetings_conn ON zoom_meetings (conn_id);

-- +goose Down
DROP TABLE zoom_meetings;
ALTER TABLE zoom_connections DROP COLUMN meeting_create_lock;
ALTER TABLE zoom_connections DROP COLUMN linked_at;
ALTER TABLE schedule_groups DROP COLUMN zoom_agenda;
ALTER TABLE schedule_groups DROP COLUMN zoom_registrant_emails;
ALTER TABLE schedule_groups DROP COLUMN zoom_mute_upon_entry;
ALTER TABLE schedule_groups DROP COLUMN zoom_participant_video;
ALTER TABLE schedule_groups DROP COLUMN zoom_host_video;
ALTER TABLE schedule_groups DROP COLUMN zoom_registration;
ALTER TABLE schedule_groups DROP COLUMN zoom_authentication;
ALTER TABLE schedule_groups DROP COLUMN zoom_waiting_room;
ALTER TABLE schedule_groups DROP COLUMN zoom_passcode;
ALTER TABLE schedule_groups DROP COLUMN zoom_conn_id;
