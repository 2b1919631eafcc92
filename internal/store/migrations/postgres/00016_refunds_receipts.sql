-- +goose Up
-- Refunds, the event's cancellation and refund policy, the organization's
-- billing profile and 領収書 (DESIGN.md §8).

-- One row per refund kaisai asks Stripe for, written before Stripe is
-- asked (in the transaction that cancels the application, when it comes
-- from a cancel): idempotency_key makes asking again after a lost answer
-- give the same refund. status is payment.RefundStatus.
CREATE TABLE refunds (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    event_id        BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    application_id  BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    payment_id      BIGINT NOT NULL REFERENCES payments (id) ON DELETE CASCADE,
    connection_id   BIGINT NOT NULL, -- stripe_connections.id
    attempt         INTEGER NOT NULL,
    idempotency_key TEXT NOT NULL,
    status          TEXT NOT NULL, -- requesting, pending, requires_action, succeeded, failed, canceled, abandoned
    amount          BIGINT NOT NULL, -- yen
    refund_id       TEXT UNIQUE,     -- re_…, NULL until Stripe answered
    failure_reason  TEXT NOT NULL DEFAULT '', -- Stripe's failure_reason, or its error message
    last_error      TEXT NOT NULL DEFAULT '',
    requested_by    BIGINT NOT NULL DEFAULT 0, -- members.id; 0: the participant's own cancel
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    refunded_at     TIMESTAMPTZ,
    UNIQUE (payment_id, attempt)
);
CREATE INDEX refunds_application ON refunds (application_id);
CREATE INDEX refunds_live ON refunds (status, updated_at) WHERE status IN ('requesting', 'pending', 'requires_action');

-- The event's キャンセル・返金ポリシー (payment.Policy): whether participants
-- may not cancel a paid application themselves (self_cancel_off; by default
-- they may, as before there was a policy), until how many days before the
-- schedule's start (0: until it starts), and what they get back
-- ("3:100,1:50": 100% until 3 days before, 50% until the day before,
-- nothing after; '' refunds nothing). receipt_purpose is the 領収書's
-- 但し書き ('' : the default wording).
ALTER TABLE events ADD COLUMN self_cancel_off BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE events ADD COLUMN cancel_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN refund_tiers TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN receipt_purpose TEXT NOT NULL DEFAULT '';

-- The billing profile printed on receipts: 発行者名, address and 登録番号
-- (T + 13 digits; billing_individual: a sole proprietor's number, which has
-- no check digit). receipt_seq numbers the organization's receipts: a
-- number is taken once and never given again.
ALTER TABLE organizations ADD COLUMN billing_name TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN billing_address TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN billing_registration TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN billing_individual BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE organizations ADD COLUMN receipt_seq BIGINT NOT NULL DEFAULT 0;

-- 領収書: one per paid application, written when first issued. What it
-- says is fixed then (amount, tax, issuer); issue_count > 1 prints 再発行.
CREATE TABLE receipts (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id              BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    event_id            BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    application_id      BIGINT NOT NULL UNIQUE REFERENCES applications (id) ON DELETE CASCADE,
    payment_id          BIGINT REFERENCES payments (id) ON DELETE SET NULL, -- NULL: paid by hand
    number              BIGINT NOT NULL, -- organizations.receipt_seq when issued
    addressee           TEXT NOT NULL,   -- 宛名
    purpose             TEXT NOT NULL,   -- 但し書き
    amount              BIGINT NOT NULL, -- yen, tax included
    tax_rate            INTEGER NOT NULL, -- percent
    tax                 BIGINT NOT NULL, -- 消費税額, rounded down once
    issuer_name         TEXT NOT NULL,
    issuer_address      TEXT NOT NULL,
    registration_number TEXT NOT NULL,
    issued_at           TIMESTAMPTZ NOT NULL, -- 発行日 of the first issue
    reissued_at         TIMESTAMPTZ,          -- the latest 再発行
    issue_count         INTEGER NOT NULL DEFAULT 1,
    UNIQUE (org_id, number)
);

-- +goose Down
DROP TABLE receipts;
ALTER TABLE organizations DROP COLUMN receipt_seq;
ALTER TABLE organizations DROP COLUMN billing_individual;
ALTER TABLE organizations DROP COLUMN billing_registration;
ALTER TABLE organizations DROP COLUMN billing_address;
ALTER TABLE organizations DROP COLUMN billing_name;
ALTER TABLE events DROP COLUMN receipt_purpose;
ALTER TABLE events DROP COLUMN refund_tiers;
ALTER TABLE events DROP COLUMN cancel_days;
ALTER TABLE events DROP COLUMN self_cancel_off;
DROP INDEX refunds_live;
DROP INDEX refunds_application;
DROP TABLE refunds;
