-- +goose Up
-- What happened to each application, shown to the organizer.
CREATE TABLE activity_log (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id         BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    member_id      BIGINT REFERENCES members (id) ON DELETE SET NULL, -- NULL: the participant or kaisai
    action         TEXT NOT NULL,
    detail         TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX activity_log_application ON activity_log (application_id, id);

-- An event's own wording of its e-mails; without a row the default is used.
CREATE TABLE mail_templates (
    event_id   BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (event_id, kind)
);

-- E-mails to send, written in the transaction of the change that causes them
-- and rendered and delivered by a job. Deleting an application deletes its mail.
CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    event_id        BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    application_id  BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL, -- pending, sent, kept (no SMTP: dev outbox), failed
    message_id      TEXT NOT NULL UNIQUE,
    to_addr         TEXT NOT NULL DEFAULT '',
    subject         TEXT NOT NULL DEFAULT '',
    body            TEXT NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    next_attempt_at TIMESTAMPTZ NOT NULL,
    locked_until    TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_org ON outbox (org_id, id);
CREATE INDEX outbox_application ON outbox (application_id);

-- Search and paging of 申込者一覧.
CREATE INDEX applications_event_name ON applications (event_id, name);

-- +goose Down
DROP INDEX applications_event_name;
DROP TABLE outbox;
DROP TABLE mail_templates;
DROP TABLE activity_log;
