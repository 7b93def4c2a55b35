package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/lead/query"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations
var migrations embed.FS

// dialect holds every difference between the two engines, so that the rest of the store is
// one set of SQL statements. Both engines accept $N placeholders, RETURNING and
// ON CONFLICT … WHERE for partial unique indexes.
type dialect interface {
	name() string
	gooseDialect() goose.Dialect
	migrations() fs.FS
	// lockIP serializes the bookings of one client IP inside tx, so that counting the
	// last hour and inserting are one atomic step (rate_limit_per_ip).
	lockIP(ctx context.Context, tx *sql.Tx, ip string) error
	// recentBookingsOfIP is the query ($1 the IP, $2 the start of the window) of the
	// creation times of the IP's bookings, oldest first, that also takes lockIP's lock.
	recentBookingsOfIP() string
	// skipLocked is appended to the job-claim subquery.
	skipLocked() string
	// tryLock takes the transaction-scoped lock named key without waiting and reports
	// whether it got it: work that must run in one instance at a time skips its round
	// when another instance holds it.
	tryLock(ctx context.Context, tx *sql.Tx, key int64) (bool, error)
	// afterErasure runs after a committed erasure, outside its transaction, so that the
	// erased values leave every file of the database (SQLite's write-ahead log).
	afterErasure(ctx context.Context, db *sql.DB) error
	// forUpdate is appended to a SELECT of a row the transaction is about to change, so
	// that a concurrent writer waits and then reads the committed result.
	forUpdate() string
	// searchCond is the condition of GET /api/v1/leads?q=: q (trimmed, not empty, no control
	// characters) occurs case-insensitively in the first and last name, email or organization
	// name. arg adds a query argument and returns its placeholder. common is commonTerm's
	// answer, or false when every match is wanted (the export). See 00003_search.sql.
	searchCond(q string, common bool, arg func(any) string) string
	// commonTerm reports whether q matches so many leads that a page is found faster by
	// walking the list newest first and testing each row than by collecting every match
	// from the index and sorting them.
	commonTerm(ctx context.Context, db *sql.DB, q string) (bool, error)
	// unindexed marks a column so that the engine does not pick an index on it: for filters
	// whose index would find rows out of created_at order.
	unindexed(col string) string
	// searchPage returns up to k leads matching f (f.Query set), newest first, after the
	// cursor, when the dialect has a way that beats the generic query; ok false when not.
	searchPage(ctx context.Context, db *sql.DB, f query.Filter, after *query.Cursor, k int) (items []lead.Lead, ok bool, err error)
	// unpreparedArgs prefixes the arguments of a statement that should not be prepared and
	// cached: list and search queries, whose best plan depends on the values (which status,
	// how rare the search term), and multi-row INSERTs, whose text varies with their size.
	unpreparedArgs(args []any) []any
	// jsonText extracts the text value of key from a JSON object stored as text in col.
	jsonText(col, key string) string
	// bulkParam is the placeholder of the n-th (1-based, in order) argument of a statement
	// with thousands of them (multi-row INSERTs).
	bulkParam(n int) string
	// bulkTime selects timestamp column col for reading many rows fast (the CSV export).
	bulkTime(col string) string
	// bulkLoad prepares db for a bulk load (Store.Generate); done undoes that and brings the
	// planner statistics up to date.
	bulkLoad(ctx context.Context, db *sql.DB) (done func(context.Context) error, err error)
	// bulkDroppable lists what a bulk load drops before inserting into the leads, bookings
	// and lead_events tables and creates again after: the secondary indexes when rebuild
	// (the load is at least as big as what the tables hold: a sorted build beats a million
	// random inserts), and what the engine's search index needs (see bulkIndexSearch).
	bulkDroppable(ctx context.Context, tx *sql.Tx, rebuild bool) ([]schemaObject, error)
	// bulkIndexSearch prepares to bring the search index up to date with the leads a bulk
	// load adds in tx; the function it returns does it after they are in.
	bulkIndexSearch(ctx context.Context, tx *sql.Tx) (func() error, error)
	// writableCTEs: the engine runs INSERTs inside WITH (PostgreSQL), so that several
	// writes of a transaction can share one round trip.
	writableCTEs() bool
	// groupCommit: bookings share transactions (Store.bookGrouped) because the engine has
	// one writer; elsewhere they run in parallel, each in its own.
	groupCommit() bool
	isUniqueViolation(err error) bool
	isUnavailable(err error) bool
	// isDeleteRefused recognizes the no-delete trigger of lead_soft_delete_only.
	isDeleteRefused(err error) bool
}

type postgresDialect struct{}

func (postgresDialect) name() string                { return "postgres" }
func (postgresDialect) gooseDialect() goose.Dialect { return goose.DialectPostgres }
func (postgresDialect) migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations/postgres")
	return sub
}
func (postgresDialect) lockIP(ctx context.Context, tx *sql.Tx, ip string) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 7236))`, ip)
	return err
}
func (postgresDialect) recentBookingsOfIP() string {
	return `SELECT lock_ip_recent_bookings($1, $2)` // 00007_lock_ip.sql
}
func (postgresDialect) afterErasure(context.Context, *sql.DB) error { return nil }
func (postgresDialect) skipLocked() string                          { return "FOR UPDATE SKIP LOCKED" }
func (postgresDialect) forUpdate() string                           { return "FOR UPDATE" }
func (postgresDialect) tryLock(ctx context.Context, tx *sql.Tx, key int64) (bool, error) {
	var ok bool
	err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1)`, key).Scan(&ok)
	return ok, err
}

// search_doc is the lower-cased document (00003_search.sql); its trigram GIN index answers
// LIKE and PostgreSQL rechecks every candidate row. lower() folds the term the same way.
func (postgresDialect) searchCond(q string, _ bool, arg func(any) string) string {
	return `search_doc LIKE lower(` + arg("%"+escapeLike(q)+"%") + `) ESCAPE '\'`
}

// pgx would otherwise prepare and cache each statement, and after a few runs PostgreSQL may
// switch to one generic plan for every value; executing unprepared plans each query for
// its own values (a rare search term uses the trigram index, a common one need not).
// PostgreSQL's planner weighs the trigram index against walking created_at with the
// statistics of the indexed expression, and the right plan follows.
func (postgresDialect) commonTerm(context.Context, *sql.DB, string) (bool, error) { return false, nil }
func (postgresDialect) unindexed(col string) string                               { return col }

// A GIN index cannot hand out rows in created_at order; the generic query it is.
func (postgresDialect) searchPage(context.Context, *sql.DB, query.Filter, *query.Cursor, int) ([]lead.Lead, bool, error) {
	return nil, false, nil
}
func (postgresDialect) unpreparedArgs(args []any) []any {
	return append([]any{pgx.QueryExecModeExec}, args...)
}
func (postgresDialect) jsonText(col, key string) string {
	return "(" + col + "::jsonb ->> '" + key + "')"
}
func (postgresDialect) bulkParam(n int) string     { return "$" + strconv.Itoa(n) }
func (postgresDialect) bulkTime(col string) string { return col } // binary timestamptz: nothing to parse

// Autovacuum would analyze the new rows soon anyway; doing it now gives the list and search
// queries their right plans (trigram index or not) from the first query on.
func (postgresDialect) bulkLoad(ctx context.Context, db *sql.DB) (func(context.Context) error, error) {
	return func(ctx context.Context) error {
		_, err := db.ExecContext(ctx, `ANALYZE leads, bookings, lead_events`)
		return err
	}, nil
}

// Constraint indexes (primary keys) stay; the trigram GIN index is one of the rebuilt.
func (postgresDialect) bulkDroppable(ctx context.Context, tx *sql.Tx, rebuild bool) ([]schemaObject, error) {
	if !rebuild {
		return nil, nil
	}
	if _, err := tx.ExecContext(ctx, `SET LOCAL maintenance_work_mem = '256MB'`); err != nil {
		return nil, err
	}
	return querySchemaObjects(ctx, tx, `SELECT 'DROP INDEX "' || indexname || '"', indexdef FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename IN ('leads', 'bookings', 'lead_events')
		  AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname`)
}

// The GIN index keeps up by itself (or is rebuilt).
func (postgresDialect) bulkIndexSearch(context.Context, *sql.Tx) (func() error, error) {
	return func() error { return nil }, nil
}

func (postgresDialect) writableCTEs() bool { return true }
func (postgresDialect) groupCommit() bool  { return false }
func (postgresDialect) isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}
func (postgresDialect) isDeleteRefused(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23001" // restrict_violation, raised by the trigger
}
func (postgresDialect) isUnavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// class 08: connection exception; 57P: operator intervention (shutdown, restart);
		// 53: insufficient resources (too many connections when instances share a server)
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P") || strings.HasPrefix(pe.Code, "53")
	}
	var ce *pgconn.ConnectError
	return errors.As(err, &ce) || errors.Is(err, sql.ErrConnDone) || pgconn.SafeToRetry(err) || pgconn.Timeout(err)
}

type sqliteDialect struct{}

func (sqliteDialect) name() string                { return "sqlite" }
func (sqliteDialect) gooseDialect() goose.Dialect { return goose.DialectSQLite3 }
func (sqliteDialect) migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations/sqlite")
	return sub
}

// SQLite transactions begin IMMEDIATE (see openSQLite): one writer at a time holds the
// database, which already serializes every IP.
func (sqliteDialect) lockIP(context.Context, *sql.Tx, string) error { return nil }
func (sqliteDialect) skipLocked() string                            { return "" }
func (sqliteDialect) recentBookingsOfIP() string                    { return sqlRecentBookingsOfIP }

// The one SQLite writer (BEGIN IMMEDIATE) already runs write transactions one at a time.
func (sqliteDialect) tryLock(context.Context, *sql.Tx, int64) (bool, error) { return true, nil }

// afterErasure checkpoints the write-ahead log and truncates it: until then the -wal file
// still holds the frames written before the erasure, the erased values in clear text
// (secure_delete zeroes what leaves the main file, not the log). The checkpoint waits
// (busy_timeout) for readers of older snapshots; one that outlasts the wait leaves the
// log to the next checkpoint, which overwrites it: the erasure, already committed, is
// not failed for that.
func (sqliteDialect) afterErasure(ctx context.Context, db *sql.DB) error {
	var busy, logFrames, checkpointed int
	return db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &checkpointed)
}

// SQLite needs no row lock: a write transaction (BEGIN IMMEDIATE) holds the whole database.
func (sqliteDialect) forUpdate() string { return "" }

// Terms of three or more characters are an FTS5 trigram phrase (quoted, so nothing in q
// is query syntax), unless common: then, like shorter terms, which have no trigram to look
// up, they are a LIKE over the same document while walking the list newest first, stopped
// by the page's LIMIT. SQLite's LIKE folds only ASCII case, so every case variant of the
// other letters is tried (a handful at most), which keeps both engines' answers the same;
// a term with too many of them keeps the index, walking the list with its set of matches.
func (sqliteDialect) searchCond(q string, common bool, arg func(any) string) string {
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
func (sqliteDialect) commonTerm(ctx context.Context, db *sql.DB, q string) (bool, error) {
	if utf8.RuneCountInString(q) < 3 {
		return true, nil
	}
	var n int
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM leads_search WHERE leads_search MATCH $1 LIMIT $2)`,
		ftsPhrase(q), sqliteCommonMatches).Scan(&n)
	return n >= sqliteCommonMatches, err
}

// A unary plus makes the column an expression, which SQLite will not look up in an index.
func (sqliteDialect) unindexed(col string) string { return "+" + col }

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
func (d sqliteDialect) searchPage(ctx context.Context, db *sql.DB, f query.Filter, after *query.Cursor, k int) ([]lead.Lead, bool, error) {
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
func (sqliteDialect) unpreparedArgs(args []any) []any { return args }
func (sqliteDialect) jsonText(col, key string) string {
	return "json_extract(" + col + ", '$." + key + "')"
}

// SQLite takes $N as a parameter *name*, looked up by a linear scan on parse and bind: a
// statement with 10,000 of them spends seconds there. Anonymous ? are numbered in order.
func (sqliteDialect) bulkParam(int) string { return "?" }

// modernc parses DATETIME columns itself, failing a layout or two on every value before it
// finds ours; as text, the store's scanner parses each once.
func (sqliteDialect) bulkTime(col string) string { return "CAST(" + col + " AS TEXT)" }

// The write pool is one connection. Its default 2 MB page cache makes every batch re-read
// and spill the pages of the random-key indexes (email, organization, search); 256 MB for
// the load cuts its CPU time by a third and more. Afterwards the trigram index is merged
// into one segment (FTS5 'optimize'), which halves the cost of long search terms (10 s at a
// million leads). No ANALYZE: a database that grew by real traffic has no statistics
// either, and the queries must be fast without them.
func (sqliteDialect) bulkLoad(ctx context.Context, db *sql.DB) (func(context.Context) error, error) {
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
// from its own stored text); bulkIndexSearch indexes the new leads in one INSERT … SELECT
// in ascending search-rowid order. Autoindexes (UNIQUE and PRIMARY KEY constraints) have no
// SQL and stay. DDL is transactional in SQLite: a failure or a crash leaves the schema as
// it was.
func (sqliteDialect) bulkDroppable(ctx context.Context, tx *sql.Tx, rebuild bool) ([]schemaObject, error) {
	// indexes sort before the trigger: created again first, the trigger's lookup has its index
	return querySchemaObjects(ctx, tx, `SELECT 'DROP ' || upper(type) || ' "' || name || '"', sql FROM sqlite_schema
		WHERE (type = 'trigger' AND name = 'leads_search_insert')
		   OR ($1 AND type = 'index' AND tbl_name IN ('leads', 'bookings', 'lead_events') AND sql IS NOT NULL)
		ORDER BY type, name`, rebuild)
}

// bulkIndexSearch does, a batch at once, what the insert trigger does a row at a time: the
// FTS rows and the list of late arrivals. The load ends with an 'optimize' that merges the
// segments once, so FTS5 must not merge them on the way: automerge off, and crisis merges
// (of every 16 segments, by default) put off until FTS5's limit of 2,000: that rewrote each
// posting list twice more and was a third of the fill (15 s at a million leads).
func (sqliteDialect) bulkIndexSearch(ctx context.Context, tx *sql.Tx) (func() error, error) {
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

func (sqliteDialect) writableCTEs() bool { return false }
func (sqliteDialect) groupCommit() bool  { return true }
func (sqliteDialect) isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	c := se.Code()
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}
func (sqliteDialect) isDeleteRefused(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_TRIGGER
}
func (sqliteDialect) isUnavailable(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	c := se.Code() & 0xff
	return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED || c == sqlite3.SQLITE_CANTOPEN
}

// openDB opens the write pool and the read pool for a database URL:
// "sqlite:path" (or "sqlite://path", "file:path") or "postgres://…" / "postgresql://…".
func openDB(rawURL string) (d dialect, write, read *sql.DB, err error) {
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
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
		// several instances share one server (max_connections 100 by default); 2 cores here
		// gain nothing from more concurrent transactions than this
		db.SetMaxOpenConns(24)
		db.SetMaxIdleConns(24)
		return postgresDialect{}, db, db, nil
	case strings.HasPrefix(rawURL, "sqlite:"), strings.HasPrefix(rawURL, "file:"):
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
		// per booking, freed at RELEASE. And a page cache of 16 MB instead of SQLite's 2 MB
		// keeps the hot index pages of the random-key indexes (email, organization, search)
		// instead of re-reading them from the WAL. The readers keep the defaults: a big
		// sort of theirs (an export) spills to disk instead of growing the RSS.
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
		read.SetMaxOpenConns(8)
		return sqliteDialect{}, write, read, nil
	default:
		return nil, nil, nil, fmt.Errorf("database URL must start with sqlite: or postgres://")
	}
}
