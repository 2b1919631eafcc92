package jobs

import (
	"context"
	"errors"

	"kaisai/internal/event"
	"kaisai/internal/store"
	"kaisai/internal/zoom/webhook"
	"kaisai/internal/zoompolicy"
)

// ZoomParticipantJoined handles meeting.participant_joined (DESIGN.md §3,
// §6): the join is matched to an application of the meeting's schedule as
// the policy says — by the registrant id of a personal join link, else (with
// 認証) by the signed-in e-mail — and that application is checked in, source
// zoom, at the join time. A join to a meeting that is not kaisai's, or that
// matches nothing (a guest, another e-mail), changes nothing. Handling it
// twice changes nothing either.
func ZoomParticipantJoined(st *store.Store) WebhookHandler {
	return func(ctx context.Context, e webhook.Event) error {
		p, err := e.Participant()
		if err != nil {
			return Permanent(err)
		}
		m, err := st.CheckInMeetingByZoomID(ctx, int64(p.Object.ID))
		if errors.Is(err, event.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		who := p.Object.Participant
		var appID int64
		match := zoompolicy.CheckInMatch(zoompolicy.Meeting{Registration: m.Registration, Authentication: m.Authentication})
		if (match == zoompolicy.ByRegistrantID || match == zoompolicy.ByRegistrantIDOrEmail) && who.RegistrantID != "" {
			if appID, err = st.ApplicationByRegistrant(ctx, m.MeetingRowID, who.RegistrantID); err != nil {
				return err
			}
		}
		if appID == 0 && (match == zoompolicy.ByEmail || match == zoompolicy.ByRegistrantIDOrEmail) && who.Email != "" {
			if appID, err = st.ApplicationByEmail(ctx, m.ScheduleID, who.Email); err != nil {
				return err
			}
		}
		if appID == 0 {
			return nil // left for manual 受付
		}
		at := who.JoinedAt()
		if at.IsZero() {
			at = e.Time()
		}
		_, err = st.ZoomCheckIn(ctx, m.ScheduleID, appID, at)
		return err
	}
}
