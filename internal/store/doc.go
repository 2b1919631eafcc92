// Package store owns all of kaisai's SQL and decides nothing a rule decides:
// it loads the state, asks the rule (package event or zoompolicy) and writes
// the outcome, with what must happen after it, in one transaction. The same
// query text runs on SQLite (embedded, the default) and PostgreSQL; the few
// differences are in the migrations, one folder per dialect.
//
// What it owns:
//
//   - transactions (store.go, Tx: the querier, the transaction's clock and
//     the work to nudge after commit) and SQLite's prepared statements and
//     writer gate (prepared.go);
//   - the schema and its migrations (migrate.go, migrations/);
//   - organizations, members, sessions and login failures (orgs.go), the
//     participants' requests for their application links (links.go),
//     events, groups and schedules (events.go), applications with their
//     seats, history and mail (applications.go, applicants.go);
//   - the outbox of mail (outbox.go) and the queues of Zoom work: meetings
//     (zoom_meetings.go), registrant lists (zoom_registrants.go), stored
//     webhooks (zoom_webhooks.go), with one lease mechanism for all of them
//     (lease.go);
//   - Zoom connections and their tokens, sealed at rest (zoom_connections.go),
//     and attendance and check-in (zoom_attendance.go, zoom_checkin.go).
//
// Readers that do not filter by organization are named …Unscoped.
package store
