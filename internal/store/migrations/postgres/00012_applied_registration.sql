-- +goose Up
-- Whether the meeting's registration (approval_type 1) is applied on Zoom:
-- a registrant list waits for it, since Zoom refuses registrants until then
-- ("Registration has not been enabled for this meeting").
ALTER TABLE zoom_meetings ADD COLUMN applied_registration BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE zoom_meetings SET applied_registration = TRUE WHERE applied LIKE '%"approval_type":1%';

-- +goose Down
ALTER TABLE zoom_meetings DROP COLUMN applied_registration;
