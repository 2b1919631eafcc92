// Package zoomsim is a stateful stand-in for Zoom: the OAuth endpoints of a
// user-managed app (with a consent page where one signs in as a simulated
// Zoom user), and the subset of the REST API under /v2 that kaisai uses,
// answering with Zoom's status codes, error codes and messages.
//
// It knows Zoom, not kaisai, and production code never imports it.
//
// Running it:
//
//	srv, err := zoomsim.New(zoomsim.Options{Seed: zoomsim.DefaultSeed()})
//	base, err := srv.Start(ctx, "127.0.0.1:0") // http://127.0.0.1:NNNN
//
// or `kaisai zoomsim --addr 127.0.0.1:9090 [--state FILE]`. With a state
// file, the state is loaded at start and written after every change
// (write to a temporary file, then rename).
//
// Endpoints:
//
//	GET  /oauth/authorize   consent page; response_type=code, client_id, redirect_uri, state, code_challenge (S256)
//	POST /oauth/authorize   the consent form: sign in as a user by e-mail and password, approve or deny
//	POST /oauth/token       HTTP Basic client auth; grant_type authorization_code | refresh_token
//	POST /oauth/revoke      token=…
//	/v2/…                   users/me, users/{userId}/settings, meetings, registrants, past participants
//
// The control API for tests is the exported methods of *Server: AddUser,
// AddApp, SetClock, User, Meeting, ExpireAccessTokens, SetPlan and
// SetLimits (Zoom's rate limits, limits.go: on by default, Options.Limits
// shortens them or switches them off), SetFaults and ClearFaults (5xx
// answers, latency, timeouts, expired or revoked tokens and dropped
// webhooks, by operation and rate, faults.go). Webhooks (webhooks.go):
// SetWebhookEndpoint, WebhookValidated, Deliveries, WaitDeliveries, Close,
// EditMeeting and DeleteMeeting (changes on the Zoom side), RemoveApp;
// deliveries are signed and retried 5, 20 and 60 minutes after a failure
// (Options.Webhooks scales or replaces that). Participants
// (participants.go): Join, Admit, Leave, EndMeeting. State is guarded by
// one mutex (deliveries have their own); every handler is safe for
// concurrent use.
package zoomsim
