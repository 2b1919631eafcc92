-- +goose Up
-- The outbox also carries mail to an organization member (the organizer's
-- notices, such as a Zoom connection that needs relinking): such a row names
-- the member and no event or application. vars holds the values the mail is
-- rendered with, taken when it was written (a JSON object).
-- SQLite cannot drop NOT NULL, so the table is rebuilt; no other table
-- references outbox, and the copied rows keep their ids and references.
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    event_id        INTEGER REFERENCES events (id) ON DELETE CASCADE,
    application_id  INTEGER REFERENCES applications (id) ON DELETE CASCADE,
    member_id       INTEGER REFERENCES members (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL, -- pending, sent, kept (no SMTP: dev outbox), failed
    message_id      TEXT NOT NULL UNIQUE,
    to_addr         TEXT NOT NULL DEFAULT '',
    subject         TEXT NOT NULL DEFAULT '',
    body            TEXT NOT NULL DEFAULT '',
    vars            TEXT NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until    TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP
);
INSERT INTO outbox_new (id, org_id, event_id, application_id, kind, status, message_id, to_addr, subject, body,
    attempts, last_error, next_attempt_at, locked_until, created_at, sent_at)
  SELECT id, org_id, event_id, application_id, kind, status, message_id, to_addr, subject, body,
    attempts, last_error, next_attempt_at, locked_until, created_at, sent_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_org ON outbox (org_id, id);
CREATE INDEX outbox_application ON outbox (application_id);
CREATE INDEX outbox_member ON outbox (member_id);

-- +goose Down
CREATE TABLE outbox_old (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    event_id        INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    application_id  INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL,
    message_id      TEXT NOT NULL UNIQUE,
    to_addr         TEXT NOT NULL DEFAULT '',
    subject         TEXT NOT NULL DEFAULT '',
    body            TEXT NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until    TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP
);
INSERT INTO outbox_old (id, org_id, event_id, application_id, kind, status, message_id, to_addr, subject, body,
    attempts, last_error, next_attempt_at, locked_until, created_at, sent_at)
  SELECT id, org_id, event_id, application_id, kind, status, message_id, to_addr, subject, body,
    attempts, last_error, next_attempt_at, locked_until, created_at, sent_at FROM outbox
  WHERE application_id IS NOT NULL;
DROP TABLE outbox;
ALTER TABLE outbox_old RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_org ON outbox (org_id, id);
CREATE INDEX outbox_application ON outbox (application_id);
