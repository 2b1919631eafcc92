-- +goose Up
-- One lease mechanism for every kind of leased work (package store,
-- lease.go): a job run holds a lease here, renewed while it works; a row of
-- work is held by naming the lease's owner in its lease column, for as long
-- as that lease lives. A dead worker's rows are free once its lease expires,
-- and a result from a worker whose row was taken over is refused (fenced by
-- the owner), which the former timestamps (lease_until, locked_until,
-- meeting_create_lock) could not do.
CREATE TABLE work_leases (
    owner      TEXT PRIMARY KEY, -- random, one per job run
    holder     TEXT NOT NULL,    -- what holds it, for an operator: job and host:pid
    expires_at TIMESTAMPTZ NOT NULL
);
ALTER TABLE zoom_meetings ADD COLUMN lease_owner TEXT;
ALTER TABLE zoom_meetings ADD COLUMN reg_lease_owner TEXT;
ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
ALTER TABLE zoom_webhook_events ADD COLUMN lease_owner TEXT;
ALTER TABLE zoom_connections ADD COLUMN create_owner TEXT; -- the right to create this host's meetings
ALTER TABLE zoom_meetings DROP COLUMN lease_until;
ALTER TABLE zoom_meetings DROP COLUMN reg_lease_until;
ALTER TABLE outbox DROP COLUMN locked_until;
ALTER TABLE zoom_webhook_events DROP COLUMN locked_until;
ALTER TABLE zoom_connections DROP COLUMN meeting_create_lock;

-- +goose Down
ALTER TABLE zoom_connections ADD COLUMN meeting_create_lock TIMESTAMPTZ;
ALTER TABLE zoom_webhook_events ADD COLUMN locked_until TIMESTAMPTZ;
ALTER TABLE outbox ADD COLUMN locked_until TIMESTAMPTZ;
ALTER TABLE zoom_meetings ADD COLUMN reg_lease_until TIMESTAMPTZ;
ALTER TABLE zoom_meetings ADD COLUMN lease_until TIMESTAMPTZ;
ALTER TABLE zoom_connections DROP COLUMN create_owner;
ALTER TABLE zoom_webhook_events DROP COLUMN lease_owner;
ALTER TABLE outbox DROP COLUMN lease_owner;
ALTER TABLE zoom_meetings DROP COLUMN reg_lease_owner;
ALTER TABLE zoom_meetings DROP COLUMN lease_owner;
DROP TABLE work_leases;
