package event

// Which of a Zoom group's settings the 日程グループ form may change, for the
// host it names, and what the server keeps of the stored settings: one rule
// for both, so that a disabled input (which a browser does not submit) never
// reads as "turned off". A setting changes only when the organizer changes
// it; a change kaisai cannot carry out is refused, with the reason.
//
// Host states and settings:
//
//	                         linked       linked       linked          要再連携 / 解除済      要再連携 / 解除済
//	                         Licensed     Basic        licence unknown (the group's host)     (another host)
//	ホスト                    may choose   may choose   may choose      stays                  refused
//	登録 turned on            yes          refused      refused         refused (link first)   —
//	登録 kept on              yes          kept *       kept *          kept (waits)           —
//	登録 turned off           yes          yes          yes             yes (waits)            —
//	Zoom's registrant mails  as 登録       as 登録       as 登録          as 登録                 —
//	passcode, 待機室, 認証,    yes          yes          yes             yes (waits)            —
//	video, mute, agenda
//
// "waits": saved at once, applied to Zoom when the host is linked again (the
// meetings are not managed meanwhile, DESIGN.md §4). "*": Zoom refuses
// registration to a host without a licence; the form says so next to 登録,
// and the meeting shows Zoom's refusal when it is next updated. 登録 may be
// kept on for the same host, or turned off, but never turned on (or carried
// to a new host) unless the host is linked now with a Licensed account: a
// host that is not linked is known only as last seen. The host's passcode
// policy is checked where Zoom can be asked (package web), not here.

// ZoomLicence is a Zoom user's licence (Zoom's user type) as kaisai last saw
// it. Only a Licensed user's meetings take registrants (登録).
type ZoomLicence int

const (
	ZoomLicenceUnknown  ZoomLicence = iota // a type kaisai does not know, or never seen
	ZoomLicenceBasic                       // Zoom user type 1
	ZoomLicenceLicensed                    // Zoom user type 2
)

// ZoomHost is what kaisai knows of a Zoom user of the organization who may
// host a group's meetings.
type ZoomHost struct {
	ConnID  int64
	Linked  bool        // 連携中: kaisai can act as the user now; else 要再連携 or 解除済
	Licence ZoomLicence // as last seen
}

// Why 登録 cannot be turned on with a host (ZoomHost.NoRegistration).
const (
	NoRegistrationBasic          = "basic"
	NoRegistrationLicenceUnknown = "licence_unknown"
	NoRegistrationNotLinked      = "not_linked"
)

// NoRegistration says why 登録 cannot be turned on with h, "" when it can:
// h must be linked now, with a Licensed account.
func (h ZoomHost) NoRegistration() string {
	switch {
	case !h.Linked:
		return NoRegistrationNotLinked
	case h.Licence == ZoomLicenceLicensed:
		return ""
	case h.Licence == ZoomLicenceBasic:
		return NoRegistrationBasic
	default:
		return NoRegistrationLicenceUnknown
	}
}

// registrationRefusals are the refusals of 登録, by NoRegistration.
var registrationRefusals = map[string]string{
	NoRegistrationBasic:          "validation.zoom_registration_licensed",
	NoRegistrationLicenceUnknown: "validation.zoom_registration_licence_unknown",
	NoRegistrationNotLinked:      "validation.zoom_registration_not_linked",
}

// ZoomOffer is what the Zoom section of a group's form lets the organizer
// change, for one host.
type ZoomOffer struct {
	// Registration: 登録, and Zoom's registrant e-mails (which apply only
	// with it), may be changed. Else both inputs are disabled and keep
	// their stored values (off).
	Registration bool
	// NoRegistration is why 登録 cannot be turned on with the host, "" when
	// it can: the form says it even while 登録 may still be turned off.
	NoRegistration string
}

// OfferZoomSettings decides what the form offers with host, for a group whose
// stored settings are stored (nil for a group without Zoom settings): 登録
// may be changed when the host may have it, or when it is on (to turn it off).
func OfferZoomSettings(stored *ZoomSettings, host ZoomHost) ZoomOffer {
	why := host.NoRegistration()
	return ZoomOffer{Registration: why == "" || (stored != nil && stored.Registration), NoRegistration: why}
}

// EditZoomSettings decides the Zoom settings a group's form saves, from
// those stored (nil for a group without Zoom settings), those submitted (as
// read from the form, normalized) and the host they name (nil when it is
// none of the organization's Zoom users). Each setting the form could not
// offer keeps its stored value, whatever was submitted for it; a change
// kaisai cannot carry out is refused. It returns the settings to save and
// the refusals; with a refusal nothing must be saved.
func EditZoomSettings(stored, submitted *ZoomSettings, host *ZoomHost) (ZoomSettings, FieldErrors) {
	out := *submitted
	var fe FieldErrors
	sameHost := stored != nil && stored.ConnID == submitted.ConnID
	h := ZoomHost{ConnID: submitted.ConnID}
	if host != nil {
		h = *host
	}
	if submitted.ConnID > 0 && (host == nil || !host.Linked && !sameHost) {
		// Only a linked Zoom user may become the host; one that is not
		// linked stays the group's host, its meetings waiting for it.
		fe.Add("zoom_host", "validation.zoom_host_unavailable")
		return out, fe
	}
	offer := OfferZoomSettings(stored, h)
	if !offer.Registration {
		wanted := submitted.Registration
		out.Registration, out.RegistrantEmails = false, false
		if stored != nil {
			out.Registration, out.RegistrantEmails = stored.Registration, stored.RegistrantEmails
		}
		if wanted && !out.Registration && submitted.ConnID > 0 {
			fe.Add("zoom_registration", registrationRefusals[offer.NoRegistration])
		}
	} else if out.Registration && offer.NoRegistration != "" && !(sameHost && stored.Registration) && submitted.ConnID > 0 {
		// 登録 on, for a host that cannot take it: kept for its own host,
		// but not carried to a new one.
		fe.Add("zoom_registration", registrationRefusals[offer.NoRegistration])
	}
	out.Normalize()
	return out, fe
}
