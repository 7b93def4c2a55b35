package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/norsedigital/leads/internal/lead"
)

// Session is a live sales console session and who it acts as: the token it was opened with,
// or, opened by email link or single sign-on, the member (a Token without an ID).
type Session struct {
	ID        string
	Token     Token
	CreatedAt time.Time
	ExpiresAt time.Time
}

// sessionPrefix tells session ids apart from API tokens in a leak report.
const sessionPrefix = "lcs_"

// CreateSession opens a console session for tok, valid for ttl, and returns the raw
// session id for the cookie: 256 random bits, of which only the SHA-256 is stored.
// Expired and revoked sessions are purged on the way.
func (s *Store) CreateSession(ctx context.Context, tok Token, ttl time.Duration) (string, Session, error) {
	if (tok.ID == "" && tok.StaffID == "") || ttl <= 0 {
		return "", Session{}, lead.Errorf(lead.CodeInvalid, "a session needs a token or a member, and a positive lifetime")
	}
	var tokenID, staffID any = nullStr(tok.ID), nil
	if tok.ID == "" {
		staffID = tok.StaffID
	}
	var b [32]byte
	rand.Read(b[:])
	raw := sessionPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	now := s.now().UTC().Truncate(time.Microsecond)
	sess := Session{ID: newID(), Token: tok, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM console_sessions WHERE expires_at <= $1 OR revoked_at IS NOT NULL`, ts(now)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO console_sessions (id, token_id, staff_id, session_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			sess.ID, tokenID, staffID, HashToken(raw), ts(sess.CreatedAt), ts(sess.ExpiresAt))
		return err
	})
	if err != nil {
		return "", Session{}, err
	}
	return raw, sess, nil
}

// SessionFor returns the live session whose raw id is raw: unexpired, unrevoked, and
// opened with a token that is still unrevoked (revoking a token ends its sessions) or by a
// member who is still active (deactivating a member ends their sessions). A member's session
// acts with the member's current name and role. Anything else is CodeUnauthorized.
func (s *Store) SessionFor(ctx context.Context, raw string) (Session, error) {
	unauthorized := lead.Errorf(lead.CodeUnauthorized, "no live console session")
	if !strings.HasPrefix(raw, sessionPrefix) || len(raw) > 100 {
		return Session{}, unauthorized
	}
	var sess Session
	var role string
	var tokenID, staffID sql.NullString
	err := s.read.QueryRowContext(ctx, `SELECT cs.id, cs.created_at, cs.expires_at, t.id, COALESCE(m.name, t.name), COALESCE(m.role, t.role),
			COALESCE(t.staff_id, cs.staff_id), COALESCE(t.created_at, cs.created_at)
		FROM console_sessions cs
		LEFT JOIN api_tokens t ON t.id = cs.token_id
		LEFT JOIN staff m ON m.id = COALESCE(t.staff_id, cs.staff_id)
		WHERE cs.session_hash = $1 AND cs.revoked_at IS NULL AND cs.expires_at > $2
			AND (cs.token_id IS NULL OR t.revoked_at IS NULL) AND (m.id IS NULL OR m.active)`,
		HashToken(raw), ts(s.now())).
		Scan(&sess.ID, (*dbTime)(&sess.CreatedAt), (*dbTime)(&sess.ExpiresAt), &tokenID, &sess.Token.Name, &role,
			&staffID, (*dbTime)(&sess.Token.CreatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, unauthorized
	}
	if err != nil {
		return Session{}, s.mapErr(err)
	}
	sess.Token.Role, sess.Token.ID, sess.Token.StaffID = lead.Role(role), tokenID.String, staffID.String
	return sess, nil
}

// RevokeSession ends the session whose raw id is raw (sign out). Ending an unknown or
// already ended session is not an error.
func (s *Store) RevokeSession(ctx context.Context, raw string) error {
	_, err := s.write.ExecContext(ctx, `UPDATE console_sessions SET revoked_at = $2 WHERE session_hash = $1 AND revoked_at IS NULL`,
		HashToken(raw), ts(s.now()))
	return s.mapErr(err)
}
