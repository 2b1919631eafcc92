package chart

import (
	"encoding/xml"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
)

// node is a parsed element, enough to find the bars and the text.
type node struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []node     `xml:",any"`
	Text     string     `xml:",chardata"`
}

func (n node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n node) walk(fn func(node)) {
	fn(n)
	for _, c := range n.Children {
		c.walk(fn)
	}
}

func (n node) text() string {
	var b strings.Builder
	n.walk(func(m node) { b.WriteString(m.Text) })
	return b.String()
}

// parse checks that out is well-formed XML and returns its root.
func parse(t *testing.T, out template.HTML) node {
	t.Helper()
	var root node
	d := xml.NewDecoder(strings.NewReader(string(out)))
	d.Strict = true
	if err := d.Decode(&root); err != nil {
		t.Fatalf("not well-formed: %v\n%s", err, out)
	}
	if _, err := d.Token(); err != io.EOF {
		t.Fatalf("more than one root element:\n%s", out)
	}
	return root
}

func find(root node, local string) []node {
	var out []node
	root.walk(func(n node) {
		if n.XMLName.Local == local {
			out = append(out, n)
		}
	})
	return out
}

// bars are the data bars (not the tracks) with their drawn size.
func bars(t *testing.T, root node, size string) map[int]float64 {
	t.Helper()
	out := map[int]float64{}
	for _, r := range find(root, "rect") {
		v := r.attr("data-value")
		if v == "" {
			continue
		}
		n, _ := strconv.Atoi(v)
		f, err := strconv.ParseFloat(r.attr(size), 64)
		if err != nil {
			t.Fatalf("rect %s=%q: %v", size, r.attr(size), err)
		}
		out[n] = f
	}
	return out
}

// checkAccessible: the SVG is an image named by its title and desc, and
// the figures are in a table.
func checkAccessible(t *testing.T, root node, title string, figures []string) {
	t.Helper()
	svgs := find(root, "svg")
	if len(svgs) != 1 {
		t.Fatalf("%d svg elements", len(svgs))
	}
	svg := svgs[0]
	if svg.attr("role") != "img" || svg.attr("viewBox") == "" || svg.attr("width") != "100%" {
		t.Errorf("svg role %q viewBox %q width %q", svg.attr("role"), svg.attr("viewBox"), svg.attr("width"))
	}
	ids := strings.Fields(svg.attr("aria-labelledby"))
	if len(ids) != 2 {
		t.Fatalf("aria-labelledby %q", svg.attr("aria-labelledby"))
	}
	byID := map[string]node{}
	root.walk(func(n node) {
		if id := n.attr("id"); id != "" {
			byID[id] = n
		}
	})
	if got := byID[ids[0]]; got.XMLName.Local != "title" || got.text() != title {
		t.Errorf("title %s: %q", got.XMLName.Local, got.text())
	}
	if got := byID[ids[1]]; got.XMLName.Local != "desc" || got.text() == "" {
		t.Errorf("desc %s: %q", got.XMLName.Local, got.text())
	}
	tables := find(root, "table")
	if len(tables) != 1 || len(find(root, "details")) != 1 {
		t.Fatalf("want one table in a details, got %d tables", len(tables))
	}
	var cells []string
	tables[0].walk(func(n node) {
		if n.XMLName.Local == "td" {
			cells = append(cells, n.text())
		}
	})
	if fmt.Sprint(cells) != fmt.Sprint(figures) {
		t.Errorf("table cells %q, want %q", cells, figures)
	}
}

func TestColumns(t *testing.T) {
	days := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("d%d", i+1)
		}
		return out
	}
	hundred := make([]int, 100)
	hundred[0], hundred[99] = 7, 70
	tests := []struct {
		name    string
		labels  []string
		applied []int
		paid    []int
	}{
		{"one day", days(1), []int{3}, []int{1}},
		{"a week", days(7), []int{1, 0, 4, 2, 0, 0, 8}, []int{0, 0, 2, 2, 0, 0, 4}},
		{"100 days", days(100), hundred, make([]int, 100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Columns{ID: "daily", Title: "申込と入金", Desc: "合計", Empty: "まだ申込はありません",
				TableLabel: "数値", LabelHeader: "日付", Labels: tt.labels,
				Series: []Series{{Name: "申込", Class: "applied", Values: tt.applied}, {Name: "入金", Class: "paid", Values: tt.paid}}}
			root := parse(t, c.Render())
			var figures []string
			for i := range tt.labels {
				figures = append(figures, strconv.Itoa(tt.applied[i]), strconv.Itoa(tt.paid[i]))
			}
			checkAccessible(t, root, "申込と入金", figures)
			// Bars are proportional to their values: height/value is one constant.
			hs := bars(t, root, "height")
			var per float64
			for v, h := range hs {
				if per == 0 {
					per = h / float64(v)
				}
				if math.Abs(h/float64(v)-per) > 0.2 {
					t.Errorf("bar of %d is %.1f high, want %.1f", v, h, per*float64(v))
				}
			}
			want := map[int]bool{}
			for _, vs := range [][]int{tt.applied, tt.paid} {
				for _, v := range vs {
					if v > 0 {
						want[v] = true
					}
				}
			}
			if len(hs) != len(want) {
				t.Errorf("bars %v, want one for each of %v", hs, want)
			}
			// Some labels, never all 100, the last day's always.
			var labels []string
			for _, tx := range find(root, "text") {
				if strings.HasPrefix(tx.text(), "d") {
					labels = append(labels, tx.text())
				}
			}
			if len(labels) == 0 || len(labels) > 9 || labels[len(labels)-1] != tt.labels[len(tt.labels)-1] {
				t.Errorf("labels %v", labels)
			}
		})
	}
}

func TestColumnsEmpty(t *testing.T) {
	for _, c := range []Columns{
		{Title: "申込", Empty: "まだ申込はありません"},
		{Title: "申込", Empty: "まだ申込はありません", Labels: []string{"1/2"}, Series: []Series{{Name: "申込", Values: []int{0}}}},
	} {
		root := parse(t, c.Render())
		if len(find(root, "svg")) != 0 || !strings.Contains(root.text(), "まだ申込はありません") {
			t.Errorf("empty chart: %s", c.Render())
		}
	}
}

func TestBars(t *testing.T) {
	c := Bars{ID: "fill", Title: "定員に対する申込", Desc: "…", Empty: "日程はまだありません", TableLabel: "数値",
		LabelHeader: "日程", ValueHeader: "申込/定員", Class: "fill", Bars: []Bar{
			{Label: "A & <B>", Value: 10, Max: 40, Text: "10 / 40"},
			{Label: "full", Value: 30, Max: 30, Text: "30 / 30"},
			{Label: "none yet", Value: 0, Max: 20, Text: "0 / 20"},
			{Label: "no capacity", Value: 0, Max: 0, Text: "0 / 0"},
		}}
	out := c.Render()
	root := parse(t, out)
	checkAccessible(t, root, "定員に対する申込", []string{"10 / 40", "30 / 30", "0 / 20", "0 / 0"})
	ws := bars(t, root, "width")
	if len(ws) != 2 || math.Abs(ws[10]*4-ws[30]) > 0.2 {
		t.Errorf("bar widths %v: want 10/40 a quarter of 30/30", ws)
	}
	if !strings.Contains(root.text(), "A & <B>") || strings.Contains(string(out), "<B>") {
		t.Errorf("label not escaped: %s", out)
	}
	if n := len(find(root, "rect")); n != 3+2 { // three tracks, two bars
		t.Errorf("%d rects", n)
	}
	empty := parse(t, Bars{Title: "x", Empty: "日程はまだありません"}.Render())
	if len(find(empty, "svg")) != 0 || !strings.Contains(empty.text(), "日程はまだありません") {
		t.Errorf("empty bars")
	}
}

func TestNiceMaxAndLabels(t *testing.T) {
	for in, want := range map[int]int{0: 1, 1: 1, 3: 5, 7: 10, 10: 10, 11: 20, 70: 100, 101: 200, 450: 500} {
		if got := niceMax(in); got != want {
			t.Errorf("niceMax(%d) = %d, want %d", in, got, want)
		}
	}
	for n, want := range map[int]string{1: "[0]", 2: "[0 1]", 6: "[0 1 2 3 4 5]", 7: "[0 2 4 6]", 8: "[0 2 4 7]", 100: "[0 17 34 51 68 85 99]"} {
		if got := fmt.Sprint(labelled(n)); got != want {
			t.Errorf("labelled(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestMeter(t *testing.T) {
	for _, tt := range []struct {
		value, limit int
		width        string // of the bar; "" for none
	}{{3, 10, "30"}, {10, 10, "100"}, {12, 10, "100"}, {0, 10, ""}, {5, 0, ""}} {
		root := parse(t, Meter(tt.value, tt.limit, "fill"))
		if root.attr("aria-hidden") != "true" {
			t.Errorf("meter not hidden from screen readers")
		}
		var width string
		for _, r := range find(root, "rect") {
			if r.attr("data-value") != "" {
				width = r.attr("width")
			}
		}
		if width != tt.width {
			t.Errorf("Meter(%d, %d): bar width %q, want %q", tt.value, tt.limit, width, tt.width)
		}
	}
}
