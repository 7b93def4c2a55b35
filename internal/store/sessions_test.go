package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

func TestConsoleSessions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		_, tok, err := s.CreateToken(ctx, "sam", lead.RoleSales)
		if err != nil {
			t.Fatal(err)
		}
		unauthorized := func(t *testing.T, raw string) {
			t.Helper()
			if _, err := s.SessionFor(ctx, raw); lead.ErrorCode(err) != lead.CodeUnauthorized {
				t.Fatalf("SessionFor: want unauthorized, got %v", err)
			}
		}

		raw, sess, err := s.CreateSession(ctx, tok, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(raw, "lcs_") || len(raw) < 40 {
			t.Fatalf("raw session id %q is not a prefixed 256-bit value", raw)
		}
		t.Run("only the hash is stored", func(t *testing.T) {
			if n := count(t, s, `SELECT COUNT(*) FROM console_sessions WHERE session_hash = $1`, raw); n != 0 {
				t.Fatal("raw session id stored")
			}
			if n := count(t, s, `SELECT COUNT(*) FROM console_sessions WHERE session_hash = $1`, store.HashToken(raw)); n != 1 {
				t.Fatalf("hashed session rows = %d, want 1", n)
			}
		})
		t.Run("live session names its token", func(t *testing.T) {
			got, err := s.SessionFor(ctx, raw)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != sess.ID || got.Token.ID != tok.ID || got.Token.Name != "sam" || got.Token.Role != lead.RoleSales {
				t.Fatalf("got %+v", got)
			}
			if !got.ExpiresAt.Equal(t0.Add(time.Hour)) {
				t.Fatalf("expires %v", got.ExpiresAt)
			}
		})
		t.Run("unknown and malformed ids", func(t *testing.T) {
			unauthorized(t, "")
			unauthorized(t, "lcs_nope")
			unauthorized(t, raw+"x")
			unauthorized(t, strings.TrimPrefix(raw, "lcs_"))
		})
		t.Run("expiry", func(t *testing.T) {
			raw2, _, err := s.CreateSession(ctx, tok, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Minute)
			unauthorized(t, raw2)
			if _, err := s.SessionFor(ctx, raw); err != nil {
				t.Fatalf("the longer session died too: %v", err)
			}
			// the next sign-in purges what has died
			if _, _, err := s.CreateSession(ctx, tok, time.Hour); err != nil {
				t.Fatal(err)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM console_sessions WHERE session_hash = $1`, store.HashToken(raw2)); n != 0 {
				t.Fatal("expired session not purged")
			}
		})
		t.Run("sign out revokes, twice is fine", func(t *testing.T) {
			raw3, _, err := s.CreateSession(ctx, tok, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if err := s.RevokeSession(ctx, raw3); err != nil {
					t.Fatal(err)
				}
			}
			unauthorized(t, raw3)
			if _, err := s.SessionFor(ctx, raw); err != nil {
				t.Fatalf("another session died: %v", err)
			}
		})
		t.Run("revoking the token ends its sessions", func(t *testing.T) {
			if err := s.RevokeToken(ctx, "sam"); err != nil {
				t.Fatal(err)
			}
			unauthorized(t, raw)
		})
		t.Run("bad arguments", func(t *testing.T) {
			if _, _, err := s.CreateSession(ctx, store.Token{}, time.Hour); lead.ErrorCode(err) != lead.CodeInvalid {
				t.Fatalf("empty token: %v", err)
			}
			if _, _, err := s.CreateSession(ctx, tok, 0); lead.ErrorCode(err) != lead.CodeInvalid {
				t.Fatalf("zero ttl: %v", err)
			}
		})
	})
}
