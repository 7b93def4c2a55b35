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

// Sign-in by email link (SPEC §11). A request enqueues an email job carrying the member's
// id only; the worker mints the link when it sends (CreateSignInLink), so that no secret
// waits in the queue; following the link spends it once (UseSignInLink).

// EmailSignInLink is the kind of the sign-in link email job.
const EmailSignInLink = "signin_link"

const (
	// SignInLinkTTL is how long a sign-in link works after it is sent.
	SignInLinkTTL = 15 * time.Minute
	// SignInLinksPerHour is how many link emails one address gets in an hour at most.
	SignInLinksPerHour = 5
	// signinPrefix makes a leaked link token recognizable to secret scanners.
	signinPrefix = "lsl_"
)

// SignInRequest is what became of a request for a sign-in link. The page answers all
// three alike; the outcome is for counting, never shown.
type SignInRequest string

const (
	SignInLinkQueued  SignInRequest = "queued"
	SignInNoMember    SignInRequest = "no_member" // unknown or inactive: no email
	SignInRateLimited SignInRequest = "limited"   // SignInLinksPerHour already sent
)

// RequestSignInLink queues a sign-in link email to the active member with email, unless
// SignInLinksPerHour were queued to them in the last hour. The count and the new job are
// one transaction holding the member's row, so concurrent requests cannot pass the limit
// together.
func (s *Store) RequestSignInLink(ctx context.Context, email string) (SignInRequest, error) {
	email = strings.TrimSpace(email)
	if email == "" || len(email) > 320 {
		return SignInNoMember, nil
	}
	out := SignInNoMember
	err := s.e.writeTx(ctx, s, func(ctx context.Context, tx *sql.Tx) error {
		out = SignInNoMember
		var id string
		var active bool
		err := tx.QueryRowContext(ctx, `SELECT id, active FROM staff WHERE email_normalized = $1 `+s.e.forUpdate(),
			lead.NormalizeEmail(email)).Scan(&id, &active)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !active) {
			return nil
		}
		if err != nil {
			return err
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM email_jobs WHERE staff_id = $1 AND kind = $2 AND created_at > $3`,
			id, EmailSignInLink, ts(now.Add(-time.Hour))).Scan(&n); err != nil {
			return err
		}
		if n >= SignInLinksPerHour {
			out = SignInRateLimited
			return nil
		}
		out = SignInLinkQueued
		return s.enqueueEmail(ctx, tx, EmailJobSpec{Kind: EmailSignInLink, StaffID: id}, now)
	})
	if err != nil {
		return "", s.mapErr(err)
	}
	if out == SignInLinkQueued {
		s.notifyJobs()
	}
	return out, nil
}

// CreateSignInLink mints the token of a sign-in link for the active member staffID, valid
// for SignInLinkTTL, and returns it raw: 256 random bits, of which only the SHA-256 is
// stored. Links that have expired are purged on the way.
func (s *Store) CreateSignInLink(ctx context.Context, staffID string) (string, error) {
	if !validID(staffID) {
		return "", lead.ErrNotFound
	}
	var b [32]byte
	rand.Read(b[:])
	raw := signinPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	now := s.now().UTC().Truncate(time.Microsecond)
	err := s.e.writeTx(ctx, s, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM signin_links WHERE expires_at <= $1`, ts(now)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO signin_links (id, staff_id, token_hash, created_at, expires_at)
SELECT $1, id, $3, $4, $5 FROM staff WHERE id = $2 AND active`,
			newID(), staffID, HashToken(raw), ts(now), ts(now.Add(SignInLinkTTL)))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return lead.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return "", s.mapErr(err)
	}
	return raw, nil
}

func errSignInLink() error {
	return lead.Errorf(lead.CodeUnauthorized, "the sign-in link is used, expired or unknown")
}

// CheckSignInLink reports whether raw is a sign-in link that would still sign someone in,
// without spending it (a GET of the link, which mail scanners make too). A link that
// cannot is CodeUnauthorized.
func (s *Store) CheckSignInLink(ctx context.Context, raw string) error {
	if !strings.HasPrefix(raw, signinPrefix) || len(raw) > 100 {
		return errSignInLink()
	}
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM signin_links l JOIN staff m ON m.id = l.staff_id
		WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.expires_at > $2 AND m.active`, HashToken(raw), ts(s.now())).Scan(&n)
	if err != nil {
		return s.mapErr(err)
	}
	if n == 0 {
		return errSignInLink()
	}
	return nil
}

// UseSignInLink spends the sign-in link raw and returns its member: one UPDATE marks it
// used only while it is unused, unexpired and its member active, so of two concurrent uses
// one wins. A link that cannot be used is CodeUnauthorized and changes nothing.
func (s *Store) UseSignInLink(ctx context.Context, raw string) (lead.Member, error) {
	if !strings.HasPrefix(raw, signinPrefix) || len(raw) > 100 {
		return lead.Member{}, errSignInLink()
	}
	now := ts(s.now())
	var staffID string
	err := s.e.writeTx(ctx, s, func(ctx context.Context, tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE signin_links SET used_at = $2
WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 AND staff_id IN (SELECT id FROM staff WHERE active)
RETURNING staff_id`, HashToken(raw), now).Scan(&staffID)
		if errors.Is(err, sql.ErrNoRows) {
			return errSignInLink()
		}
		return err
	})
	if err != nil {
		return lead.Member{}, s.mapErr(err)
	}
	return s.GetMember(ctx, staffID)
}

// ActiveMemberByEmail returns the active member with email (single sign-on), or
// lead.ErrNotFound for an unknown or inactive one.
func (s *Store) ActiveMemberByEmail(ctx context.Context, email string) (lead.Member, error) {
	m, err := s.MemberByEmail(ctx, email)
	if err == nil && !m.Active {
		return lead.Member{}, lead.ErrNotFound
	}
	return m, err
}
