// Package store is the one storage layer of the service, over SQLite or PostgreSQL. It owns
// every transaction, so the rules that must not be bypassed (email dedup, no delete, exact
// per-IP rate limit, email enqueued with its booking) hold whoever calls it.
package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/norsedigital/leads/internal/calendar"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/pressly/goose/v3"
)

// Store is safe for concurrent use. Two Stores may share one database.
type Store struct {
	e     engine
	write *sql.DB // transactions and writes (one connection on SQLite)
	read  *sql.DB // reads outside transactions
	now   func() time.Time
	// jobsReady wakes the local email worker right after a commit that enqueued a job;
	// other instances find it on their next poll.
	jobsReady chan struct{}
	// stmts caches statements prepared on the SQLite write connection (see txExec).
	stmts sync.Map // query → *sql.Stmt, prepared by the engine
	// readStmts caches statements prepared on the SQLite read pool (see readQuery).
	readStmts sync.Map // query → *sql.Stmt
	group     groupCommit
	marks     doneMarks  // PostgreSQL's email "done" marks (donemarks.go)
	blocks    blockCache // the blocklist, for every booking's check (spam.go)
	// failBooking, set by tests only (export_test.go), fails the bookings it returns an
	// error for after their writes, to prove what a failed booking leaves behind.
	failBooking func(BookingParams) error
	team        teamOptions // the team's rules (assign.go)
}

// Options tune a Store; the zero value is usable.
type Options struct {
	// Now is the clock; time.Now when nil. Tests inject their own.
	Now func() time.Time
	// MaxConns bounds the PostgreSQL connection pool (DefaultMaxConns when 0). Every
	// instance and tool on one server shares its max_connections; a request that finds
	// the pool full waits for a connection instead of opening one more. SQLite ignores it.
	MaxConns int
	// Calendar and ContactSLA make a new lead's contact_due_at (SPEC §11): ContactSLA
	// working days after its creation in Calendar's zone. A nil Calendar is Europe/Oslo's
	// (UTC when the zone database lacks it); ContactSLA below 0 counts as 0.
	Calendar   *calendar.Calendar
	ContactSLA int
	// DefaultOwner is the email of the member who gets a new lead when nobody is eligible
	// under lead_owner_assignment ("" or not an active member: no owner).
	DefaultOwner string
}

// DefaultMaxConns is the PostgreSQL pool size when Options.MaxConns is 0: 2 cores gain
// nothing from more concurrent transactions, and three instances (72) stay within
// PostgreSQL's default max_connections of 100 with room for tools and migrations.
const DefaultMaxConns = 24

// Open connects to the database named by rawURL (sqlite:path or postgres://…) and checks
// that it answers. It does not migrate: call Migrate.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	if opts.MaxConns < 0 {
		return nil, fmt.Errorf("store: MaxConns %d: want 0 (the default) or more", opts.MaxConns)
	}
	e, write, read, err := openDB(rawURL)
	if err != nil {
		return nil, err
	}
	s := &Store{e: e, write: write, read: read, now: opts.Now, jobsReady: make(chan struct{}, 1),
		team: newTeamOptions(opts)}
	if e.name() == "postgres" { // SQLite: one writer, and a read pool of its own size
		n := cmp.Or(opts.MaxConns, DefaultMaxConns)
		write.SetMaxOpenConns(n)
		write.SetMaxIdleConns(n)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := write.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open %s database: %w", e.name(), err)
	}
	return s, nil
}

// Close closes the connection pools, after the writes waiting for a shared commit on
// SQLite (inGroupTx) have committed or failed: none accepted before Close is dropped, and
// any arriving later is refused. Close the store only after its users have stopped.
func (s *Store) Close() error {
	s.flushGroups()
	s.stmts.Range(func(_, st any) bool { st.(*sql.Stmt).Close(); return true })
	s.readStmts.Range(func(_, st any) bool { st.(*sql.Stmt).Close(); return true })
	err := s.write.Close()
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}

// Now is the store's clock: the time every row it writes is stamped with.
func (s *Store) Now() time.Time { return s.now() }

// Engine names the database engine: "sqlite" or "postgres".
func (s *Store) Engine() string { return s.e.name() }

// DB exposes the write pool for tests and benchmarks that need raw SQL (baselines,
// checking triggers). Application code never uses it.
func (s *Store) DB() *sql.DB { return s.write }

// JobsReady is signalled after a commit that enqueued work for the email worker.
func (s *Store) JobsReady() <-chan struct{} { return s.jobsReady }

func (s *Store) notifyJobs() {
	select {
	case s.jobsReady <- struct{}{}:
	default:
	}
}

func (s *Store) provider() (*goose.Provider, error) { return s.e.migrator(s.write) }

// Migrate applies every pending migration and returns how many ran.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	p, err := s.provider()
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrate: %w", err)
	}
	return len(res), s.e.afterMigrate(ctx, s)
}

// Ready reports nil when the database answers and has no pending migration.
func (s *Store) Ready(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return s.mapErr(err)
	}
	p, err := s.provider()
	if err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return s.mapErr(err)
	}
	if pending {
		return lead.Errorf(lead.CodeUnavailable, "database has pending migrations")
	}
	return nil
}

// inTx runs fn in one transaction (BEGIN IMMEDIATE on SQLite) and commits when fn
// returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return s.mapErr(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return s.mapErr(err)
	}
	return s.mapErr(tx.Commit())
}

// txExec and txQueryRow run hot-path statements: with the statement prepared by the
// engine's afterMigrate (SQLite, on its single write connection) when there is one, plain
// otherwise (pgx caches prepared statements by itself).
func (s *Store) txExec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	st, err := s.prepared(ctx, query)
	if err != nil || st == nil {
		if err != nil {
			return nil, err
		}
		return tx.ExecContext(ctx, query, args...)
	}
	return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
}

func (s *Store) txQueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	st, err := s.prepared(ctx, query)
	if err != nil || st == nil {
		return tx.QueryRowContext(ctx, query, args...)
	}
	return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
}

func (s *Store) txQuery(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	st, err := s.prepared(ctx, query)
	if err != nil || st == nil {
		if err != nil {
			return nil, err
		}
		return tx.QueryContext(ctx, query, args...)
	}
	return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
}

// readQuery runs a hot-path read outside a transaction: prepared on the read pool by the
// engine's afterMigrate when it is one of its hot reads (SQLite), plain otherwise.
func (s *Store) readQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, ok := s.readStmts.Load(query); ok {
		return st.(*sql.Stmt).QueryContext(ctx, args...)
	}
	return s.read.QueryContext(ctx, query, args...)
}

func (s *Store) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	// Never prepared here: inside a transaction the one SQLite write connection is taken,
	// and preparing on the pool would wait for it forever. afterMigrate fills the cache.
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	return nil, nil
}

// UnavailableRetryAfter is the Retry-After of an answer the database could not give
// (503): long enough for a restart or a burst of connections elsewhere to pass.
const UnavailableRetryAfter = 2 * time.Second

// mapErr turns driver failures that a client can act on into domain errors; everything
// else passes through unchanged and becomes a logged internal error at the edge.
func (s *Store) mapErr(err error) error {
	if err == nil || lead.ErrorCode(err) != "" {
		return err
	}
	class := s.e.classify(err)
	if class == errTooManyConns {
		return &lead.Error{Code: lead.CodeUnavailable, RetryAfter: UnavailableRetryAfter,
			Message: "the database server has too many connections, try again shortly"}
	}
	if errors.Is(err, context.DeadlineExceeded) || class == errUnavailable {
		return &lead.Error{Code: lead.CodeUnavailable, RetryAfter: UnavailableRetryAfter,
			Message: "the database is unavailable, try again shortly"}
	}
	if class == errDeleteRefused {
		return &lead.Error{Code: lead.CodeNotAllowed, Rule: lead.RuleSoftDeleteOnly, Message: "leads are never deleted"}
	}
	return err
}

// isUnique reports whether err is a unique index's refusal.
func (s *Store) isUnique(err error) bool { return err != nil && s.e.classify(err) == errUnique }

// tsLayout is fixed-width so that SQLite's text timestamps sort in time order.
const tsLayout = "2006-01-02T15:04:05.000000Z"

func ts(t time.Time) string { return t.UTC().Format(tsLayout) }

// parseTS reads what ts writes, without time.Parse's general layout machinery (a tenth of
// the CPU of a SQLite CSV export). ok is false for anything else, valid or not.
func parseTS(s string) (t time.Time, ok bool) {
	if len(s) != len(tsLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[26] != 'Z' {
		return time.Time{}, false
	}
	num := func(from, to int) int {
		n := 0
		for i := from; i < to; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	y, mo, d, h, mi, sec, us := num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19), num(20, 26)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 || us < 0 {
		return time.Time{}, false
	}
	t = time.Date(y, time.Month(mo), d, h, mi, sec, us*1000, time.UTC)
	return t, t.Day() == d // 31 February is not the 3rd of March
}

func tsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

// newID returns a UUIDv7: time-ordered keys index well.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// NewID is a new UUIDv7, as the store names its rows; for tests and tools that write rows.
func NewID() string { return newID() }

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// oneAffected is the outcome of a statement that must change a row: err, else none when it
// changed nothing.
func oneAffected(res sql.Result, err error, none error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return none
	}
	return nil
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func strPtr(ns sql.NullString) *string {
	if !ns.Valid {
		return nil
	}
	v := ns.String
	return &v
}

func timePtr(nt nullTime) *time.Time {
	if !nt.Valid {
		return nil
	}
	v := nt.Time
	return &v
}

// dbTime scans a timestamp from either engine: PostgreSQL and SQLite's DATETIME columns
// arrive as time.Time, SQLite expressions (aggregates, RETURNING) as text in tsLayout.
type dbTime time.Time

func (t *dbTime) Scan(v any) error {
	var nt nullTime
	if err := nt.Scan(v); err != nil {
		return err
	}
	if !nt.Valid {
		return fmt.Errorf("scan time: NULL")
	}
	*t = dbTime(nt.Time)
	return nil
}

// nullTime is dbTime that may be NULL.
type nullTime struct {
	Time  time.Time
	Valid bool
}

func (t *nullTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*t = nullTime{}
		return nil
	case time.Time:
		*t = nullTime{Time: x.UTC(), Valid: true}
		return nil
	case string:
		return t.parse(x)
	case []byte:
		return t.parse(string(x))
	}
	return fmt.Errorf("scan time: unsupported %T", v)
}

func (t *nullTime) parse(s string) error {
	if v, ok := parseTS(s); ok {
		*t = nullTime{Time: v, Valid: true}
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05"} {
		if v, err := time.Parse(layout, s); err == nil {
			*t = nullTime{Time: v.UTC(), Valid: true}
			return nil
		}
	}
	return fmt.Errorf("scan time: unrecognized format")
}

// validID guards uuid columns: PostgreSQL rejects a malformed uuid with an error, SQLite
// would just find nothing; both should mean "not found".
func validID(id string) bool {
	_, err := uuid.Parse(id)
	return err == nil && len(id) == 36
}

// Migrations exposes the embedded migration files (one folder per engine, one history).
func Migrations() fs.FS { return migrations }
