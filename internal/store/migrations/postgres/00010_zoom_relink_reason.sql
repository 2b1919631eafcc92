-- +goose Up
-- Why a connection is 要再連携: '' when Zoom refused its refresh token;
-- 'linked_elsewhere' when another organization linked the same Zoom user,
-- which ends this organization's grant at Zoom (store.LinkZoomConnection).
ALTER TABLE zoom_connections ADD COLUMN relink_reason TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE zoom_connections DROP COLUMN relink_reason;
