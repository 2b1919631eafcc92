package web

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
)

// Double submits: every rendering of a form that creates something carries a
// random key, and the store records what each key created, so the same form
// submitted twice (a double click, a second tab, a retry after a timeout)
// creates one thing and both answers lead to it.

// newSubmitKey identifies one rendering of the application form, so that a
// double submit of it finds the first application instead of making another.
func newSubmitKey() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

var submitKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// formKey returns the key of an organizer's create form of the given kind,
// keeping it on the page in case the form is shown again with errors. A form
// without a well-formed key (a script, say) is not deduplicated.
func formKey(r *http.Request, p *page, kind string) string {
	key := r.PostForm.Get("form_key")
	if !submitKeyPattern.MatchString(key) {
		return ""
	}
	p.Form.Set("form_key", key)
	return kind + ":" + key
}

// createdFlash says so when a create form had been submitted before.
func createdFlash(existing bool, created string) string {
	if existing {
		return "flash.already_created"
	}
	return created
}

// toHalfWidthDigits reads full-width digits (１２３) as people type them.
func toHalfWidthDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '０' && r <= '９' {
			return r - '０' + '0'
		}
		return r
	}, s)
}
