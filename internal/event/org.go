package event

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Role is a member's role in an organization.
type Role string

const (
	RoleOwner Role = "owner" // created the organization; adds staff
	RoleStaff Role = "staff"
)

// MinPasswordLen is the shortest password an organizer may choose.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 200
)

// Organization (主催者) is a tenant: everything it owns is seen only by its members.
type Organization struct {
	ID        int64
	Name      string
	CreatedAt time.Time
}

// Member is a person who logs in to manage an organization's events.
type Member struct {
	ID        int64
	OrgID     int64
	Email     string // lower-cased
	Name      string
	Role      Role
	CreatedAt time.Time
}

// Owner reports whether the member may manage the organization's members.
func (m *Member) Owner() bool { return m.Role == RoleOwner }

// SignupInput is the sign-up form: a new organization and its owner.
type SignupInput struct {
	OrgName  string
	Name     string
	Email    string
	Password string
}

// MemberInput is the form by which an owner adds a staff member.
type MemberInput struct {
	Name     string
	Email    string
	Password string
}

// Normalize trims what people type; passwords are taken as typed.
func (in *SignupInput) Normalize() {
	in.OrgName = strings.TrimSpace(in.OrgName)
	in.Name = strings.TrimSpace(in.Name)
	in.Email = NormalizeEmail(in.Email)
}

// Validate checks the sign-up form.
func (in *SignupInput) Validate() error {
	var fe FieldErrors
	if checkText(&fe, "org_name", in.OrgName, false) {
		switch n := utf8.RuneCountInString(in.OrgName); {
		case n == 0:
			fe.Add("org_name", "validation.required")
		case n > MaxTitleLen:
			fe.Add("org_name", "validation.too_long", MaxTitleLen)
		}
	}
	validatePerson(&fe, in.Name, in.Email, in.Password)
	return fe.Err()
}

// Normalize trims what people type; passwords are taken as typed.
func (in *MemberInput) Normalize() {
	in.Name = strings.TrimSpace(in.Name)
	in.Email = NormalizeEmail(in.Email)
}

// Validate checks the add-member form.
func (in *MemberInput) Validate() error {
	var fe FieldErrors
	validatePerson(&fe, in.Name, in.Email, in.Password)
	return fe.Err()
}

func validatePerson(fe *FieldErrors, name, email, password string) {
	if checkText(fe, "name", name, false) {
		switch n := utf8.RuneCountInString(name); {
		case n == 0:
			fe.Add("name", "validation.required")
		case n > MaxNameLen:
			fe.Add("name", "validation.too_long", MaxNameLen)
		}
	}
	switch {
	case !checkText(fe, "email", email, false):
	case email == "":
		fe.Add("email", "validation.required")
	case !ValidEmail(email):
		fe.Add("email", "validation.email")
	}
	// A password is never shown, mailed or stored as typed, but it is typed
	// again at every login: it too must be text.
	switch n := utf8.RuneCountInString(password); {
	case CheckText(password, false) != nil:
		fe.Add("password", "validation.bad_text")
	case n < MinPasswordLen:
		fe.Add("password", "validation.password_short", MinPasswordLen)
	case len(password) > MaxPasswordLen:
		fe.Add("password", "validation.too_long", MaxPasswordLen)
	}
}
