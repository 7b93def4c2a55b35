package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// EmailJob is a claimed email. Its Kind says what it is (EmailConfirmation, …); the job
// carries ids only, and the recipient is read when it is claimed: the member StaffID when
// set, else the lead.
type EmailJob struct {
	ID        string
	Kind      string
	LeadID    string // "" when the email is about no lead
	BookingID string // "" when the email is about no booking
	StaffID   string // the member it goes to; "" when it goes to the lead
	Attempts  int    // including the current one
	CreatedAt time.Time
	To        string
	FirstName string // the lead's first name, or the member's name
	Language  string // the recipient's stored language, "nb" or "en": the email's
	// PersonalLink is the raw personal link (SPEC §14) the claim minted for this email when
	// it goes to the lead (StaffID ""): fresh for every attempt, stored only as its hash.
	PersonalLink string

	lockedUntil string // the lease as stored: ReleaseEmailJobs gives back only our own claim
}

// Kinds of email job. The confirmation is the booking's (SPEC §3.6); the others belong to
// the features that enqueue them.
const EmailConfirmation = "confirmation"

// EmailJobSpec is an email to enqueue: its kind, what it is about, and the member it goes
// to (else the lead). RunAt zero is now.
type EmailJobSpec struct {
	Kind      string
	LeadID    string
	BookingID string
	StaffID   string
	RunAt     time.Time
}

// enqueueEmail adds one email job in tx; the caller's commit makes it visible (and should
// wake the worker with notifyJobs).
func (s *Store) enqueueEmail(ctx context.Context, tx *sql.Tx, j EmailJobSpec, now time.Time) error {
	runAt := j.RunAt
	if runAt.IsZero() {
		runAt = now
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO email_jobs (id, kind, lead_id, booking_id, staff_id, status, attempts, run_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7, $7)`, newID(), j.Kind, nullStr(j.LeadID), nullStr(j.BookingID), nullStr(j.StaffID), ts(runAt), ts(now))
	return err
}

// EnqueueEmail adds one email job on its own and wakes the local worker.
func (s *Store) EnqueueEmail(ctx context.Context, j EmailJobSpec) error {
	err := s.e.writeTx(ctx, s, func(ctx context.Context, tx *sql.Tx) error { return s.enqueueEmail(ctx, tx, j, s.now()) })
	if err != nil {
		return s.mapErr(err)
	}
	s.notifyJobs()
	return nil
}

// ClaimEmailJobs leases up to limit due jobs to the caller for lease. A job whose lease ran
// out (its worker crashed) is due again: that is the one way an email can go out twice.
// A job whose lead was erased while it was queued is cancelled (engine.claimEmailJobs).
// Every claimed email to a lead gets a fresh personal link (EmailJob.PersonalLink), minted
// in the claim's own transaction or statement, not in one transaction per email: that was
// a commit of its own for every booking's confirmation.
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
