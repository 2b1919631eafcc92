package zoom

import "strings"

// NeededScopes are the granular scopes kaisai's calls need, one per
// operation, as x-granular-scopes in Zoom's Users.json and Meetings.json
// list them. Ask for these in the Marketplace app.
var NeededScopes = []string{
	"user:read:user",                      // GET /users/me
	"user:read:settings",                  // GET /users/{userId}/settings
	"meeting:write:meeting",               // POST /users/{userId}/meetings
	"meeting:read:meeting",                // GET /meetings/{meetingId}
	"meeting:update:meeting",              // PATCH /meetings/{meetingId}
	"meeting:delete:meeting",              // DELETE /meetings/{meetingId}
	"meeting:write:registrant",            // POST /meetings/{meetingId}/registrants
	"meeting:read:list_registrants",       // GET /meetings/{meetingId}/registrants
	"meeting:write:batch_registrants",     // POST /meetings/{meetingId}/batch_registrants
	"meeting:update:registrant_status",    // PUT /meetings/{meetingId}/registrants/status
	"meeting:delete:registrant",           // DELETE /meetings/{meetingId}/registrants/{registrantId}
	"meeting:read:list_past_participants", // GET /past_meetings/{meetingId}/participants
}

// macroScopes are the classic scopes that also grant an operation
// (x-macro-scopes in the same specifications), for apps created before
// Zoom's granular scopes.
func macroScopes(granular string) []string {
	switch {
	case granular == "user:read:user":
		return []string{"user:read", "user:write", "user:read:admin", "user:write:admin", "user_profile", "user_info:read"}
	case strings.HasPrefix(granular, "user:"):
		return []string{"user:read", "user:write", "user:read:admin", "user:write:admin"}
	case strings.HasPrefix(granular, "meeting:read:"):
		return []string{"meeting:read", "meeting:read:admin"}
	case strings.HasPrefix(granular, "meeting:"):
		return []string{"meeting:write", "meeting:write:admin"}
	}
	return nil
}

// MissingScopes are the needed scopes that granted does not cover, in the
// order of needed. A granular scope is covered by itself, by its :admin
// form or by a classic scope that includes it.
func MissingScopes(granted []string, needed []string) []string {
	have := make(map[string]bool, len(granted))
	for _, s := range granted {
		have[s] = true
	}
	var missing []string
	for _, n := range needed {
		ok := have[n] || have[n+":admin"]
		for _, m := range macroScopes(n) {
			ok = ok || have[m]
		}
		if !ok {
			missing = append(missing, n)
		}
	}
	return missing
}
