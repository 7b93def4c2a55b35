package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// EmailJob is a claimed confirmation email, with the recipient read from its lead.
type EmailJob struct {
	ID        string
	LeadID    string
	BookingID string
	Attempts  int // including the current one
	CreatedAt time.Time
	To        string
	FirstName string

	lockedUntil string // the lease as stored: ReleaseEmailJobs gives back only our own claim
}

// ClaimEmailJobs leases up to limit due jobs to the caller for lease. A job whose lease ran
// out (its worker crashed) is due again: that is the one way an email can go out twice.
func (s *Store) ClaimEmailJobs(ctx context.Context, limit int, lease time.Duration) ([]EmailJob, error) {
	now := s.now().UTC()
	claim := `
UPDATE email_jobs SET status = 'running', attempts = attempts + 1, locked_until = $1, updated_at = $2
WHERE id IN (
	SELECT id FROM email_jobs
	WHERE (status = 'pending' AND run_at <= $2) OR (status = 'running' AND locked_until < $2)
	ORDER BY run_at LIMIT $3 ` + s.d.skipLocked() + `)
RETURNING id, lead_id, booking_id, attempts, created_at`
	if s.d.writableCTEs() {
		return s.claimEmailJobsWithRecipients(ctx, claim, now, lease, limit)
	}
	var jobs []EmailJob
	lockedUntil := ts(now.Add(lease))
	err := s.inGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		jobs = jobs[:0]
		rows, err := tx.QueryContext(ctx, claim, lockedUntil, ts(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			j := EmailJob{lockedUntil: lockedUntil}
			if err := rows.Scan(&j.ID, &j.LeadID, &j.BookingID, &j.Attempts, (*dbTime)(&j.CreatedAt)); err != nil {
				return err
			}
			jobs = append(jobs, j)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		if len(jobs) == 0 {
			return nil
		}
		// the recipients, in one read for the batch
		ids := make([]any, len(jobs))
		for i, j := range jobs {
			ids[i] = j.LeadID
		}
		rows, err = tx.QueryContext(ctx, `SELECT id, email, first_name, anonymized_at FROM leads WHERE id IN (`+s.paramList(1, len(ids))+`)`, ids...)
		if err != nil {
			return err
		}
		type recipient struct {
			to, first  string
			anonymized bool
		}
		recipients := map[string]recipient{}
		for rows.Next() {
			var id string
			var r recipient
			var anonymized nullTime
			if err := rows.Scan(&id, &r.to, &r.first, &anonymized); err != nil {
				return err
			}
			r.anonymized = anonymized.Valid
			recipients[id] = r
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		live := jobs[:0]
		for _, j := range jobs {
			r, ok := recipients[j.LeadID]
			if !ok || r.anonymized {
				// erased while queued: nobody to write to any more
				if _, err := tx.ExecContext(ctx, sqlCancelEmailJob, j.ID, ts(now)); err != nil {
					return err
				}
				continue
			}
			j.To, j.FirstName = r.to, r.first
			live = append(live, j)
		}
		jobs = live
		return nil
	})
	return jobs, err
}

// claimEmailJobsWithRecipients claims and reads the recipients in one statement, on its
// own: the claim is atomic by itself (SKIP LOCKED), and under load the worker claims after
// nearly every booking, so its round trips count. A job whose lead was erased while it
// was queued is cancelled.
func (s *Store) claimEmailJobsWithRecipients(ctx context.Context, claim string, now time.Time, lease time.Duration, limit int) ([]EmailJob, error) {
	lockedUntil := ts(now.Add(lease))
	rows, err := s.write.QueryContext(ctx, `WITH claimed AS (`+claim+`)
		SELECT claimed.id, claimed.lead_id, claimed.booking_id, claimed.attempts, claimed.created_at,
			leads.email, leads.first_name, leads.anonymized_at IS NOT NULL
		FROM claimed JOIN leads ON leads.id = claimed.lead_id`, lockedUntil, ts(now), limit)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	var jobs []EmailJob
	var erased []string
	for rows.Next() {
		j := EmailJob{lockedUntil: lockedUntil}
		var anonymized bool
		if err := rows.Scan(&j.ID, &j.LeadID, &j.BookingID, &j.Attempts, (*dbTime)(&j.CreatedAt), &j.To, &j.FirstName, &anonymized); err != nil {
			return nil, s.mapErr(err)
		}
		if anonymized {
			erased = append(erased, j.ID)
			continue
		}
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return nil, s.mapErr(err)
	}
	rows.Close()
	for _, id := range erased {
		// nobody to write to any more
		if _, err := s.write.ExecContext(ctx, sqlCancelEmailJob, id, ts(now)); err != nil {
			return nil, s.mapErr(err)
		}
	}
	return jobs, nil
}

const sqlCancelEmailJob = `UPDATE email_jobs SET status = 'cancelled', locked_until = NULL, updated_at = $2 WHERE id = $1`

// CompleteEmailJob marks a job delivered.
func (s *Store) CompleteEmailJob(ctx context.Context, id string) error {
	return s.execGrouped(ctx, sqlCompleteEmailJob, id, ts(s.now()))
}

// RetryEmailJob records a failed attempt: the job is due again at retryAt, or failed for
// good when retryAt is nil. reason must not contain personal data.
func (s *Store) RetryEmailJob(ctx context.Context, id string, retryAt *time.Time, reason string) error {
	status, runAt := "failed", s.now()
	if retryAt != nil {
		status, runAt = "pending", *retryAt
	}
	return s.execGrouped(ctx, sqlRetryEmailJob, id, status, ts(runAt), reason, ts(s.now()))
}

// ReleaseEmailJobs gives claimed jobs back unattempted (a worker stopping before it began
// them): they are due again at once for any worker, and the claim's attempt is not counted.
// A job whose lease ran out and that another worker claimed since is left alone.
func (s *Store) ReleaseEmailJobs(ctx context.Context, jobs []EmailJob) error {
	if len(jobs) == 0 {
		return nil
	}
	now := ts(s.now())
	return s.inGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, j := range jobs {
			if _, err := tx.ExecContext(ctx, sqlReleaseEmailJob, j.ID, j.lockedUntil, now); err != nil {
				return err
			}
		}
		return nil
	})
}

const (
	sqlReleaseEmailJob = `UPDATE email_jobs SET status = 'pending', attempts = attempts - 1, locked_until = NULL, updated_at = $3
		WHERE id = $1 AND status = 'running' AND locked_until = $2`
	sqlCompleteEmailJob = `UPDATE email_jobs SET status = 'done', locked_until = NULL, last_error = NULL, updated_at = $2 WHERE id = $1`
	sqlRetryEmailJob    = `UPDATE email_jobs SET status = $2, run_at = $3, locked_until = NULL, last_error = $4, updated_at = $5 WHERE id = $1`
)

// EmailJobCounts returns the number of jobs per status.
func (s *Store) EmailJobCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT status, COUNT(*) FROM email_jobs GROUP BY status`)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	counts := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		counts[st] = n
	}
	return counts, rows.Err()
}

// paramList is the placeholders of n arguments numbered from first (dialect.bulkParam):
// "$3, $4" or "?, ?".
func (s *Store) paramList(first, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s.d.bulkParam(first + i))
	}
	return b.String()
}
