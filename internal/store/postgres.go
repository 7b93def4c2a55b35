package store

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/lead/query"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// postgresEngine is the engine of PostgreSQL: many writers at once, row locks, SKIP LOCKED,
// advisory locks and data-modifying CTEs, so that a write costs few round trips.
type postgresEngine struct{}

func openPostgres(rawURL string) (engine, *sql.DB, *sql.DB, error) {
	// A server that does not answer must fail a request in seconds (503), not after the
	// operating system's TCP timeout; the URL may set its own connect_timeout.
	if u, err := url.Parse(rawURL); err == nil && !u.Query().Has("connect_timeout") {
		q := u.Query()
		q.Set("connect_timeout", "5")
		u.RawQuery = q.Encode()
		rawURL = u.String()
	}
	db, err := sql.Open("pgx", rawURL)
	if err != nil {
		return nil, nil, nil, err
	}
	// the pool's size is Open's (Options.MaxConns)
	return postgresEngine{}, db, db, nil
}

func (postgresEngine) name() string { return "postgres" }

// Several instances may start at once on one database: one migrates, the others wait.
func (postgresEngine) migrator(db *sql.DB) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(migrations, "migrations/postgres")
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(locker))
}

// pgx prepares and caches each statement by itself.
func (postgresEngine) afterMigrate(context.Context, *Store) error { return nil }

// Transactions run in parallel, each in its own.
func (postgresEngine) writeTx(ctx context.Context, s *Store, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return fn(ctx, tx) })
}

func (postgresEngine) writeExec(ctx context.Context, s *Store, query string, args ...any) error {
	_, err := s.write.ExecContext(ctx, query, args...)
	return s.mapErr(err)
}

func (postgresEngine) completeEmailJob(ctx context.Context, s *Store, id string) error {
	return s.completeEmailJobBatched(ctx, id)
}

func (postgresEngine) lockRateKey(ctx context.Context, _ *Store, tx *sql.Tx, key string) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 7236))`, key)
	return err
}

// lock_ip_recent_bookings (00007_lock_ip.sql) takes lockRateKey's lock and reads the
// window in one round trip.
func (postgresEngine) recentBookings(ctx context.Context, _ *Store, tx *sql.Tx, key string, since time.Time) ([]time.Time, error) {
	rows, err := tx.QueryContext(ctx, `SELECT lock_ip_recent_bookings($1, $2)`, key, ts(since))
	if err != nil {
		return nil, err
	}
	return scanTimes(rows)
}

// sqlBookingWrites is a booking in one statement, since on PostgreSQL a booking's time
// goes to round trips: the lead's upsert (sqlUpsertLead, $1-$21, $20 the language, $21 the
// contact due time), the booking ($22 id, $23 user agent, $24 consent version), its event ($25 id, $26 details)
// and, for a new lead, the confirmation email job ($27 id); $28 is the booking's rate key, $29 its preferred demo times;
// $30 its proof-of-work challenge ("" for none), marked used until $31. It answers the
// lead's id and owner, whether the job was queued and the live webhook subscriptions (one row each;
// a row with NULLs when none), whether the challenge was fresh (a used one fails the booking,
// and its transaction takes back the rest) and whether lead_owner_assignment has anyone
// eligible: two round trips fewer per booking than statements of their own. A known lead's confirmation is decided by sqlEmailJobIfDue,
// a statement of its own: its snapshot must see the jobs committed by the bookings that
// held the lead's row before this one.
var sqlBookingWrites = `
WITH used AS (
	INSERT INTO used_challenges (challenge, expires_at) SELECT CAST($30 AS TEXT), $31 WHERE $30 <> ''
	ON CONFLICT (challenge) DO NOTHING RETURNING 1
), lead AS (` + sqlUpsertLead + `
), booking AS (
	INSERT INTO bookings (id, lead_id, first_name, last_name, email, phone, organization_name, organization_type,
		organization_size, role_title, message, utm_source, utm_medium, utm_campaign, ip_address, user_agent,
		consent_version, consent_timestamp, created_at, rate_key, language, preferred_times)
	SELECT CAST($22 AS UUID), lead.id, $2, $3, $4, $6, $7, $8, $9, $10, $12, $13, $14, $15, $16, CAST($23 AS TEXT),
		CAST($24 AS TEXT), $17, $17, CAST($28 AS TEXT), CAST($20 AS TEXT), CAST($29 AS TEXT) FROM lead
), event AS (
	INSERT INTO lead_events (id, lead_id, type, actor, details, created_at)
	SELECT CAST($25 AS UUID), lead.id, CASE WHEN lead.id = $1 THEN '` + lead.EventCreated + `' ELSE '` + lead.EventBookingLinked + `' END,
		'` + lead.ActorPublic + `', CAST($26 AS TEXT), $17 FROM lead
), job AS (
	INSERT INTO email_jobs (id, lead_id, booking_id, status, attempts, run_at, created_at, updated_at)
	SELECT CAST($27 AS UUID), lead.id, CAST($22 AS UUID), 'pending', 0, $17, $17, $17 FROM lead WHERE lead.id = $1
	RETURNING 1
)
SELECT lead.id, lead.owner_id, EXISTS (SELECT 1 FROM job), webhooks.id, webhooks.events,
	EXISTS (SELECT 1 FROM used), EXISTS (SELECT 1 FROM staff WHERE ` + strings.ReplaceAll(eligibleSQL, "$1", "$17") + `)
FROM lead LEFT JOIN webhooks ON webhooks.active AND webhooks.deleted_at IS NULL`

func (postgresEngine) bookWrites(ctx context.Context, _ *Store, tx *sql.Tx, w bookingWrite) (bookingWritten, error) {
	var out bookingWritten
	rows, err := tx.QueryContext(ctx, sqlBookingWrites, append(w.upsert,
		w.bookingID, nullStr(w.p.UserAgent), w.p.ConsentVersion, newID(), w.eventDetails, newID(), nullStr(w.rateKey),
		preferredTimesArg(w.p.Booking.PreferredTimes), w.p.Challenge, ts(w.p.ChallengeExpires))...)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	var used, eligible bool
	for rows.Next() {
		var id, events, owner sql.NullString
		if err := rows.Scan(&out.leadID, &owner, &out.emailQueued, &id, &events, &used, &eligible); err != nil {
			return bookingWritten{}, err
		}
		out.ownerID = owner.String
		if sub, ok := parseSubscription(id.String, events.String); id.Valid && ok {
			out.subs = append(out.subs, sub)
		}
	}
	if err := rows.Err(); err != nil {
		return bookingWritten{}, err
	}
	if out.leadID == "" {
		return bookingWritten{}, errors.New("booking: the lead's upsert returned no row")
	}
	if w.p.Challenge != "" && !used {
		return bookingWritten{}, errChallengeUsed // the transaction rolls the rest back
	}
	out.eligible = noneEligible
	if eligible {
		out.eligible = eligibleUnlocked
	}
	return out, nil
}

// The claim and the recipients in one statement, on its own: the claim is atomic by
// itself (SKIP LOCKED), and under load the worker claims after nearly every booking, so
// its round trips count. A job whose lead was erased while it was queued is cancelled.
func (postgresEngine) claimEmailJobs(ctx context.Context, s *Store, now time.Time, lease time.Duration, limit int) ([]EmailJob, error) {
	lockedUntil := ts(now.Add(lease))
	rows, err := s.write.QueryContext(ctx, `
WITH claimed AS (
	UPDATE email_jobs SET status = 'running', attempts = attempts + 1, locked_until = $1, updated_at = $2
	WHERE id IN (
		SELECT id FROM email_jobs
		WHERE (status = 'pending' AND run_at <= $2) OR (status = 'running' AND locked_until < $2)
		ORDER BY run_at LIMIT $3 FOR UPDATE SKIP LOCKED)
	RETURNING id, kind, lead_id, booking_id, staff_id, attempts, created_at)
SELECT claimed.id, claimed.kind, claimed.lead_id, claimed.booking_id, claimed.staff_id, claimed.attempts, claimed.created_at,
	COALESCE(staff.email, leads.email, ''), COALESCE(staff.name, leads.first_name, ''), COALESCE(staff.language, leads.language, 'nb'),
	leads.anonymized_at IS NOT NULL OR staff.active IS FALSE OR (claimed.lead_id IS NULL AND claimed.staff_id IS NULL)
FROM claimed LEFT JOIN leads ON leads.id = claimed.lead_id LEFT JOIN staff ON staff.id = claimed.staff_id`, lockedUntil, ts(now), limit)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	var jobs []EmailJob
	var erased []string
	for rows.Next() {
		j := EmailJob{lockedUntil: lockedUntil}
		var gone bool
		var leadID, bookingID, staffID sql.NullString
		if err := rows.Scan(&j.ID, &j.Kind, &leadID, &bookingID, &staffID, &j.Attempts, (*dbTime)(&j.CreatedAt), &j.To, &j.FirstName, &j.Language, &gone); err != nil {
			return nil, s.mapErr(err)
		}
		j.LeadID, j.BookingID, j.StaffID = leadID.String, bookingID.String, staffID.String
		if gone {
			erased = append(erased, j.ID)
			continue
		}
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return nil, s.mapErr(err)
	}
	rows.Close()
	jobs, erasedSince, err := postgresMintPersonalLinks(ctx, s, now, jobs)
	if err != nil {
		return nil, s.mapErr(err)
	}
	for _, id := range append(erased, erasedSince...) {
		// nobody to write to any more
		if _, err := s.write.ExecContext(ctx, sqlCancelEmailJob, id, ts(now)); err != nil {
			return nil, s.mapErr(err)
		}
	}
	return jobs, nil
}

// postgresMintPersonalLinks mints the personal links of the claimed emails to leads in one
// statement. The leads' row locks order it against an erasure: a lead erased since the
// claim gets no link, and its job is returned in erased to be cancelled.
func postgresMintPersonalLinks(ctx context.Context, s *Store, now time.Time, jobs []EmailJob) (live []EmailJob, erased []string, err error) {
	var leadIDs, ids, hashes []string
	for i := range jobs {
		if jobs[i].StaffID == "" {
			jobs[i].PersonalLink = newPersonalLinkSecret()
			leadIDs = append(leadIDs, jobs[i].LeadID)
			ids = append(ids, newID())
			hashes = append(hashes, HashToken(jobs[i].PersonalLink))
		}
	}
	if len(ids) == 0 {
		return jobs, nil, nil
	}
	rows, err := s.write.QueryContext(ctx, `
WITH live AS (SELECT id FROM leads WHERE id = ANY($1::uuid[]) AND anonymized_at IS NULL FOR UPDATE)
INSERT INTO personal_links (id, lead_id, token_hash, created_at, expires_at)
SELECT t.id, t.lead_id, t.token_hash, $4, $5
FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS t (lead_id, id, token_hash) JOIN live ON live.id = t.lead_id
RETURNING token_hash`, leadIDs, ids, hashes, ts(now), ts(now.Add(PersonalLinkTTL)))
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	minted := make(map[string]bool, len(hashes))
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, nil, err
		}
		minted[h] = true
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	live, k := jobs[:0], 0 // k: the job's place in hashes, counting jobs to leads only
	for _, j := range jobs {
		if j.StaffID == "" {
			k++
			if !minted[hashes[k-1]] {
				erased = append(erased, j.ID)
				continue
			}
		}
		live = append(live, j)
	}
	return live, erased, nil
}

func (postgresEngine) claimWebhookDeliveries(ctx context.Context, tx *sql.Tx, now time.Time, lease time.Duration, limit int) ([]WebhookDelivery, error) {
	rows, err := tx.QueryContext(ctx, `
UPDATE webhook_deliveries SET status = 'running', attempts = attempts + 1, locked_until = $1, updated_at = $2
WHERE id IN (
	SELECT id FROM webhook_deliveries
	WHERE ((status = 'pending' AND next_attempt_at <= $2) OR (status = 'running' AND locked_until < $2))
		AND webhook_id IN (SELECT id FROM webhooks WHERE active AND deleted_at IS NULL)
	ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
RETURNING id, webhook_id, event, payload, attempts, queued_at`, ts(now.Add(lease)), ts(now), limit)
	if err != nil {
		return nil, err
	}
	return scanClaimedDeliveries(rows)
}

// A GIN index cannot hand out rows in created_at order: the generic query it is, whose
// plan PostgreSQL picks for the term's own values (see unpreparedArgs): the trigram index
// for a rare term, the created_at walk for a common one.
func (postgresEngine) listPage(ctx context.Context, s *Store, f query.Filter, after *query.Cursor, k int) ([]lead.Lead, error) {
	return s.listQuery(ctx, f, after, k, false)
}

func (postgresEngine) tryLock(ctx context.Context, tx *sql.Tx, key int64) (bool, error) {
	var ok bool
	err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1)`, key).Scan(&ok)
	return ok, err
}

func (postgresEngine) afterErasure(context.Context, *sql.DB) error { return nil }

// Autovacuum would analyze the new rows soon anyway; doing it now gives the list and search
// queries their right plans (trigram index or not) from the first query on.
func (postgresEngine) bulkBegin(ctx context.Context, db *sql.DB) (func(context.Context) error, error) {
	return func(ctx context.Context) error {
		_, err := db.ExecContext(ctx, `ANALYZE leads, bookings, lead_events`)
		return err
	}, nil
}

// Constraint indexes (primary keys) stay; the trigram GIN index is one of the rebuilt, and
// otherwise keeps up by itself.
func (postgresEngine) bulkSchema(ctx context.Context, tx *sql.Tx, rebuild bool) ([]schemaObject, func() error, error) {
	indexSearch := func() error { return nil }
	if !rebuild {
		return nil, indexSearch, nil
	}
	if _, err := tx.ExecContext(ctx, `SET LOCAL maintenance_work_mem = '256MB'`); err != nil {
		return nil, nil, err
	}
	objects, err := querySchemaObjects(ctx, tx, `SELECT 'DROP INDEX "' || indexname || '"', indexdef FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename IN ('leads', 'bookings', 'lead_events')
		  AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname`)
	return objects, indexSearch, err
}

func (postgresEngine) classify(err error) errClass {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505":
			return errUnique
		case pe.Code == "23001": // restrict_violation, raised by the trigger
			return errDeleteRefused
		case pe.Code == "23P01": // exclusion_violation: demos_host_no_overlap
			return errOverlap
		case pe.Code == "53300": // too_many_connections
			return errTooManyConns
		// class 08: connection exception; 57P: operator intervention (shutdown, restart);
		// 53: insufficient resources (too many connections when instances share a server)
		case strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P") || strings.HasPrefix(pe.Code, "53"):
			return errUnavailable
		}
		return errOther
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || errors.Is(err, sql.ErrConnDone) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return errUnavailable
	}
	return errOther
}

// search_doc is the lower-cased document (00003_search.sql); its trigram GIN index answers
// LIKE and PostgreSQL rechecks every candidate row. lower() folds the term the same way.
func (postgresEngine) searchCond(q string, _ bool, arg func(any) string) string {
	return `search_doc LIKE lower(` + arg("%"+escapeLike(q)+"%") + `) ESCAPE '\'`
}

func (postgresEngine) unindexed(col string) string { return col }
func (postgresEngine) forUpdate() string           { return "FOR UPDATE" }
func (postgresEngine) forShare() string            { return "FOR KEY SHARE" }

func (e postgresEngine) lockIfEligible(ctx context.Context, _ *Store, tx *sql.Tx, now time.Time) (bool, error) {
	var ok bool
	if err := tx.QueryRowContext(ctx, sqlAnyEligible, ts(now)).Scan(&ok); err != nil || !ok {
		return false, err
	}
	return true, e.lockAssignment(ctx, tx)
}

// An advisory lock rather than FOR UPDATE of the eligible rows: a member who becomes
// eligible while a choice waits would not be among the rows it locked.
func (postgresEngine) lockAssignment(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, assignLockKey)
	return err
}

// pgx would otherwise prepare and cache each statement, and after a few runs PostgreSQL may
// switch to one generic plan for every value; executing unprepared plans each query for
// its own values (a rare search term uses the trigram index, a common one need not).
func (postgresEngine) unpreparedArgs(args []any) []any {
	return append([]any{pgx.QueryExecModeExec}, args...)
}

func (postgresEngine) jsonText(col, key string) string {
	return "(" + col + "::jsonb ->> '" + key + "')"
}
func (postgresEngine) bulkParam(n int) string     { return "$" + strconv.Itoa(n) }
func (postgresEngine) bulkTime(col string) string { return col } // binary timestamptz: nothing to parse
