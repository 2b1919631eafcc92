package stripesim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// receiver is a webhook endpoint run by httptest: it records every body
// with its Stripe-Signature, and answers status (200 unless told).
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received
	status int
	fail   int // the next fail requests answer 500
}

type received struct {
	Body      []byte
	Signature string
	Type      string
}

func newReceiver(t testing.TB) *receiver {
	rc := &receiver{status: http.StatusOK}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(body, &ev)
		rc.mu.Lock()
		rc.got = append(rc.got, received{Body: body, Signature: r.Header.Get("Stripe-Signature"), Type: ev.Type})
		status := rc.status
		if rc.fail > 0 {
			rc.fail--
			status = http.StatusInternalServerError
		}
		rc.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) received() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func (rc *receiver) types() []string {
	var out []string
	for _, r := range rc.received() {
		out = append(out, r.Type)
	}
	return out
}

// stripeSignature is Stripe-Signature as Stripe documents it, computed
// here independently of Sign.
func stripeSignature(secret string, unix int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.%s", unix, body)
	return fmt.Sprintf("t=%d,v1=%s", unix, hex.EncodeToString(mac.Sum(nil)))
}
