// Package storetest opens fresh, migrated databases for tests: a new SQLite file or a new
// PostgreSQL database per call, dropped when the test ends.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for the admin connection
	"github.com/norsedigital/leads/internal/store"
)

// PostgresAdminURL is the server the tests create their databases on; override with
// LEADS_TEST_POSTGRES_URL.
func PostgresAdminURL() string {
	if u := os.Getenv("LEADS_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// Engine is a way to get a fresh database URL.
type Engine struct {
	Name string
	URL  func(tb testing.TB) string
}

// Engines lists SQLite and PostgreSQL: every storage behaviour runs against both.
func Engines() []Engine {
	return []Engine{{"sqlite", SQLiteURL}, {"postgres", PostgresURL}}
}

// Run runs fn as a subtest once per engine.
func Run(t *testing.T, fn func(t *testing.T, e Engine)) {
	for _, e := range Engines() {
		t.Run(e.Name, func(t *testing.T) { fn(t, e) })
	}
}

// SQLiteURL returns the URL of a new SQLite file in the test's temp dir.
func SQLiteURL(tb testing.TB) string {
	return "sqlite:" + filepath.Join(tb.TempDir(), "leads.db")
}

// PostgresURL creates a new empty PostgreSQL database, dropped at cleanup, and returns its
// URL. Without a reachable server it skips, except under CI=true, where it fails.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	admin, err := sql.Open("pgx", PostgresAdminURL())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = admin.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("PostgreSQL is required under CI=true but unreachable at %s: %v", PostgresAdminURL(), err)
		}
		tb.Skipf("PostgreSQL unreachable (%v); set LEADS_TEST_POSTGRES_URL or start it to run these tests", err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "leads_test_" + hex.EncodeToString(b[:])
	_, err = admin.Exec("CREATE DATABASE " + name)
	// the admin connection is not kept for the test's length: every test and helper on the
	// machine shares the server's max_connections
	admin.Close()
	if err != nil {
		tb.Fatalf("create database: %v", err)
	}
	tb.Cleanup(func() {
		admin, err := sql.Open("pgx", PostgresAdminURL())
		if err == nil {
			defer admin.Close()
			_, err = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		}
		if err != nil {
			tb.Logf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(PostgresAdminURL())
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// MaxConns is the PostgreSQL pool of a store opened by MustOpen without its own
// Options.MaxConns, and what a test should give each `leads serve` it starts
// (LEADS_DB_MAX_CONNS). Tests of several packages, each with a few stores or processes,
// run at once on one server of max_connections 100 (other tools use it too): bounded
// pools make requests queue for a connection instead of failing with 53300
// too_many_connections. 8 still runs 8 transactions at once on one store.
const MaxConns = 8

// MustOpen opens and migrates a store on url, closed at cleanup.
func MustOpen(tb testing.TB, url string, opts store.Options) *store.Store {
	tb.Helper()
	if opts.MaxConns == 0 {
		opts.MaxConns = MaxConns
	}
	ctx := context.Background()
	s, err := store.Open(ctx, url, opts)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return s
}

// MustOpenSQLite opens a migrated store on a fresh SQLite file.
func MustOpenSQLite(tb testing.TB, opts store.Options) *store.Store {
	return MustOpen(tb, SQLiteURL(tb), opts)
}

// MustOpenPostgres opens a migrated store on a fresh PostgreSQL database.
func MustOpenPostgres(tb testing.TB, opts store.Options) *store.Store {
	return MustOpen(tb, PostgresURL(tb), opts)
}

// Clock is a settable clock for tests; safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// LimitedPostgresURL returns url (a database of PostgresURL, already migrated) for a new
// role that may hold at most limit connections at once, with every right on the
// database's tables; the role is dropped at cleanup. One connection more is refused by
// the server with SQLSTATE 53300 too_many_connections, as when instances exhaust the
// server's max_connections (superusers, as the tests otherwise connect, are exempt).
func LimitedPostgresURL(tb testing.TB, dbURL string, limit int) string {
	tb.Helper()
	var b [6]byte
	rand.Read(b[:])
	role := "leads_limited_" + hex.EncodeToString(b[:])
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		fmt.Sprintf("CREATE ROLE %s LOGIN CONNECTION LIMIT %d", role, limit),
		"GRANT ALL ON ALL TABLES IN SCHEMA public TO " + role,
		"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO " + role,
	} {
		if _, err := db.Exec(q); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
	tb.Cleanup(func() {
		db, err := sql.Open("pgx", dbURL)
		if err == nil {
			defer db.Close()
			_, err = db.Exec("DROP OWNED BY " + role) // its rights in this database
		}
		if err == nil {
			_, err = db.Exec("DROP ROLE " + role)
		}
		if err != nil {
			tb.Logf("drop role %s: %v", role, err)
		}
	})
	u, err := url.Parse(dbURL)
	if err != nil {
		tb.Fatal(err)
	}
	u.User = url.User(role)
	return u.String()
}
