-- +goose Up
CREATE TABLE organizations (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE members (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX members_org ON members (org_id);

CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    member_id  BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE login_failures (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      TEXT NOT NULL,
    ip         TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email, created_at);
CREATE INDEX login_failures_ip ON login_failures (ip, created_at);

CREATE TABLE events (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id           BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    slug             TEXT NOT NULL UNIQUE,
    title            TEXT NOT NULL,
    description      TEXT NOT NULL,
    fee              TEXT NOT NULL,
    price_jpy        INTEGER NOT NULL,
    time_zone        TEXT NOT NULL,
    status           TEXT NOT NULL,
    waitlist_enabled BOOLEAN NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX events_org ON events (org_id, id);

CREATE TABLE schedule_groups (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    event_id   BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    venue      TEXT NOT NULL,
    address    TEXT NOT NULL,
    online_url TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX schedule_groups_event ON schedule_groups (event_id);

CREATE TABLE schedules (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    event_id    BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    group_id    BIGINT NOT NULL REFERENCES schedule_groups (id) ON DELETE CASCADE,
    starts_at   TIMESTAMPTZ NOT NULL,
    ends_at     TIMESTAMPTZ NOT NULL,
    capacity    INTEGER NOT NULL,
    seats_taken INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL,
    CHECK (seats_taken >= 0 AND seats_taken <= capacity)
);
CREATE INDEX schedules_event ON schedules (event_id, starts_at);
CREATE INDEX schedules_group ON schedules (group_id);

CREATE TABLE applications (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id         BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    event_id       BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    schedule_id    BIGINT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    token          TEXT NOT NULL UNIQUE,
    submit_key     TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    email          TEXT NOT NULL,
    status         TEXT NOT NULL,
    payment        TEXT NOT NULL,
    checked_in_at  TIMESTAMPTZ,
    checkin_source TEXT NOT NULL DEFAULT '',
    memo           TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    cancelled_at   TIMESTAMPTZ
);
CREATE INDEX applications_schedule ON applications (schedule_id, id);
CREATE INDEX applications_event ON applications (event_id, id);
-- One live application per address and schedule.
CREATE UNIQUE INDEX applications_live_email ON applications (schedule_id, lower(email)) WHERE status <> 'cancelled';

-- +goose Down
DROP TABLE applications;
DROP TABLE schedules;
DROP TABLE schedule_groups;
DROP TABLE events;
DROP TABLE login_failures;
DROP TABLE sessions;
DROP TABLE members;
DROP TABLE organizations;
