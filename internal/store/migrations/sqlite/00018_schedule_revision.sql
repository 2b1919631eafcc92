-- +goose Up
-- A schedule's revision counts the times its 日程 moved (its start or end
-- changed): the SEQUENCE of the calendar entries (.ics) kaisai hands its
-- participants, so that a calendar replaces the old times with the new.
ALTER TABLE schedules ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE schedules DROP COLUMN revision;
