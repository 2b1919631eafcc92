package jobs

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"

	"kaisai/internal/store"
	"kaisai/internal/zoom/webhook"
)

// Changes made to kaisai's meetings on Zoom's side (DESIGN.md §4): Zoom's
// meeting.deleted and meeting.updated. kaisai's own changes come back as
// these events too; they are recognized by their values, which are the ones
// kaisai sent (the row's applied or in-flight settings), so they change
// nothing.

// ZoomMeetingDeleted handles meeting.deleted: a meeting kaisai still wants
// is shown as deleted on Zoom, with 再作成. A meeting kaisai is deleting (or
// has deleted) is its own doing.
func ZoomMeetingDeleted(st *store.Store) WebhookHandler {
	return func(ctx context.Context, e webhook.Event) error {
		p, err := e.Meeting()
		if err != nil {
			return Permanent(err)
		}
		rows, err := st.ZoomMeetingsByZoomID(ctx, int64(p.Object.ID))
		if err != nil {
			return err
		}
		for _, r := range rows {
			if r.Want != store.ZoomWantPresent {
				continue
			}
			if _, err := st.ZoomMeetingDeletedOnZoom(ctx, r.ID); err != nil {
				return err
			}
		}
		return nil
	}
}

// ZoomMeetingUpdated handles meeting.updated: the settings kaisai manages
// that now differ from what kaisai sent are recorded as changed on Zoom's
// side, shown with 再適用 and 再作成. Changes to settings kaisai does not
// manage are Zoom's and the host's business.
func ZoomMeetingUpdated(st *store.Store) WebhookHandler {
	return func(ctx context.Context, e webhook.Event) error {
		var p struct {
			Object map[string]json.RawMessage `json:"object"`
		}
		if err := json.Unmarshal(e.Payload, &p); err != nil || p.Object == nil {
			return Permanent(webhook.ErrMalformedEvent)
		}
		var id webhook.MeetingID
		if err := json.Unmarshal(p.Object["id"], &id); err != nil {
			return Permanent(webhook.ErrMalformedEvent)
		}
		rows, err := st.ZoomMeetingsByZoomID(ctx, int64(id))
		if err != nil {
			return err
		}
		for _, r := range rows {
			if r.Want != store.ZoomWantPresent || r.ZoomState == store.ZoomDeletedOnZoom || r.Applied == "" {
				continue
			}
			changed := changedOnZoom(p.Object, r.Applied, r.Inflight)
			if len(changed) == 0 {
				continue
			}
			if err := st.ZoomMeetingChangedOnZoom(ctx, r.ID, changed); err != nil {
				return err
			}
		}
		return nil
	}
}

// changedOnZoom lists the fields of a meeting.updated object (settings as
// settings.<name>) that kaisai manages and whose new value is neither the
// applied nor the in-flight one (JSON objects of a zoom.MeetingRequest).
func changedOnZoom(object map[string]json.RawMessage, applied, inflight string) []string {
	sent := []map[string]any{decodeObject(applied), decodeObject(inflight)}
	var changed []string
	for k, raw := range object {
		if k == "settings" {
			var settings map[string]json.RawMessage
			if json.Unmarshal(raw, &settings) != nil {
				continue
			}
			for sk, sraw := range settings {
				if managed, same := matchSent(sent, sraw, "settings", sk); managed && !same {
					changed = append(changed, "settings."+sk)
				}
			}
			continue
		}
		if managed, same := matchSent(sent, raw, k); managed && !same {
			changed = append(changed, k)
		}
	}
	slices.Sort(changed)
	return changed
}

// matchSent reports whether a field is one kaisai sends (present in a sent
// object) and whether raw equals its value in any of them.
func matchSent(sent []map[string]any, raw json.RawMessage, path ...string) (managed, same bool) {
	var got any
	if json.Unmarshal(raw, &got) != nil {
		return false, false
	}
	for _, m := range sent {
		v, ok := lookup(m, path)
		if !ok {
			continue
		}
		managed = true
		if reflect.DeepEqual(v, got) {
			return true, true
		}
	}
	return managed, false
}

// lookup finds the value at path in a decoded JSON object.
func lookup(m map[string]any, path []string) (any, bool) {
	var cur any = m
	for _, p := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func decodeObject(s string) map[string]any {
	var m map[string]any
	if s != "" {
		_ = json.Unmarshal([]byte(s), &m)
	}
	return m
}
