package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"

	"kaisai/internal/store"
	"kaisai/internal/zoom"
	"kaisai/internal/zoom/webhook"
	"kaisai/internal/zoomconn"
	"kaisai/internal/zoompolicy"
)

// Changes made to kaisai's meetings on Zoom's side (DESIGN.md §4): Zoom's
// meeting.deleted and meeting.updated. kaisai's own changes come back as
// these events too, and must change nothing.

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
			if r.Want != zoompolicy.WantPresent {
				continue
			}
			if _, err := st.ZoomMeetingDeletedOnZoom(ctx, store.Lease{}, r.ID, int64(p.Object.ID)); err != nil {
				return err
			}
		}
		return nil
	}
}

// ZoomMeetingUpdated handles meeting.updated. The event only says that
// something changed: the meeting is read back, and the settings kaisai
// manages that differ from those it applied (or is applying) are recorded as
// changed on Zoom's side, shown with 再適用 and 再作成; none clears what was
// recorded before. Comparing what Zoom holds now, rather than the event's
// values, keeps a late or reordered event (kaisai's own PATCHes come back
// as such events too) from being taken for a change. zc nil: Zoom is off.
func ZoomMeetingUpdated(st *store.Store, zc *zoomconn.Clients) WebhookHandler {
	return func(ctx context.Context, e webhook.Event) error {
		p, err := e.Meeting()
		if err != nil {
			return Permanent(err)
		}
		if zc == nil {
			return nil
		}
		id := int64(p.Object.ID)
		rows, err := st.ZoomMeetingsByZoomID(ctx, id)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if r.Want != zoompolicy.WantPresent || r.ZoomState == zoompolicy.DeletedOnZoom || r.Applied == "" {
				continue
			}
			var m *zoom.Meeting
			err := zc.Do(ctx, r.OrgID, r.ConnID, func(cl *zoom.Client) (err error) {
				m, err = cl.Meeting(ctx, id)
				return meetingGone(err)
			})
			var gone errMeetingGone
			switch {
			case errors.As(err, &gone):
				if _, err := st.ZoomMeetingDeletedOnZoom(ctx, store.Lease{}, r.ID, id); err != nil {
					return err
				}
				continue
			case errors.Is(err, store.ErrZoomRelinkRequired):
				continue // the host is not linked: nothing can be managed or looked at
			case err != nil:
				return err
			}
			changed := changedOnZoom(meetingObject(m), r.Applied, r.Inflight)
			if len(changed) == 0 && r.ZoomState != zoompolicy.ChangedOnZoom {
				continue
			}
			if err := st.ZoomMeetingChangedOnZoom(ctx, r.ID, id, changed); err != nil {
				return err
			}
		}
		return nil
	}
}

// meetingObject is what Zoom holds of the fields kaisai sets, as the JSON
// object of a zoom.MeetingRequest.
func meetingObject(m *zoom.Meeting) map[string]json.RawMessage {
	cur := zoom.MeetingRequest{Topic: &m.Topic, StartTime: &m.StartTime, Duration: &m.Duration, Timezone: &m.Timezone,
		Agenda: &m.Agenda, Password: &m.Password, Settings: &m.Settings}
	b, _ := json.Marshal(cur)
	var obj map[string]json.RawMessage
	_ = json.Unmarshal(b, &obj)
	return obj
}

// changedOnZoom lists the fields of a meeting object (settings as
// settings.<name>) that kaisai manages and whose value is neither the
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
