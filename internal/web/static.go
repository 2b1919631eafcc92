package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strings"
)

// static holds the CSS and the vendored htmx (htmx.org 2.0.11 from the npm
// registry, dist/htmx.min.js).
//
//go:embed static
var staticFS embed.FS

// staticSums maps each static file to a short hash of its content; pages link
// to /static/name?v=hash so browsers may cache a file until it changes.
var staticSums = func() map[string]string {
	sums := map[string]string{}
	fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		sums[strings.TrimPrefix(p, "static/")] = hex.EncodeToString(h[:6])
		return nil
	})
	return sums
}()

func staticPath(name string) string {
	return "/static/" + name + "?v=" + staticSums[name]
}

func staticHandler() http.Handler {
	files := http.FileServerFS(staticFS)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		sum, ok := staticSums[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.URL.Query().Get("v") == sum {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}
