-- +goose Up
-- Online payment through the organizer's Stripe account (DESIGN.md §8).

-- One row per Checkout Session kaisai opens for an application, written
-- before Stripe is asked: idempotency_key makes asking again after a lost
-- answer give the same session. status is payment.Status.
CREATE TABLE payments (
    id                INTEGER PRIMARY KEY,
    org_id            INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    event_id          INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    application_id    INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    connection_id     INTEGER NOT NULL, -- stripe_connections.id
    attempt           INTEGER NOT NULL,
    idempotency_key   TEXT NOT NULL,
    status            TEXT NOT NULL, -- creating, open, pending, paid, mismatch, failed, expired, abandoned
    amount            BIGINT NOT NULL, -- asked, yen
    session_id        TEXT UNIQUE,     -- cs_…, NULL until Stripe answered
    url               TEXT NOT NULL DEFAULT '',
    expires_at        TIMESTAMP NOT NULL,
    method            TEXT NOT NULL DEFAULT '', -- card, konbini, bank_transfer once known
    paid_amount       BIGINT NOT NULL DEFAULT 0,
    currency          TEXT NOT NULL DEFAULT '',
    payment_intent_id TEXT NOT NULL DEFAULT '',
    instructions      TEXT NOT NULL DEFAULT '', -- the voucher or transfer details, JSON
    problem           TEXT NOT NULL DEFAULT '', -- payment.Problem: for the organizer to look at
    last_error        TEXT NOT NULL DEFAULT '',
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    paid_at           TIMESTAMP,
    UNIQUE (application_id, attempt)
);
CREATE INDEX payments_live ON payments (status, expires_at) WHERE status IN ('creating', 'open', 'pending');
CREATE INDEX payments_problem ON payments (event_id) WHERE problem <> '';

-- How an application was paid (payment.Method; manual when by hand) and by
-- when it must be (支払期限).
ALTER TABLE applications ADD COLUMN paid_via TEXT NOT NULL DEFAULT '';
ALTER TABLE applications ADD COLUMN payment_due_at TIMESTAMP;
CREATE INDEX applications_payment_due ON applications (payment_due_at) WHERE status = 'applied' AND payment = 'unpaid';

-- Stripe's webhook deliveries, verified and stored before the 200, processed
-- by a job. Stripe sends an event again with the same id: it is stored once.
CREATE TABLE stripe_webhook_events (
    id              INTEGER PRIMARY KEY,
    connection_id   INTEGER NOT NULL,
    event_id        TEXT NOT NULL, -- evt_…
    type            TEXT NOT NULL,
    body            TEXT NOT NULL,
    received_at     TIMESTAMP NOT NULL,
    status          TEXT NOT NULL, -- pending, processed, ignored, failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    next_attempt_at TIMESTAMP NOT NULL,
    lease_owner     TEXT,
    processed_at    TIMESTAMP,
    UNIQUE (connection_id, event_id)
);
CREATE INDEX stripe_webhook_events_due ON stripe_webhook_events (status, next_attempt_at);

-- +goose Down
DROP TABLE stripe_webhook_events;
DROP INDEX applications_payment_due;
ALTER TABLE applications DROP COLUMN payment_due_at;
ALTER TABLE applications DROP COLUMN paid_via;
DROP TABLE payments;
