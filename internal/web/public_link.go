package web

import (
	"fmt"
	"html"
	"net/http"
	"strings"

	qrcode "github.com/skip2/go-qrcode"

	"kaisai/internal/event"
)

// The public link on the organizer's event page (issue 19, part 4): the
// public page's full URL to copy, its QR code (drawn here as SVG, crisp at
// any print size) and a page to print them on. Only a published event has
// them: a draft's URL answers 404.

// absoluteURL is path on kaisai's public base URL: the configured one, else
// the host the request came to.
func (s *Server) absoluteURL(r *http.Request, path string) string {
	if s.stripe.PublicURL != nil {
		if base := strings.TrimRight(s.stripe.PublicURL(), "/"); base != "" {
			return base + path
		}
	}
	scheme := "http"
	if r.TLS != nil || s.secure {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}

// publicEventURL is the full URL of the event's public page.
func (s *Server) publicEventURL(r *http.Request, e *event.Event) string {
	return s.absoluteURL(r, "/e/"+e.Slug)
}

// qrSVG draws text's QR code (error correction M, with its quiet zone)
// as an SVG, one module a unit of its viewBox.
func qrSVG(text string) ([]byte, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, err
	}
	bm := q.Bitmap()
	n := len(bm)
	var path strings.Builder
	for y, row := range bm {
		for x := 0; x < n; {
			if !row[x] {
				x++
				continue
			}
			run := 1
			for x+run < n && row[x+run] {
				run++
			}
			fmt.Fprintf(&path, "M%d %dh%dv1h-%dz", x, y, run, run)
			x += run
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" shape-rendering="crispEdges" role="img">`,
		n, n, n*8, n*8)
	fmt.Fprintf(&b, `<title>%s</title><rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="%s"/></svg>`,
		html.EscapeString(text), n, n, path.String())
	return []byte(b.String()), nil
}

// eventQR is the QR code of the event's public URL.
func (s *Server) eventQR(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadEvent(w, r)
	if !ok {
		return
	}
	if !e.Published() {
		s.notFound(w, r)
		return
	}
	svg, err := qrSVG(s.publicEventURL(r, &e))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "private, no-cache")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Write(svg)
}

// eventPoster is a page to print: the event's title, organizer, QR code and
// public URL.
func (s *Server) eventPoster(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadEvent(w, r)
	if !ok {
		return
	}
	if !e.Published() {
		s.notFound(w, r)
		return
	}
	facts, err := s.publicFacts(r.Context(), &e)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "public_poster", map[string]any{"Event": &e, "Facts": facts,
		"PublicFullURL": s.publicEventURL(r, &e)})
}
