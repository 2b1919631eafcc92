// Package i18n holds the message catalogs of every user-facing text, in
// Japanese (the default) and English, and formats dates and prices for each.
package i18n

import (
	"embed"
	"encoding/json"
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
type Catalog struct {
	msgs map[Lang]map[string]string
}

// Load reads the embedded catalogs.
func Load() (*Catalog, error) {
	c := &Catalog{msgs: map[Lang]map[string]string{}}
	for _, l := range Langs {
		b, err := files.ReadFile("messages." + string(l) + ".json")
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
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
// catalog shows as itself (tests keep the catalogs complete).
func (c *Catalog) T(l Lang, key string, args ...any) string {
	msg, ok := c.msgs[l][key]
	if !ok {
		return key
	}
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
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
