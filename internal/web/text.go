package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"kaisai/internal/event"
	"kaisai/internal/i18n"
)

// The web's gate for event.CheckText: every value and name of every form
// and query string is text, or the request is refused before a handler sees
// it, with a 422 that names the field. The domain types check their own
// fields again, for what does not come through a form.

// textField says how the gate reads one form field: its label, for the
// message, and whether it is multi-line (a <textarea>).
type textField struct {
	label     string // message key
	multiLine bool
}

// typedFields are the fields of kaisai's forms, by name. A field not listed
// is one-line and named by its name.
var typedFields = map[string]textField{
	"name":          {label: "field.full_name"},
	"email":         {label: "field.email"},
	"org_name":      {label: "field.org_name"},
	"title":         {label: "field.title"},
	"description":   {label: "field.description", multiLine: true},
	"fee":           {label: "field.fee"},
	"price":         {label: "field.price"},
	"time_zone":     {label: "field.time_zone"},
	"status":        {label: "field.status"},
	"venue":         {label: "field.venue"},
	"address":       {label: "field.address"},
	"online_url":    {label: "field.online_url"},
	"date":          {label: "field.date"},
	"start_time":    {label: "field.start_time"},
	"end_time":      {label: "field.end_time"},
	"capacity":      {label: "field.capacity"},
	"schedule_id":   {label: "field.schedule"},
	"schedule":      {label: "field.schedule"},
	"zoom_passcode": {label: "zoom.passcode"},
	"zoom_agenda":   {label: "zoom.agenda", multiLine: true},
	"memo":          {label: "applications.memo", multiLine: true},
	"q":             {label: "applications.search"},
}

// opaqueFields are left to their handlers: a password is compared with a
// hash or checked by event.SignupInput, never stored, shown or sent as typed,
// and a login must not fail for what an older sign-up accepted.
var opaqueFields = map[string]bool{"password": true}

// mailTemplateField reports the kind and part of a mail template field
// ("applied_body" is the body of the 申込完了 mail).
func mailTemplateField(name string) (kind event.MailKind, part string, ok bool) {
	for _, k := range event.MailKinds {
		if rest, found := strings.CutPrefix(name, string(k)+"_"); found && (rest == "subject" || rest == "body") {
			return k, rest, true
		}
	}
	return "", "", false
}

func multiLineField(name string) bool {
	if _, part, ok := mailTemplateField(name); ok {
		return part == "body"
	}
	return typedFields[name].multiLine
}

// fieldLabel is how the form of r labels field name, in lang.
func (s *Server) fieldLabel(r *http.Request, lang i18n.Lang, name string) string {
	if kind, part, ok := mailTemplateField(name); ok {
		return s.msgs.T(lang, "mail.kind."+string(kind)) + " " + s.msgs.T(lang, "mail_templates."+part)
	}
	if name == "name" && strings.Contains(r.URL.Path, "/groups/") {
		return s.msgs.T(lang, "field.group_name")
	}
	if name == "name" && r.URL.Path == "/signup" {
		return s.msgs.T(lang, "field.your_name")
	}
	if f, ok := typedFields[name]; ok {
		return s.msgs.T(lang, f.label)
	}
	return name
}

// checkFormText checks every submitted name and value of a parsed form,
// first making the line ends of multi-line fields LF. It answers a bad one
// itself and reports whether the handler may go on.
func (s *Server) checkFormText(w http.ResponseWriter, r *http.Request) bool {
	for _, vs := range []url.Values{r.PostForm, r.Form} {
		for name, values := range vs {
			if multiLineField(name) {
				for i, v := range values {
					values[i] = event.NormalizeNewlines(v)
				}
			}
		}
	}
	return s.checkValuesText(w, r, r.PostForm)
}

// checkValuesText refuses a form or query whose names or values are not
// text, with a 422 naming the first bad field in name order.
func (s *Server) checkValuesText(w http.ResponseWriter, r *http.Request, vs url.Values) bool {
	names := make([]string, 0, len(vs))
	for name := range vs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if event.CheckText(name, false) != nil {
			s.log.Info("refused: a field name is not text", "method", r.Method, "path", r.URL.Path)
			s.renderError(w, r, http.StatusUnprocessableEntity, "error.bad_text_name")
			return false
		}
		if opaqueFields[name] {
			continue
		}
		multi := multiLineField(name)
		for _, v := range vs[name] {
			if err := event.CheckText(v, multi); err != nil {
				s.log.Info("refused: a field is not text", "method", r.Method, "path", r.URL.Path, "field", name, "err", err)
				s.renderError(w, r, http.StatusUnprocessableEntity, "error.bad_text", s.fieldLabel(r, langOf(r), name))
				return false
			}
		}
	}
	return true
}

// textURLs refuses a URL that is not text: a path that is not is no page of
// kaisai's (404); a query value or name that is not answers 422 naming it.
func (s *Server) textURLs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if event.CheckText(r.URL.Path, false) != nil {
			s.notFound(w, r)
			return
		}
		if r.URL.RawQuery != "" {
			// What does not decode is dropped here as by r.URL.Query(), so
			// never reaches a handler; what decodes must be text.
			q, _ := url.ParseQuery(r.URL.RawQuery)
			if !s.checkValuesText(w, r, q) {
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
