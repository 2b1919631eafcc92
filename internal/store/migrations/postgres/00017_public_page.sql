-- +goose Up
-- The public page (issue 19, part 4): the event's お問い合わせ先 (an e-mail
-- address or an http(s) URL, '' for none) and the organizer's 利用規約 and
-- プライバシーポリシー URLs ('' for none; with either set, applying asks
-- for the participant's consent).
ALTER TABLE events ADD COLUMN contact TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN terms_url TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN privacy_url TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE events DROP COLUMN privacy_url;
ALTER TABLE events DROP COLUMN terms_url;
ALTER TABLE events DROP COLUMN contact;
