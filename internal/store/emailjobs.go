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
	Language  string // the lead's stored language, "nb" or "en": the email's

	lockedUntil string // the lease as stored: ReleaseEmailJobs gives back only our own claim
}

// ClaimEmailJobs leases up to limit due jobs to the caller for lease. A job whose lease ran
// out (its worker crashed) is due again: that is the one way an email can go out twice.
// A job whose lead was erased while it was queued is cancelled (engine.claimEmailJobs).
func (s *Store) ClaimEmailJobs(ctx context.Context, limit int, lease time.Duration) ([]EmailJob, error) {
	return s.e.claimEmailJobs(ctx, s, s.now().UTC(), lease, limit)
}

const sqlCancelEmailJob = `UPDATE email_jobs SET status = 'cancelled', locked_until = NULL, updated_at = $2 WHERE id = $1`

// CompleteEmailJob marks a job delivered.
func (s *Store) CompleteEmailJob(ctx context.Context, id string) error {
	return s.e.completeEmailJob(ctx, s, id)
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

// paramList is the placeholders of n arguments numbered from first (engine.bulkParam):
// "$3, $4" or "?, ?".
func (s *Store) paramList(first, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s.e.bulkParam(first + i))
	}
	return b.String()
}
