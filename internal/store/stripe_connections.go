package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/payment"
)

// 決済設定: the Stripe account an organization takes payments with
// (DESIGN.md §8). Its API key and its webhook endpoint's signing secret are
// sealed like Zoom's tokens, bound to the row and kind.

// StripeConnStatus is where a Stripe connection stands.
type StripeConnStatus string

const (
	// StripeConnecting: the key is checked and stored, the webhook endpoint
	// (whose URL names the row) is being registered.
	StripeConnecting StripeConnStatus = "connecting"
	// StripeConnected 接続中: payments go to this account.
	StripeConnected StripeConnStatus = "connected"
	// StripeDisconnected 解除済: key and secret deleted.
	StripeDisconnected StripeConnStatus = "disconnected"
)

// StripeConnStatuses lists every status.
func StripeConnStatuses() []StripeConnStatus {
	return []StripeConnStatus{StripeConnecting, StripeConnected, StripeDisconnected}
}

var (
	// ErrStripeConnected: the organization has a connected Stripe account
	// already; 解除 it first.
	ErrStripeConnected = event.Errorf(event.EConflict, "stripe.already_connected")
	// ErrStripeNotConnected: the connection is not 接続中 (its key and
	// secret are gone, or its endpoint is not registered yet).
	ErrStripeNotConnected = event.Errorf(event.EConflict, "stripe.not_connected")
	// ErrStripeNoSecrets: no secret key is configured, so a Stripe key
	// cannot be stored.
	ErrStripeNoSecrets = event.Errorf(event.EConflict, "stripe.no_secret_key")
)

// StripeAccount is what Stripe said of the account a key belongs to.
type StripeAccount struct {
	ID, DisplayName string
	Live            bool // 本番; else テストモード
}

// StripeConnection is an organization's Stripe account, without its secrets.
type StripeConnection struct {
	ID, OrgID         int64
	Account           StripeAccount
	WebhookEndpointID string
	APIURL            string
	Methods           []payment.Method
	Status            StripeConnStatus
	HasKey            bool
	CreatedAt         time.Time
	UpdatedAt         time.Time
	DisconnectedAt    time.Time
}

// StripeSecrets are a connection's API key and webhook signing secret, in
// the clear.
type StripeSecrets struct {
	Key           string
	WebhookSecret string
}

// String keeps the secrets out of logs.
func (StripeSecrets) String() string { return "store.StripeSecrets{…}" }

// GoString keeps the secrets out of %#v.
func (s StripeSecrets) GoString() string { return s.String() }

func stripeSealAD(orgID, id int64, kind string) []byte {
	return []byte("stripe_connections/" + strconv.FormatInt(orgID, 10) + "/" + strconv.FormatInt(id, 10) + "/" + kind)
}

// DefaultStripeMethods are the methods a new connection offers.
var DefaultStripeMethods = []payment.Method{payment.MethodCard, payment.MethodKonbini, payment.MethodBankTransfer}

// BeginStripeConnection stores a checked key as a new connection,
// 'connecting' until CompleteStripeConnection records its webhook
// endpoint: the endpoint's URL names the connection, so the row comes
// first. ErrStripeConnected when the organization has a connected account.
func (s *Store) BeginStripeConnection(ctx context.Context, orgID int64, a StripeAccount, key, apiURL string) (id int64, err error) {
	defer wrap(&err, "store.BeginStripeConnection(org %d)", orgID)
	if s.secrets == nil {
		return 0, ErrStripeNoSecrets
	}
	err = s.Tx(ctx, func(tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM stripe_connections WHERE org_id = $1 AND status = 'connected'`,
			orgID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ErrStripeConnected
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO stripe_connections (org_id, account_id, live, display_name,
			api_url, methods, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'connecting', $7, $7)
			RETURNING id`, orgID, a.ID, a.Live, a.DisplayName, apiURL, payment.FormatMethods(DefaultStripeMethods),
			tx.now).Scan(&id)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE stripe_connections SET key_enc = $1 WHERE id = $2`,
			s.secrets.Seal([]byte(key), stripeSealAD(orgID, id, "key")), id)
		return err
	})
	if err != nil {
		return 0, err
	}
	return id, nil
}

// CompleteStripeConnection records the registered webhook endpoint and its
// signing secret: the connection is 接続中. ErrStripeConnected when another
// connection of the organization got connected meanwhile (the caller
// deletes the endpoint it made); ErrStripeNotConnected when the
// connection is no longer 'connecting'.
func (s *Store) CompleteStripeConnection(ctx context.Context, orgID, id int64, endpointID, secret string) (err error) {
	defer wrap(&err, "store.CompleteStripeConnection(org %d, id %d)", orgID, id)
	if s.secrets == nil {
		return ErrStripeNoSecrets
	}
	return s.Tx(ctx, func(tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM stripe_connections WHERE org_id = $1 AND status = 'connected'
			AND id <> $2`, orgID, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ErrStripeConnected
		}
		r, err := tx.ExecContext(ctx, `UPDATE stripe_connections SET status = 'connected', webhook_endpoint_id = $1,
			webhook_secret_enc = $2, updated_at = $3 WHERE org_id = $4 AND id = $5 AND status = 'connecting'`,
			endpointID, s.secrets.Seal([]byte(secret), stripeSealAD(orgID, id, "webhook_secret")), tx.now, orgID, id)
		if isUniqueViolation(err) { // connected by another transaction (PostgreSQL)
			return ErrStripeConnected
		}
		if err := rowsOrNotFound(r, err); errors.Is(err, errNotFound) {
			return s.stripeNotConnectedOr(ctx, tx, orgID, id)
		} else if err != nil {
			return err
		}
		return nil
	})
}

// stripeNotConnectedOr tells a missing connection from one in another state.
func (s *Store) stripeNotConnectedOr(ctx context.Context, q querier, orgID, id int64) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM stripe_connections WHERE org_id = $1 AND id = $2`,
		orgID, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errNotFound
	}
	return ErrStripeNotConnected
}

// DisconnectStripeConnection is 解除 (or a connection abandoned before its
// endpoint was registered): its key and signing secret are deleted and it
// is 解除済. The row stays, for the payments made through it.
func (s *Store) DisconnectStripeConnection(ctx context.Context, orgID, id int64) (err error) {
	defer wrap(&err, "store.DisconnectStripeConnection(org %d, id %d)", orgID, id)
	now := s.nowUTC()
	r, err := s.exec(ctx, `UPDATE stripe_connections SET status = 'disconnected', key_enc = NULL,
		webhook_secret_enc = NULL, updated_at = $1, disconnected_at = COALESCE(disconnected_at, $1)
		WHERE org_id = $2 AND id = $3`, now, orgID, id)
	return rowsOrNotFound(r, err)
}

// SetStripeMethods saves the payment methods a connected account offers
// (at least one, online methods only).
func (s *Store) SetStripeMethods(ctx context.Context, orgID, id int64, methods []payment.Method) (err error) {
	defer wrap(&err, "store.SetStripeMethods(org %d, id %d)", orgID, id)
	for _, m := range methods {
		if !m.Online() {
			return event.FieldErrors{{Field: "methods", Key: "stripe.methods_required"}}
		}
	}
	stored := payment.FormatMethods(methods)
	if len(methods) == 0 {
		return event.FieldErrors{{Field: "methods", Key: "stripe.methods_required"}}
	}
	return s.Tx(ctx, func(tx *Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE stripe_connections SET methods = $1, updated_at = $2
			WHERE org_id = $3 AND id = $4 AND status = 'connected'`, stored, tx.now, orgID, id)
		if err := rowsOrNotFound(r, err); errors.Is(err, errNotFound) {
			return s.stripeNotConnectedOr(ctx, tx, orgID, id)
		} else if err != nil {
			return err
		}
		return nil
	})
}

const stripeConnColumns = `id, org_id, account_id, live, display_name, webhook_endpoint_id, api_url, methods,
	status, key_enc IS NOT NULL, created_at, updated_at, disconnected_at`

func scanStripeConn(row interface{ Scan(...any) error }, extra ...any) (StripeConnection, error) {
	var c StripeConnection
	var methods string
	var disconnected sql.NullTime
	err := row.Scan(append([]any{&c.ID, &c.OrgID, &c.Account.ID, &c.Account.Live, &c.Account.DisplayName,
		&c.WebhookEndpointID, &c.APIURL, &methods, &c.Status, &c.HasKey, &c.CreatedAt, &c.UpdatedAt, &disconnected},
		extra...)...)
	if err != nil {
		return c, err
	}
	if c.Methods, err = payment.ParseMethods(methods); err != nil {
		return c, fmt.Errorf("stripe connection %d: methods %q: %w", c.ID, methods, err)
	}
	c.CreatedAt, c.UpdatedAt, c.DisconnectedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC(), timeOf(disconnected)
	return c, nil
}

// StripeConnections lists an organization's connections, newest first.
func (s *Store) StripeConnections(ctx context.Context, orgID int64) (_ []StripeConnection, err error) {
	defer wrap(&err, "store.StripeConnections(org %d)", orgID)
	rows, err := s.reader().QueryContext(ctx, `SELECT `+stripeConnColumns+` FROM stripe_connections
		WHERE org_id = $1 ORDER BY id DESC`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []StripeConnection
	for rows.Next() {
		c, err := scanStripeConn(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// StripeConnection is one connection of the organization (ErrNotFound for
// another organization's).
func (s *Store) StripeConnection(ctx context.Context, orgID, id int64) (_ StripeConnection, err error) {
	defer wrap(&err, "store.StripeConnection(org %d, id %d)", orgID, id)
	c, err := scanStripeConn(s.reader().QueryRowContext(ctx, `SELECT `+stripeConnColumns+` FROM stripe_connections
		WHERE org_id = $1 AND id = $2`, orgID, id))
	return c, notFound(err)
}

// ConnectedStripe is the organization's 接続中 connection; ErrNotFound
// when it has none (paid events then take no online payment).
func (s *Store) ConnectedStripe(ctx context.Context, orgID int64) (_ StripeConnection, err error) {
	defer wrap(&err, "store.ConnectedStripe(org %d)", orgID)
	c, err := scanStripeConn(s.reader().QueryRowContext(ctx, `SELECT `+stripeConnColumns+` FROM stripe_connections
		WHERE org_id = $1 AND status = 'connected'`, orgID))
	return c, notFound(err)
}

// StripeConnectionSecrets is a connection by its id alone, with its key and
// webhook signing secret opened: for the webhook handler (the id is in
// the URL) and the jobs that call Stripe. ErrNotFound for no such
// connection; ErrStripeNotConnected with the connection when it is not
// 接続中, whose secrets are gone or not yet complete (a delivery to it is
// refused).
func (s *Store) StripeConnectionSecrets(ctx context.Context, id int64) (_ StripeConnection, _ StripeSecrets, err error) {
	defer wrap(&err, "store.StripeConnectionSecrets(id %d)", id)
	var key, secret []byte
	c, err := scanStripeConn(s.reader().QueryRowContext(ctx, `SELECT `+stripeConnColumns+`, key_enc, webhook_secret_enc
		FROM stripe_connections WHERE id = $1`, id), &key, &secret)
	if err != nil {
		return c, StripeSecrets{}, notFound(err)
	}
	if c.Status != StripeConnected || key == nil || secret == nil {
		return c, StripeSecrets{}, ErrStripeNotConnected
	}
	if s.secrets == nil {
		return c, StripeSecrets{}, ErrStripeNoSecrets
	}
	k, err := s.secrets.Open(key, stripeSealAD(c.OrgID, c.ID, "key"))
	if err != nil {
		return c, StripeSecrets{}, fmt.Errorf("open key: %w", err)
	}
	w, err := s.secrets.Open(secret, stripeSealAD(c.OrgID, c.ID, "webhook_secret"))
	if err != nil {
		return c, StripeSecrets{}, fmt.Errorf("open webhook secret: %w", err)
	}
	return c, StripeSecrets{Key: string(k), WebhookSecret: string(w)}, nil
}

// StripeConnectionKey is the API key of a connection of the organization
// that still has one (接続中, or 'connecting' while its endpoint is
// registered): for registering and, on 解除, deleting its webhook
// endpoint. ErrStripeNotConnected when the key is gone.
func (s *Store) StripeConnectionKey(ctx context.Context, orgID, id int64) (_ string, err error) {
	defer wrap(&err, "store.StripeConnectionKey(org %d, id %d)", orgID, id)
	var key []byte
	if err := s.reader().QueryRowContext(ctx, `SELECT key_enc FROM stripe_connections WHERE org_id = $1 AND id = $2`,
		orgID, id).Scan(&key); err != nil {
		return "", notFound(err)
	}
	if key == nil {
		return "", ErrStripeNotConnected
	}
	if s.secrets == nil {
		return "", ErrStripeNoSecrets
	}
	k, err := s.secrets.Open(key, stripeSealAD(orgID, id, "key"))
	if err != nil {
		return "", fmt.Errorf("open key: %w", err)
	}
	return string(k), nil
}
