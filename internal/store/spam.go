package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/norsedigital/leads/internal/lead"
)

// errChallengeUsed rolls a booking back whose proof-of-work challenge was used before.
var errChallengeUsed = errors.New("challenge already used")

// IsChallengeUsed reports whether Book refused the booking because its
// BookingParams.Challenge had been used before (a replayed solution).
func IsChallengeUsed(err error) bool { return errors.Is(err, errChallengeUsed) }

// SpamKey returns the HMAC key of the proof of work and the form's time stamp, creating it
// on first use. Every instance reads the same row: whoever inserts first wins, the others'
// inserts do nothing.
func (s *Store) SpamKey(ctx context.Context) ([]byte, error) {
	var b [32]byte
	rand.Read(b[:])
	if _, err := s.write.ExecContext(ctx, `INSERT INTO spam_keys (id, hmac_key, created_at) VALUES (1, $1, $2)
ON CONFLICT (id) DO NOTHING`, hex.EncodeToString(b[:]), ts(s.now())); err != nil {
		return nil, s.mapErr(err)
	}
	var k string
	if err := s.write.QueryRowContext(ctx, `SELECT hmac_key FROM spam_keys WHERE id = 1`).Scan(&k); err != nil {
		return nil, s.mapErr(err)
	}
	return hex.DecodeString(k)
}

// useChallenge marks a proof-of-work challenge used, in the booking's transaction: the
// primary key makes it once only, on every instance; errChallengeUsed when it was used.
func (s *Store) useChallenge(ctx context.Context, tx *sql.Tx, challenge string, expires time.Time) error {
	res, err := s.txExec(ctx, tx, sqlUseChallenge, challenge, ts(expires))
	return oneAffected(res, err, errChallengeUsed)
}

const sqlUseChallenge = `INSERT INTO used_challenges (challenge, expires_at) VALUES ($1, $2) ON CONFLICT (challenge) DO NOTHING`

// HeldParams is a public booking that failed the spam check, with what is needed to book
// it later.
type HeldParams struct {
	Booking        lead.Booking
	IP             string
	UserAgent      string
	ConsentVersion string
	Language       string
	Reason         string
	// IdempotencyKey, when set, makes a repeat (a double-clicked form) keep one held row.
	IdempotencyKey string
	// RateLimit held submissions per RateWindow per rate key (RateKey of IP), counted apart
	// from bookings: a flood of held submissions is refused like a flood of bookings.
	// RateLimit <= 0 disables it.
	RateLimit  int
	RateWindow time.Duration
}

// HeldBooking is a held submission as stored.
type HeldBooking struct {
	ID             string
	Booking        lead.Booking
	IP             string
	UserAgent      string
	ConsentVersion string
	Language       string
	Reason         string
	CreatedAt      time.Time
}

// HoldBooking stores a held submission and returns its id; with an IdempotencyKey seen
// before (from the same IP), the first one's id.
func (s *Store) HoldBooking(ctx context.Context, p HeldParams) (string, error) {
	body, err := json.Marshal(p.Booking)
	if err != nil {
		return "", err
	}
	var idem any
	if p.IdempotencyKey != "" {
		sum := sha256.Sum256([]byte(p.IP + "\x00" + p.IdempotencyKey))
		idem = hex.EncodeToString(sum[:])
	}
	lang := "nb"
	if p.Language == "en" {
		lang = "en"
	}
	id := newID()
	rateKey := RateKey(p.IP)
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		if err := s.e.lockRateKey(ctx, s, tx, rateKey); err != nil {
			return err
		}
		if idem != nil {
			// a repeat keeps the first row, before the limit counts it again
			err := tx.QueryRowContext(ctx, `SELECT id FROM held_bookings WHERE idempotency_hash = $1`, idem).Scan(&id)
			if err == nil || !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if p.RateLimit > 0 && p.IP != "" {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM held_bookings WHERE rate_key = $1 AND created_at > $2`,
				rateKey, ts(now.Add(-p.RateWindow))).Scan(&n); err != nil {
				return err
			}
			if n >= p.RateLimit {
				return &lead.Error{Code: lead.CodeRateLimited, Rule: lead.RuleRateLimit, RetryAfter: p.RateWindow,
					Message: fmt.Sprintf("at most %d bookings per %s from one address; try again later", p.RateLimit, p.RateWindow)}
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO held_bookings (id, booking, email_normalized, ip_address, rate_key, user_agent,
	consent_version, language, reason, idempotency_hash, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			id, string(body), p.Booking.EmailNormalized, nullStr(p.IP), nullStr(rateKey), nullStr(p.UserAgent), p.ConsentVersion, lang,
			p.Reason, idem, ts(now))
		return err
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

const heldColumns = `id, booking, ip_address, user_agent, consent_version, language, reason, created_at`

func scanHeld(sc interface{ Scan(...any) error }) (HeldBooking, error) {
	var h HeldBooking
	var body string
	var ip, ua sql.NullString
	if err := sc.Scan(&h.ID, &body, &ip, &ua, &h.ConsentVersion, &h.Language, &h.Reason, (*dbTime)(&h.CreatedAt)); err != nil {
		return h, err
	}
	h.IP, h.UserAgent = ip.String, ua.String
	return h, json.Unmarshal([]byte(body), &h.Booking)
}

// HeldBookings lists held submissions, newest first, at most limit.
func (s *Store) HeldBookings(ctx context.Context, limit int) ([]HeldBooking, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+heldColumns+` FROM held_bookings ORDER BY created_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	out := []HeldBooking{}
	for rows.Next() {
		h, err := scanHeld(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, s.mapErr(rows.Err())
}

// HeldBooking returns one held submission; lead.ErrNotFound when there is none.
func (s *Store) HeldBooking(ctx context.Context, id string) (HeldBooking, error) {
	if !validID(id) {
		return HeldBooking{}, lead.ErrNotFound
	}
	h, err := scanHeld(s.write.QueryRowContext(ctx, `SELECT `+heldColumns+` FROM held_bookings WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return h, lead.ErrNotFound
	}
	return h, s.mapErr(err)
}

// DiscardHeldBooking deletes a held submission (it is not a lead: §3.7 does not apply).
func (s *Store) DiscardHeldBooking(ctx context.Context, id string) error {
	return s.mapErr(deleteHeld(ctx, s.write, id))
}

// releaseHeld deletes the held row a released booking comes from, in the booking's
// transaction: of two salespeople releasing it at once, one books it, the other gets
// lead.ErrNotFound.
func (s *Store) releaseHeld(ctx context.Context, tx *sql.Tx, id string) error {
	return deleteHeld(ctx, tx, id)
}

// deleteHeld deletes the held submission id; lead.ErrNotFound when there is none.
func deleteHeld(ctx context.Context, ex execer, id string) error {
	if !validID(id) {
		return lead.ErrNotFound
	}
	res, err := ex.ExecContext(ctx, `DELETE FROM held_bookings WHERE id = $1`, id)
	return oneAffected(res, err, lead.ErrNotFound)
}

// DeleteHeldByEmail deletes the held submissions of an address (erasure by email, §3.8) and
// says how many.
func (s *Store) DeleteHeldByEmail(ctx context.Context, email string) (int, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM held_bookings WHERE email_normalized = $1`, lead.NormalizeEmail(email))
	if err != nil {
		return 0, s.mapErr(err)
	}
	n, err := res.RowsAffected()
	return int(n), s.mapErr(err)
}

// SpamRetention is what one DeleteExpiredSpam call did.
type SpamRetention struct {
	Held       int // held submissions older than the cutoff, deleted
	IPs        int // held submissions whose IP address was cleared
	Challenges int // used challenges past their expiry, forgotten
}

// DeleteExpiredSpam deletes held submissions created before heldCutoff, clears the IP
// address of those created before ipCutoff (--ip-retention may be shorter than the held
// period; a zero ipCutoff keeps them), and forgets used challenges that expired before now
// (a replay of one fails on its expiry by then).
func (s *Store) DeleteExpiredSpam(ctx context.Context, heldCutoff, ipCutoff, now time.Time) (SpamRetention, error) {
	var r SpamRetention
	var cleared int
	for _, q := range []struct {
		sql string
		at  time.Time
		n   *int
	}{
		{`DELETE FROM held_bookings WHERE created_at < $1`, heldCutoff, &r.Held},
		{`UPDATE held_bookings SET ip_address = NULL, rate_key = NULL WHERE ip_address IS NOT NULL AND created_at < $1`, ipCutoff, &cleared},
		{`DELETE FROM used_challenges WHERE expires_at < $1`, now, &r.Challenges},
	} {
		if q.at.IsZero() {
			continue
		}
		res, err := s.write.ExecContext(ctx, q.sql, ts(q.at))
		if err != nil {
			return r, s.mapErr(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return r, s.mapErr(err)
		}
		*q.n = int(n)
	}
	r.IPs = cleared
	return r, nil
}

// BlockEntry is one blocklist entry: kind "email", "domain" or "ip" and its normalized
// value (an address, a domain, a CIDR prefix).
type BlockEntry struct {
	ID        string     `json:"id"`
	Kind      string     `json:"kind"`
	Value     string     `json:"value"`
	Hits      int64      `json:"hits"`
	LastHitAt *time.Time `json:"last_hit_at"`
	CreatedAt time.Time  `json:"created_at"`
}

// AddBlock stores a blocklist entry; kind and value must already be checked and
// normalized (spam.NormalizeBlock). The same kind and value twice is CodeConflict.
func (s *Store) AddBlock(ctx context.Context, kind, value string) (BlockEntry, error) {
	e := BlockEntry{ID: newID(), Kind: kind, Value: value, CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
	_, err := s.write.ExecContext(ctx, `INSERT INTO blocklist (id, kind, value, hits, created_at) VALUES ($1, $2, $3, 0, $4)`,
		e.ID, kind, value, ts(e.CreatedAt))
	s.blocks.drop()
	if s.isUnique(err) {
		return BlockEntry{}, lead.Errorf(lead.CodeConflict, "this %s is already on the blocklist", kind)
	}
	return e, s.mapErr(err)
}

// Blocklist lists every entry, oldest first.
func (s *Store) Blocklist(ctx context.Context) ([]BlockEntry, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, kind, value, hits, last_hit_at, created_at FROM blocklist ORDER BY created_at, id`)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	out := []BlockEntry{}
	for rows.Next() {
		var e BlockEntry
		var last nullTime
		if err := rows.Scan(&e.ID, &e.Kind, &e.Value, &e.Hits, &last, (*dbTime)(&e.CreatedAt)); err != nil {
			return nil, err
		}
		e.LastHitAt = timePtr(last)
		out = append(out, e)
	}
	return out, s.mapErr(rows.Err())
}

// DeleteBlock removes an entry; lead.ErrNotFound when there is none.
func (s *Store) DeleteBlock(ctx context.Context, id string) error {
	if !validID(id) {
		return lead.ErrNotFound
	}
	res, err := s.write.ExecContext(ctx, `DELETE FROM blocklist WHERE id = $1`, id)
	s.blocks.drop()
	return s.mapErr(oneAffected(res, err, lead.ErrNotFound))
}

// BlockCandidates are the entries that could match a booking from emailNormalized: every
// domain and ip entry and the address's own email entry (the caller matches domains and
// networks). Every booking asks, so the entries are kept in memory (blockCache): a change
// made through this store applies to the next booking, one made by another instance within
// BlocklistCacheTTL.
func (s *Store) BlockCandidates(ctx context.Context, emailNormalized string) ([]BlockEntry, error) {
	all, cached, err := s.blocks.get(ctx, s)
	if err != nil {
		return nil, err
	}
	if !cached {
		return s.blockCandidatesOf(ctx, emailNormalized)
	}
	var out []BlockEntry
	for _, e := range all {
		if e.Kind != "email" || e.Value == emailNormalized {
			out = append(out, e)
		}
	}
	return out, nil
}

// BlocklistCacheTTL is how long a store trusts its copy of the blocklist: how late an
// entry added or removed on another instance takes effect here. A spam filter's rule, not
// a guarantee like the rate limit: the one query per booking it saves was 3% of a booking's
// CPU on SQLite and a round trip on PostgreSQL.
const BlocklistCacheTTL = 2 * time.Second

// blockCacheMax is the longest blocklist kept in memory; a longer one is queried per
// booking (its email entries by the address's own).
const blockCacheMax = 1000

// blockCache is a store's copy of the blocklist, read again when older than
// BlocklistCacheTTL and dropped by the store's own changes.
type blockCache struct {
	mu      sync.Mutex
	entries []BlockEntry
	read    time.Time // zero: no copy
	tooLong bool      // the list had more than blockCacheMax entries when read
}

// get returns the cached entries (cached false: the list is too long to keep).
func (c *blockCache) get(ctx context.Context, s *Store) (entries []BlockEntry, cached bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := s.now()
	if c.read.IsZero() || now.Sub(c.read) >= BlocklistCacheTTL || now.Before(c.read) {
		rows, err := s.readQuery(ctx, sqlBlocklistCache, blockCacheMax+1)
		if err != nil {
			return nil, false, s.mapErr(err)
		}
		all, err := scanBlockEntries(rows)
		if err != nil {
			return nil, false, s.mapErr(err)
		}
		c.entries, c.read, c.tooLong = all, now, len(all) > blockCacheMax
		if c.tooLong {
			c.entries = nil // queried per booking instead
		}
	}
	return c.entries, !c.tooLong, nil
}

// drop forgets the copy: the next booking reads the list again.
func (c *blockCache) drop() {
	c.mu.Lock()
	c.read = time.Time{}
	c.mu.Unlock()
}

func (s *Store) blockCandidatesOf(ctx context.Context, emailNormalized string) ([]BlockEntry, error) {
	rows, err := s.readQuery(ctx, sqlBlockCandidates, emailNormalized)
	if err != nil {
		return nil, s.mapErr(err)
	}
	out, err := scanBlockEntries(rows)
	return out, s.mapErr(err)
}

func scanBlockEntries(rows *sql.Rows) ([]BlockEntry, error) {
	defer rows.Close()
	var out []BlockEntry
	for rows.Next() {
		var e BlockEntry
		if err := rows.Scan(&e.ID, &e.Kind, &e.Value); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

const sqlBlocklistCache = `SELECT id, kind, value FROM blocklist LIMIT $1`

const sqlBlockCandidates = `SELECT id, kind, value FROM blocklist WHERE kind <> 'email' OR value = $1`

// CountBlockHit adds one to an entry's hits: all a blocked booking leaves behind.
func (s *Store) CountBlockHit(ctx context.Context, id string) error {
	_, err := s.write.ExecContext(ctx, `UPDATE blocklist SET hits = hits + 1, last_hit_at = $2 WHERE id = $1`, id, ts(s.now()))
	return s.mapErr(err)
}
