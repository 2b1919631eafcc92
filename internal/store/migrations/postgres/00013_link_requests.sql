-- +goose Up
-- Requests to resend a participant the links to their applications
-- (申込内容の確認メールを再送), kept for rate limiting per address and per
-- client. The address is kept as a hash: most requests may come from
-- addresses that never applied.
CREATE TABLE link_requests (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email_hash TEXT NOT NULL,
    client     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX link_requests_email ON link_requests (email_hash, created_at);
CREATE INDEX link_requests_client ON link_requests (client, created_at);

-- +goose Down
DROP TABLE link_requests;
