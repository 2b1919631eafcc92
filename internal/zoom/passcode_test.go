package zoom

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"kaisai/internal/zoomsim"
)

// policyHosts gives, per passcode policy, a client of a simulated host
// with that policy and one meeting of theirs to PATCH passcodes onto.
type policyHosts struct {
	s     *sim
	hosts map[PasscodePolicy]policyHost
}

type policyHost struct {
	cl      *Client
	meeting int64
}

func newPolicyHosts(t *testing.T) *policyHosts {
	s := startSim(t)
	s.srv.SetLimits(zoomsim.Limits{Off: true}) // hundreds of meeting writes
	return &policyHosts{s: s, hosts: map[PasscodePolicy]policyHost{}}
}

func (ph *policyHosts) host(t *testing.T, p PasscodePolicy) policyHost {
	t.Helper()
	if h, ok := ph.hosts[p]; ok {
		return h
	}
	email := fmt.Sprintf("policy%d@example.com", len(ph.hosts))
	_, err := ph.s.srv.AddUser(zoomsim.User{
		Email: email, Password: "password", Type: zoomsim.UserLicensed, RequirePasscode: true,
		Policy: zoomsim.PasscodePolicy{
			Length: p.Length, HaveLetter: p.HaveLetter, HaveNumber: p.HaveNumber,
			HaveSpecialCharacter: p.HaveSpecialCharacter, OnlyAllowNumeric: p.OnlyAllowNumeric,
			HaveUpperAndLowerCharacters: p.HaveUpperAndLowerCharacters,
			ConsecutiveCharactersLength: p.ConsecutiveCharactersLength, WeakEnhanceDetection: p.WeakEnhanceDetection,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	cl := ph.s.client(ph.s.link(t, email), nil)
	m, err := cl.CreateMeeting(context.Background(), "me", &MeetingRequest{
		Topic: ptr("passcodes"), Type: ptr(MeetingScheduled), StartTime: ptr(ZoomTime(time.Now().Add(time.Hour))),
		DefaultPassword: ptr(false), Settings: &MeetingSettings{WaitingRoom: ptr(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := policyHost{cl: cl, meeting: m.ID}
	ph.hosts[p] = h
	return h
}

// zoomAccepts reports whether Zoom takes passcode for a meeting of a host
// with policy p; a refusal must be Zoom's validation error, code 300.
func (ph *policyHosts) zoomAccepts(t *testing.T, passcode string, p PasscodePolicy) bool {
	t.Helper()
	h := ph.host(t, p)
	err := h.cl.UpdateMeeting(context.Background(), h.meeting, &MeetingRequest{Password: ptr(passcode)})
	if err == nil {
		return true
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != 300 {
		t.Fatalf("passcode %q: %v, want success or 400 code 300", passcode, err)
	}
	return false
}

var testPolicies = []PasscodePolicy{
	{},
	{Length: 6},
	{Length: 6, HaveLetter: true, HaveNumber: true},
	{Length: 8, OnlyAllowNumeric: true},
	{Length: 10, OnlyAllowNumeric: true, ConsecutiveCharactersLength: 4},
	{Length: 10, HaveLetter: true, HaveNumber: true, HaveSpecialCharacter: true, HaveUpperAndLowerCharacters: true},
	{Length: 7, HaveSpecialCharacter: true, ConsecutiveCharactersLength: 4},
	{Length: 4, HaveUpperAndLowerCharacters: true, ConsecutiveCharactersLength: 8, WeakEnhanceDetection: true},
}

func TestGeneratePasscodeAcceptedByZoom(t *testing.T) {
	ph := newPolicyHosts(t)
	for _, p := range testPolicies {
		seen := map[string]bool{}
		for range 25 {
			pass := GeneratePasscode(p)
			if err := CheckPasscode(pass, p); err != nil {
				t.Errorf("GeneratePasscode(%+v) = %q: %v", p, pass, err)
			}
			if n := len(pass); n > 10 || n < max(p.Length, 8) {
				t.Errorf("GeneratePasscode(%+v) = %q: length %d", p, pass, n)
			}
			if p.HaveSpecialCharacter && !strings.ContainsAny(pass, "@-_*") {
				t.Errorf("GeneratePasscode(%+v) = %q: no special character", p, pass)
			}
			if !ph.zoomAccepts(t, pass, p) {
				t.Errorf("Zoom refuses GeneratePasscode(%+v) = %q", p, pass)
			}
			seen[pass] = true
		}
		if len(seen) < 20 {
			t.Errorf("GeneratePasscode(%+v) made only %d different passcodes of 25", p, len(seen))
		}
	}
}

func TestCheckPasscodeAgreesWithZoom(t *testing.T) {
	strict := PasscodePolicy{Length: 8, HaveLetter: true, HaveNumber: true, HaveSpecialCharacter: true, HaveUpperAndLowerCharacters: true}
	numeric := PasscodePolicy{Length: 6, OnlyAllowNumeric: true}
	runs := PasscodePolicy{Length: 6, ConsecutiveCharactersLength: 4}
	tests := []struct {
		pass string
		p    PasscodePolicy
		rule string // "" when valid
		min  int
		max  int
	}{
		{"abc123", PasscodePolicy{}, "", 0, 0},
		{"a-b_c*d@", PasscodePolicy{}, "", 0, 0},
		{"12345678901", PasscodePolicy{}, "too_long", 0, 10},
		{"abc 12", PasscodePolicy{}, "characters", 0, 0},
		{"abc!12", PasscodePolicy{}, "characters", 0, 0},
		{"パス1", PasscodePolicy{}, "characters", 0, 0},
		{"ab1", PasscodePolicy{Length: 6}, "too_short", 6, 0},
		{"123456", PasscodePolicy{Length: 6, HaveLetter: true}, "letter", 0, 0},
		{"abcxyz", PasscodePolicy{Length: 6, HaveNumber: true}, "number", 0, 0},
		{"Abcd1234", strict, "special", 0, 0},
		{"abcd-1234", strict, "upper_lower", 0, 0},
		{"Abcd-1234", strict, "", 0, 0},
		{"Ab-1", strict, "too_short", 8, 0},
		{"12345a", numeric, "numeric_only", 0, 0},
		{"123-56", numeric, "numeric_only", 0, 0},
		{"123456", numeric, "", 0, 0},
		{"x1234y", runs, "consecutive", 0, 3},
		{"x123y4", runs, "", 0, 0},
		{"aaaa12", runs, "consecutive", 0, 3},
		{"qABCDz", runs, "consecutive", 0, 3},
		{"q@ABCz", runs, "", 0, 0}, // @ and A are neighbours in ASCII, not a sequence
		{"9876ab", runs, "", 0, 0}, // descending is allowed
		{"____12", runs, "consecutive", 0, 3},
	}
	ph := newPolicyHosts(t)
	for _, tt := range tests {
		err := CheckPasscode(tt.pass, tt.p)
		var pe *PasscodeError
		switch {
		case tt.rule == "" && err != nil:
			t.Errorf("CheckPasscode(%q, %+v) = %v, want nil", tt.pass, tt.p, err)
		case tt.rule != "" && (!errors.As(err, &pe) || pe.Rule != tt.rule || pe.Min != tt.min || pe.Max != tt.max):
			t.Errorf("CheckPasscode(%q, %+v) = %#v, want rule %s (min %d, max %d)", tt.pass, tt.p, err, tt.rule, tt.min, tt.max)
		}
		if pe != nil && pe.Error() == "" {
			t.Errorf("%#v has no message", pe)
		}
		if accepted := ph.zoomAccepts(t, tt.pass, tt.p); accepted != (err == nil) {
			t.Errorf("passcode %q, policy %+v: Zoom accepts it: %v; CheckPasscode says %v", tt.pass, tt.p, accepted, err)
		}
	}
}
