package store

import "context"

// GroupZoomImpact is what an edit of a Zoom group that deletes or moves its
// meetings (another venue, another ホスト: DESIGN.md §4) touches, for the
// group form's warning.
type GroupZoomImpact struct {
	// Meetings are the group's live meetings (want present), created on
	// Zoom or still to be.
	Meetings int
	// Registrants are the applications registered on those meetings with a
	// personal join URL, which stops working when its meeting goes.
	Registrants int
}

// GroupZoomImpact counts the live Zoom meetings of a group of orgID, and the
// applications holding a personal join URL of one of them.
func (s *Store) GroupZoomImpact(ctx context.Context, orgID, groupID int64) (_ GroupZoomImpact, err error) {
	defer wrap(&err, "store.GroupZoomImpact(org %d, group %d)", orgID, groupID)
	var im GroupZoomImpact
	err = s.reader().QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM zoom_meetings m
			WHERE m.org_id = $1 AND m.group_id = $2 AND m.want = 'present'),
		(SELECT COUNT(DISTINCT r.application_id) FROM zoom_registrants r
			JOIN zoom_meetings m ON m.id = r.meeting_id
			WHERE m.org_id = $1 AND m.group_id = $2 AND m.want = 'present'
				AND r.status = 'registered' AND r.join_url <> '' AND r.application_id IS NOT NULL)`,
		orgID, groupID).Scan(&im.Meetings, &im.Registrants)
	return im, err
}
