package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"kaisai/internal/store"
	"kaisai/internal/zoom/webhook"
)

// Zoom's webhook intake (DESIGN.md §6).
const (
	zoomWebhookPath = "/webhooks/zoom"
	// zoomWebhookMaxBytes bounds a delivery: Zoom's events are a few KiB; a
	// meeting.updated with its settings stays well under this.
	zoomWebhookMaxBytes = 1 << 20
)

// zoomWebhook receives one delivery: it reads the raw body (bounded),
// verifies its signature and timestamp, answers endpoint.url_validation, and
// otherwise stores the event, de-duplicated, and answers 200 at once; a job
// processes it (jobs.ProcessZoomWebhooksWorker). A request that fails any
// check writes nothing. Answers are short JSON for Zoom and operators, not
// pages, so they carry no catalog text. The body holds participants' names
// and e-mail addresses: it is never logged.
func (s *Server) zoomWebhook(w http.ResponseWriter, r *http.Request) {
	if s.zoomSecret == "" {
		s.noSecretOnce.Do(func() {
			s.log.Warn("zoom webhook: a delivery arrived but no secret token is configured (KAISAI_ZOOM_WEBHOOK_SECRET_TOKEN); answering 503")
		})
		webhookError(w, http.StatusServiceUnavailable, "zoom webhooks are not configured")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, zoomWebhookMaxBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			webhookError(w, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		webhookError(w, http.StatusBadRequest, "cannot read request body")
		return
	}
	if err := webhook.Verify(s.zoomSecret, r.Header, body, s.now(), webhook.DefaultWindow); err != nil {
		// The error names which check failed, never the secret or a signature.
		s.log.Info("zoom webhook: refused", "reason", err, "remote", r.RemoteAddr)
		webhookError(w, http.StatusUnauthorized, "invalid signature or timestamp")
		return
	}
	e, err := webhook.Parse(body)
	if err != nil {
		webhookError(w, http.StatusBadRequest, "malformed event")
		return
	}
	if e.Event == webhook.EventURLValidation {
		p, err := e.URLValidation()
		if err != nil {
			webhookError(w, http.StatusBadRequest, "malformed event")
			return
		}
		writeWebhookJSON(w, http.StatusOK, webhook.URLValidationResponse(s.zoomSecret, p.PlainToken))
		return
	}
	inserted, err := s.store.RecordZoomWebhook(r.Context(), e.Event, e.EventTS, store.WebhookDedupeKey(body), body)
	if err != nil {
		// Not acknowledged: Zoom retries.
		if clientGone(r) {
			s.clientClosed(w, r, err)
			return
		}
		s.log.Error("zoom webhook: store", "event", e.Event, "err", err)
		webhookError(w, http.StatusInternalServerError, "cannot store event")
		return
	}
	s.log.Debug("zoom webhook: received", "event", e.Event, "duplicate", !inserted)
	writeWebhookJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func webhookError(w http.ResponseWriter, status int, msg string) {
	writeWebhookJSON(w, status, map[string]string{"error": msg})
}

func writeWebhookJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
