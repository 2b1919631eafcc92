package event

import (
	"slices"
	"testing"
)

func TestZoomHostNoRegistration(t *testing.T) {
	for _, tt := range []struct {
		host ZoomHost
		want string
	}{
		{ZoomHost{Linked: true, Licence: ZoomLicenceLicensed}, ""},
		{ZoomHost{Linked: true, Licence: ZoomLicenceBasic}, NoRegistrationBasic},
		{ZoomHost{Linked: true, Licence: ZoomLicenceUnknown}, NoRegistrationLicenceUnknown},
		// Not linked (要再連携, 解除済): the licence is only as last seen.
		{ZoomHost{Licence: ZoomLicenceLicensed}, NoRegistrationNotLinked},
		{ZoomHost{Licence: ZoomLicenceBasic}, NoRegistrationNotLinked},
		{ZoomHost{}, NoRegistrationNotLinked},
	} {
		if got := tt.host.NoRegistration(); got != tt.want {
			t.Errorf("%+v.NoRegistration() = %q, want %q", tt.host, got, tt.want)
		}
	}
}

func TestEditZoomSettings(t *testing.T) {
	const a, b = 1, 2 // connection ids
	licensed := func(id int64) *ZoomHost { return &ZoomHost{ConnID: id, Linked: true, Licence: ZoomLicenceLicensed} }
	basic := func(id int64) *ZoomHost { return &ZoomHost{ConnID: id, Linked: true, Licence: ZoomLicenceBasic} }
	unknown := func(id int64) *ZoomHost { return &ZoomHost{ConnID: id, Linked: true} }
	unlinked := func(id int64) *ZoomHost { return &ZoomHost{ConnID: id, Licence: ZoomLicenceLicensed} }
	// on is a group of host a with 登録 and Zoom's registrant e-mails on.
	on := &ZoomSettings{ConnID: a, Passcode: "abc123", Registration: true, RegistrantEmails: true, HostVideo: true}
	off := &ZoomSettings{ConnID: a, Passcode: "abc123", HostVideo: true}
	// form is what a browser submits: disabled inputs send nothing.
	form := func(s *ZoomSettings, change func(*ZoomSettings)) *ZoomSettings {
		z := *s
		change(&z)
		z.Normalize()
		return &z
	}
	same := func(*ZoomSettings) {}
	noRegInputs := func(z *ZoomSettings) { z.Registration, z.RegistrantEmails = false, false }

	for _, tt := range []struct {
		name      string
		stored    *ZoomSettings
		submitted *ZoomSettings
		host      *ZoomHost
		offered   bool   // 登録 may be changed in the form
		reg       bool   // 登録 as saved
		mails     bool   // registrant e-mails as saved
		refused   string // "field=key", "" for none
	}{
		// The issue: 登録 on, the host's app removed on Zoom's side (解除済),
		// the name edited. 登録 is offered (it may be turned off), so the
		// browser sends it as it is.
		{"unlinked host, unchanged", on, form(on, same), unlinked(a), true, true, true, ""},
		// An older form, or one that disabled it: nothing sent keeps 登録.
		{"unlinked host, input not sent", off, form(off, noRegInputs), unlinked(a), false, false, false, ""},
		{"unlinked host, turned off", on, form(on, noRegInputs), unlinked(a), true, false, false, ""},
		{"unlinked host, turned on", off, form(off, func(z *ZoomSettings) { z.Registration = true }), unlinked(a),
			false, false, false, "zoom_registration=validation.zoom_registration_not_linked"},
		{"licence unknown, kept on", on, form(on, same), unknown(a), true, true, true, ""},
		{"licence unknown, turned on", off, form(off, func(z *ZoomSettings) { z.Registration = true }), unknown(a),
			false, false, false, "zoom_registration=validation.zoom_registration_licence_unknown"},
		{"basic host, kept on", on, form(on, same), basic(a), true, true, true, ""},
		{"basic host, turned off", on, form(on, noRegInputs), basic(a), true, false, false, ""},
		{"basic host, e-mails turned off", on, form(on, func(z *ZoomSettings) { z.RegistrantEmails = false }), basic(a),
			true, true, false, ""},
		{"basic host, turned on", off, form(off, func(z *ZoomSettings) { z.Registration = true }), basic(a),
			false, false, false, "zoom_registration=validation.zoom_registration_licensed"},
		{"basic host, input not sent", off, form(off, noRegInputs), basic(a), false, false, false, ""},
		{"licensed host, turned on", off, form(off, func(z *ZoomSettings) { z.Registration, z.RegistrantEmails = true, true }),
			licensed(a), true, true, true, ""},
		{"licensed host, turned off", on, form(on, noRegInputs), licensed(a), true, false, false, ""},
		// A new host.
		{"登録 carried to a Basic host", on, form(on, func(z *ZoomSettings) { z.ConnID = b }), basic(b),
			true, true, true, "zoom_registration=validation.zoom_registration_licensed"},
		{"登録 carried to a licensed host", on, form(on, func(z *ZoomSettings) { z.ConnID = b }), licensed(b),
			true, true, true, ""},
		{"to a Basic host, 登録 off", on, form(on, func(z *ZoomSettings) { z.ConnID = b; noRegInputs(z) }), basic(b),
			true, false, false, ""},
		{"to an unlinked host", off, form(off, func(z *ZoomSettings) { z.ConnID = b }), unlinked(b),
			false, false, false, "zoom_host=validation.zoom_host_unavailable"},
		{"to another organization's host", off, form(off, func(z *ZoomSettings) { z.ConnID = b }), nil,
			false, false, false, "zoom_host=validation.zoom_host_unavailable"},
		// A new Zoom group (or one that was not Zoom).
		{"new, licensed", nil, form(on, same), licensed(a), true, true, true, ""},
		{"new, basic, 登録 asked", nil, form(on, same), basic(a), false, false, false,
			"zoom_registration=validation.zoom_registration_licensed"},
		{"new, unlinked host", nil, form(off, same), unlinked(a), false, false, false,
			"zoom_host=validation.zoom_host_unavailable"},
		{"new, no host", nil, form(on, func(z *ZoomSettings) { z.ConnID = 0 }), nil, false, false, false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := ZoomHost{ConnID: tt.submitted.ConnID}
			if tt.host != nil {
				h = *tt.host
			}
			if got := OfferZoomSettings(tt.stored, h).Registration; got != tt.offered {
				t.Errorf("登録 offered = %v, want %v", got, tt.offered)
			}
			got, fe := EditZoomSettings(tt.stored, tt.submitted, tt.host)
			refused := keys(fe.Err())
			if want := []string{tt.refused}; tt.refused == "" && len(refused) != 0 || tt.refused != "" && !slices.Equal(refused, want) {
				t.Errorf("refusals %v, want [%s]", refused, tt.refused)
			}
			if got.Registration != tt.reg || got.RegistrantEmails != tt.mails {
				t.Errorf("saves 登録 %v, e-mails %v; want %v, %v", got.Registration, got.RegistrantEmails, tt.reg, tt.mails)
			}
			// Everything else is as submitted.
			want := *tt.submitted
			want.Registration, want.RegistrantEmails = got.Registration, got.RegistrantEmails
			if got != want {
				t.Errorf("saves %+v, want %+v", got, want)
			}
		})
	}
}
