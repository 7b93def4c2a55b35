package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/norsedigital/leads/internal/lead"
)

// The prospect's own page (SPEC §14): personal links, requests for a fresh one, and the
// anonymization of inactive leads.

// EmailPersonalLink is the kind of the email that answers POST /my with a fresh link.
const EmailPersonalLink = "personal_link"

const (
	// PersonalLinkTTL is how long a personal link works.
	PersonalLinkTTL = 30 * 24 * time.Hour
	// PersonalLinkEmailsPerDay bounds the link emails one address gets from POST /my in any
	// 24 hours, so that the form cannot be used to bomb an inbox.
	PersonalLinkEmailsPerDay = 3
	personalLinkEmailWindow  = 24 * time.Hour
)

// ErrPersonalLinkGone is the answer for a link whose lead has been erased: the page says so
// (410) instead of "not found", which tells the holder of the link only what it was for.
var ErrPersonalLinkGone = errors.New("personal link: the lead has been erased")

// NewPersonalLink mints a personal link for a live lead: 32 random bytes, returned raw
// (base64url, 43 characters) and stored only as their SHA-256, valid PersonalLinkTTL.
// An email to a lead gets its own from the claim that hands it to the worker
// (ClaimEmailJobs); this mints one on its own. An erased or unknown lead is
// lead.ErrNotFound. Links that expired are purged on the way.
func (s *Store) NewPersonalLink(ctx context.Context, leadID string) (string, error) {
	if !validID(leadID) {
		return "", lead.ErrNotFound
	}
	raw := newPersonalLinkSecret()
	now := s.now().UTC()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// the lead's row lock orders this against an erasure: a link is either revoked by it or
		// never minted for an erased lead
		var anonymized nullTime
		err := tx.QueryRowContext(ctx, `SELECT anonymized_at FROM leads WHERE id = $1 `+s.e.forUpdate(), leadID).Scan(&anonymized)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && anonymized.Valid) {
			return lead.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM personal_links WHERE expires_at <= $1`, ts(now)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, sqlInsertPersonalLink, newID(), leadID, HashToken(raw), ts(now), ts(now.Add(PersonalLinkTTL)))
		return err
	})
	if err != nil {
		return "", err
	}
	return raw, nil
}

const sqlInsertPersonalLink = `INSERT INTO personal_links (id, lead_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`

// newPersonalLinkSecret is a personal link as the prospect gets it: 32 random bytes,
// base64url (43 characters).
func newPersonalLinkSecret() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// PersonalLinkLead is the lead a raw personal link belongs to. A malformed, unknown or
// expired link is lead.ErrNotFound; the link of an erased lead is ErrPersonalLinkGone
// until it would have expired.
func (s *Store) PersonalLinkLead(ctx context.Context, raw string) (string, error) {
	if len(raw) != 43 {
		return "", lead.ErrNotFound
	}
	if _, err := base64.RawURLEncoding.DecodeString(raw); err != nil {
		return "", lead.ErrNotFound
	}
	var leadID string
	var expires dbTime
	var revoked, anonymized nullTime
	err := s.read.QueryRowContext(ctx, `
SELECT p.lead_id, p.expires_at, p.revoked_at, l.anonymized_at
FROM personal_links p JOIN leads l ON l.id = p.lead_id WHERE p.token_hash = $1`, HashToken(raw)).
		Scan(&leadID, &expires, &revoked, &anonymized)
	if errors.Is(err, sql.ErrNoRows) {
		return "", lead.ErrNotFound
	}
	if err != nil {
		return "", s.mapErr(err)
	}
	switch {
	case !time.Time(expires).After(s.now()):
		return "", lead.ErrNotFound
	case revoked.Valid || anonymized.Valid:
		return "", ErrPersonalLinkGone
	}
	return leadID, nil
}

// LinkRequest is one POST /my: the address asked about, and the client's address for the
// per-IP limit (Limit requests per Window per RateKey; Limit 0 turns it off).
type LinkRequest struct {
	Email  string
	IP     string
	Limit  int
	Window time.Duration
}

// RequestPersonalLink answers a request for a fresh personal link in one transaction. The
// request counts against its client's limit whatever the address (so a 429 tells nothing
// about it); past the limit it is a CodeRateLimited error with RetryAfter. Then, only when a
// live lead has the address and it got fewer than PersonalLinkEmailsPerDay link emails in
// the last 24 hours, a personal_link email is queued. The caller must answer the same either
// way: the result says nothing about whether the address is a lead's.
func (s *Store) RequestPersonalLink(ctx context.Context, r LinkRequest) error {
	now := s.now().UTC()
	queued := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		queued = false
		if r.Limit > 0 && r.Window > 0 {
			if err := s.countLinkRequest(ctx, tx, RateKey(r.IP), r.Limit, r.Window, now); err != nil {
				return err
			}
		}
		if !lead.ValidEmail(r.Email) {
			return nil
		}
		var id string
		err := tx.QueryRowContext(ctx, `SELECT id FROM leads WHERE email_normalized = $1 AND anonymized_at IS NULL `+s.e.forUpdate(),
			lead.NormalizeEmail(r.Email)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		// the lead's row lock makes concurrent requests for one address count one another
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM email_jobs WHERE lead_id = $1 AND kind = $2 AND created_at > $3`,
			id, EmailPersonalLink, ts(now.Add(-personalLinkEmailWindow))).Scan(&n); err != nil {
			return err
		}
		if n >= PersonalLinkEmailsPerDay {
			return nil
		}
		queued = true
		return s.enqueueEmail(ctx, tx, EmailJobSpec{Kind: EmailPersonalLink, LeadID: id}, now)
	})
	if err != nil {
		return err
	}
	if queued {
		s.notifyJobs()
	}
	return nil
}

// countLinkRequest records one request of key, refusing it when key already made limit in
// the window. Requests that left the window are deleted (of every key: the table holds
// client addresses' keys, so it keeps no more than the limit needs).
func (s *Store) countLinkRequest(ctx context.Context, tx *sql.Tx, key string, limit int, window time.Duration, now time.Time) error {
	if err := s.e.lockRateKey(ctx, s, tx, key); err != nil {
		return err
	}
	since := ts(now.Add(-window))
	if _, err := tx.ExecContext(ctx, `DELETE FROM personal_link_requests WHERE created_at <= $1`, since); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT created_at FROM personal_link_requests WHERE rate_key = $1 AND created_at > $2 ORDER BY created_at`, key, since)
	if err != nil {
		return err
	}
	times, err := scanTimes(rows)
	if err != nil {
		return err
	}
	if len(times) >= limit {
		frees := times[len(times)-limit].Add(window)
		wait := max(time.Duration(math.Ceil(frees.Sub(now).Seconds()))*time.Second, time.Second)
		return &lead.Error{Code: lead.CodeRateLimited, Rule: lead.RuleRateLimit, RetryAfter: wait,
			Message: fmt.Sprintf("at most %d link requests per %s from one address; try again in %d seconds", limit, window, int(wait.Seconds()))}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO personal_link_requests (id, rate_key, created_at) VALUES ($1, $2, $3)`, newID(), key, ts(now))
	return err
}

// PurgeSelfService deletes what the self-service pages keep only for a while: link requests
// made before ipCutoff (their rate keys are client addresses; POST /my deletes them too, but
// only when someone asks) and links that expired.
func (s *Store) PurgeSelfService(ctx context.Context, ipCutoff time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM personal_link_requests WHERE created_at < $1`, ts(ipCutoff)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM personal_links WHERE expires_at <= $1`, ts(s.now()))
		return err
	})
}

// RetentionActor is who anonymizes an inactive lead: the retention job.
var RetentionActor = lead.Actor{Name: "retention"}

// InactiveBatch is what one AnonymizeInactive call did.
type InactiveBatch struct {
	Anonymized int
	Skipped    bool // another instance holds the retention lock: nothing was done
}

// AnonymizeInactive anonymizes (§3.8) at most limit leads that are lost or disqualified and
// were last changed before cutoff, oldest change first, in one transaction under the
// retention lock (one instance at a time). Each gets an `anonymized` event by
// RetentionActor with reason "retention" (GDPR Art. 5(1)(e): kept no longer than needed).
func (s *Store) AnonymizeInactive(ctx context.Context, cutoff time.Time, limit int) (InactiveBatch, error) {
	var b InactiveBatch
	skipped, err := s.retentionTx(ctx, func(tx *sql.Tx) error {
		b = InactiveBatch{}
		rows, err := tx.QueryContext(ctx, `SELECT id FROM leads
WHERE status IN ('lost', 'disqualified') AND anonymized_at IS NULL AND updated_at < $1
ORDER BY updated_at LIMIT $2`, ts(cutoff), limit)
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			_, done, err := s.anonymizeFor(ctx, tx, id, RetentionActor, "retention")
			if err != nil {
				return err
			}
			if done {
				b.Anonymized++
			}
		}
		return nil
	})
	b.Skipped = skipped
	if err != nil || b.Anonymized == 0 {
		return b, err
	}
	return b, s.afterErasure(ctx)
}
