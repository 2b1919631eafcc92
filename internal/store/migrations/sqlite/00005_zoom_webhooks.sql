-- +goose Up
-- Zoom's webhook deliveries, stored as received (verified) before the 200 is
-- sent, and processed later by a job. dedupe_key is the SHA-256 of the raw
-- body: Zoom retries a delivery with the same body (only the signature
-- headers change), so a retry finds its row and adds none.
CREATE TABLE zoom_webhook_events (
    id              INTEGER PRIMARY KEY,
    event           TEXT NOT NULL,
    event_ts        BIGINT NOT NULL DEFAULT 0, -- Unix ms, 0 when Zoom sent none
    dedupe_key      TEXT NOT NULL UNIQUE,
    body            TEXT NOT NULL,
    received_at     TIMESTAMP NOT NULL,
    status          TEXT NOT NULL, -- pending, processed, ignored (no handler), failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until    TIMESTAMP,
    processed_at    TIMESTAMP
);
CREATE INDEX zoom_webhook_events_due ON zoom_webhook_events (status, next_attempt_at);

-- +goose Down
DROP TABLE zoom_webhook_events;
