package store

import (
	"strconv"
	"strings"
)

// cond is a dynamic condition: parts joined by AND, each writing its
// arguments as "?" (the parts hold no other "?"). join numbers them after a
// query's own $n arguments, so no caller counts placeholders by hand.
type cond struct {
	parts []string
	args  []any
}

// and adds part, with one argument for each "?" in it.
func (c *cond) and(part string, args ...any) {
	if strings.Count(part, "?") != len(args) {
		panic("store: cond " + part + ": placeholders and arguments differ")
	}
	c.parts = append(c.parts, part)
	c.args = append(c.args, args...)
}

// in adds "column IN (?, ?, …)" for ids.
func (c *cond) in(column string, ids []int64) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	c.and(column+` IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")+`)`, args...)
}

// join returns base AND the parts, its "?" numbered from len(baseArgs)+1,
// with baseArgs followed by the parts' arguments. base numbers its own
// arguments $1…$len(baseArgs).
func (c cond) join(base string, baseArgs ...any) (string, []any) {
	var b strings.Builder
	b.WriteString(base)
	n := len(baseArgs)
	for _, p := range c.parts {
		b.WriteString(" AND ")
		for {
			i := strings.IndexByte(p, '?')
			if i < 0 {
				break
			}
			n++
			b.WriteString(p[:i])
			b.WriteString("$" + strconv.Itoa(n))
			p = p[i+1:]
		}
		b.WriteString(p)
	}
	return b.String(), append(append([]any{}, baseArgs...), c.args...)
}
