// Package zoomsim is a stateful stand-in for Zoom: the OAuth endpoints of a
// user-managed app (with a consent page where one signs in as a simulated
// Zoom user), and the subset of the REST API under /v2 that kaisai uses,
// answering with Zoom's status codes, error codes and messages.
//
// It knows Zoom, not kaisai. cmd/kaisai links it (the embedded default of
// serve, and kaisai zoomsim), as does cmd/kaisai-bench; no package under
// internal/ imports it outside tests.
//
// Running it:
//
//	srv, err := zoomsim.New(zoomsim.Options{Seed: zoomsim.DefaultSeed()})
//	base, err := srv.Start(ctx, "127.0.0.1:0") // http://127.0.0.1:NNNN
//
// or `kaisai zoomsim --addr 127.0.0.1:9090 [--state FILE] [--seed=false]
// [--webhook-url URL --webhook-secret TOKEN] [--access-token-ttl 1h]` (the
// web UI is at /). With a state
// file, the state is loaded at start and written after every change
// (write to a temporary file, then rename).
//
// Endpoints:
//
//	GET  /oauth/authorize   consent page; response_type=code, client_id, redirect_uri, state, and optionally
//	                        PKCE: code_challenge with code_challenge_method=S256 (then code_verifier is required)
//	POST /oauth/authorize   the consent form: sign in as a user by e-mail and password, approve or deny
//	POST /oauth/token       HTTP Basic client auth; grant_type authorization_code | refresh_token
//	POST /oauth/revoke      token=…
//	GET  /                  the web UI for a person (ui.go): users, apps (Added Apps → Remove), meetings
//	                        with registrants and participants; join, leave, admit, end; edit or delete a
//	                        meeting on the Zoom side (meeting.updated / meeting.deleted are sent)
//	/v2/…                   users/me, users/{userId}/settings, meetings, registrants, past participants
//
// The control API for tests is the exported methods of *Server: AddUser,
// AddApp, SetClock, User, Meeting, ExpireAccessTokens, SetAccessTokenTTL
// (Options.AccessTokenTTL; Zoom's is an hour), SetPlan and
// SetLimits (Zoom's rate limits, limits.go: on by default, Options.Limits
// shortens them or switches them off), SetFaults and ClearFaults (5xx
// answers, 429s answered as the rate limiter answers them, latency,
// timeouts, lost answers, expired or revoked tokens and dropped webhooks,
// by operation, faults.go). A fault hits at a seeded Rate, or
// deterministically: with a Count and no Rate it fails the next Count
// matching calls and is spent, e.g. Fault{Kind: FaultRateLimit, Op:
// "meetingCreate", Count: 2} refuses the next two creates with 429.
// Webhooks (webhooks.go):
// SetWebhookEndpoint, WebhookValidated, Deliveries, WaitDeliveries, Close,
// EditMeeting and DeleteMeeting (changes on the Zoom side), RemoveApp;
// deliveries are signed and retried 5, 20 and 60 minutes after a failure
// (Options.Webhooks scales or replaces that). Participants
// (participants.go): Join, Admit, Leave, EndMeeting. State is guarded by
// one mutex (deliveries have their own); every handler is safe for
// concurrent use. State returns a Snapshot of users, apps and meetings;
// Reset goes back to the seed.
//
// The same control API over HTTP, JSON in and out (control.go; no part of
// Zoom, no authentication). Bad input answers 400 {"error": "…"}:
//
//	GET    /_sim/state                 users, apps (with authorized_users), meetings (with registrants,
//	                                   participants and waiting), summary
//	POST   /_sim/users                 a User: {"email", "password" ("password" when empty), "first_name",
//	                                   "last_name", "type": 1 Basic | 2 Licensed, "require_passcode",
//	                                   "policy": {"length", "only_allow_numeric", …}} → 201 the user
//	POST   /_sim/apps                  an App: {"client_id", "client_secret", "redirect_uris", "scopes",
//	                                   "event_url", "secret_token"} → 201; event_url is validated as
//	                                   SetWebhookEndpoint does
//	POST   /_sim/token-lifetime        {"access_token": "30s"}: the lifetime of access tokens given from
//	                                   now on (whole seconds; Zoom: 1h) → 204
//	POST   /_sim/plan                  {"email" | "account_id", "plan": "Free" | "Pro" | "Business"} → 204
//	POST   /_sim/faults                {"seed", "faults": [{"kind": "status" | "rate_limit" | "latency" |
//	                                   "timeout" | "lost_answer" | "token_expired" | "token_revoked" |
//	                                   "drop_webhook", "op", "meeting", "rate", "count", "status" (5xx, or 429 =
//	                                   rate_limit), "rate_limit_type": "QPS" | "Daily-limit",
//	                                   "delay": "2s"}]} replaces the faults → 204. "op" is a route or an
//	                                   operationId (an event for drop_webhook); "meeting" a Zoom
//	                                   meeting ID, limiting it to that meeting's calls; no "rate" with a
//	                                   "count": the next count calls fail, e.g. {"kind": "timeout",
//	                                   "op": "meetingCreate", "count": 1}
//	DELETE /_sim/faults                clears them → 204
//	POST   /_sim/meetings/{id}/join    {"email", "name", "passcode", "registrant_id", "join_url"} → 200
//	                                   the participant ("waiting": true in a waiting room); 403 with
//	                                   the reason when refused; 404 for an unknown meeting
//	POST   /_sim/meetings/{id}/admit   {"participant_id"} → 204
//	POST   /_sim/meetings/{id}/leave   {"participant_id"} → 204
//	POST   /_sim/meetings/{id}/end     → 204; 409 when the meeting is not running
//	POST   /_sim/remove-app            {"email", "client_id"}: Added Apps → Remove → 204
//	GET    /_sim/webhooks[?event=…]    deliveries, oldest first, with "body" as JSON and "attempts"
//	POST   /_sim/reset                 back to the seed → 204
package zoomsim
