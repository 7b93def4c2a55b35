// Package storetest opens fresh, migrated databases for tests: a new SQLite file or a new
// PostgreSQL database per call, dropped when the test ends.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
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
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		tb.Fatalf("create database: %v", err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
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

// MustOpen opens and migrates a store on url, closed at cleanup.
func MustOpen(tb testing.TB, url string, opts store.Options) *store.Store {
	tb.Helper()
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
