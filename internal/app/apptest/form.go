package apptest

import (
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
)

// Forms as a browser submits them, for tests that post a page's form over
// plain HTTP. kaisai's own templates are regular enough for a few patterns;
// this is not an HTML parser.
var (
	formRE     = regexp.MustCompile(`(?s)<form\b([^>]*)>(.*?)</form>`)
	controlRE  = regexp.MustCompile(`(?s)<input\b([^>]*)>|<select\b([^>]*)>(.*?)</select>|<textarea\b([^>]*)>(.*?)</textarea>`)
	optionRE   = regexp.MustCompile(`(?s)<option\b([^>]*)>`)
	attrRE     = regexp.MustCompile(`([a-zA-Z_:-]+)(?:\s*=\s*"([^"]*)")?`)
	buttonType = map[string]bool{"submit": true, "button": true, "reset": true, "image": true}
)

func attrs(s string) map[string]string {
	a := map[string]string{}
	for _, m := range attrRE.FindAllStringSubmatch(s, -1) {
		a[strings.ToLower(m[1])] = html.UnescapeString(m[2])
	}
	return a
}

func has(a map[string]string, name string) bool { _, ok := a[name]; return ok }

// BrowserForm is what a browser sends for the form of page whose action is
// action, as rendered: every named control that is not disabled, checkboxes
// and radios only when checked (value "on" when they have none), a select's
// selected option (else its first one that is not disabled), a textarea's
// text. Buttons are left out: the caller adds the one it clicks.
func BrowserForm(page, action string) (url.Values, error) {
	for _, f := range formRE.FindAllStringSubmatch(page, -1) {
		if attrs(f[1])["action"] != action {
			continue
		}
		v := url.Values{}
		for _, c := range controlRE.FindAllStringSubmatch(f[2], -1) {
			switch {
			case strings.HasPrefix(c[0], "<input"):
				a := attrs(c[1])
				typ := strings.ToLower(a["type"])
				if a["name"] == "" || has(a, "disabled") || buttonType[typ] ||
					(typ == "checkbox" || typ == "radio") && !has(a, "checked") {
					continue
				}
				value, ok := a["value"]
				if !ok && (typ == "checkbox" || typ == "radio") {
					value = "on"
				}
				v.Add(a["name"], value)
			case strings.HasPrefix(c[0], "<select"):
				a := attrs(c[2])
				if a["name"] == "" || has(a, "disabled") {
					continue
				}
				// The selected option, else the first that is not disabled;
				// a selected option that is disabled sends nothing.
				var chosen map[string]string
				for _, o := range optionRE.FindAllStringSubmatch(c[3], -1) {
					oa := attrs(o[1])
					if has(oa, "selected") {
						chosen = oa
						break
					}
					if chosen == nil && !has(oa, "disabled") {
						chosen = oa
					}
				}
				if chosen != nil && !has(chosen, "disabled") {
					v.Add(a["name"], chosen["value"])
				}
			default:
				a := attrs(c[4])
				if a["name"] == "" || has(a, "disabled") {
					continue
				}
				// A browser drops one newline right after <textarea>.
				v.Add(a["name"], strings.TrimPrefix(html.UnescapeString(c[5]), "\n"))
			}
		}
		return v, nil
	}
	return nil, fmt.Errorf("apptest: no form with action %q", action)
}
