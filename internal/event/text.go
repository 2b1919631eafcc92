package event

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Text is text: whatever a person enters is stored, mailed, exported to CSV
// and sent to Zoom, so it must be valid UTF-8 without characters that are
// not text. Refused everywhere: invalid UTF-8, NUL and the other C0
// controls, DEL, the C1 controls, and the bidi embedding, override and
// isolate characters (U+202A–U+202E, U+2066–U+2069), which make a name read
// differently from what it is (a file name or URL spelled backwards). A
// multi-line field (a description, a mail body) may also hold line feeds
// and tabs; a one-line field holds neither, nor U+2028/U+2029, which some
// readers break lines at. Carriage returns never reach the rule: a
// multi-line field's line ends are first made LF by NormalizeNewlines.

// TextError says what is wrong with a text and where (a byte offset).
type TextError struct {
	Offset int
	Reason string
}

func (e *TextError) Error() string { return fmt.Sprintf("%s at byte %d", e.Reason, e.Offset) }

// CheckText returns nil when s is text that a one-line (or, with multiLine,
// a multi-line) field may hold, and a *TextError naming the first offence
// otherwise.
func CheckText(s string, multiLine bool) error {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			return &TextError{Offset: i, Reason: "invalid UTF-8"}
		}
		switch {
		case r == '\n' || r == '\t':
			if !multiLine {
				return &TextError{Offset: i, Reason: fmt.Sprintf("control character %U in a one-line field", r)}
			}
		case r == 0:
			return &TextError{Offset: i, Reason: "NUL"}
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			return &TextError{Offset: i, Reason: fmt.Sprintf("control character %U", r)}
		case r == '\u2028' || r == '\u2029':
			if !multiLine {
				return &TextError{Offset: i, Reason: fmt.Sprintf("line separator %U in a one-line field", r)}
			}
		case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
			return &TextError{Offset: i, Reason: fmt.Sprintf("bidi control %U", r)}
		}
		i += size
	}
	return nil
}

// newlines makes every line end LF: browsers send a textarea's lines ending
// in CRLF, and an old Mac or a script may send CR alone.
var newlines = strings.NewReplacer("\r\n", "\n", "\r", "\n")

// NormalizeNewlines makes the line ends of a multi-line field LF.
func NormalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	return newlines.Replace(s)
}

// checkText adds validation.bad_text to fe for field when s is not text.
func checkText(fe *FieldErrors, field, s string, multiLine bool) bool {
	if CheckText(s, multiLine) != nil {
		fe.Add(field, "validation.bad_text")
		return false
	}
	return true
}
