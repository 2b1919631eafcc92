// Package zoompolicy is DESIGN.md §3, §4 and §6 as pure functions on domain
// types: nothing here does I/O, and the registrant sync, the participants'
// pages and mails, the check-in and the organizer's screens all ask these
// functions, so each rule lives in one place and is table-tested.
//
// Where each rule is decided:
//
//   - whether a group registers its applicants on Zoom (登録) and whether an
//     application is a registrant (free: applied; paid: 入金済): Registers,
//     Registrant (policy.go);
//   - which join URL a participant sees, and whether they must sign in to
//     Zoom: JoinAccess, JoinFor, SignInRequired;
//   - how a join is matched to an application for 自動受付 (registrant id,
//     e-mail, or not at all): CheckInMatch, JoinKeys, MatchJoin;
//   - whether a meeting is still made for a schedule, and from when:
//     MayCreate, StartTime;
//   - the states of connections (連携中, 要再連携, 解除済), meetings (what kaisai
//     wants, what Zoom's side did, and the state the organizer sees:
//     MeetingStateOf), registrants and stored webhooks, as typed values with
//     their valid sets and the decisions on them (states.go,
//     meeting_state.go).
//
// Who may apply, when a schedule has started and a Zoom group's own settings
// are package event's.
package zoompolicy
