package event

import (
	"strings"
	"time"
	"unicode/utf8"
)

// ApplicationStatus is where an application stands.
type ApplicationStatus string

const (
	Applied    ApplicationStatus = "applied"    // 申込済: holds a seat
	Waitlisted ApplicationStatus = "waitlisted" // キャンセル待ち: waits for a seat
	Cancelled  ApplicationStatus = "cancelled"  // キャンセル: kept, holds nothing
)

// Payment is the 入金状況 of an application to a paid event.
type Payment string

const (
	PaymentNone   Payment = ""       // free event
	PaymentUnpaid Payment = "unpaid" // 未入金
	PaymentPaid   Payment = "paid"   // 入金済
)

// Check-in sources (受付).
const (
	CheckinManual = "manual"
	CheckinZoom   = "zoom"
)

// Application (申込) is one person's application to one schedule.
type Application struct {
	ID            int64
	OrgID         int64
	EventID       int64
	ScheduleID    int64
	Token         string // unguessable; the participant's private page is /a/{Token}
	Name          string
	Email         string
	Status        ApplicationStatus
	Payment       Payment
	PaidVia       string    // how 入金済 came: payment.Method (card, konbini, bank_transfer, manual)
	PaymentDueAt  time.Time // 支払期限 of an unpaid application; zero when none
	CheckedInAt   time.Time // zero until 受付済
	CheckinSource string
	Memo          string // 機密事項メモ, organizers only
	CreatedAt     time.Time
	CancelledAt   time.Time
}

// Active reports whether the application has not been cancelled.
func (a Application) Active() bool { return a.Status != Cancelled }

// Eligible reports whether the participant may join: applied and, for a paid
// event, paid. Only then is the online URL shown (free: at once; paid: at 入金済).
func (a *Application) Eligible(e *Event) bool {
	if a.Status != Applied {
		return false
	}
	return !e.Paid() || a.Payment == PaymentPaid
}

// ErrCancelClosed refuses a participant's cancel once the schedule has
// started; the organizer can still cancel.
var ErrCancelClosed = Errorf(EConflict, "application.cancel_closed")

// MayCancel says whether the participant may cancel the application to sc at
// now: only before the schedule starts. It returns nil or ErrCancelClosed.
// Whether the application is still active is left to the store's conditional
// update, so that two cancels at once free one seat.
func (a *Application) MayCancel(sc *Schedule, now time.Time) error {
	if sc.Started(now) {
		return ErrCancelClosed
	}
	return nil
}

// ApplicationInput is what a participant submits on the application form.
type ApplicationInput struct {
	ScheduleID int64
	Name       string
	Email      string
	SubmitKey  string // one per rendered form: a double submit finds the first application
	// Consent: the participant agreed to the event's 利用規約 and
	// プライバシーポリシー (required when the event sets either).
	Consent bool
}

// Normalize trims what people type.
func (in *ApplicationInput) Normalize() {
	in.Name = strings.TrimSpace(in.Name)
	in.Email = strings.TrimSpace(in.Email)
}

// Validate checks the form; the store checks that the schedule belongs to the event.
func (in *ApplicationInput) Validate() error {
	var fe FieldErrors
	if in.ScheduleID <= 0 {
		fe.Add("schedule_id", "validation.choose_schedule")
	}
	if checkText(&fe, "name", in.Name, false) {
		switch n := utf8.RuneCountInString(in.Name); {
		case n == 0:
			fe.Add("name", "validation.required")
		case n > MaxNameLen:
			fe.Add("name", "validation.too_long", MaxNameLen)
		}
	}
	switch {
	case !checkText(&fe, "email", in.Email, false):
	case in.Email == "":
		fe.Add("email", "validation.required")
	case utf8.RuneCountInString(in.Email) > MaxEmailLen:
		fe.Add("email", "validation.too_long", MaxEmailLen)
	case !ValidEmail(in.Email):
		fe.Add("email", "validation.email")
	}
	return fe.Err()
}

// ValidateFor checks the form for applying to e: Validate's checks, and
// the participant's consent when e asks for it.
func (in *ApplicationInput) ValidateFor(e *Event) error {
	fe, _ := in.Validate().(FieldErrors)
	if e.NeedsConsent() && !in.Consent {
		fe.Add("consent", "validation.consent")
	}
	return fe.Err()
}

// SameSubmission reports whether in is the form that made a, sent again (a
// double click, a reload): a submit key gives back its application only to
// the same schedule and e-mail. Anything else sent with that key (another
// person at the same browser, a form edited after sending) is a new
// submission, and must not be shown someone else's application.
func (a *Application) SameSubmission(in ApplicationInput) bool {
	return a.ScheduleID == in.ScheduleID && strings.EqualFold(strings.TrimSpace(a.Email), strings.TrimSpace(in.Email))
}

// Outcome of an application attempt.
type ApplyResult struct {
	Application Application
	Existing    bool // the same form was submitted before; nothing new was created
}
