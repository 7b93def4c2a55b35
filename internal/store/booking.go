package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/norsedigital/leads/internal/lead"
)

// BookingParams is one validated public booking with what the edge knows about its sender.
type BookingParams struct {
	Booking        lead.Booking
	IP             string
	UserAgent      string
	ConsentVersion string
	// IdempotencyKey, when set, makes a repeat within IdempotencyTTL replay the first result
	// (its booking id and Warnings), when its BodyHash is the first one's; a different body
	// is idempotency_key_reused.
	IdempotencyKey string
	// BodyHash identifies the request body in a canonical form (member order and spacing
	// do not count); empty, the store hashes the validated booking instead.
	BodyHash string
	// RateLimit bookings per RateWindow per IP; RateLimit <= 0 disables the limit.
	RateLimit  int
	RateWindow time.Duration
	// Warnings are the validation's warnings, kept with an IdempotencyKey for its replays.
	Warnings []lead.Issue
	// Language is the prospect's negotiated language (SPEC §12), "nb" or "en"; "" is nb.
	// The booking stores it; a new lead gets it, and a linked booking moves its lead's
	// language to this, the latest booking's: the confirmation is written in it.
	Language string
	// Challenge, when set, is the booking's verified proof-of-work challenge (SPEC §15): it is
	// marked used in the booking's transaction, until ChallengeExpires; one used before
	// fails the booking with IsChallengeUsed.
	Challenge        string
	ChallengeExpires time.Time
	// ReleaseHeldID, when set, is the held submission this booking releases: it is deleted
	// in the booking's transaction (lead.ErrNotFound when it is gone).
	ReleaseHeldID string
}

// language is p's language as stored: "en" or "nb".
func (p *BookingParams) language() string {
	if p.Language == "en" {
		return "en"
	}
	return "nb"
}

// BookingResult says what a booking did. A replayed result carries only the first
// booking's id and warnings.
type BookingResult struct {
	BookingID   string
	LeadID      string
	NewLead     bool
	EmailQueued bool
	Replayed    bool
	// Warnings are the booking's BookingParams.Warnings; replayed, the first booking's.
	Warnings []lead.Issue
	// ownerQueued: an email to the lead's owner was queued (SPEC §11)
	ownerQueued bool
}

const (
	// IdempotencyTTL is how long an Idempotency-Key is remembered.
	IdempotencyTTL = 24 * time.Hour
	// confirmationInterval: at most one confirmation per lead per interval, so that nobody can
	// bomb a stranger's inbox by booking with their address from many IPs.
	confirmationInterval = 24 * time.Hour
)

// Book stores a public demo booking in one transaction: per-IP lock, idempotency replay,
// rate limit, insert-or-link the lead by normalized email (the unique index decides), the
// booking, its event, and the confirmation email job when one is due.
//
// On SQLite, whose one writer runs transactions one at a time, the bookings that arrive
// together share a transaction (see groupCommit), each under its own savepoint.
func (s *Store) Book(ctx context.Context, p BookingParams) (BookingResult, error) {
	var res BookingResult
	err := s.inGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		res, err = s.book(ctx, tx, p)
		return err
	})
	if err != nil {
		return BookingResult{}, err
	}
	if res.EmailQueued || res.ownerQueued {
		s.notifyJobs()
	}
	return res, nil
}

// book writes one booking in tx; on error, tx (or its savepoint) must be rolled back.
func (s *Store) book(ctx context.Context, tx *sql.Tx, p BookingParams) (BookingResult, error) {
	now := s.now().UTC()
	b := p.Booking
	var res BookingResult
	var idemHash string
	if p.IdempotencyKey != "" {
		sum := sha256.Sum256([]byte(p.IP + "\x00" + p.IdempotencyKey))
		idemHash = hex.EncodeToString(sum[:])
	}
	rateKey := RateKey(p.IP)
	bodyHash := p.BodyHash
	if idemHash != "" && bodyHash == "" {
		bodyHash = bookingHash(b)
	}
	err := func() error {
		// the key's lock first (checkRate takes it too): the checks below and the insert run under it
		var limited error
		if p.RateLimit > 0 {
			limited = s.checkRate(ctx, tx, p, rateKey, now)
			if limited != nil && lead.ErrorCode(limited) != lead.CodeRateLimited {
				return limited
			}
		} else if err := s.e.lockRateKey(ctx, s, tx, rateKey); err != nil {
			return err
		}
		if idemHash != "" {
			var bookingID, warnings string
			var firstHash sql.NullString
			err := s.txQueryRow(ctx, tx, sqlIdempotencyGet,
				idemHash, ts(now.Add(-IdempotencyTTL))).Scan(&bookingID, &warnings, &firstHash)
			if err == nil {
				if firstHash.Valid && firstHash.String != bodyHash {
					return &lead.Error{Code: lead.CodeInvalid, Rule: lead.RuleIdempotencyReused,
						Message: "this Idempotency-Key was already used with a different body; send a new key for a new booking"}
				}
				res = BookingResult{Replayed: true, BookingID: bookingID}
				if err := json.Unmarshal([]byte(warnings), &res.Warnings); err != nil {
					return fmt.Errorf("idempotency record: warnings: %w", err)
				}
				for i := range res.Warnings {
					res.Warnings[i].Severity = lead.SeverityWarning // not part of their JSON
				}
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if limited != nil { // after the replay: a repeated request is answered as it was
			return limited
		}

		if p.ReleaseHeldID != "" {
			if err := s.releaseHeld(ctx, tx, p.ReleaseHeldID); err != nil {
				return err
			}
		}
		bookingID, newLeadID := newID(), newID()
		note := fmt.Sprintf("[%s] Demo booking %s via %s", now.Format(time.RFC3339), bookingID, lead.SourceDemoBooking)
		if b.Message != "" {
			note += ": " + b.Message
		}
		// Existing values are never overwritten; empty optional fields are filled in.
		upsertArgs := []any{newLeadID, b.FirstName, b.LastName, b.Email, b.EmailNormalized, nullStr(b.Phone), b.OrganizationName,
			nullStr(b.OrganizationType), nullStr(b.OrganizationSize), nullStr(b.RoleTitle), lead.SourceDemoBooking,
			nullStr(b.Message), nullStr(b.UTMSource), nullStr(b.UTMMedium), nullStr(b.UTMCampaign), nullStr(p.IP),
			ts(now), note, "\n", p.language(), ts(s.contactDue(now))}
		eventDetails := `{"booking_id":"` + bookingID + `","source":"` + string(lead.SourceDemoBooking) + `"}`
		res.BookingID, res.Warnings = bookingID, p.Warnings
		written, err := s.e.bookWrites(ctx, s, tx, bookingWrite{upsert: upsertArgs, newLeadID: newLeadID,
			bookingID: bookingID, p: &p, rateKey: rateKey, eventDetails: eventDetails, now: now})
		if err != nil {
			return err
		}
		res.LeadID, res.EmailQueued, res.NewLead = written.leadID, written.emailQueued, written.leadID == newLeadID
		subs := written.subs
		if !res.NewLead {
			// The lead row is locked by the upsert until commit, so this check-and-insert
			// cannot interleave with another booking of the same lead.
			r, err := s.txExec(ctx, tx, sqlEmailJobIfDue, newID(), res.LeadID, bookingID, ts(now), ts(now.Add(-confirmationInterval)))
			if err != nil {
				return err
			}
			n, err := r.RowsAffected()
			if err != nil {
				return err
			}
			res.EmailQueued = n == 1
		}
		if err := s.bookingWebhooks(ctx, tx, subs, res, p, now); err != nil {
			return err
		}
		// the owner last: on PostgreSQL the rule's lock is held from here to the commit
		if res.NewLead {
			res.ownerQueued, err = s.assignNew(ctx, tx, res.LeadID, lead.PublicActor, now, written.eligible)
		} else {
			res.ownerQueued, err = s.bookedAgain(ctx, tx, res.LeadID, bookingID, written.ownerID, now)
		}
		if err != nil {
			return err
		}

		if s.failBooking != nil {
			if err := s.failBooking(p); err != nil {
				return err
			}
		}
		if idemHash != "" {
			warnings := []byte("[]")
			if len(p.Warnings) > 0 {
				var err error
				if warnings, err = json.Marshal(p.Warnings); err != nil {
					return err
				}
			}
			// an expired key of the same hash is replaced
			if _, err := s.txExec(ctx, tx, sqlIdempotencyPut,
				idemHash, bookingID, string(warnings), ts(now), bodyHash); err != nil {
				return err
			}
		}
		return nil
	}()
	if err != nil {
		return BookingResult{}, err
	}
	return res, nil
}

// checkRate takes the rate key's lock and refuses the booking when the key already has
// RateLimit bookings in the window; concurrent bookings of one key see each other.
func (s *Store) checkRate(ctx context.Context, tx *sql.Tx, p BookingParams, rateKey string, now time.Time) error {
	times, err := s.e.recentBookings(ctx, s, tx, rateKey, now.Add(-p.RateWindow))
	if err != nil {
		return err
	}
	if len(times) < p.RateLimit {
		return nil
	}
	// the slot frees when the booking that keeps the count at the limit leaves the window
	frees := times[len(times)-p.RateLimit].Add(p.RateWindow)
	wait := time.Duration(math.Ceil(frees.Sub(now).Seconds())) * time.Second
	if wait < time.Second {
		wait = time.Second
	}
	return &lead.Error{Code: lead.CodeRateLimited, Rule: lead.RuleRateLimit, RetryAfter: wait,
		Message: fmt.Sprintf("at most %d bookings per %s from one address; try again in %d seconds",
			p.RateLimit, p.RateWindow, int(wait.Seconds()))}
}

// insertEventSQL is the public booking's event, on its hot path: no member acts there.
const insertEventSQL = `INSERT INTO lead_events (id, lead_id, type, actor, details, created_at) VALUES ($1, $2, $3, $4, $5, $6)`

// insertEvent writes one audit event by actor: its name, and its id when a member acted.
func insertEvent(ctx context.Context, tx *sql.Tx, leadID, typ string, actor lead.Actor, details map[string]any, now time.Time) error {
	d, err := json.Marshal(details)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO lead_events (id, lead_id, type, actor, details, created_at, actor_id) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		newID(), leadID, typ, actor.Name, string(d), ts(now), nullStr(actor.StaffID))
	return err
}

// scanTimes reads a column of timestamps and closes rows.
func scanTimes(rows *sql.Rows) ([]time.Time, error) {
	defer rows.Close()
	var times []time.Time
	for rows.Next() {
		var t time.Time
		if err := rows.Scan((*dbTime)(&t)); err != nil {
			return nil, err
		}
		times = append(times, t)
	}
	return times, rows.Err()
}

// The booking's shared statements, prepared once on SQLite (see Store.txExec).
const (
	sqlIdempotencyGet = `SELECT booking_id, warnings, body_hash FROM idempotency_keys WHERE key_hash = $1 AND created_at > $2`
	sqlUpsertLeadHead = `
INSERT INTO leads (id, first_name, last_name, email, email_normalized, phone, organization_name,
	organization_type, organization_size, role_title, source, status, message, utm_source, utm_medium,
	utm_campaign, ip_address, consent_given, consent_timestamp, created_at, updated_at, language, contact_due_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'new', $12, $13, $14, $15, $16, TRUE, $17, $17, $17, CAST($20 AS TEXT), $21)
`
	// sqlEmailJobIfDue queues the confirmation of a known lead ($2) unless one was queued
	// since $5; run after the lead's upsert has locked the lead's row.
	sqlEmailJobIfDue = `
INSERT INTO email_jobs (id, lead_id, booking_id, status, attempts, run_at, created_at, updated_at)
SELECT $1, $2, $3, 'pending', 0, $4, $4, $4
WHERE NOT EXISTS (SELECT 1 FROM email_jobs WHERE lead_id = $2 AND created_at > $5 AND kind = 'confirmation')`
	sqlIdempotencyPut = `
INSERT INTO idempotency_keys (key_hash, booking_id, warnings, created_at, body_hash) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (key_hash) DO UPDATE SET booking_id = excluded.booking_id, warnings = excluded.warnings,
	created_at = excluded.created_at, body_hash = excluded.body_hash`
)

// sqlUpsertLead inserts a booking's lead or links the booking to the live lead with its address
// and answers its id and owner ($21 is a new lead's contact_due_at; $20 is the booking's language: a linked booking moves the lead's language to the latest
// booking's, so that its confirmation and what staff see follow the prospect's latest choice).
var sqlUpsertLead = sqlUpsertLeadHead + linkOnConflict("$18", "$19") + `,
	language          = excluded.language RETURNING id, owner_id`

// linkOnConflict is how a booking or an import row joins the live lead with the same
// normalized email (SPEC §3.2): updated_at moves, the note (placeholder note, separated by
// placeholder sep) is appended, empty optional fields are filled, nothing is overwritten.
// A note that would take the notes past MaxNotesLength is left out: the booking or import
// row keeps all it says, and a lead bloated by strangers' bookings would no longer be
// editable. Both engines' length() counts characters, as MaxNotesLength does.
func linkOnConflict(note, sep string) string {
	note, sep = `CAST(`+note+` AS TEXT)`, `CAST(`+sep+` AS TEXT)`
	return `
ON CONFLICT (email_normalized) WHERE anonymized_at IS NULL DO UPDATE SET
	updated_at        = excluded.updated_at,
	notes             = CASE WHEN leads.notes IS NULL OR leads.notes = '' THEN ` + note + `
	                         WHEN length(leads.notes) + length(` + sep + `) + length(` + note + `) > ` + strconv.Itoa(MaxNotesLength) + ` THEN leads.notes
	                         ELSE leads.notes || ` + sep + ` || ` + note + ` END,
	phone             = COALESCE(leads.phone, excluded.phone),
	organization_type = COALESCE(leads.organization_type, excluded.organization_type),
	organization_size = COALESCE(leads.organization_size, excluded.organization_size),
	role_title        = COALESCE(leads.role_title, excluded.role_title),
	message           = COALESCE(leads.message, excluded.message),
	utm_source        = COALESCE(leads.utm_source, excluded.utm_source),
	utm_medium        = COALESCE(leads.utm_medium, excluded.utm_medium),
	utm_campaign      = COALESCE(leads.utm_campaign, excluded.utm_campaign)`
}

// RateKey is what rate_limit_per_ip counts a client address by (SPEC §3.5): an IPv4
// address as itself, an IPv6 address by its /64 prefix ("2001:db8:1:2::/64"), since one
// household or server gets a whole /64 and counting full addresses would give an attacker
// 2^64 identities. An IPv4-mapped IPv6 address counts as its IPv4 address; a value that is
// not an address counts as itself.
func RateKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// bookingHash identifies a validated booking, for an Idempotency-Key whose caller gave no
// body hash: every field, length-prefixed so that no two bookings share one.
func bookingHash(b lead.Booking) string {
	h := sha256.New()
	for _, f := range []string{b.FirstName, b.LastName, b.Email, b.Phone, b.OrganizationName, b.OrganizationType,
		b.OrganizationSize, b.RoleTitle, b.Message, b.UTMSource, b.UTMMedium, b.UTMCampaign} {
		fmt.Fprintf(h, "%d:%s", len(f), f)
	}
	return "booking:" + hex.EncodeToString(h.Sum(nil))
}
