package event

import (
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// MailKind is one of the e-mails kaisai sends a participant.
type MailKind string

const (
	MailApplied   MailKind = "applied"   // 申込完了 (also sent when waitlisted; {status} and {status_note} say which)
	MailPaid      MailKind = "paid"      // 入金完了 (入金お礼)
	MailCancelled MailKind = "cancelled" // キャンセル完了
	MailPromoted  MailKind = "promoted"  // キャンセル待ち繰り上げ
	// MailPaymentExpired: cancelled because the 支払期限 passed unpaid.
	MailPaymentExpired MailKind = "payment_expired"
	// MailRefunded: 返金のお知らせ, once a refund succeeded ({refund_amount}).
	MailRefunded MailKind = "refunded"
)

// MailZoomRelink tells an organization's owners that Zoom refused a linked
// Zoom user's refresh token (要再連携). It is mail to an organizer, not to a
// participant: rendered from the default wording only, so it is not among
// MailKinds (which an event may reword).
const MailZoomRelink MailKind = "zoom_relink"

// MailZoomLinkedElsewhere tells an organization's owners that another
// organization linked one of their Zoom users, which ended their link at
// Zoom (要再連携). Mail to an organizer, as MailZoomRelink.
const MailZoomLinkedElsewhere MailKind = "zoom_linked_elsewhere"

// MailKinds are the kinds, in the order the organizer's settings show them.
var MailKinds = []MailKind{MailApplied, MailPaid, MailCancelled, MailPromoted, MailPaymentExpired, MailRefunded, MailReminder}

// Valid reports whether k is a known kind.
func (k MailKind) Valid() bool {
	for _, m := range MailKinds {
		if k == m {
			return true
		}
	}
	return false
}

// MailStatus is where an e-mail kaisai owes stands in its outbox
// (outbox.status).
type MailStatus string

const (
	MailPending MailStatus = "pending" // waiting for delivery (or for its next attempt)
	MailSent    MailStatus = "sent"    // accepted by the SMTP server
	MailKept    MailStatus = "kept"    // no SMTP configured: kept in the dev outbox, shown in the app
	MailFailed  MailStatus = "failed"  // given up after the last attempt; shown with its error
)

// MailStatuses are the valid statuses.
func MailStatuses() []MailStatus { return []MailStatus{MailPending, MailSent, MailKept, MailFailed} }

// Valid reports whether s is one of MailStatuses.
func (s MailStatus) Valid() bool { return slices.Contains(MailStatuses(), s) }

// MailPlaceholders are what a mail template may contain, written {name}.
var MailPlaceholders = []string{"name", "event", "schedule", "venue", "status", "status_note", "online_url", "application_url", "price",
	"receipt_url", "refund_amount"}

// Bounds of an organizer's mail template.
const (
	MaxMailSubjectLen = 200
	MaxMailBodyLen    = 10000
)

// MailTemplate is an event's wording of one kind of e-mail.
type MailTemplate struct {
	Kind    MailKind
	Subject string
	Body    string
}

var placeholderPattern = regexp.MustCompile(`\{([^{}\s]*)\}`)

// Validate refuses empty or oversized text and unknown placeholders, naming
// the first unknown one.
func (t *MailTemplate) Validate() error {
	var fe FieldErrors
	check := func(field, text string, max int, multiLine bool) {
		if !checkText(&fe, field, text, multiLine) {
			return
		}
		switch n := utf8.RuneCountInString(strings.TrimSpace(text)); {
		case n == 0:
			fe.Add(field, "validation.required")
			return
		case utf8.RuneCountInString(text) > max:
			fe.Add(field, "validation.too_long", max)
			return
		}
		for _, m := range placeholderPattern.FindAllStringSubmatch(text, -1) {
			if !knownPlaceholder(m[1]) {
				fe.Add(field, "validation.unknown_placeholder", m[0], "{"+strings.Join(MailPlaceholders, "} {")+"}")
				return
			}
		}
	}
	check(string(t.Kind)+"_subject", t.Subject, MaxMailSubjectLen, false)
	check(string(t.Kind)+"_body", t.Body, MaxMailBodyLen, true)
	return fe.Err()
}

func knownPlaceholder(name string) bool {
	for _, p := range MailPlaceholders {
		if p == name {
			return true
		}
	}
	return false
}

// Render fills the placeholders from vars (keyed without braces). A subject
// is kept to one line.
func (t *MailTemplate) Render(vars map[string]string) (subject, body string) {
	fill := func(s string) string {
		return placeholderPattern.ReplaceAllStringFunc(s, func(m string) string {
			if v, ok := vars[m[1:len(m)-1]]; ok {
				return v
			}
			return m
		})
	}
	subject = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(fill(t.Subject))
	return subject, fill(t.Body)
}
