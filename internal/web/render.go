package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/i18n"
)

//go:embed templates
var templateFS embed.FS

// pages holds each page's template, parsed together with the layout.
type pages struct {
	byName map[string]*template.Template
}

var funcs = template.FuncMap{
	"static": staticPath,
	"list":   func(items ...string) []string { return items },
	// zoomSignIn: the group's Zoom meeting needs a sign-in (認証).
	"zoomSignIn": zoomSignIn,
	// actionsShown: what a row's actions cell shows, for the live poll.
	"actionsShown": actionsShown,
	// dict builds the argument of a partial template from key/value pairs.
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, fmt.Errorf("dict: odd number of arguments")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
}

func loadPages() (*pages, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", n, err)
		}
		p.byName[strings.TrimSuffix(path.Base(n), ".html")] = t
	}
	return p, nil
}

// page is what every template gets: the request's language and member, the
// form being edited with its errors, and the screen's own Data.
type page struct {
	Lang    i18n.Lang
	Member  *event.Member
	Path    string // for the language switch to come back to
	Flash   string // a message key, shown once
	Form    url.Values
	Errors  event.FieldErrors
	Message string // a message key, for error pages
	MsgArgs []any
	Data    any
	// ZoomSimulated shows organizers the banner saying Zoom is simulated.
	ZoomSimulated bool
	// StripeSimulated shows organizers the banner saying payments are simulated.
	StripeSimulated bool
	msgs            *i18n.Catalog
}

// T translates a message key.
func (p *page) T(key string, args ...any) string { return p.msgs.T(p.Lang, key, args...) }

// MessageText is the translated message of an error page.
func (p *page) MessageText() string { return p.T(p.Message, p.MsgArgs...) }

// Err returns the translated error of a form field, or "".
func (p *page) Err(field string) string {
	if fe, ok := p.Errors.For(field); ok {
		return p.msgs.T(p.Lang, fe.Key, fe.Args...)
	}
	return ""
}

// Val returns the submitted value of a form field.
func (p *page) Val(field string) string { return p.Form.Get(field) }

// DateTime formats a time in an event's time zone.
func (p *page) DateTime(t time.Time, loc *time.Location) string { return i18n.DateTime(p.Lang, t, loc) }

// Clock formats a time of day in an event's time zone.
func (p *page) Clock(t time.Time, loc *time.Location) string { return i18n.Time(t, loc) }

// Yen formats a price.
func (p *page) Yen(amount int64) string { return i18n.Yen(p.Lang, amount) }

func i18nDateTime(r *http.Request, t time.Time, loc *time.Location) string {
	return i18n.DateTime(langOf(r), t, loc)
}

// Within reports whether the page is section or under it, for the
// navigation's current section.
func (p *page) Within(section string) bool {
	path, _, _ := strings.Cut(p.Path, "?")
	return path == section || strings.HasPrefix(path, section+"/")
}

// flashKinds style the flashes that do not confirm something done:
// "warning" for what was not done, "info" for what is still under way.
var flashKinds = map[string]string{
	"flash.session_expired":    "warning",
	"flash.zoom_denied":        "warning",
	"flash.zoom_bad_state":     "warning",
	"flash.applied_pay_later":  "warning",
	"flash.payment_confirming": "info",
}

// FlashKind is the flash's style: "success", "info" or "warning".
func (p *page) FlashKind() string {
	if k, ok := flashKinds[p.Flash]; ok {
		return k
	}
	return "success"
}

// Other is the language the switch offers.
func (p *page) Other() i18n.Lang {
	if p.Lang == i18n.English {
		return i18n.Japanese
	}
	return i18n.English
}

func (s *Server) newPage(r *http.Request, data any) *page {
	p := &page{Lang: langOf(r), Path: r.URL.RequestURI(), Data: data, msgs: s.msgs, Form: url.Values{}}
	if m, ok := memberFrom(r.Context()); ok {
		p.Member = &m
		p.ZoomSimulated = s.zoomSim
		p.StripeSimulated = s.stripe.Simulated
	}
	if strings.HasPrefix(r.URL.Path, "/a/") || strings.HasPrefix(r.URL.Path, "/e/") {
		// A participant's pages, where paying starts, say so too.
		p.StripeSimulated = s.stripe.Simulated
	}
	return p
}

// render writes a page; data may be a *page already filled in or the
// screen's Data.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	p, ok := data.(*page)
	if !ok {
		p = s.newPage(r, data)
	}
	if p.Flash == "" {
		p.Flash = s.takeFlash(w, r)
	}
	t := s.pages.byName[name]
	if t == nil {
		s.log.Error("no such template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		s.log.Error("render", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	if w.Header().Get("Referrer-Policy") == "" {
		w.Header().Set("Referrer-Policy", "same-origin")
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderFragment writes one named template of a page, for htmx.
func (s *Server) renderFragment(w http.ResponseWriter, r *http.Request, name, fragment string, data any) {
	p := s.newPage(r, data)
	var buf bytes.Buffer
	if err := s.pages.byName[name].ExecuteTemplate(&buf, fragment, p); err != nil {
		s.log.Error("render fragment", "template", name, "fragment", fragment, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// renderError answers with an error page saying key in the reader's language.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, key string, args ...any) {
	p := s.newPage(r, nil)
	p.Message, p.MsgArgs = key, args
	s.render(w, r, status, "error", p)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.renderError(w, r, http.StatusNotFound, "error.not_found")
}

// fail answers err: a domain error by its code and message, a failure because
// the client hung up with 499 (clientClosed), anything else as an internal
// error that is logged and never shown.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ee *event.Error
	if errors.As(err, &ee) {
		status := map[event.Code]int{
			event.ENotFound:     http.StatusNotFound,
			event.EInvalid:      http.StatusBadRequest,
			event.EConflict:     http.StatusConflict,
			event.EUnauthorized: http.StatusUnauthorized,
			event.EForbidden:    http.StatusForbidden,
			event.ETooMany:      http.StatusTooManyRequests,
		}[ee.Code]
		if status == 0 {
			status = http.StatusInternalServerError
		}
		s.renderError(w, r, status, ee.Key, ee.Args...)
		return
	}
	var fe event.FieldErrors
	if errors.As(err, &fe) {
		s.renderError(w, r, http.StatusBadRequest, fe[0].Key, fe[0].Args...)
		return
	}
	if clientGone(r) {
		s.clientClosed(w, r, err)
		return
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	s.renderError(w, r, http.StatusInternalServerError, "error.internal")
}

// parseForm reads a POSTed form, answering a too-large or malformed body,
// or one that is not text (checkFormText), itself; it reports whether the
// handler may go on.
func (s *Server) parseForm(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.renderError(w, r, http.StatusRequestEntityTooLarge, "error.too_large")
			return false
		}
		s.renderError(w, r, http.StatusBadRequest, "error.bad_request")
		return false
	}
	return s.checkFormText(w, r)
}

// pathID reads a numeric path value; any other text is a 404.
func pathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}

// redirect answers a successful POST, with an optional flash message key
// for the page it leads to.
func redirect(w http.ResponseWriter, r *http.Request, to, flash string) {
	if flash != "" {
		setFlash(w, r, to, flash)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// A flash message goes from a redirect to the page it leads to in a
// short-lived cookie, which that page reads and clears: shown once, and
// never part of a URL, so a bookmarked or reloaded page does not say
// お申し込みを受け付けました again. The cookie names its page by a hash of
// the page's path (a participant's private link must not sit in a cookie),
// so another page rendered meanwhile (another tab) leaves it alone. It holds
// nothing secret, hence no Secure flag needed; it is set when the request
// came over TLS anyway.
const (
	flashCookie = "kaisai_flash"
	flashTTL    = time.Minute
)

// flashFor is the cookie value of flash key for the page at path.
func flashFor(key, path string) string {
	sum := sha256.Sum256([]byte(path))
	return key + "~" + base64.RawURLEncoding.EncodeToString(sum[:12])
}

// setFlash makes key the flash of the next page at to (a path, maybe with
// a query).
func setFlash(w http.ResponseWriter, r *http.Request, to, key string) {
	p := to
	if u, err := url.Parse(to); err == nil {
		p = u.Path
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: flashFor(key, p), Path: "/",
		MaxAge: int(flashTTL / time.Second), HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// takeFlash returns the flash meant for this page, if any, and clears it.
func (s *Server) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil || r.Method != http.MethodGet {
		return ""
	}
	key, _, ok := strings.Cut(c.Value, "~")
	if !ok || c.Value != flashFor(key, r.URL.Path) {
		return "" // another page's: it waits for that page or runs out
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	if !strings.HasPrefix(key, "flash.") || !s.msgs.Has(langOf(r), key) {
		return ""
	}
	return key
}

// safeNext keeps a post-login or language-switch destination on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

// Language preference lives in a cookie; Japanese by default.
const langCookie = "kaisai_lang"

func langOf(r *http.Request) i18n.Lang {
	if c, err := r.Cookie(langCookie); err == nil {
		return i18n.Parse(c.Value)
	}
	return i18n.Japanese
}

func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	l := i18n.Parse(r.PostForm.Get("lang"))
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: string(l), Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, safeNext(r.PostForm.Get("next")), http.StatusSeeOther)
}
