package zoom

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
)

// Zoom's rules for every meeting passcode, whatever the user's policy.
const (
	passcodeMaxLen   = 10
	passcodeSpecials = "@-_*"
)

// PasscodeError is the first rule a passcode breaks.
type PasscodeError struct {
	// Rule is one of "too_long", "too_short", "characters", "letter",
	// "number", "special", "numeric_only", "upper_lower", "consecutive".
	Rule string
	Min  int // for too_short: the policy's minimum length
	Max  int // for too_long: 10; for consecutive: the longest run allowed
}

func (e *PasscodeError) Error() string {
	switch e.Rule {
	case "too_long":
		return fmt.Sprintf("zoom passcode: at most %d characters", e.Max)
	case "too_short":
		return fmt.Sprintf("zoom passcode: at least %d characters", e.Min)
	case "characters":
		return "zoom passcode: only letters, digits and @ - _ * are allowed"
	case "letter":
		return "zoom passcode: needs a letter"
	case "number":
		return "zoom passcode: needs a digit"
	case "special":
		return "zoom passcode: needs one of @ - _ *"
	case "numeric_only":
		return "zoom passcode: digits only"
	case "upper_lower":
		return "zoom passcode: needs upper and lower case letters"
	case "consecutive":
		return fmt.Sprintf("zoom passcode: at most %d identical or sequential characters in a row", e.Max)
	}
	return "zoom passcode: " + e.Rule
}

// CheckPasscode reports the first rule of the policy (and of Zoom: at most 10 characters, only letters, digits and @ - _ *) that the passcode breaks, as a *PasscodeError; nil when it satisfies them.
//
// The empty passcode is not checked: it means no passcode (Zoom then
// requires the waiting room or authentication instead). The rules are
// checked in the order Zoom reports them.
func CheckPasscode(passcode string, p PasscodePolicy) error {
	if passcode == "" {
		return nil
	}
	if len(passcode) > passcodeMaxLen {
		return &PasscodeError{Rule: "too_long", Max: passcodeMaxLen}
	}
	var letter, number, special, upper, lower bool
	for i := range len(passcode) {
		switch c := passcode[i]; {
		case isLower(c):
			letter, lower = true, true
		case isUpper(c):
			letter, upper = true, true
		case isDigit(c):
			number = true
		case strings.IndexByte(passcodeSpecials, c) >= 0:
			special = true
		default:
			return &PasscodeError{Rule: "characters"}
		}
	}
	switch {
	case len(passcode) < p.Length:
		return &PasscodeError{Rule: "too_short", Min: p.Length}
	case p.OnlyAllowNumeric && (letter || special):
		return &PasscodeError{Rule: "numeric_only"}
	case p.HaveLetter && !letter:
		return &PasscodeError{Rule: "letter"}
	case p.HaveNumber && !number:
		return &PasscodeError{Rule: "number"}
	case p.HaveSpecialCharacter && !special:
		return &PasscodeError{Rule: "special"}
	case p.HaveUpperAndLowerCharacters && !(upper && lower):
		return &PasscodeError{Rule: "upper_lower"}
	case p.ConsecutiveCharactersLength > 0 && longestRun(passcode) >= p.ConsecutiveCharactersLength:
		// Users.json: a length of n allows at most n-1 such characters.
		return &PasscodeError{Rule: "consecutive", Max: p.ConsecutiveCharactersLength - 1}
	}
	return nil
}

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// longestRun is the longest run of identical characters (1111, @@@) or of
// ascending digits or same-case letters (1234, abcd) in s.
func longestRun(s string) int {
	best, run := 0, 0
	for i := range len(s) {
		if i > 0 && (s[i] == s[i-1] || (s[i] == s[i-1]+1 && sameClass(s[i], s[i-1]))) {
			run++
		} else {
			run = 1
		}
		best = max(best, run)
	}
	return best
}

func sameClass(a, b byte) bool {
	return isDigit(a) && isDigit(b) || isLower(a) && isLower(b) || isUpper(a) && isUpper(b)
}

// Characters of generated passcodes: without look-alikes (0 O o, 1 l I),
// since a person may have to type one from a printed page.
const (
	genLowers = "abcdefghijkmnpqrstuvwxyz"
	genUppers = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	genDigits = "23456789"
)

// GeneratePasscode returns a random passcode that satisfies the policy (Zoom's maximum length is 10; numeric-only when OnlyAllowNumeric; letters, digits and, when asked, one of Zoom's allowed special characters @ - _ *; upper and lower case when asked; no run of ConsecutiveCharactersLength identical or sequential characters when that is set >0). Uses crypto/rand.
//
// It is 8 characters long, or the policy's minimum when that is longer
// (at most 10). A policy no passcode satisfies (numeric only with a
// letter, or a minimum above 10) gets one that CheckPasscode refuses.
func GeneratePasscode(p PasscodePolicy) string {
	var s string
	// A random candidate has a run too long only rarely; 100 tries make
	// failing on a satisfiable policy practically impossible.
	for range 100 {
		s = passcodeCandidate(p)
		if CheckPasscode(s, p) == nil {
			break
		}
	}
	return s
}

func passcodeCandidate(p PasscodePolicy) string {
	n := min(max(p.Length, 8), passcodeMaxLen)
	if p.OnlyAllowNumeric {
		b := make([]byte, n)
		for i := range b {
			b[i] = "0123456789"[randIntn(10)]
		}
		return string(b)
	}
	pick := func(set string) byte { return set[randIntn(len(set))] }
	// One of each class always: it satisfies have_letter, have_number and
	// have_upper_and_lower_characters at once.
	b := []byte{pick(genLowers), pick(genUppers), pick(genDigits)}
	if p.HaveSpecialCharacter {
		b = append(b, pick(passcodeSpecials))
	}
	const all = genLowers + genUppers + genDigits
	for len(b) < n {
		b = append(b, pick(all))
	}
	for i := len(b) - 1; i > 0; i-- {
		j := randIntn(i + 1)
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// randIntn is a uniform random int in [0, n) from crypto/rand.
func randIntn(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return int(v.Int64())
}
