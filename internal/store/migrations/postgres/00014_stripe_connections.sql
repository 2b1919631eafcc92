-- +goose Up
-- 決済設定: the Stripe account an organization takes payments with
-- (DESIGN.md §8). The API key and the webhook endpoint's signing secret are
-- sealed with AES-256-GCM (package secretbox), bound to the row and kind,
-- and deleted on 解除; the row stays, for the history of payments made
-- through it. A connection is 'connecting' from the key's check until its
-- webhook endpoint is registered (the endpoint's URL names the row), then
-- 'connected' 接続中, then 'disconnected' 解除済. An organization has at
-- most one connected account.
CREATE TABLE stripe_connections (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id              BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    account_id          TEXT NOT NULL, -- Stripe's acct_…
    live                BOOLEAN NOT NULL, -- 本番 (a live key) or テストモード
    display_name        TEXT NOT NULL DEFAULT '',
    key_enc             BYTEA,
    webhook_endpoint_id TEXT NOT NULL DEFAULT '', -- we_…
    webhook_secret_enc  BYTEA,
    api_url             TEXT NOT NULL, -- the Stripe-compatible server the key and endpoint belong to
    methods             TEXT NOT NULL DEFAULT 'card,konbini,bank_transfer', -- enabled, comma-separated
    status              TEXT NOT NULL, -- connecting, connected, disconnected
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    disconnected_at     TIMESTAMPTZ
);
CREATE UNIQUE INDEX stripe_connections_one_connected ON stripe_connections (org_id) WHERE status = 'connected';
CREATE INDEX stripe_connections_org ON stripe_connections (org_id);

-- 支払期限: an unpaid application lapses this many days after applying.
ALTER TABLE events ADD COLUMN payment_days INTEGER NOT NULL DEFAULT 7;

-- +goose Down
ALTER TABLE events DROP COLUMN payment_days;
DROP TABLE stripe_connections;
