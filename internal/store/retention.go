package store

import (
	"context"
	"database/sql"
	"time"
)

// RetentionLockKey names the PostgreSQL advisory lock that keeps the IP retention job to one
// instance at a time ("leadsRet" in ASCII).
const RetentionLockKey int64 = 0x6c65616473526574

// RetentionBatch is what one ClearExpiredIPs call did.
type RetentionBatch struct {
	LeadIPs         int  // leads whose ip_address was cleared
	BookingIPs      int  // bookings whose ip_address was cleared
	WebhookPayloads int  // webhook payloads whose lead and booking ip_address were cleared
	Skipped         bool // another instance holds the retention lock: nothing was done
}

// Full reports whether some kind of row filled its batch, so that more may be waiting.
func (b RetentionBatch) Full(limit int) bool {
	return b.LeadIPs >= limit || b.BookingIPs >= limit || b.WebhookPayloads >= limit
}

// ClearExpiredIPs clears ip_address on at most limit leads, limit bookings and limit webhook
// payloads created before cutoff, oldest first, in one short transaction. Clearing is not an edit of the lead: no
// event is written and updated_at stays (the audit trail records what people did).
//
// The rate limit counts only the last hour of bookings, so it never needs a cleared address.
func (s *Store) ClearExpiredIPs(ctx context.Context, cutoff time.Time, limit int) (RetentionBatch, error) {
	var b RetentionBatch
	skipped, err := s.retentionTx(ctx, func(tx *sql.Tx) error {
		b = RetentionBatch{}
		for _, t := range []struct {
			table, set string
			n          *int
		}{{"leads", "ip_address = NULL", &b.LeadIPs}, {"bookings", "ip_address = NULL, rate_key = NULL", &b.BookingIPs}} {
			// the outer IS NOT NULL makes a row already cleared by someone else not count;
			// a booking's rate key (its address or /64) goes with its address
			res, err := tx.ExecContext(ctx, `UPDATE `+t.table+` SET `+t.set+`
WHERE ip_address IS NOT NULL AND id IN (
	SELECT id FROM `+t.table+` WHERE ip_address IS NOT NULL AND created_at < $1 ORDER BY created_at LIMIT $2)`,
				ts(cutoff), limit)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			*t.n = int(n)
		}
		var err error
		b.WebhookPayloads, err = s.clearWebhookIPs(ctx, tx, cutoff, limit)
		return err
	})
	b.Skipped = skipped
	return b, err
}

// retentionTx runs fn in one transaction under the retention lock, so that one instance
// at a time does a retention round; skipped, fn not run, when another instance holds it.
func (s *Store) retentionTx(ctx context.Context, fn func(tx *sql.Tx) error) (skipped bool, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		ok, err := s.e.tryLock(ctx, tx, RetentionLockKey)
		if err != nil || !ok {
			skipped = err == nil
			return err
		}
		return fn(tx)
	})
	return skipped, err
}
