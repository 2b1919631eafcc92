-- +goose Up
-- サービス連携: the Zoom users an organization linked. Tokens are sealed
-- with AES-256-GCM (package secretbox) and deleted on unlink; the same Zoom
-- user linked again is the same row (UNIQUE (org_id, zoom_user_id)).
CREATE TABLE zoom_connections (
    id                 INTEGER PRIMARY KEY,
    org_id             INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    zoom_user_id       TEXT NOT NULL,
    zoom_account_id    TEXT NOT NULL DEFAULT '',
    email              TEXT NOT NULL DEFAULT '',
    display_name       TEXT NOT NULL DEFAULT '',
    user_type          INTEGER NOT NULL DEFAULT 0, -- Zoom's: 1 Basic, 2 Licensed
    status             TEXT NOT NULL, -- linked 連携中, relink_required 要再連携, unlinked 解除済
    access_token_enc   BLOB,
    refresh_token_enc  BLOB,
    token_expiry       TIMESTAMP,
    scopes             TEXT NOT NULL DEFAULT '', -- granted, space-separated
    api_url            TEXT NOT NULL DEFAULT '',
    relink_notified_at TIMESTAMP,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    UNIQUE (org_id, zoom_user_id)
);
CREATE INDEX zoom_connections_zoom_user ON zoom_connections (zoom_user_id);

-- The OAuth flows under way: the state (stored as its SHA-256) is bound to
-- the member's session and holds the PKCE verifier until the callback.
CREATE TABLE zoom_oauth_states (
    state_hash   TEXT PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    member_id    INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    session_hash TEXT NOT NULL,
    verifier     TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL
);
CREATE INDEX zoom_oauth_states_expires ON zoom_oauth_states (expires_at);

-- +goose Down
DROP TABLE zoom_oauth_states;
DROP TABLE zoom_connections;
