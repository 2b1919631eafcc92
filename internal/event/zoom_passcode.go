package event

// What the organizer is told about a Zoom group's passcode, given its host's
// passcode policy. Which rule a passcode breaks is Zoom's knowledge (the Zoom
// client checks it against the policy it reads from Zoom); whether that, or
// a missing passcode, refuses the group, and with which message, is decided
// here.

// ZoomPasscodeBreach is the first rule of the host's passcode policy (or of
// Zoom's rules for every passcode) that a passcode breaks, as the Zoom client
// reports it; the zero value when it breaks none.
type ZoomPasscodeBreach struct {
	// Rule is one of "too_long", "too_short", "characters", "letter",
	// "number", "special", "numeric_only", "upper_lower", "consecutive";
	// "" when the passcode satisfies the policy.
	Rule string
	Min  int // for too_short: the policy's minimum length
	Max  int // for too_long: Zoom's maximum; for consecutive: the longest run allowed
}

// ZoomPasscodePolicy is what a host's passcode policy says of one passcode.
type ZoomPasscodePolicy struct {
	// Required: the host requires a passcode for new meetings.
	Required bool
	// Breach is the rule the passcode breaks (zero when none, and for the
	// empty passcode, which is not checked against the policy).
	Breach ZoomPasscodeBreach
}

// passcodeRuleKeys say, per ZoomPasscodeBreach.Rule, what the host's policy
// asks of the passcode.
var passcodeRuleKeys = map[string]string{
	"too_long":     "validation.zoom_passcode_too_long",
	"too_short":    "validation.zoom_passcode_too_short",
	"characters":   "validation.zoom_passcode_characters",
	"letter":       "validation.zoom_passcode_letter",
	"number":       "validation.zoom_passcode_number",
	"special":      "validation.zoom_passcode_special",
	"numeric_only": "validation.zoom_passcode_numeric_only",
	"upper_lower":  "validation.zoom_passcode_upper_lower",
	"consecutive":  "validation.zoom_passcode_consecutive",
}

// CheckZoomPasscode decides whether a group's passcode (as it will be saved)
// is refused by its host's policy p, and why, as refusals of the form's
// zoom_passcode field: no passcode is refused when the host requires one;
// a passcode is refused for the rule it breaks (a rule kaisai has no
// message for gets the general one). None when the passcode is acceptable.
func CheckZoomPasscode(passcode string, p ZoomPasscodePolicy) FieldErrors {
	var fe FieldErrors
	if passcode == "" {
		if p.Required {
			fe.Add("zoom_passcode", "validation.zoom_passcode_required_by_host")
		}
		return fe
	}
	b := p.Breach
	if b.Rule == "" {
		return fe
	}
	key, ok := passcodeRuleKeys[b.Rule]
	if !ok {
		key = "validation.zoom_passcode_policy"
	}
	switch b.Rule {
	case "too_short":
		fe.Add("zoom_passcode", key, b.Min)
	case "too_long", "consecutive":
		fe.Add("zoom_passcode", key, b.Max)
	default:
		fe.Add("zoom_passcode", key)
	}
	return fe
}
