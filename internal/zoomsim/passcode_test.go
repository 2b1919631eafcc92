package zoomsim

import "testing"

// Users.json: consecutive_characters_length n allows at most n-1
// identical or sequential characters in a row.
func TestPasscodeConsecutiveCharacters(t *testing.T) {
	pol := PasscodePolicy{ConsecutiveCharactersLength: 4}
	for pass, ok := range map[string]bool{
		"abc1x@8fdh": true, "abcd1x": false, "x1234": false, "x123y4": true,
		"zzzz": false, "zzz9": true, "9876": true, "@ABC": true, "XYZa": true,
	} {
		if err := checkPasscode(pass, pol); (err == nil) != ok {
			t.Errorf("checkPasscode(%q, length 4) = %v, want ok %v", pass, err, ok)
		}
	}
	if err := checkPasscode("abcdefgh", PasscodePolicy{}); err != nil {
		t.Errorf("without the rule, runs are allowed: %v", err)
	}
	for _, p := range []PasscodePolicy{pol, {Length: 10, OnlyAllowNumeric: true, ConsecutiveCharactersLength: 4}} {
		for range 200 {
			if pass := generatePasscode(p); checkPasscode(pass, p) != nil {
				t.Fatalf("generatePasscode(%+v) = %q, which breaks it", p, pass)
			}
		}
	}
}
