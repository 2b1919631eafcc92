package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// baseline is the ceiling kaisai is measured against: a bare net/http
// handler that parses a form and does one INSERT per request, nothing else.
type baseline struct {
	db       *sql.DB
	server   *http.Server
	listener net.Listener
	done     chan struct{}
}

func startBaseline(db *sql.DB) (*baseline, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &baseline{db: db, listener: ln, done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /insert", b.insert)
	b.server = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	go func() {
		defer close(b.done)
		b.server.Serve(ln)
	}()
	return b, nil
}

func (b *baseline) URL() string { return "http://" + b.listener.Addr().String() }

func (b *baseline) insert(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	var id int64
	err := b.db.QueryRowContext(r.Context(), `INSERT INTO baseline_applications (name, email, created_at)
		VALUES ($1, $2, $3) RETURNING id`, r.PostForm.Get("name"), r.PostForm.Get("email"), time.Now().UTC()).Scan(&id)
	if err != nil {
		http.Error(w, "insert failed", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/done/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

func (b *baseline) Close(ctx context.Context) error {
	err := b.server.Shutdown(ctx)
	<-b.done
	return err
}

// rows counts the rows the baseline inserted.
func (b *baseline) rows(ctx context.Context) (int, error) {
	var n int
	err := b.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM baseline_applications`).Scan(&n)
	return n, err
}

// baselineIteration posts one form to the baseline handler.
func baselineIteration(hc *http.Client, base string) iteration {
	return func(ctx context.Context, worker, seq int) sample {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		form := url.Values{"name": {fmt.Sprintf("ベンチ 参加者%d-%d", worker, seq)},
			"email": {fmt.Sprintf("baseline-%d-%d@bench.example.com", worker, seq)}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/insert", strings.NewReader(form.Encode()))
		if err != nil {
			return sample{Outcome: failed, Detail: err.Error()}
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		began := time.Now()
		res, err := hc.Do(req)
		if err != nil {
			return sample{Outcome: failed, Detail: "POST insert: " + errorClass(err)}
		}
		_, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		d := time.Since(began)
		s := sample{Post: d, Iter: d}
		switch {
		case err != nil:
			s.Outcome, s.Detail = failed, "POST insert: read body: "+errorClass(err)
		case res.StatusCode == http.StatusSeeOther:
			s.Outcome = accepted
		default:
			s.Outcome, s.Detail = failed, "POST insert: "+res.Status
		}
		return s
	}
}

// runBaseline measures the baseline on a fresh database of the same kind.
func runBaseline(ctx context.Context, cfg applyConfig, out io.Writer) (*loadResult, error) {
	d, err := newDatabase(ctx, cfg.PostgresURL, "baseline")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := d.Drop(); err != nil {
			fmt.Fprintf(out, "baseline: drop database: %v\n", err)
		}
	}()
	db, err := openBaselineDB(ctx, d)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	b, err := startBaseline(db)
	if err != nil {
		return nil, err
	}
	t := newTransport(cfg.Clients)
	defer t.CloseIdleConnections()
	res := drive(ctx, cfg.Clients, cfg.Warmup, cfg.Duration, baselineIteration(newHTTPClient(t), b.URL()), nil)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := b.Close(shutdownCtx); err != nil {
		return nil, fmt.Errorf("baseline: shutdown: %w", err)
	}
	n, err := b.rows(shutdownCtx)
	if err != nil {
		return nil, err
	}
	// Every accepted request is a row; warm-up requests add more.
	if n < res.Accepted {
		return nil, errors.New("baseline: fewer rows than accepted inserts")
	}
	return res, nil
}
