package event

import (
	"sort"
	"time"
)

// MailApplicationLinks (申込内容の確認メール) sends a participant who lost
// their application page the links to their applications of one event. It
// is written from the default wording only, so it is not among MailKinds.
const MailApplicationLinks MailKind = "application_links"

// Limits on resending application links: per e-mail address, so nobody can
// flood an inbox, and per client, so nobody can probe addresses in bulk.
// A request counts whether or not the address applied, so the answer tells
// nothing about it.
const (
	LinkRequestWindow     = time.Hour
	LinkRequestsPerEmail  = 3
	LinkRequestsPerClient = 10
)

// LinkRequestRetryAt is when a request may be made, given the times of the
// earlier requests (of one address, or one client) and the limit per
// LinkRequestWindow: the zero time if it may be made now, else the moment
// the oldest request that counts falls out of the window.
func LinkRequestRetryAt(earlier []time.Time, limit int, now time.Time) time.Time {
	since := now.Add(-LinkRequestWindow)
	var recent []time.Time
	for _, t := range earlier {
		if t.After(since) {
			recent = append(recent, t)
		}
	}
	if len(recent) < limit {
		return time.Time{}
	}
	sort.Slice(recent, func(i, j int) bool { return recent[i].Before(recent[j]) })
	// The request that must leave the window for one more to fit.
	return recent[len(recent)-limit].Add(LinkRequestWindow)
}
