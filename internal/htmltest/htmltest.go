// Package htmltest reads, in tests, the pages kaisai renders: it parses
// them as a browser would (golang.org/x/net/html) and finds elements by
// simple selectors, so that a test checks the page's structure rather than
// the spelling of its markup.
//
// A selector is one or more compound selectors separated by spaces, each
// a descendant of the one before: a tag name, then any of #id, .class,
// [attr] and [attr="value"], e.g. `tr.mail[data-id="3"] td`.
package htmltest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Node is an element (or the document) of a parsed page.
type Node struct{ n *html.Node }

// Parse parses a page; the test fails if it cannot be parsed.
func Parse(t testing.TB, page string) Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatalf("parsing the page: %v", err)
	}
	return Node{doc}
}

// Fragment parses a piece of a page, such as an htmx swap, in a <body>.
func Fragment(t testing.TB, piece string) Node {
	t.Helper()
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(piece), body)
	if err != nil {
		t.Fatalf("parsing the fragment: %v", err)
	}
	for _, n := range nodes {
		body.AppendChild(n)
	}
	return Node{body}
}

// Valid reports whether the node was found: the zero Node is none.
func (n Node) Valid() bool { return n.n != nil }

// Tag is the element's name ("" for the document or no node).
func (n Node) Tag() string {
	if n.n == nil || n.n.Type != html.ElementNode {
		return ""
	}
	return n.n.Data
}

// Attr is the value of the element's attribute name ("" when absent).
func (n Node) Attr(name string) string {
	v, _ := n.LookupAttr(name)
	return v
}

// LookupAttr is the attribute's value and whether the element has it.
func (n Node) LookupAttr(name string) (string, bool) {
	if n.n == nil {
		return "", false
	}
	for _, a := range n.n.Attr {
		if a.Namespace == "" && a.Key == name {
			return a.Val, true
		}
	}
	return "", false
}

// Text is the text the node holds, with runs of white space made one
// space and trimmed.
func (n Node) Text() string {
	if n.n == nil {
		return ""
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(x *html.Node) {
		if x.Type == html.TextNode {
			b.WriteString(x.Data)
			b.WriteByte(' ')
		}
		for c := x.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n.n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// RawText is the text the node holds as it is, white space and all (the
// value of a <textarea>, say).
func (n Node) RawText() string {
	if n.n == nil {
		return ""
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(x *html.Node) {
		if x.Type == html.TextNode {
			b.WriteString(x.Data)
		}
		for c := x.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n.n)
	return b.String()
}

// HTML renders the node back, for failure messages.
func (n Node) HTML() string {
	if n.n == nil {
		return "(none)"
	}
	var b bytes.Buffer
	if err := html.Render(&b, n.n); err != nil {
		return fmt.Sprintf("(render: %v)", err)
	}
	return b.String()
}

// Find is every element under n (not n itself) that the selector
// matches, in document order.
func (n Node) Find(selector string) []Node {
	if n.n == nil {
		return nil
	}
	steps := parseSelector(selector)
	var out []Node
	var walk func(x *html.Node)
	walk = func(x *html.Node) {
		for c := x.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && steps[len(steps)-1].matches(c) && ancestorsMatch(c, n.n, steps[:len(steps)-1]) {
				out = append(out, Node{c})
			}
			walk(c)
		}
	}
	walk(n.n)
	return out
}

// First is the first element Find finds, or the zero Node.
func (n Node) First(selector string) Node {
	if found := n.Find(selector); len(found) > 0 {
		return found[0]
	}
	return Node{}
}

// Has reports whether any element under n matches the selector.
func (n Node) Has(selector string) bool { return n.First(selector).Valid() }

// Children is the node's child elements.
func (n Node) Children() []Node {
	if n.n == nil {
		return nil
	}
	var out []Node
	for c := n.n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode {
			out = append(out, Node{c})
		}
	}
	return out
}

// Remove takes the elements the selector matches out of the tree, and
// returns n.
func (n Node) Remove(selector string) Node {
	for _, x := range n.Find(selector) {
		if x.n.Parent != nil {
			x.n.Parent.RemoveChild(x.n)
		}
	}
	return n
}

// ancestorsMatch reports whether steps match, last to first, a chain of
// ancestors of x strictly below root.
func ancestorsMatch(x, root *html.Node, steps []compound) bool {
	if len(steps) == 0 {
		return true
	}
	for p := x.Parent; p != nil && p != root; p = p.Parent {
		if p.Type == html.ElementNode && steps[len(steps)-1].matches(p) && ancestorsMatch(p, root, steps[:len(steps)-1]) {
			return true
		}
	}
	return false
}

// compound is one compound selector: a tag and attribute tests.
type compound struct {
	tag   string
	attrs []attrTest
}

// attrTest is [key] (any value) or [key="val"]; class tests one word of
// the class attribute.
type attrTest struct {
	key, val string
	any      bool
	word     bool
}

func (c compound) matches(x *html.Node) bool {
	if c.tag != "" && x.Data != c.tag {
		return false
	}
	for _, t := range c.attrs {
		v, ok := Node{x}.LookupAttr(t.key)
		switch {
		case !ok:
			return false
		case t.any:
		case t.word:
			if !contains(strings.Fields(v), t.val) {
				return false
			}
		case v != t.val:
			return false
		}
	}
	return true
}

func contains(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}

// parseSelector splits a selector into its compound selectors; it panics
// on one it cannot read, a mistake in the test.
func parseSelector(sel string) []compound {
	var out []compound
	rest := strings.TrimSpace(sel)
	for rest != "" {
		var c compound
		i := 0
		for i < len(rest) && isName(rest[i]) {
			i++
		}
		c.tag, rest = rest[:i], rest[i:]
		for rest != "" && rest[0] != ' ' {
			switch rest[0] {
			case '#', '.':
				j := 1
				for j < len(rest) && isName(rest[j]) {
					j++
				}
				if j == 1 {
					panic("htmltest: bad selector " + sel)
				}
				if rest[0] == '#' {
					c.attrs = append(c.attrs, attrTest{key: "id", val: rest[1:j]})
				} else {
					c.attrs = append(c.attrs, attrTest{key: "class", val: rest[1:j], word: true})
				}
				rest = rest[j:]
			case '[':
				end := strings.IndexByte(rest, ']')
				if end < 0 {
					panic("htmltest: bad selector " + sel)
				}
				key, val, hasVal := strings.Cut(rest[1:end], "=")
				t := attrTest{key: key, any: !hasVal}
				if hasVal {
					t.val = strings.Trim(val, `"'`)
				}
				c.attrs = append(c.attrs, t)
				rest = rest[end+1:]
			default:
				panic("htmltest: bad selector " + sel)
			}
		}
		out = append(out, c)
		rest = strings.TrimLeft(rest, " ")
	}
	if len(out) == 0 {
		panic("htmltest: empty selector")
	}
	return out
}

func isName(b byte) bool {
	return b == '-' || b == '_' || '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}
