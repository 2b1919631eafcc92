-- +goose Up
-- Each rendering of an organizer's create form carries a random key; a second
-- submit of the same form (double click, second tab) finds what the first made.
CREATE TABLE form_submissions (
    form_key   TEXT NOT NULL,
    org_id     BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    created_id BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, form_key)
);
CREATE INDEX form_submissions_created ON form_submissions (created_at);

-- +goose Down
DROP TABLE form_submissions;
