package jobs

import (
	"context"
	"errors"
	"strings"
	"testing"

	"kaisai/internal/store"
	"kaisai/internal/zoom/webhook"
	"kaisai/internal/zoompolicy"
)

// TestCandidatesFor: a join's candidates are read only for the keys the
// policy consults (the e-mail as normalised), and a failed read is
// returned rather than taken for no match.
func TestCandidatesFor(t *testing.T) {
	var asked []string
	byRegistrant := func(id string) (int64, error) { asked = append(asked, "reg:"+id); return 11, nil }
	byEmail := func(email string) (int64, error) { asked = append(asked, "email:"+email); return 22, nil }
	who := zoompolicy.Participant{RegistrantID: "reg-1", Email: " Known@Example.com "}
	for _, c := range []struct {
		name      string
		auth, reg bool
		asked     string
		id        int64
		by        zoompolicy.MatchedBy
	}{
		{"ON/ON", true, true, "reg:reg-1 email:known@example.com", 11, zoompolicy.MatchedByRegistrant},
		{"OFF/ON", false, true, "reg:reg-1", 11, zoompolicy.MatchedByRegistrant},
		{"ON/OFF", true, false, "email:known@example.com", 22, zoompolicy.MatchedByEmail},
		{"OFF/OFF", false, false, "", 0, ""},
	} {
		asked = nil
		m := store.CheckInMeeting{Authentication: c.auth, Registration: c.reg}
		cands, err := candidatesFor(m, who, byRegistrant, byEmail)
		if err != nil || strings.Join(asked, " ") != c.asked {
			t.Errorf("%s: asked %q (%v), want %q", c.name, asked, err, c.asked)
		}
		if id, by := match(m, who, cands); id != c.id || by != c.by {
			t.Errorf("%s: matched %d by %q, want %d by %q", c.name, id, by, c.id, c.by)
		}
	}
	broken := errors.New("database gone")
	fail := func(string) (int64, error) { return 0, broken }
	if _, err := candidatesFor(store.CheckInMeeting{Registration: true}, who, fail, byEmail); !errors.Is(err, broken) {
		t.Errorf("a failed lookup: %v, want it returned", err)
	}
}

// TestCallBatch: a batch handler's answer is one outcome per event; a panic
// or an answer of the wrong length fails every event of the batch (to be
// retried), and nothing is lost.
func TestCallBatch(t *testing.T) {
	w := &ProcessZoomWebhooksWorker{}
	es := make([]webhook.Event, 3)
	ok := errors.New("second fails")
	got := w.callBatch(context.Background(), func(_ context.Context, es []webhook.Event) []error {
		return []error{nil, ok, nil}
	}, es)
	if len(got) != 3 || got[0] != nil || got[1] != ok || got[2] != nil {
		t.Errorf("outcomes %v, want the handler's", got)
	}
	for name, h := range map[string]WebhookBatchHandler{
		"panic": func(context.Context, []webhook.Event) []error { panic("boom") },
		"short": func(context.Context, []webhook.Event) []error { return []error{nil} },
	} {
		got := w.callBatch(context.Background(), h, es)
		if len(got) != 3 {
			t.Fatalf("%s: %d outcomes for 3 events", name, len(got))
		}
		for i, err := range got {
			if err == nil {
				t.Errorf("%s: event %d marked done", name, i)
			}
		}
	}
}
