package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/norsedigital/leads/internal/store"
)

// RetentionJob clears the IP addresses of leads, bookings and webhook payloads older than
// Retention (SPEC §3.8), and anonymizes inactive leads (InactiveRetention), every Interval. Several instances may run it: the store lets one at a time
// do a round and the others skip.
type RetentionJob struct {
	Store     *store.Store
	Retention time.Duration // --ip-retention; required (> 0)
	// InactiveRetention (--inactive-retention) anonymizes lost and disqualified leads
	// unchanged for this long (SPEC §14; GDPR Art. 5(1)(e)); 0 keeps them.
	InactiveRetention time.Duration
	Interval          time.Duration // between rounds (1h)
	Delay             time.Duration // before the first round, so startup is not slowed (10s)
	Batch             int           // rows per table per transaction (500)
	Now               func() time.Time
	Logger            *slog.Logger
	// HeldRetention is how long held submissions (SPEC §15) are kept; 0 keeps them. Used
	// proof-of-work challenges are forgotten in the same round once they have expired.
	HeldRetention time.Duration
}

// DefaultHeldRetention: a held submission nobody reviewed in 30 days is deleted.
const DefaultHeldRetention = 30 * 24 * time.Hour

func (j *RetentionJob) defaults() {
	if j.Interval <= 0 {
		j.Interval = time.Hour
	}
	if j.Delay <= 0 {
		j.Delay = 10 * time.Second
	}
	if j.Batch <= 0 {
		j.Batch = 500
	}
	if j.Now == nil {
		j.Now = time.Now
	}
	if j.Logger == nil {
		j.Logger = slog.New(slog.DiscardHandler)
	}
}

// Run does a round after Delay and then every Interval until ctx is cancelled.
func (j *RetentionJob) Run(ctx context.Context) {
	j.defaults()
	timer := time.NewTimer(j.Delay)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if _, err := j.RunOnce(ctx); err != nil && ctx.Err() == nil {
			j.Logger.Warn("ip retention: round failed", "error", err.Error())
		}
		timer.Reset(j.Interval)
	}
}

// RunOnce clears every address older than the retention period, in batches (short
// transactions, so bookings are never blocked for long), then anonymizes the inactive
// leads (InactiveRetention), and returns how many rows it cleared (leads, bookings and
// webhook payloads) and leads it anonymized. It stops early, having cleared nothing more, when another instance is running
// a round.
func (j *RetentionJob) RunOnce(ctx context.Context) (int, error) {
	j.defaults()
	spamRows, err := j.spamRound(ctx)
	if err != nil {
		return spamRows, err
	}
	n, err := j.clearIPs(ctx)
	n += spamRows
	if err != nil || j.InactiveRetention <= 0 {
		return n, err
	}
	m, err := j.anonymizeInactive(ctx)
	return n + m, err
}

// anonymizeInactive anonymizes, in batches, every lost or disqualified lead unchanged for
// InactiveRetention; it stops, having done nothing more, when another instance runs a round.
func (j *RetentionJob) anonymizeInactive(ctx context.Context) (int, error) {
	cutoff := j.Now().Add(-j.InactiveRetention)
	// anonymizing a lead is far more work than clearing an address: smaller transactions
	batch := max(1, j.Batch/10)
	total := 0
	for ctx.Err() == nil {
		b, err := j.Store.AnonymizeInactive(ctx, cutoff, batch)
		if err != nil {
			return total, err
		}
		if b.Skipped {
			j.Logger.Debug("inactive retention: another instance is running a round; skipped")
			break
		}
		total += b.Anonymized
		if b.Anonymized < batch {
			break
		}
	}
	if total > 0 {
		j.Logger.Info("inactive retention: leads anonymized", "leads", total, "unchanged_since", cutoff.UTC().Format(time.RFC3339))
	}
	return total, ctx.Err()
}

// clearIPs clears every address older than Retention, as RunOnce describes.
func (j *RetentionJob) clearIPs(ctx context.Context) (int, error) {
	if j.Retention <= 0 {
		return 0, nil // retention not configured: keep every address
	}
	cutoff := j.Now().Add(-j.Retention)
	if err := j.Store.PurgeSelfService(ctx, cutoff); err != nil {
		return 0, err
	}
	var sum store.RetentionBatch
	total := func() int { return sum.LeadIPs + sum.BookingIPs + sum.WebhookPayloads }
	for ctx.Err() == nil {
		b, err := j.Store.ClearExpiredIPs(ctx, cutoff, j.Batch)
		if err != nil {
			return total(), err
		}
		if b.Skipped {
			j.Logger.Debug("ip retention: another instance is running a round; skipped")
			break
		}
		sum.LeadIPs, sum.BookingIPs, sum.WebhookPayloads = sum.LeadIPs+b.LeadIPs, sum.BookingIPs+b.BookingIPs, sum.WebhookPayloads+b.WebhookPayloads
		if !b.Full(j.Batch) {
			break
		}
	}
	if total() > 0 {
		j.Logger.Info("ip retention: addresses cleared", "leads", sum.LeadIPs, "bookings", sum.BookingIPs,
			"webhook_payloads", sum.WebhookPayloads, "older_than", cutoff.UTC().Format(time.RFC3339))
	}
	return total(), ctx.Err()
}

// spamRound deletes held submissions older than HeldRetention and forgets expired
// challenges; it returns how many held submissions it deleted. Deleting is idempotent, so
// several instances may do it at once.
func (j *RetentionJob) spamRound(ctx context.Context) (int, error) {
	if j.HeldRetention <= 0 {
		return 0, nil
	}
	now := j.Now()
	var ipCutoff time.Time
	if j.Retention > 0 {
		ipCutoff = now.Add(-j.Retention)
	}
	r, err := j.Store.DeleteExpiredSpam(ctx, now.Add(-j.HeldRetention), ipCutoff, now)
	if err != nil {
		return 0, err
	}
	if r.Held > 0 || r.IPs > 0 || r.Challenges > 0 {
		j.Logger.Info("retention: held bookings deleted", "held_bookings", r.Held, "held_ips_cleared", r.IPs,
			"used_challenges", r.Challenges, "older_than", now.Add(-j.HeldRetention).UTC().Format(time.RFC3339))
	}
	return r.Held + r.IPs, nil
}
