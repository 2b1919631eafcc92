// Package event is kaisai's domain: organizations and their members,
// events, schedule groups (with their venue and Zoom settings), schedules
// and applications, and the rules on them, each a pure function written
// once and table-tested. It knows no SQL and no HTTP and imports nothing of
// the project's; the store asks these rules inside its transactions and the
// handlers show what they answer.
//
// Where each rule is decided:
//
//   - what organizers and participants may enter, and the messages when
//     they may not: the Validate and Normalize methods, CheckText (text.go);
//   - when a schedule may be set and when it has started: Schedule.Validate,
//     ScheduleDateRange, Schedule.Started, Schedule.NeedsPastConfirmation;
//     seats: Schedule.SeatsLeft and Full;
//   - who counts as a participant of an event (申込済, or 入金済 when paid):
//     Application.Eligible; whether a participant may still cancel:
//     Application.MayCancel; a double submit: Application.SameSubmission;
//   - a Zoom group's settings: ZoomSettings, ValidZoomPasscode,
//     CheckZoomPasscode (the host's passcode policy), what a host's
//     licence allows and what the form offers and keeps (zoom_host.go:
//     OfferZoomSettings, EditZoomSettings);
//   - mail kinds, templates and their placeholders (mail.go); how often a
//     sign-in link may be asked for (LinkRequestRetryAt);
//   - the errors every layer shows: Error (a code and a catalog key) and
//     FieldErrors (errors.go).
//
// Who is registered on Zoom and which join URL a participant sees are
// package zoompolicy's.
package event
