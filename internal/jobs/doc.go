// Package jobs carries out what the store has recorded as due: it holds
// kaisai's River workers, one file per job, and decides nothing that a rule
// in package event or zoompolicy decides. Each worker claims due rows under
// a lease (lease.go, store.Lease), does the work outside any transaction,
// and records the outcome fenced by its lease, retrying with one backoff
// (backoff.go):
//
//   - mail.go: delivering the outbox (SMTP, or the dev outbox);
//   - zoom_meetings.go: creating, updating and deleting Zoom meetings so
//     that they match kaisai's schedules (DESIGN.md §4);
//   - zoom_registrants.go: keeping each meeting's registrant list equal to
//     who zoompolicy says is registered (§3), and repairing drift;
//   - zoom_webhook.go: processing stored Zoom webhook events, and per event
//     zoom_meeting_events.go (changed or deleted on Zoom), zoom_checkin.go
//     (自動受付 and attendance, §6; the past participants report),
//     zoom_deauthorized.go (the app removed on Zoom, §5);
//   - nudger.go: waking a job after a commit made work due; sweeps (in
//     queue.go) catch what a crash left;
//   - cleanup.go: forgetting expired sessions, sign-in link requests,
//     login failures, form submissions and leases.
package jobs
