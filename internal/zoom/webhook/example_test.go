package webhook_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"kaisai/internal/zoom/webhook"
)

// The order an intake handler follows: read the raw body (bounded), verify it, parse it,
// answer the challenge; then store the event and answer 200 (not shown).
func Example() {
	const secret = "the app's Secret Token"
	handler := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := webhook.Verify(secret, r.Header, body, time.Now(), webhook.DefaultWindow); err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		e, err := webhook.Parse(body)
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if e.Event == webhook.EventURLValidation {
			p, err := e.URLValidation()
			if err != nil {
				http.Error(w, "bad request", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(webhook.URLValidationResponse(secret, p.PlainToken))
			return
		}
		w.WriteHeader(http.StatusOK)
	}

	body := `{"event":"endpoint.url_validation","event_ts":1654503849680,"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"}}`
	req := httptest.NewRequest(http.MethodPost, "/webhooks/zoom", strings.NewReader(body))
	webhook.SetHeaders(req.Header, secret, time.Now(), []byte(body))
	rec := httptest.NewRecorder()
	handler(rec, req)
	fmt.Println(rec.Code, strings.Contains(rec.Body.String(), `"plainToken":"qgg8vlvZRS6UYooatFL8Aw"`))

	forged := httptest.NewRequest(http.MethodPost, "/webhooks/zoom", strings.NewReader(body))
	webhook.SetHeaders(forged.Header, "a guessed secret", time.Now(), []byte(body))
	rec = httptest.NewRecorder()
	handler(rec, forged)
	fmt.Println(rec.Code)
	// Output:
	// 200 true
	// 401
}
