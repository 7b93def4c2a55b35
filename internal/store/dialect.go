package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
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
	// skipLocked is appended to the job-claim subquery.
	skipLocked() string
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
func (postgresDialect) skipLocked() string { return "FOR UPDATE SKIP LOCKED" }
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
		// class 08: connection exception; 57P: operator intervention (shutdown, restart)
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P")
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
		db, err := sql.Open("pgx", rawURL)
		if err != nil {
			return nil, nil, nil, err
		}
		db.SetMaxOpenConns(32)
		db.SetMaxIdleConns(32)
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
		for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(ON)"} {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		dsn := "file:" + path + "?" + q.Encode()
		write, err := sql.Open("sqlite", dsn)
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
