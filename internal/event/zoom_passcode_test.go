package event

import (
	"reflect"
	"testing"
)

func TestCheckZoomPasscode(t *testing.T) {
	breach := func(rule string, min, max int) ZoomPasscodePolicy {
		return ZoomPasscodePolicy{Breach: ZoomPasscodeBreach{Rule: rule, Min: min, Max: max}}
	}
	tests := []struct {
		name     string
		passcode string
		policy   ZoomPasscodePolicy
		want     FieldErrors
	}{
		{"no passcode, none required", "", ZoomPasscodePolicy{}, nil},
		{"no passcode, host requires one", "", ZoomPasscodePolicy{Required: true},
			FieldErrors{{"zoom_passcode", "validation.zoom_passcode_required_by_host", nil}}},
		{"no passcode is not checked against the rules", "", breach("too_short", 6, 0), nil},
		{"passcode that breaks nothing", "abc123", ZoomPasscodePolicy{Required: true}, nil},
		{"too short names the minimum", "ab1", breach("too_short", 6, 0),
			FieldErrors{{"zoom_passcode", "validation.zoom_passcode_too_short", []any{6}}}},
		{"too long names the maximum", "12345678901", breach("too_long", 0, 10),
			FieldErrors{{"zoom_passcode", "validation.zoom_passcode_too_long", []any{10}}}},
		{"run too long names the longest allowed", "aaaa12", breach("consecutive", 0, 3),
			FieldErrors{{"zoom_passcode", "validation.zoom_passcode_consecutive", []any{3}}}},
		{"characters", "abc!12", breach("characters", 0, 0),
			FieldErrors{{"zoom_passcode", "validation.zoom_passcode_characters", nil}}},
		{"letter", "123456", breach("letter", 0, 0),
			FieldErrors{{"zoom_passcode", "validation.zoom_passcode_letter", nil}}},
		{"number", "abcxyz", breach("number", 0, 0),
			FieldErrors{{"zoom_passcode", "validation.zoom_passcode_number", nil}}},
		{"special", "abc123", breach("special", 0, 0),
			FieldErrors{{"zoom_passcode", "validation.zoom_passcode_special", nil}}},
		{"numeric only", "abc123", breach("numeric_only", 0, 0),
			FieldErrors{{"zoom_passcode", "validation.zoom_passcode_numeric_only", nil}}},
		{"upper and lower", "abc123", breach("upper_lower", 0, 0),
			FieldErrors{{"zoom_passcode", "validation.zoom_passcode_upper_lower", nil}}},
		{"a rule without its own message", "abc123", breach("weak", 0, 0),
			FieldErrors{{"zoom_passcode", "validation.zoom_passcode_policy", nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckZoomPasscode(tt.passcode, tt.policy); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("CheckZoomPasscode(%q, %+v) = %#v, want %#v", tt.passcode, tt.policy, got, tt.want)
			}
		})
	}
}
