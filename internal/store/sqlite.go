package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/lead/query"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteEngine is the engine of SQLite: one writer at a time (BEGIN IMMEDIATE) holds the
// whole database, so it needs no row, key or advisory locks; its writes share commits
// (groupcommit.go) and its hot statements are prepared once; FTS5 is its search index.
type sqliteEngine struct{}

// openSQLite opens the one-connection write pool and the read pool of a SQLite file.
func openSQLite(rawURL string) (engine, *sql.DB, *sql.DB, error) {
	path := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite:"), "file:"), "//")
	if path == "" {
		return nil, nil, nil, fmt.Errorf("database URL %q names no file", rawURL)
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(ON)",
		// erased personal data is overwritten on disk, not just unlinked from the b-tree
		"secure_delete(ON)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	// The writer only: each booking of a group commit runs under a SAVEPOINT, whose
	// sub-journal SQLite keeps in memory up to 64 KiB and then spills to a temporary
	// FILE under the default temp_store — a booking touches more pages than that, so
	// every booking created, wrote and dropped a temp file. In memory it is a few pages
	// per booking, freed at RELEASE. (A bigger page cache, 8 or 16 MB, was measured too:
	// no page reads in the profile, and a higher peak RSS; docs/benchmarks.md.) The
	// readers keep the defaults: a big sort of theirs (an export) spills to disk instead
	// of growing the RSS.
	wq := url.Values{"_pragma": append(q["_pragma"], "temp_store(MEMORY)"), "_txlock": q["_txlock"]}
	write, err := sql.Open("sqlite", "file:"+path+"?"+wq.Encode())
	if err != nil {
		return nil, nil, nil, err
	}
	// One writer connection: Go's pool queues writers fairly instead of SQLite's
	// busy-wait sleeping, which is both faster and kinder to tail latency.
	write.SetMaxOpenConns(1)
	read, err := sql.Open("sqlite", dsn)
	if err != nil {
		write.Close()
		return nil, nil, nil, err
	}
	// all of them kept open: with database/sql's default of two idle connections, every
	// read beyond two at once opened a connection (the file, its pragmas, its statements)
	// and closed it again
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	return sqliteEngine{}, write, read, nil
}

func (sqliteEngine) name() string { return "sqlite" }

func (sqliteEngine) migrator(db *sql.DB) (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/sqlite")
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectSQLite3, db, sub)
}

// afterMigrate prepares the hot statements on the write connection (see Store.txExec):
// parsing SQL was a quarter of a booking's CPU time. It runs after migration, when the
// tables exist and no transaction holds the connection.
func (sqliteEngine) afterMigrate(ctx context.Context, s *Store) error {
	if err := prepareAll(ctx, s.write, sqliteHotStatements, &s.stmts); err != nil {
		return err
	}
	return prepareAll(ctx, s.read, sqliteHotReads, &s.readStmts)
}

// prepareAll prepares each of queries on db once into cache (query → *sql.Stmt).
func prepareAll(ctx context.Context, db *sql.DB, queries []string, cache *sync.Map) error {
	for _, q := range queries {
		if _, ok := cache.Load(q); ok {
			continue
		}
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		cache.Store(q, st)
	}
	return nil
}

// sqliteHotReads are the reads of every booking outside its transaction, prepared on the
// read pool (each connection prepares them once, when it first runs them).
var sqliteHotReads = []string{sqlBlockCandidates, sqlBlocklistCache}

// sqliteHotStatements are prepared eagerly after migration.
var sqliteHotStatements = []string{sqlCompleteEmailJob, sqlRetryEmailJob, sqlSavepoint, sqlRollbackToSavepoint,
	sqlReleaseSavepoint, sqlDeferSearch, sqlIndexDeferredSearch, sqlEndDeferredSearch, sqlIdempotencyGet, sqlUpsertLead, sqlInsertBooking, sqlEmailJobIfDue, sqlInsertEmailJob,
	sqlIdempotencyPut, sqlRecentBookingsOfIP, insertEventSQL, sqlLiveSubscriptions, sqlClaimEmailJobs, sqlEmailRecipient, sqlMemberRecipient,
	sqlCancelEmailJob, sqlInsertPersonalLink, sqlUseChallenge, sqlAnyEligible}

// The writes that wait for the one writer share a commit (groupcommit.go).
func (sqliteEngine) writeTx(ctx context.Context, s *Store, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return s.groupTx(ctx, fn)
}

func (sqliteEngine) writeExec(ctx context.Context, s *Store, query string, args ...any) error {
	return s.groupTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := s.txExec(ctx, tx, query, args...)
		return err
	})
}

func (sqliteEngine) completeEmailJob(ctx context.Context, s *Store, id string) error {
	return s.execGrouped(ctx, sqlCompleteEmailJob, id, ts(s.now()))
}

// The one writer (BEGIN IMMEDIATE, see openSQLite) already serializes every rate key.
func (sqliteEngine) lockRateKey(context.Context, *Store, *sql.Tx, string) error { return nil }

const sqlRecentBookingsOfIP = `SELECT created_at FROM bookings WHERE rate_key = $1 AND created_at > $2 ORDER BY created_at`

func (sqliteEngine) recentBookings(ctx context.Context, s *Store, tx *sql.Tx, key string, since time.Time) ([]time.Time, error) {
	rows, err := s.txQuery(ctx, tx, sqlRecentBookingsOfIP, key, ts(since))
	if err != nil {
		return nil, err
	}
	return scanTimes(rows)
}

// The booking's statements, prepared once (sqliteHotStatements).
const (
	sqlInsertBooking = `
INSERT INTO bookings (id, lead_id, first_name, last_name, email, phone, organization_name, organization_type,
	organization_size, role_title, message, utm_source, utm_medium, utm_campaign, ip_address, user_agent,
	consent_version, consent_timestamp, created_at, rate_key, language, preferred_times)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18, $19, $20, $21)`
	sqlInsertEmailJob = `
INSERT INTO email_jobs (id, lead_id, booking_id, status, attempts, run_at, created_at, updated_at)
VALUES ($1, $2, $3, 'pending', 0, $4, $4, $4)`
)

// A statement at a time: with the database in-process, round trips cost nothing.
func (sqliteEngine) bookWrites(ctx context.Context, s *Store, tx *sql.Tx, w bookingWrite) (bookingWritten, error) {
	var out bookingWritten
	b, p, now := &w.p.Booking, w.p, w.now
	if p.Challenge != "" {
		if err := s.useChallenge(ctx, tx, p.Challenge, p.ChallengeExpires); err != nil {
			return out, err
		}
	}
	var owner sql.NullString
	if err := s.txQueryRow(ctx, tx, sqlUpsertLead, w.upsert...).Scan(&out.leadID, &owner); err != nil {
		return out, err
	}
	out.ownerID = owner.String
	newLead := out.leadID == w.newLeadID
	event := lead.EventBookingLinked
	if newLead {
		event = lead.EventCreated
	}
	if _, err := s.txExec(ctx, tx, sqlInsertBooking, w.bookingID, out.leadID, b.FirstName, b.LastName, b.Email,
		nullStr(b.Phone), b.OrganizationName, nullStr(b.OrganizationType), nullStr(b.OrganizationSize),
		nullStr(b.RoleTitle), nullStr(b.Message), nullStr(b.UTMSource), nullStr(b.UTMMedium), nullStr(b.UTMCampaign),
		nullStr(p.IP), nullStr(p.UserAgent), p.ConsentVersion, ts(now), nullStr(w.rateKey), p.language(),
		preferredTimesArg(b.PreferredTimes)); err != nil {
		return out, err
	}
	if _, err := s.txExec(ctx, tx, insertEventSQL, newID(), out.leadID, event, lead.ActorPublic, w.eventDetails, ts(now)); err != nil {
		return out, err
	}
	if newLead {
		if _, err := s.txExec(ctx, tx, sqlInsertEmailJob, newID(), out.leadID, w.bookingID, ts(now)); err != nil {
			return out, err
		}
		out.emailQueued = true
	}
	var err error
	out.subs, err = s.liveSubscriptions(ctx, tx)
	return out, err
}

// The claim's statements, prepared once (sqliteHotStatements): parsed on every claim they
// were a few per cent of a booking's CPU. A recipient is a point read of the primary key.
const (
	// Each kind of due job is read off idx_email_jobs_due in run_at order and stops at the
	// limit; the first $3 of both are the first $3 due. (One WHERE with an OR sorted every
	// due job before taking the first: with a backlog of thousands, each claim cost as many.)
	sqlClaimEmailJobs = `
UPDATE email_jobs SET status = 'running', attempts = attempts + 1, locked_until = $1, updated_at = $2
WHERE id IN (
	SELECT id FROM (
		SELECT id, run_at FROM (SELECT id, run_at FROM email_jobs
			WHERE status = 'pending' AND run_at <= $2 ORDER BY run_at LIMIT $3)
		UNION ALL
		SELECT id, run_at FROM (SELECT id, run_at FROM email_jobs
			WHERE status = 'running' AND locked_until < $2 ORDER BY run_at LIMIT $3)
		ORDER BY run_at LIMIT $3))
RETURNING id, kind, lead_id, booking_id, staff_id, attempts, created_at`
	sqlEmailRecipient  = `SELECT email, first_name, language, anonymized_at FROM leads WHERE id = $1`
	sqlMemberRecipient = `SELECT email, name, language, active FROM staff WHERE id = $1`
)

// The claim shares a commit with the bookings (writeTx); the recipient of each job is read
// by the prepared sqlEmailRecipient. A job whose lead was erased while it was queued is cancelled.
func (sqliteEngine) claimEmailJobs(ctx context.Context, s *Store, now time.Time, lease time.Duration, limit int) ([]EmailJob, error) {
	var jobs []EmailJob
	lockedUntil := ts(now.Add(lease))
	err := s.groupTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		jobs = jobs[:0]
		rows, err := s.txQuery(ctx, tx, sqlClaimEmailJobs, lockedUntil, ts(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			j := EmailJob{lockedUntil: lockedUntil}
			var leadID, bookingID, staffID sql.NullString
			if err := rows.Scan(&j.ID, &j.Kind, &leadID, &bookingID, &staffID, &j.Attempts, (*dbTime)(&j.CreatedAt)); err != nil {
				return err
			}
			j.LeadID, j.BookingID, j.StaffID = leadID.String, bookingID.String, staffID.String
			jobs = append(jobs, j)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		live := jobs[:0]
		for _, j := range jobs {
			gone, err := sqliteRecipient(ctx, s, tx, &j)
			if err != nil {
				return err
			}
			if gone {
				// erased or deactivated while queued: nobody to write to any more
				if _, err := s.txExec(ctx, tx, sqlCancelEmailJob, j.ID, ts(now)); err != nil {
					return err
				}
				continue
			}
			if j.StaffID == "" {
				// the lead was read in this transaction: no erasure can come between
				j.PersonalLink = newPersonalLinkSecret()
				if _, err := s.txExec(ctx, tx, sqlInsertPersonalLink, newID(), j.LeadID, HashToken(j.PersonalLink), ts(now), ts(now.Add(PersonalLinkTTL))); err != nil {
					return err
				}
			}
			live = append(live, j)
		}
		jobs = live
		return nil
	})
	return jobs, err
}

// sqliteRecipient reads the recipient of j: the member when it is for one (an email about
// a lead that has been erased since is not sent either), else the lead. gone is true when
// there is nobody to write to any more.
func sqliteRecipient(ctx context.Context, s *Store, tx *sql.Tx, j *EmailJob) (gone bool, err error) {
	if j.LeadID != "" {
		var anonymized nullTime
		err := s.txQueryRow(ctx, tx, sqlEmailRecipient, j.LeadID).Scan(&j.To, &j.FirstName, &j.Language, &anonymized)
		if errors.Is(err, sql.ErrNoRows) || anonymized.Valid {
			return true, nil
		}
		if err != nil {
			return false, err
		}
	}
	if j.StaffID == "" {
		return j.LeadID == "", nil
	}
	var active bool
	err = s.txQueryRow(ctx, tx, sqlMemberRecipient, j.StaffID).Scan(&j.To, &j.FirstName, &j.Language, &active)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	return !active, err
}

func (sqliteEngine) claimWebhookDeliveries(ctx context.Context, tx *sql.Tx, now time.Time, lease time.Duration, limit int) ([]WebhookDelivery, error) {
	rows, err := tx.QueryContext(ctx, `
UPDATE webhook_deliveries SET status = 'running', attempts = attempts + 1, locked_until = $1, updated_at = $2
WHERE id IN (
	SELECT id FROM webhook_deliveries
	WHERE ((status = 'pending' AND next_attempt_at <= $2) OR (status = 'running' AND locked_until < $2))
		AND webhook_id IN (SELECT id FROM webhooks WHERE active AND deleted_at IS NULL)
	ORDER BY next_attempt_at LIMIT $3)
RETURNING id, webhook_id, event, payload, attempts, queued_at`, ts(now.Add(lease)), ts(now), limit)
	if err != nil {
		return nil, err
	}
	return scanClaimedDeliveries(rows)
}

// A search term of three or more characters is read straight off the trigram index when
// searchPage can; otherwise the generic query, told whether the term is common.
func (e sqliteEngine) listPage(ctx context.Context, s *Store, f query.Filter, after *query.Cursor, k int) ([]lead.Lead, error) {
	common := false
	if f.Query != "" {
		items, ok, err := e.searchPage(ctx, s.read, f, after, k)
		if err != nil || ok {
			return items, err
		}
		if common, err = e.commonTerm(ctx, s.read, f.Query); err != nil {
			return nil, err
		}
	}
	return s.listQuery(ctx, f, after, k, common)
}

// The one writer (BEGIN IMMEDIATE) already runs write transactions one at a time.
func (sqliteEngine) tryLock(context.Context, *sql.Tx, int64) (bool, error) { return true, nil }

// afterErasure checkpoints the write-ahead log and truncates it: until then the -wal file
// still holds the frames written before the erasure, the erased values in clear text
// (secure_delete zeroes what leaves the main file, not the log). The checkpoint waits
// (busy_timeout) for readers of older snapshots; one that outlasts the wait leaves the
// log to the next checkpoint, which overwrites it: the erasure, already committed, is
// not failed for that.
func (sqliteEngine) afterErasure(ctx context.Context, db *sql.DB) error {
	var busy, logFrames, checkpointed int
	return db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &checkpointed)
}

// Terms of three or more characters are an FTS5 trigram phrase (quoted, so nothing in q
// is query syntax), unless common: then, like shorter terms, which have no trigram to look
// up, they are a LIKE over the same document while walking the list newest first, stopped
// by the page's LIMIT. SQLite's LIKE folds only ASCII case, so every case variant of the
// other letters is tried (a handful at most), which keeps both engines' answers the same;
// a term with too many of them keeps the index, walking the list with its set of matches.
func (sqliteEngine) searchCond(q string, common bool, arg func(any) string) string {
	short := utf8.RuneCountInString(q) < 3
	variants := caseVariants(q)
	if (short || common) && variants != nil {
		var or []string
		for _, v := range variants {
			or = append(or, `(`+sqliteSearchDoc+`) LIKE `+
				arg("%"+escapeLike(v)+"%")+` ESCAPE '\'`)
		}
		return "(" + strings.Join(or, " OR ") + ")"
	}
	fts := `IN (SELECT ` + sqliteSearchKey + ` - rowid FROM leads_search WHERE leads_search MATCH ` + arg(ftsPhrase(q)) + `)`
	if common {
		return `+leads.rowid ` + fts // walk created_at, test membership
	}
	return `leads.rowid ` + fts // fetch the matches, sort them
}

// sqliteCommonMatches is where a term turns common: collecting and sorting this many rows
// costs about what walking the list to fill a page with them does at a million leads.
const sqliteCommonMatches = 2000

// The probe stops at sqliteCommonMatches: FTS5 evaluates a phrase lazily, in rowid order.
func (sqliteEngine) commonTerm(ctx context.Context, db *sql.DB, q string) (bool, error) {
	if utf8.RuneCountInString(q) < 3 {
		return true, nil
	}
	var n int
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM leads_search WHERE leads_search MATCH $1 LIMIT $2)`,
		ftsPhrase(q), sqliteCommonMatches).Scan(&n)
	return n >= sqliteCommonMatches, err
}

// A unary plus makes the column an expression, which SQLite will not look up in an index.
func (sqliteEngine) unindexed(col string) string { return "+" + col }

// sqliteSearchKey - leads.rowid is a lead's rowid in leads_search (00003_search.sql): the
// index's ascending order is newest first.
const sqliteSearchKey = "1099511627776"

// sqliteSearchDoc is the indexed document of a lead (00003_search.sql).
const sqliteSearchDoc = `first_name || ' ' || last_name || char(10) || email || char(10) || organization_name`

// sqliteMaxLate bounds the out-of-order leads that searchPage merges in one by one.
const sqliteMaxLate = 1000

// ftsPhrase quotes q as one FTS5 phrase: nothing in it is query syntax.
func ftsPhrase(q string) string { return `"` + strings.ReplaceAll(q, `"`, `""`) + `"` }

// searchPage reads a page of matches of a term of three or more characters straight off
// the trigram index, in its order, which is newest first for every lead not listed in
// leads_search_late, and stops as soon as the page is full (plus the rest of a run of equal
// created_at, which the id orders). Cost follows the matches read, not the matches there
// are. The late leads, few by construction, are tested one by one and merged in; with more
// than sqliteMaxLate of them it steps aside for the generic query.
func (d sqliteEngine) searchPage(ctx context.Context, db *sql.DB, f query.Filter, after *query.Cursor, k int) ([]lead.Lead, bool, error) {
	if utf8.RuneCountInString(f.Query) < 3 {
		return nil, false, nil
	}
	var late int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM leads_search_late LIMIT $1)`, sqliteMaxLate+1).Scan(&late); err != nil {
		return nil, false, err
	}
	if late > sqliteMaxLate {
		return nil, false, nil
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	g := f
	g.Query = ""
	where := filterSQL(d, g, false, arg)
	if after != nil {
		where = append(where, cursorSQL(after, arg))
	}
	phrase := arg(ftsPhrase(f.Query))
	lateArgs := args // the late query's; the walk's start is the walk's alone
	stream := append([]string{"leads_search MATCH " + phrase, "leads.rowid NOT IN (SELECT lead_rowid FROM leads_search_late)"}, where...)
	if after != nil {
		// start the walk at the oldest in-order lead newer than the cursor: every in-order
		// lead before it in the index is newer still
		var start int64
		err := db.QueryRowContext(ctx, `SELECT rowid FROM leads WHERE created_at > $1
			AND rowid NOT IN (SELECT lead_rowid FROM leads_search_late) ORDER BY created_at LIMIT 1`, ts(after.CreatedAt)).Scan(&start)
		switch {
		case err == nil:
			stream = append(stream, "leads_search.rowid > "+sqliteSearchKey+" - "+arg(start))
		case !errors.Is(err, sql.ErrNoRows):
			return nil, false, err
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT `+leadColumns+` FROM leads_search
		CROSS JOIN leads ON leads.rowid = `+sqliteSearchKey+` - leads_search.rowid
		WHERE `+strings.Join(stream, " AND ")+` ORDER BY leads_search.rowid`, args...)
	if err != nil {
		return nil, false, err
	}
	var items []lead.Lead
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			rows.Close()
			return nil, false, err
		}
		if len(items) >= k && l.CreatedAt.Before(items[k-1].CreatedAt) {
			break
		}
		items = append(items, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	if late > 0 {
		rows, err := db.QueryContext(ctx, `SELECT `+leadColumns+` FROM leads_search_late
			CROSS JOIN leads ON leads.rowid = leads_search_late.lead_rowid
			WHERE `+strings.Join(append(where, `EXISTS (SELECT 1 FROM leads_search WHERE leads_search MATCH `+phrase+`
				AND leads_search.rowid = `+sqliteSearchKey+` - leads.rowid)`), " AND "), lateArgs...)
		if err != nil {
			return nil, false, err
		}
		defer rows.Close()
		for rows.Next() {
			l, err := scanLead(rows)
			if err != nil {
				return nil, false, err
			}
			items = append(items, l)
		}
		if err := rows.Err(); err != nil {
			return nil, false, err
		}
	}
	slices.SortFunc(items, func(a, b lead.Lead) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return items[:min(k, len(items))], true, nil
}

// SQLite needs no row lock: a write transaction (BEGIN IMMEDIATE) holds the whole database.
func (sqliteEngine) forUpdate() string { return "" }
func (sqliteEngine) forShare() string  { return "" }

// The one writer serializes the rule's choices: no lock to take.
func (sqliteEngine) lockIfEligible(ctx context.Context, s *Store, tx *sql.Tx, now time.Time) (bool, error) {
	var ok bool
	err := s.txQueryRow(ctx, tx, sqlAnyEligible, ts(now)).Scan(&ok)
	return ok, err
}

func (sqliteEngine) lockAssignment(context.Context, *sql.Tx) error { return nil }

func (sqliteEngine) unpreparedArgs(args []any) []any { return args }
func (sqliteEngine) jsonText(col, key string) string {
	return "json_extract(" + col + ", '$." + key + "')"
}

// SQLite takes $N as a parameter *name*, looked up by a linear scan on parse and bind: a
// statement with 10,000 of them spends seconds there. Anonymous ? are numbered in order.
func (sqliteEngine) bulkParam(int) string { return "?" }

// modernc parses DATETIME columns itself, failing a layout or two on every value before it
// finds ours; as text, the store's scanner parses each once.
func (sqliteEngine) bulkTime(col string) string { return "CAST(" + col + " AS TEXT)" }

// The write pool is one connection. Its default 2 MB page cache makes every batch re-read
// and spill the pages of the random-key indexes (email, organization, search); 256 MB for
// the load cuts its CPU time by a third and more. Afterwards the trigram index is merged
// into one segment (FTS5 'optimize'), which halves the cost of long search terms (10 s at a
// million leads). No ANALYZE: a database that grew by real traffic has no statistics
// either, and the queries must be fast without them.
func (sqliteEngine) bulkBegin(ctx context.Context, db *sql.DB) (func(context.Context) error, error) {
	var prev int64
	if err := db.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&prev); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, `PRAGMA cache_size = -1048576`); err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		_, err := db.ExecContext(ctx, `INSERT INTO leads_search (leads_search) VALUES ('optimize')`)
		_, err2 := db.ExecContext(ctx, `PRAGMA cache_size = `+strconv.FormatInt(prev, 10))
		return errors.Join(err, err2)
	}, nil
}

// FTS5 writes its pending terms out as a new segment whenever a row arrives whose rowid is
// lower than the previous one, and our search rowids descend (2^40 - leads.rowid, see
// 00003_search.sql): the insert trigger makes a one-row segment per lead, and merging those
// was two thirds of a bulk load. So the trigger is dropped for the load (and created again
// from its own stored text); sqliteBulkIndexSearch indexes the new leads in one INSERT … SELECT
// in ascending search-rowid order. Autoindexes (UNIQUE and PRIMARY KEY constraints) have no
// SQL and stay. DDL is transactional in SQLite: a failure or a crash leaves the schema as
// it was.
func (sqliteEngine) bulkSchema(ctx context.Context, tx *sql.Tx, rebuild bool) ([]schemaObject, func() error, error) {
	// indexes sort before the trigger: created again first, the trigger's lookup has its index
	objects, err := querySchemaObjects(ctx, tx, `SELECT 'DROP ' || upper(type) || ' "' || name || '"', sql FROM sqlite_schema
		WHERE (type = 'trigger' AND name = 'leads_search_insert')
		   OR ($1 AND type = 'index' AND tbl_name IN ('leads', 'bookings', 'lead_events') AND sql IS NOT NULL)
		ORDER BY type, name`, rebuild)
	if err != nil {
		return nil, nil, err
	}
	indexSearch, err := sqliteBulkIndexSearch(ctx, tx)
	return objects, indexSearch, err
}

// sqliteBulkIndexSearch does, a batch at once, what the insert trigger does a row at a time: the
// FTS rows and the list of late arrivals. The load ends with an 'optimize' that merges the
// segments once, so FTS5 must not merge them on the way: automerge off, and crisis merges
// (of every 16 segments, by default) put off until FTS5's limit of 2,000: that rewrote each
// posting list twice more and was a third of the fill (15 s at a million leads).
func sqliteBulkIndexSearch(ctx context.Context, tx *sql.Tx) (func() error, error) {
	var lastRowid int64
	var newest sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT (SELECT COALESCE(MAX(rowid), 0) FROM leads), (SELECT MAX(created_at) FROM leads)`).
		Scan(&lastRowid, &newest)
	if err != nil {
		return nil, err
	}
	return func() error {
		for _, q := range []string{`INSERT INTO leads_search (leads_search, rank) VALUES ('automerge', 0)`,
			`INSERT INTO leads_search (leads_search, rank) VALUES ('crisismerge', 1999)`,
			`INSERT INTO leads_search (rowid, doc)
			SELECT ` + sqliteSearchKey + ` - rowid, ` + sqliteSearchDoc + ` FROM leads WHERE rowid > $1 ORDER BY rowid DESC`,
			`INSERT INTO leads_search (leads_search, rank) VALUES ('crisismerge', 16)`,
			`INSERT INTO leads_search (leads_search, rank) VALUES ('automerge', 4)`} {
			if _, err := tx.ExecContext(ctx, q, lastRowid); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO leads_search_late (lead_rowid)
			SELECT rowid FROM (SELECT rowid, created_at,
				MAX(created_at) OVER (ORDER BY rowid ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS newest_before
				FROM leads WHERE rowid > $1)
			WHERE created_at < $2 OR created_at < newest_before`, lastRowid, newest)
		return err
	}, nil
}

func (sqliteEngine) classify(err error) errClass {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return errOther
	}
	switch c := se.Code(); {
	case c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return errUnique
	case c == sqlite3.SQLITE_CONSTRAINT_TRIGGER:
		return errDeleteRefused
	case c&0xff == sqlite3.SQLITE_BUSY || c&0xff == sqlite3.SQLITE_LOCKED || c&0xff == sqlite3.SQLITE_CANTOPEN:
		return errUnavailable
	}
	return errOther
}

// caseVariants returns s with its non-ASCII letters in every case (SQLite's LIKE already
// folds ASCII), or nil when there would be more than 16.
func caseVariants(s string) []string {
	out := []string{""}
	for _, r := range s {
		forms := []rune{r}
		if r >= utf8.RuneSelf {
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				forms = append(forms, f)
			}
		}
		var next []string
		for _, prefix := range out {
			for _, f := range forms {
				next = append(next, prefix+string(f))
			}
		}
		if len(next) > 16 {
			return nil
		}
		out = next
	}
	return out
}
