package payment

import "testing"

func TestRefundPhase(t *testing.T) {
	want := map[RefundStatus]RefundPhase{
		RefundRequesting: PhaseRefunding, RefundPending: PhaseRefunding, RefundRequiresAction: PhaseRefunding,
		RefundSucceeded: PhaseRefunded,
		RefundFailed:    PhaseRefundFailed, RefundAbandoned: PhaseRefundFailed, RefundCanceled: PhaseRefundFailed,
		"": "", "bogus": "",
	}
	for _, s := range RefundStatuses() {
		if _, ok := want[s]; !ok {
			t.Errorf("status %q has no phase in the test", s)
		}
	}
	for s, p := range want {
		if got := s.Phase(); got != p {
			t.Errorf("%q.Phase() = %q, want %q", s, got, p)
		}
	}
}
