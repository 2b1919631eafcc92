package payment

// RefundPhase is how a refund reads in the organizer's lists and exports:
// 返金処理中, 返金済 or 失敗. Labels: "refund_phase.<p>" in the catalogs.
type RefundPhase string

const (
	PhaseRefunding    RefundPhase = "refunding"     // 返金処理中: asked for, or on its way
	PhaseRefunded     RefundPhase = "refunded"      // 返金済
	PhaseRefundFailed RefundPhase = "refund_failed" // 失敗: failed, refused or cancelled on Stripe; may be asked again
)

// Phase is the refund's phase; "" for a status that is not one.
func (s RefundStatus) Phase() RefundPhase {
	switch {
	case s.Live():
		return PhaseRefunding
	case s == RefundSucceeded:
		return PhaseRefunded
	case s.Retryable():
		return PhaseRefundFailed
	}
	return ""
}
