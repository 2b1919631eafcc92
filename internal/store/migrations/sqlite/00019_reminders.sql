-- +goose Up
-- リマインド (DESIGN.md §9): each event's reminder offsets, and the outbox
-- rows of reminders, unique per application, 日程, offset and start time.

-- An event's reminders (event.Reminders.String(): "1d18:00,60m"; "" for
-- none). An event without a row has the default (event.DefaultReminders).
CREATE TABLE event_reminders (
    event_id   INTEGER PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    offsets    TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- A reminder's outbox row names what it reminds of (store.reminderKey:
-- schedule id, offset and the 日程's start, so a 日程 moved gets its
-- reminders again); NULL for every other mail. The unique index makes
-- writing it twice (a rerun, a second instance) write nothing.
ALTER TABLE outbox ADD COLUMN reminder_key TEXT;
CREATE UNIQUE INDEX outbox_reminder ON outbox (application_id, reminder_key);

-- +goose Down
DROP INDEX outbox_reminder;
ALTER TABLE outbox DROP COLUMN reminder_key;
DROP TABLE event_reminders;
