-- +goose Up
-- The outbox also carries mail to an organization member (the organizer's
-- notices, such as a Zoom connection that needs relinking): such a row names
-- the member and no event or application. vars holds the values the mail is
-- rendered with, taken when it was written (a JSON object).
ALTER TABLE outbox ALTER COLUMN event_id DROP NOT NULL;
ALTER TABLE outbox ALTER COLUMN application_id DROP NOT NULL;
ALTER TABLE outbox ADD COLUMN member_id BIGINT REFERENCES members (id) ON DELETE CASCADE;
ALTER TABLE outbox ADD COLUMN vars TEXT NOT NULL DEFAULT '';
CREATE INDEX outbox_member ON outbox (member_id);

-- +goose Down
DELETE FROM outbox WHERE application_id IS NULL;
DROP INDEX outbox_member;
ALTER TABLE outbox DROP COLUMN vars;
ALTER TABLE outbox DROP COLUMN member_id;
ALTER TABLE outbox ALTER COLUMN application_id SET NOT NULL;
ALTER TABLE outbox ALTER COLUMN event_id SET NOT NULL;
