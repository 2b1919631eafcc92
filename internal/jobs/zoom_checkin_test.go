package jobs

import (
	"context"
	"errors"
	"testing"

	"kaisai/internal/store"
	"kaisai/internal/zoom/webhook"
)

// TestMatchByPolicy walks DESIGN.md §3's 自動受付 column: which of a
// participant's registrant id and e-mail identify the application, per
// 認証 × 登録.
func TestMatchByPolicy(t *testing.T) {
	const regApp, emailApp = 11, 22
	byRegistrant := func(id string) (int64, error) {
		if id == "reg-known" {
			return regApp, nil
		}
		return 0, nil
	}
	byEmail := func(email string) (int64, error) {
		if email == "known@example.com" {
			return emailApp, nil
		}
		return 0, nil
	}
	type who struct{ registrant, email string }
	for _, c := range []struct {
		name      string
		auth, reg bool
		who       who
		want      int64
		by        string
	}{
		{"ON/ON registrant", true, true, who{"reg-known", "known@example.com"}, regApp, store.MatchedByRegistrant},
		{"ON/ON registrant unknown to kaisai, e-mail known", true, true, who{"reg-zoom-side", "known@example.com"}, emailApp, store.MatchedByEmail},
		{"ON/ON e-mail alone", true, true, who{"", "known@example.com"}, emailApp, store.MatchedByEmail},
		{"ON/ON neither", true, true, who{"reg-zoom-side", "other@example.com"}, 0, ""},
		{"OFF/ON registrant", false, true, who{"reg-known", ""}, regApp, store.MatchedByRegistrant},
		{"OFF/ON e-mail is not enough", false, true, who{"", "known@example.com"}, 0, ""},
		{"ON/OFF e-mail", true, false, who{"", "known@example.com"}, emailApp, store.MatchedByEmail},
		{"ON/OFF a registrant id means nothing", true, false, who{"reg-known", ""}, 0, ""},
		{"ON/OFF another e-mail", true, false, who{"", "other@example.com"}, 0, ""},
		{"OFF/OFF manual only", false, false, who{"reg-known", "known@example.com"}, 0, ""},
	} {
		m := store.CheckInMeeting{Authentication: c.auth, Registration: c.reg}
		got, by, err := match(m, c.who.registrant, c.who.email, byRegistrant, byEmail)
		if err != nil || got != c.want || by != c.by {
			t.Errorf("%s: matched %d by %q (%v), want %d by %q", c.name, got, by, err, c.want, c.by)
		}
	}
	broken := errors.New("database gone")
	fail := func(string) (int64, error) { return 0, broken }
	if _, _, err := match(store.CheckInMeeting{Registration: true}, "reg", "", fail, byEmail); !errors.Is(err, broken) {
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
