// Package i18n holds the message catalogs of every user-facing text, in
// Japanese (the default) and English, and formats dates and prices for each.
package i18n

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Lang is a UI language.
type Lang string

const (
	Japanese Lang = "ja"
	English  Lang = "en"
)

// Langs are the supported languages, the default first.
var Langs = []Lang{Japanese, English}

// Parse returns the language named by s, or Japanese.
func Parse(s string) Lang {
	if Lang(s) == English {
		return English
	}
	return Japanese
}

//go:embed messages.*.json
var files embed.FS

// Catalog maps message keys to texts in each language. Texts take
// fmt-style verbs for their arguments.
//
// A text that counts something may have plural forms: in the JSON file it
// is then an object {"one": "%d seat left", "other": "%d seats left"}, and
// T picks the form by its first argument (one for exactly 1, other for the
// rest). Japanese does not inflect, so its texts stay plain strings.
type Catalog struct {
	msgs map[Lang]map[string]message
}

// message is one text: other is the plain text, or the plural form for
// every count but 1, which one holds when the text has plural forms.
type message struct {
	one, other string
}

func (m *message) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		var forms struct {
			One   *string `json:"one"`
			Other *string `json:"other"`
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&forms); err != nil {
			return fmt.Errorf("plural forms: %w", err)
		}
		if forms.One == nil || forms.Other == nil {
			return errors.New(`plural forms need both "one" and "other"`)
		}
		m.one, m.other = *forms.One, *forms.Other
		return nil
	}
	m.one = ""
	return json.Unmarshal(b, &m.other)
}

// Load reads the embedded catalogs.
func Load() (*Catalog, error) {
	c := &Catalog{msgs: map[Lang]map[string]message{}}
	for _, l := range Langs {
		b, err := files.ReadFile("messages." + string(l) + ".json")
		if err != nil {
			return nil, err
		}
		m := map[string]message{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("i18n: messages.%s.json: %w", l, err)
		}
		c.msgs[l] = m
	}
	return c, nil
}

// Has reports whether key is in the catalog of l.
func (c *Catalog) Has(l Lang, key string) bool {
	_, ok := c.msgs[l][key]
	return ok
}

// Keys lists the keys of l's catalog, sorted.
func (c *Catalog) Keys(l Lang) []string {
	keys := make([]string, 0, len(c.msgs[l]))
	for k := range c.msgs[l] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// T returns the text of key in l with args filled in. A key missing from the
// catalog shows as itself (tests keep the catalogs complete). A text with
// plural forms takes the one form when its first argument is 1.
func (c *Catalog) T(l Lang, key string, args ...any) string {
	m, ok := c.msgs[l][key]
	if !ok {
		return key
	}
	msg := m.other
	if m.one != "" && len(args) > 0 && isOne(args[0]) {
		msg = m.one
	}
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}

// Forms returns the texts of key in l unfilled: its single text, or its
// plural forms (one first). Tests use it to check every form's verbs.
func (c *Catalog) Forms(l Lang, key string) []string {
	m, ok := c.msgs[l][key]
	switch {
	case !ok:
		return nil
	case m.one != "":
		return []string{m.one, m.other}
	default:
		return []string{m.other}
	}
}

// isOne reports whether a count is exactly 1.
func isOne(v any) bool {
	switch n := v.(type) {
	case int:
		return n == 1
	case int64:
		return n == 1
	case int32:
		return n == 1
	case uint:
		return n == 1
	case uint64:
		return n == 1
	}
	return false
}

var jaWeekdays = [...]string{"日", "月", "火", "水", "木", "金", "土"}

// DateTime formats t in loc the way people of l write dates.
func DateTime(l Lang, t time.Time, loc *time.Location) string {
	t = t.In(loc)
	if l == English {
		return t.Format("Mon, Jan 2, 2006 15:04")
	}
	return fmt.Sprintf("%d年%d月%d日(%s) %02d:%02d", t.Year(), t.Month(), t.Day(), jaWeekdays[t.Weekday()], t.Hour(), t.Minute())
}

// Day formats the day of t in loc with its weekday and no year, as a
// date near at hand is written: 12月7日(月) / Mon, Dec 7.
func Day(l Lang, t time.Time, loc *time.Location) string {
	t = t.In(loc)
	if l == English {
		return t.Format("Mon, Jan 2")
	}
	return fmt.Sprintf("%d月%d日(%s)", t.Month(), t.Day(), jaWeekdays[t.Weekday()])
}

// Time formats the time of day of t in loc.
func Time(t time.Time, loc *time.Location) string { return t.In(loc).Format("15:04") }

// Yen formats an amount of yen with thousands separators: ¥12,000 / 12,000円.
func Yen(l Lang, amount int64) string {
	s := fmt.Sprint(amount)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if l == English {
		return "¥" + b.String()
	}
	return b.String() + "円"
}
