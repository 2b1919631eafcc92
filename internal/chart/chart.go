// Package chart draws small bar charts as inline SVG on the server, for
// pages that need no JavaScript. Each chart is a <figure> whose SVG has
// role="img" with a <title> and a <desc> giving the figures, followed by a
// <details> table of the same numbers for whoever cannot see the drawing.
// The caller passes every word already translated; the package escapes
// everything it writes, so its output is safe as template.HTML.
package chart

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// The drawing's own units: the SVG scales to its box (width 100%), and a
// width near a phone's keeps the text legible at 390 px.
const (
	viewWidth = 400
	fontSize  = 14
)

// Series is one kind of bar in a column chart (申込, 入金…); Class names it
// for the stylesheet (the bar's fill is the class "bar-<Class>").
type Series struct {
	Name   string
	Class  string
	Values []int // one per label
}

// Columns is a chart of vertical bars, one group per label (a day), one
// bar per series in each group.
type Columns struct {
	ID          string // the figure's id, also prefixed to the inner ids
	Title       string
	Desc        string // the figures in a sentence, for screen readers
	Empty       string // shown instead of the chart when there is nothing to draw
	TableLabel  string // the <summary> of the data table
	LabelHeader string // the table's first column heading (日付)
	Labels      []string
	Series      []Series
}

// Bar is one row of a horizontal bar chart: Value out of Max, with Text
// the figures written beside it. A Max of 0 or less draws no bar (no
// capacity, unlimited): only the text.
type Bar struct {
	Label string
	Value int
	Max   int
	Text  string
}

// Bars is a chart of horizontal bars with their figures.
type Bars struct {
	ID          string
	Title       string
	Desc        string
	Empty       string
	TableLabel  string
	LabelHeader string
	ValueHeader string
	Class       string // the bars' class suffix, as in Series
	Bars        []Bar
}

type writer struct{ strings.Builder }

func (w *writer) printf(format string, args ...any) { fmt.Fprintf(&w.Builder, format, args...) }

// esc escapes text for element content and quoted attributes.
func esc(s string) string { return template.HTMLEscapeString(s) }

// num formats a coordinate with at most one decimal.
func num(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }

// open starts the figure, its caption the chart's title.
func (w *writer) open(id, class, title string) {
	w.printf(`<figure class="chart %s"`, esc(class))
	if id != "" {
		w.printf(` id="%s"`, esc(id))
	}
	w.printf(`><figcaption>%s</figcaption>`, esc(title))
}

func (w *writer) svgStart(id, title, desc string, height float64) {
	w.printf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %s" width="100%%" role="img" aria-labelledby="%s-title %s-desc" font-size="%d">`,
		viewWidth, num(height), esc(id), esc(id), fontSize)
	w.printf(`<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(id), esc(title), esc(id), esc(desc))
}

func (w *writer) empty(id, class, title, msg string) template.HTML {
	w.open(id, class, title)
	w.printf(`<p class="empty chart-empty">%s</p></figure>`, esc(msg))
	return template.HTML(w.String())
}

// niceMax is the top of the value axis: max rounded up to 1, 2 or 5 times
// a power of ten, never 0.
func niceMax(max int) int {
	if max <= 0 {
		return 1
	}
	p := 1
	for p*10 <= max {
		p *= 10
	}
	for _, m := range []int{1, 2, 5, 10} {
		if m*p >= max {
			return m * p
		}
	}
	return 10 * p
}

// Render draws the column chart, or its empty state when every value is 0.
func (c Columns) Render() template.HTML {
	var w writer
	total := 0
	top := 0
	for _, s := range c.Series {
		for _, v := range s.Values {
			total += v
			top = max(top, v)
		}
	}
	if len(c.Labels) == 0 || total == 0 {
		return w.empty(c.ID, "columns", c.Title, c.Empty)
	}
	const (
		height = 200.0
		left   = 34.0 // the value axis' labels
		right  = 4.0
		topPad = 10.0
		bottom = 26.0 // the labels under the bars
	)
	plotW, plotH := viewWidth-left-right, height-topPad-bottom
	yMax := niceMax(top)
	n := len(c.Labels)
	group := plotW / float64(n)
	barW := group * 0.8 / float64(max(len(c.Series), 1))
	w.open(c.ID, "columns", c.Title)
	w.svgStart(c.ID, c.Title, c.Desc, height)
	// The value axis: 0, half and the top, with light grid lines.
	for _, v := range []int{0, yMax / 2, yMax} {
		if v == yMax/2 && (yMax%2 != 0 || yMax < 2) {
			continue
		}
		y := topPad + plotH - plotH*float64(v)/float64(yMax)
		w.printf(`<line class="grid" x1="%s" x2="%s" y1="%s" y2="%s"/>`, num(left), num(left+plotW), num(y), num(y))
		w.printf(`<text class="axis" x="%s" y="%s" text-anchor="end">%d</text>`, num(left-4), num(y+4), v)
	}
	for si, s := range c.Series {
		w.printf(`<g class="bar-%s">`, esc(s.Class))
		for i, v := range s.Values {
			if i >= n || v <= 0 {
				continue
			}
			h := plotH * float64(v) / float64(yMax)
			x := left + group*float64(i) + group*0.1 + barW*float64(si)
			w.printf(`<rect x="%s" y="%s" width="%s" height="%s" data-value="%d"><title>%s %s: %d</title></rect>`,
				num(x), num(topPad+plotH-h), num(barW), num(h), v, esc(c.Labels[i]), esc(s.Name), v)
		}
		w.printf(`</g>`)
	}
	for _, i := range labelled(n) {
		x := left + group*(float64(i)+0.5)
		w.printf(`<text class="axis" x="%s" y="%s" text-anchor="middle">%s</text>`, num(x), num(height-6), esc(c.Labels[i]))
	}
	w.printf(`</svg>`)
	// The legend, as text: the colors are named in words too.
	if len(c.Series) > 1 {
		w.printf(`<ul class="chart-legend">`)
		for _, s := range c.Series {
			w.printf(`<li><span class="swatch bar-%s" aria-hidden="true"></span>%s</li>`, esc(s.Class), esc(s.Name))
		}
		w.printf(`</ul>`)
	}
	w.printf(`<details class="chart-data"><summary>%s</summary><table><thead><tr><th scope="col">%s</th>`, esc(c.TableLabel), esc(c.LabelHeader))
	for _, s := range c.Series {
		w.printf(`<th scope="col">%s</th>`, esc(s.Name))
	}
	w.printf(`</tr></thead><tbody>`)
	for i, l := range c.Labels {
		w.printf(`<tr><th scope="row">%s</th>`, esc(l))
		for _, s := range c.Series {
			v := 0
			if i < len(s.Values) {
				v = s.Values[i]
			}
			w.printf(`<td>%d</td>`, v)
		}
		w.printf(`</tr>`)
	}
	w.printf(`</tbody></table></details></figure>`)
	return template.HTML(w.String())
}

// Render draws the horizontal bars, or the empty state when there are none.
func (c Bars) Render() template.HTML {
	var w writer
	if len(c.Bars) == 0 {
		return w.empty(c.ID, "bars", c.Title, c.Empty)
	}
	const (
		row    = 42.0 // a label line, then the bar
		track  = 240.0
		barH   = 14.0
		labelY = 15.0
	)
	height := row*float64(len(c.Bars)) + 4
	w.open(c.ID, "bars", c.Title)
	w.svgStart(c.ID, c.Title, c.Desc, height)
	for i, b := range c.Bars {
		y := row * float64(i)
		w.printf(`<g class="bar-row">`)
		w.printf(`<text class="label" x="0" y="%s">%s</text>`, num(y+labelY), esc(b.Label))
		by := y + labelY + 5
		if b.Max > 0 {
			frac := math.Min(float64(max(b.Value, 0))/float64(b.Max), 1)
			w.printf(`<rect class="track" x="0" y="%s" width="%s" height="%s"/>`, num(by), num(track), num(barH))
			if frac > 0 {
				w.printf(`<rect class="bar-%s" x="0" y="%s" width="%s" height="%s" data-value="%d" data-max="%d"/>`,
					esc(c.Class), num(by), num(track*frac), num(barH), b.Value, b.Max)
			}
		}
		w.printf(`<text class="figure" x="%s" y="%s">%s</text>`, num(track+8), num(by+barH-2), esc(b.Text))
		w.printf(`</g>`)
	}
	w.printf(`</svg>`)
	w.printf(`<details class="chart-data"><summary>%s</summary><table><thead><tr><th scope="col">%s</th><th scope="col">%s</th></tr></thead><tbody>`,
		esc(c.TableLabel), esc(c.LabelHeader), esc(c.ValueHeader))
	for _, b := range c.Bars {
		w.printf(`<tr><th scope="row">%s</th><td>%s</td></tr>`, esc(b.Label), esc(b.Text))
	}
	w.printf(`</tbody></table></details></figure>`)
	return template.HTML(w.String())
}

// labelled are the indexes of the n bars that get a label: at most about
// six or seven, evenly spaced, the first and the last always.
func labelled(n int) []int {
	step := (n + 5) / 6
	var out []int
	for i := 0; i < n; i += step {
		out = append(out, i)
	}
	if last := out[len(out)-1]; last != n-1 {
		if last != 0 && n-1-last <= step/2 {
			out = out[:len(out)-1] // too close to the last: make room for it
		}
		out = append(out, n-1)
	}
	return out
}

// Meter draws a small bar of value out of limit, for a row of a list whose
// figures are written beside it: the drawing is hidden from screen
// readers, which read the figures. A limit of 0 or less draws the track only.
func Meter(value, limit int, class string) template.HTML {
	var w writer
	w.printf(`<svg class="meter" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true" focusable="false">`)
	w.printf(`<rect class="track" width="100" height="8"/>`)
	if limit > 0 && value > 0 {
		w.printf(`<rect class="bar-%s" width="%s" height="8" data-value="%d" data-max="%d"/>`, esc(class),
			num(math.Min(100*float64(value)/float64(limit), 100)), value, limit)
	}
	w.printf(`</svg>`)
	return template.HTML(w.String())
}
