package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/zoompolicy"
)

var (
	// ErrNoSecrets: no secret key is configured, so tokens cannot be stored.
	ErrNoSecrets = event.Errorf(event.EConflict, "zoom.no_secret_key")
	// ErrZoomRelinkRequired: the connection has no usable tokens (要再連携 or 解除済).
	ErrZoomRelinkRequired = event.Errorf(event.EConflict, "zoom.relink_required")
	// ErrRefreshRefused is what a RefreshFunc wraps when Zoom refused the
	// refresh token (zoom.ErrInvalidGrant): the connection becomes 要再連携.
	ErrRefreshRefused = errors.New("store: zoom refused the refresh token")
)

// ZoomTokens are a connection's OAuth tokens, in the clear.
type ZoomTokens struct {
	AccessToken  string
	RefreshToken string
	Expiry       time.Time
	Scopes       []string
	APIURL       string
}

// String keeps the tokens out of logs.
func (t ZoomTokens) String() string {
	return fmt.Sprintf("store.ZoomTokens{expiry %s, api %s}", t.Expiry.UTC().Format(time.RFC3339), t.APIURL)
}

// ZoomUser is what kaisai keeps of a linked Zoom user. Its name, e-mail and
// type stay when the user is unlinked, as last seen (ZoomConnection.LinkedAt).
type ZoomUser struct {
	ID, AccountID, Email, DisplayName string
	Type                              int // 1 Basic, 2 Licensed
}

// ZoomConnection is one linked Zoom user of an organization.
type ZoomConnection struct {
	ID, OrgID        int64
	User             ZoomUser
	Status           zoompolicy.ConnStatus
	RelinkReason     zoompolicy.RelinkReason // why it is 要再連携
	Scopes           []string
	APIURL           string
	TokenExpiry      time.Time
	HasTokens        bool
	RelinkNotifiedAt time.Time
	// LinkedAt is when the Zoom user was last linked, when kaisai last read
	// its name, e-mail and type (zero for a connection linked before kaisai
	// recorded it).
	LinkedAt  time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Host is the connection as a possible host of a group's meetings, for the
// rules of package event: linked or not, and its licence as last seen.
func (c ZoomConnection) Host() event.ZoomHost {
	h := event.ZoomHost{ConnID: c.ID, Linked: c.Status.Usable()}
	switch c.User.Type {
	case 1:
		h.Licence = event.ZoomLicenceBasic
	case 2:
		h.Licence = event.ZoomLicenceLicensed
	}
	return h
}

// sealing binds a sealed token to its row and kind, so a value copied to
// another row or column does not open.
func sealAD(orgID int64, zoomUserID, kind string) []byte {
	return []byte("zoom_connections/" + strconv.FormatInt(orgID, 10) + "/" + zoomUserID + "/" + kind)
}

func (s *Store) seal(orgID int64, zoomUserID string, t ZoomTokens) (access, refresh []byte, err error) {
	if s.secrets == nil {
		return nil, nil, ErrNoSecrets
	}
	return s.secrets.Seal([]byte(t.AccessToken), sealAD(orgID, zoomUserID, "access")),
		s.secrets.Seal([]byte(t.RefreshToken), sealAD(orgID, zoomUserID, "refresh")), nil
}

// LinkZoomConnection saves a linked Zoom user with its tokens: the same Zoom
// user linked again (also after 解除 or 要再連携) is the same connection,
// linked again.
//
// Zoom keeps one grant per user and app: a user who authorizes the app
// again gets new tokens, and those of the earlier authorization stop
// working (Zoom's developer forum: "If you generate a new token, the
// previous token will be invalidated. This behavior is similar to our
// regular OAuth tokens", https://devforum.zoom.us/t/server-to-server-oauth-annoying-token-invalidation/72070;
// the same user linking one app from two systems, the first stops working:
// https://devforum.zoom.us/t/the-procedure-for-increasing-the-token-tolerance-token-index-and-its-impact/95429).
// So the same Zoom user linked by another organization has ended this
// grant: in the same transaction, every other organization's connection to
// the user that was 連携中 becomes 要再連携 (zoompolicy.RelinkLinkedElsewhere), loses
// its dead tokens, and its owners are told by mail, instead of finding out
// from a refused call later.
func (s *Store) LinkZoomConnection(ctx context.Context, orgID int64, u ZoomUser, t ZoomTokens) (id int64, err error) {
	defer wrap(&err, "store.LinkZoomConnection(org %d)", orgID)
	access, refresh, err := s.seal(orgID, u.ID, t)
	if err != nil {
		return 0, err
	}
	now := s.nowUTC()
	err = s.Tx(ctx, func(tx *Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO zoom_connections (org_id, zoom_user_id, zoom_account_id, email,
			display_name, user_type, status, access_token_enc, refresh_token_enc, token_expiry, scopes, api_url,
			created_at, updated_at, linked_at) VALUES ($1, $2, $3, $4, $5, $6, 'linked', $7, $8, $9, $10, $11, $12, $12, $12)
			ON CONFLICT (org_id, zoom_user_id) DO UPDATE SET zoom_account_id = excluded.zoom_account_id,
			  email = excluded.email, display_name = excluded.display_name, user_type = excluded.user_type,
			  status = 'linked', relink_reason = '', access_token_enc = excluded.access_token_enc,
			  refresh_token_enc = excluded.refresh_token_enc, token_expiry = excluded.token_expiry,
			  scopes = excluded.scopes, api_url = excluded.api_url, relink_notified_at = NULL,
			  updated_at = excluded.updated_at, linked_at = excluded.linked_at
			RETURNING id`, orgID, u.ID, u.AccountID, u.Email, u.DisplayName, u.Type, access, refresh,
			t.Expiry.UTC(), strings.Join(t.Scopes, " "), t.APIURL, now).Scan(&id)
		if err != nil {
			return err
		}
		if err := s.endZoomLinksElsewhere(ctx, tx, orgID, u.ID); err != nil {
			return err
		}
		// Linked again: its meetings' pending work resumes.
		tx.queue(queuedMeetings)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return id, nil
}

// endZoomLinksElsewhere marks the other organizations' links to the Zoom user
// 要再連携 (linked elsewhere), deletes their tokens, which Zoom no longer
// accepts, and tells their owners.
func (s *Store) endZoomLinksElsewhere(ctx context.Context, tx *Tx, orgID int64, zoomUserID string) error {
	rows, err := tx.QueryContext(ctx, `UPDATE zoom_connections SET status = 'relink_required',
		relink_reason = 'linked_elsewhere', access_token_enc = NULL, refresh_token_enc = NULL, token_expiry = NULL,
		relink_notified_at = NULL, updated_at = $1
		WHERE zoom_user_id = $2 AND org_id <> $3 AND status = 'linked' RETURNING org_id, id`,
		tx.now, zoomUserID, orgID)
	if err != nil {
		return fmt.Errorf("end links elsewhere: %w", err)
	}
	type conn struct{ org, id int64 }
	var ended []conn
	for rows.Next() {
		var c conn
		if err := rows.Scan(&c.org, &c.id); err != nil {
			rows.Close()
			return err
		}
		ended = append(ended, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range ended {
		if err := s.notifyZoomRelink(ctx, tx, c.org, c.id, event.MailZoomLinkedElsewhere); err != nil {
			return err
		}
	}
	return nil
}

// ZoomUserLinkedElsewhere reports whether another organization has the Zoom
// user linked (連携中): linking it here ends that link (LinkZoomConnection).
func (s *Store) ZoomUserLinkedElsewhere(ctx context.Context, orgID int64, zoomUserID string) (_ bool, err error) {
	defer wrap(&err, "store.ZoomUserLinkedElsewhere(org %d)", orgID)
	var n int
	err = s.reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM zoom_connections
		WHERE zoom_user_id = $1 AND org_id <> $2 AND status = 'linked'`, zoomUserID, orgID).Scan(&n)
	if err != nil {
		return false, err
	}
	return n > 0, nil
}

const zoomConnColumns = `id, org_id, zoom_user_id, zoom_account_id, email, display_name, user_type, status,
	relink_reason, scopes, api_url, token_expiry, refresh_token_enc IS NOT NULL, relink_notified_at, linked_at,
	created_at, updated_at`

func scanZoomConn(row interface{ Scan(...any) error }) (ZoomConnection, error) {
	var c ZoomConnection
	var scopes string
	var expiry, notified, linked sql.NullTime
	err := row.Scan(&c.ID, &c.OrgID, &c.User.ID, &c.User.AccountID, &c.User.Email, &c.User.DisplayName,
		&c.User.Type, &c.Status, &c.RelinkReason, &scopes, &c.APIURL, &expiry, &c.HasTokens, &notified, &linked,
		&c.CreatedAt, &c.UpdatedAt)
	c.Scopes = strings.Fields(scopes)
	c.TokenExpiry, c.RelinkNotifiedAt, c.LinkedAt = timeOf(expiry), timeOf(notified), timeOf(linked)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, err
}

// ZoomConnections lists an organization's connections, oldest first.
func (s *Store) ZoomConnections(ctx context.Context, orgID int64) (_ []ZoomConnection, err error) {
	defer wrap(&err, "store.ZoomConnections(org %d)", orgID)
	rows, err := s.reader().QueryContext(ctx, `SELECT `+zoomConnColumns+` FROM zoom_connections WHERE org_id = $1 ORDER BY id`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ZoomConnection
	for rows.Next() {
		c, err := scanZoomConn(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ZoomConnection is one connection of the organization (ErrNotFound for
// another organization's).
func (s *Store) ZoomConnection(ctx context.Context, orgID, id int64) (_ ZoomConnection, err error) {
	defer wrap(&err, "store.ZoomConnection(org %d, id %d)", orgID, id)
	c, err := scanZoomConn(s.reader().QueryRowContext(ctx, `SELECT `+zoomConnColumns+` FROM zoom_connections
		WHERE org_id = $1 AND id = $2`, orgID, id))
	if err != nil {
		return c, notFound(err)
	}
	return c, nil
}

// SetZoomConnectionStatus marks a connection 連携中, 要再連携 or 解除済.
func (s *Store) SetZoomConnectionStatus(ctx context.Context, orgID, id int64, status zoompolicy.ConnStatus) (err error) {
	defer wrap(&err, "store.SetZoomConnectionStatus(org %d, id %d)", orgID, id)
	r, err := s.exec(ctx, `UPDATE zoom_connections SET status = $1, updated_at = $2 WHERE org_id = $3 AND id = $4`,
		status, s.nowUTC(), orgID, id)
	return rowsOrNotFound(r, err)
}

// MarkZoomRelinkNotified records that the organizer was told the connection
// needs relinking; it reports false when they were told already (tell once).
func (s *Store) MarkZoomRelinkNotified(ctx context.Context, orgID, id int64) (first bool, err error) {
	defer wrap(&err, "store.MarkZoomRelinkNotified(org %d, id %d)", orgID, id)
	r, err := s.exec(ctx, `UPDATE zoom_connections SET relink_notified_at = $1 WHERE org_id = $2 AND id = $3
		AND status = 'relink_required' AND relink_notified_at IS NULL`, s.nowUTC(), orgID, id)
	if err != nil {
		return false, err
	}
	n, err := r.RowsAffected()
	return n > 0, err
}

// notifyZoomRelink tells the organization's owners, once, that the
// connection needs relinking: in tx, with the connection marked 要再連携, it
// sets relink_notified_at and writes a mail of kind (event.MailZoomRelink,
// event.MailZoomLinkedElsewhere) to each owner, unless they were told
// already. Linking again clears relink_notified_at, so a later refusal tells
// them again.
func (s *Store) notifyZoomRelink(ctx context.Context, tx *Tx, orgID, id int64, kind event.MailKind) error {
	var name, email string
	err := tx.QueryRowContext(ctx, `UPDATE zoom_connections SET relink_notified_at = $1 WHERE org_id = $2 AND id = $3
		AND status = 'relink_required' AND relink_notified_at IS NULL RETURNING display_name, email`,
		tx.now, orgID, id).Scan(&name, &email)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // told already
	}
	if err != nil {
		return fmt.Errorf("zoom relink notice: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM members WHERE org_id = $1 AND role = $2 ORDER BY id`,
		orgID, event.RoleOwner)
	if err != nil {
		return fmt.Errorf("zoom relink notice: owners: %w", err)
	}
	var owners []int64
	for rows.Next() {
		var m int64
		if err := rows.Scan(&m); err != nil {
			rows.Close()
			return err
		}
		owners = append(owners, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	vars := map[string]string{"zoom_user": name, "zoom_email": email}
	for _, m := range owners {
		if err := s.enqueueMemberMail(ctx, tx, orgID, m, kind, vars); err != nil {
			return err
		}
	}
	return nil
}

// UnlinkZoomConnection deletes the connection's tokens and marks it 解除済
// (revoking at Zoom is the caller's, before this).
func (s *Store) UnlinkZoomConnection(ctx context.Context, orgID, id int64) (err error) {
	defer wrap(&err, "store.UnlinkZoomConnection(org %d, id %d)", orgID, id)
	r, err := s.exec(ctx, `UPDATE zoom_connections SET status = 'unlinked', access_token_enc = NULL,
		refresh_token_enc = NULL, token_expiry = NULL, updated_at = $1 WHERE org_id = $2 AND id = $3`,
		s.nowUTC(), orgID, id)
	return rowsOrNotFound(r, err)
}

// DeauthorizeZoomUser is Zoom's app_deauthorized: the user removed the app
// at time at, so every connection to that Zoom user (in any organization)
// linked before then loses its tokens, scopes, API URL and account, and is
// 解除済. A connection linked again since keeps its new grant (the event
// came late). A zero at: every connection.
//
// The user's name, e-mail and account type stay, as last seen (LinkedAt):
// DESIGN.md §5 first had them deleted too, but then サービス連携, the
// event page and the group form showed an unnamed host, and a Licensed one
// as Basic, so the organizer could not tell whom to link again (issue 13).
// They are what the Zoom user showed the organization when linking, not
// secrets; only Zoom's opaque user id is needed to recognize a new link.
func (s *Store) DeauthorizeZoomUser(ctx context.Context, zoomUserID string, at time.Time) (_ int64, err error) {
	defer wrap(&err, "store.DeauthorizeZoomUser()")
	return s.deauthorizeZoom(ctx, "zoom_user_id", zoomUserID, at)
}

// DeauthorizeZoomAccount is app_deauthorized naming only an account: every
// connection to a user of that Zoom account, as DeauthorizeZoomUser.
func (s *Store) DeauthorizeZoomAccount(ctx context.Context, zoomAccountID string, at time.Time) (_ int64, err error) {
	defer wrap(&err, "store.DeauthorizeZoomAccount()")
	return s.deauthorizeZoom(ctx, "zoom_account_id", zoomAccountID, at)
}

func (s *Store) deauthorizeZoom(ctx context.Context, column, id string, at time.Time) (int64, error) {
	if id == "" {
		return 0, nil
	}
	if at.IsZero() {
		at = s.nowUTC()
	}
	r, err := s.exec(ctx, `UPDATE zoom_connections SET status = 'unlinked', relink_reason = '',
		access_token_enc = NULL, refresh_token_enc = NULL, token_expiry = NULL, zoom_account_id = '',
		scopes = '', api_url = '', updated_at = $1
		WHERE `+column+` = $2 AND (linked_at IS NULL OR linked_at <= $3)`, s.nowUTC(), id, at.UTC())
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

func rowsOrNotFound(r sql.Result, err error) error {
	if err == nil {
		var n int64
		if n, err = r.RowsAffected(); err == nil && n == 0 {
			err = errNotFound
		}
	}
	return err
}

// RefreshFunc makes one refresh at Zoom. When Zoom refuses the refresh
// token, the error wraps ErrRefreshRefused.
type RefreshFunc func(ctx context.Context, refreshToken string) (ZoomTokens, error)

// refreshSkew refreshes a little before the expiry, so a token does not
// expire between here and Zoom.
const refreshSkew = time.Minute

// ZoomAccessToken returns usable tokens of the connection, refreshing them
// when the stored access token has expired, or is stale (the one a call just
// saw refused; "" for none). Zoom rotates refresh tokens, so at most one
// refresh per connection runs at a time on every instance: on PostgreSQL the
// row is locked (SELECT … FOR UPDATE) across the refresh; on SQLite (one
// process) a mutex per connection is held instead, never the write
// transaction, which would block every other write. Either way the row is
// re-read under the lock, so who waited finds the new tokens and does not
// refresh again; both new tokens are stored before they are returned. A
// refused refresh marks the connection 要再連携 (ErrZoomRelinkRequired).
// The outcome is written only while the connection still holds the refresh
// token used: on SQLite, app_deauthorized or a new link can come while Zoom
// answers, and what they wrote stands (a new link's tokens are returned).
func (s *Store) ZoomAccessToken(ctx context.Context, orgID, id int64, stale string, refresh RefreshFunc) (t ZoomTokens, err error) {
	defer wrap(&err, "store.ZoomAccessToken(org %d, id %d)", orgID, id)
	if s.secrets == nil {
		return t, ErrNoSecrets
	}
	if s.dialect == Postgres {
		var refused error
		err = s.Tx(ctx, func(tx *Tx) error {
			cur, err := s.zoomTokens(ctx, tx, orgID, id, " FOR UPDATE")
			if err != nil || !s.needsRefresh(cur.ZoomTokens, stale) {
				t = cur.ZoomTokens
				return err
			}
			t, refused, err = s.refreshZoom(ctx, tx, orgID, id, cur, refresh)
			return err
		})
		if err == nil && refused != nil {
			err = errors.Join(ErrZoomRelinkRequired, refused)
		}
		return t, err
	}

	mu, _ := s.refreshLocks.LoadOrStore(id, new(sync.Mutex))
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	cur, err := s.zoomTokens(ctx, s.reader(), orgID, id, "")
	if err != nil || !s.needsRefresh(cur.ZoomTokens, stale) {
		return cur.ZoomTokens, err
	}
	var refused error
	// Zoom is called with no transaction open; the result is written in a short one.
	t, refused, err = s.refreshZoom(ctx, nil, orgID, id, cur, refresh)
	if err == nil && refused != nil {
		err = errors.Join(ErrZoomRelinkRequired, refused)
	}
	return t, err
}

func (s *Store) needsRefresh(t ZoomTokens, stale string) bool {
	return !t.Expiry.After(s.now().Add(refreshSkew)) || (stale != "" && t.AccessToken == stale)
}

// zoomGrant is a connection's tokens as stored.
type zoomGrant struct {
	ZoomTokens
	userID     string
	status     zoompolicy.ConnStatus
	refreshEnc []byte // the refresh token as sealed: which grant this is
}

// zoomTokens reads and opens a connection's tokens; ErrZoomRelinkRequired
// when it has none or is not 連携中.
func (s *Store) zoomTokens(ctx context.Context, q querier, orgID, id int64, lock string) (zoomGrant, error) {
	g, err := s.storedZoomTokens(ctx, q, orgID, id, lock)
	if err == nil && !g.status.Usable() {
		err = ErrZoomRelinkRequired
	}
	return g, err
}

// ZoomStoredTokens are the tokens as stored, whatever the status, without
// refreshing: for revoking them on 解除. ErrZoomRelinkRequired when there are none.
func (s *Store) ZoomStoredTokens(ctx context.Context, orgID, id int64) (_ ZoomTokens, err error) {
	defer wrap(&err, "store.ZoomStoredTokens(org %d, id %d)", orgID, id)
	if s.secrets == nil {
		return ZoomTokens{}, ErrNoSecrets
	}
	g, err := s.storedZoomTokens(ctx, s.reader(), orgID, id, "")
	if err != nil {
		return g.ZoomTokens, err
	}
	return g.ZoomTokens, nil
}

func (s *Store) storedZoomTokens(ctx context.Context, q querier, orgID, id int64, lock string) (zoomGrant, error) {
	var g zoomGrant
	var scopes string
	var access []byte
	var expiry sql.NullTime
	err := q.QueryRowContext(ctx, `SELECT zoom_user_id, status, access_token_enc, refresh_token_enc, token_expiry,
		scopes, api_url FROM zoom_connections WHERE org_id = $1 AND id = $2`+lock, orgID, id).
		Scan(&g.userID, &g.status, &access, &g.refreshEnc, &expiry, &scopes, &g.APIURL)
	if err != nil {
		return g, notFound(err)
	}
	if g.refreshEnc == nil {
		return g, ErrZoomRelinkRequired
	}
	a, err := s.secrets.Open(access, sealAD(orgID, g.userID, "access"))
	if err != nil {
		return g, err
	}
	r, err := s.secrets.Open(g.refreshEnc, sealAD(orgID, g.userID, "refresh"))
	if err != nil {
		return g, err
	}
	g.AccessToken, g.RefreshToken, g.Expiry, g.Scopes = string(a), string(r), timeOf(expiry), strings.Fields(scopes)
	return g, nil
}

// refreshZoom refreshes and stores the result: in tx when given (PostgreSQL,
// under the row lock), else in a short transaction of its own after Zoom
// answered. refused is Zoom's refusal, after the connection was marked 要再連携.
// Either outcome is written only while the row still holds cur's refresh
// token; else the connection was unlinked or linked again while Zoom
// answered (possible on SQLite, which holds no lock across the call), and
// what it holds now is returned instead.
func (s *Store) refreshZoom(ctx context.Context, tx *Tx, orgID, id int64, cur zoomGrant, refresh RefreshFunc) (t ZoomTokens, refused, err error) {
	held := true // the row still held cur's grant when the outcome was written
	write := func(query string, args ...any) error {
		do := func(tx *Tx) error {
			r, err := tx.ExecContext(ctx, query+` AND status = 'linked' AND refresh_token_enc = $`+
				strconv.Itoa(len(args)+1), append(args, cur.refreshEnc)...)
			if err != nil {
				return err
			}
			n, err := r.RowsAffected()
			held = n > 0
			if err == nil && held && refused != nil {
				err = s.notifyZoomRelink(ctx, tx, orgID, id, event.MailZoomRelink)
			}
			return err
		}
		if tx != nil {
			return do(tx)
		}
		return s.Tx(ctx, do)
	}
	nt, err := refresh(ctx, cur.RefreshToken)
	switch {
	case errors.Is(err, ErrRefreshRefused):
		refused = ErrRefreshRefused
		err = write(`UPDATE zoom_connections SET status = 'relink_required', relink_reason = '', updated_at = $1
			WHERE org_id = $2 AND id = $3`, s.nowUTC(), orgID, id)
	case err != nil:
		return t, nil, err
	default:
		if nt.APIURL == "" {
			nt.APIURL = cur.APIURL
		}
		if len(nt.Scopes) == 0 {
			nt.Scopes = cur.Scopes
		}
		var access, refreshEnc []byte
		if access, refreshEnc, err = s.seal(orgID, cur.userID, nt); err != nil {
			return t, nil, err
		}
		t = nt
		err = write(`UPDATE zoom_connections SET access_token_enc = $1, refresh_token_enc = $2, token_expiry = $3,
			scopes = $4, api_url = $5, updated_at = $6 WHERE org_id = $7 AND id = $8`,
			access, refreshEnc, nt.Expiry.UTC(), strings.Join(nt.Scopes, " "), nt.APIURL, s.nowUTC(), orgID, id)
	}
	if err != nil || held {
		return t, refused, err
	}
	var q querier = s.reader()
	if tx != nil {
		q = tx
	}
	now, err := s.zoomTokens(ctx, q, orgID, id, "")
	return now.ZoomTokens, nil, err
}

// zoomOAuthStateTTL bounds how long a person may take on Zoom's consent page.
const zoomOAuthStateTTL = 15 * time.Minute

func hashState(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:])
}

// CreateZoomOAuthState records a flow under way: state (kept as its hash)
// bound to the member's session, with the PKCE verifier.
func (s *Store) CreateZoomOAuthState(ctx context.Context, state string, orgID, memberID int64, sessionHash, verifier string) (err error) {
	defer wrap(&err, "store.CreateZoomOAuthState(org %d, member %d)", orgID, memberID)
	now := s.nowUTC()
	_, err = s.exec(ctx, `INSERT INTO zoom_oauth_states (state_hash, org_id, member_id, session_hash, verifier,
		created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		hashState(state), orgID, memberID, sessionHash, verifier, now, now.Add(zoomOAuthStateTTL))
	if err != nil {
		return err
	}
	// Expired flows are of no use: drop them on the way.
	_, _ = s.exec(ctx, `DELETE FROM zoom_oauth_states WHERE expires_at < $1`, now)
	return nil
}

// TakeZoomOAuthState uses up a flow's state: it returns the verifier when
// the state was issued to this session and has not expired; ErrNotFound
// otherwise. A state works once.
func (s *Store) TakeZoomOAuthState(ctx context.Context, state string, orgID, memberID int64, sessionHash string) (verifier string, err error) {
	defer wrap(&err, "store.TakeZoomOAuthState(org %d, member %d)", orgID, memberID)
	var gotOrg, gotMember int64
	var gotSession string
	var expires time.Time
	err = s.Tx(ctx, func(tx *Tx) error {
		return tx.QueryRowContext(ctx, `DELETE FROM zoom_oauth_states WHERE state_hash = $1
			RETURNING org_id, member_id, session_hash, verifier, expires_at`, hashState(state)).
			Scan(&gotOrg, &gotMember, &gotSession, &verifier, &expires)
	})
	if err == nil && (gotOrg != orgID || gotMember != memberID || gotSession != sessionHash || !s.now().Before(expires)) {
		err = sql.ErrNoRows
	}
	if err != nil {
		return "", notFound(err)
	}
	return verifier, nil
}
