package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// A server that refuses one more connection (PostgreSQL 53300 too_many_connections, when
// instances and tools exhaust max_connections) makes the call unavailable — a 503 with
// Retry-After at the edge — that says why, never an internal error. SQLite has no
// connection limit.
func TestTooManyConnectionsIsUnavailable(t *testing.T) {
	ctx := context.Background()
	url := storetest.PostgresURL(t)
	storetest.MustOpen(t, url, store.Options{}) // migrated
	limited := storetest.LimitedPostgresURL(t, url, 1)
	s := storetest.MustOpen(t, limited, store.Options{MaxConns: 4})
	const id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
	if _, err := s.GetLead(ctx, id); err != lead.ErrNotFound {
		t.Fatalf("with a connection free: %v, want ErrNotFound", err)
	}
	held, err := s.DB().Conn(ctx) // the role's one connection
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.GetLead(ctx, id)
	de, ok := err.(*lead.Error)
	if !ok || de.Code != lead.CodeUnavailable || de.RetryAfter <= 0 || !strings.Contains(de.Message, "too many connections") {
		t.Fatalf("with the server's connections used up: %#v, want unavailable with RetryAfter naming too many connections", err)
	}
	held.Close()
	if _, err := s.GetLead(ctx, id); err != lead.ErrNotFound {
		t.Fatalf("once a connection is free again: %v, want ErrNotFound", err)
	}
}

// Options.MaxConns bounds the PostgreSQL pool; 0 is DefaultMaxConns.
func TestMaxConnsBoundsThePool(t *testing.T) {
	url := storetest.PostgresURL(t)
	for _, tc := range []struct{ opt, want int }{{0, store.DefaultMaxConns}, {3, 3}} {
		s, err := store.Open(context.Background(), url, store.Options{MaxConns: tc.opt})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.DB().Stats().MaxOpenConnections; got != tc.want {
			t.Errorf("MaxConns %d: pool of %d, want %d", tc.opt, got, tc.want)
		}
		s.Close()
	}
	if _, err := store.Open(context.Background(), url, store.Options{MaxConns: -1}); err == nil {
		t.Error("MaxConns -1 accepted")
	}
}
