package store_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

func TestSignInLinkRequests(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		kari := mustMember(t, s, "Kari Selger", "kari@norse.example", lead.RoleSales, 1)
		gone := mustMember(t, s, "Ola Borte", "ola@norse.example", lead.RoleSales, 1)
		if _, err := s.UpdateMember(ctx, gone.ID, lead.MemberInput{Active: ptr(false)}, lead.Actor{Name: "admin"}); err != nil {
			t.Fatal(err)
		}
		jobs := func(id string) int {
			return count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE kind = 'signin_link' AND staff_id = $1`, id)
		}

		for _, addr := range []string{"nobody@norse.example", "ola@norse.example", "", "not an address"} {
			got, err := s.RequestSignInLink(ctx, addr)
			if err != nil || got != store.SignInNoMember {
				t.Fatalf("%q: %v, %v; want no_member", addr, got, err)
			}
		}
		if n := count(t, s, `SELECT COUNT(*) FROM email_jobs`); n != 0 {
			t.Fatalf("%d jobs for unknown and inactive addresses", n)
		}

		// the address is matched like a lead's: case and spaces do not matter
		for i := range store.SignInLinksPerHour {
			got, err := s.RequestSignInLink(ctx, "  KARI@norse.example ")
			if err != nil || got != store.SignInLinkQueued {
				t.Fatalf("request %d: %v, %v", i+1, got, err)
			}
			clock.Advance(time.Minute)
		}
		if got, _ := s.RequestSignInLink(ctx, "kari@norse.example"); got != store.SignInRateLimited {
			t.Fatalf("6th request in the hour: %v", got)
		}
		if n := jobs(kari.ID); n != store.SignInLinksPerHour {
			t.Fatalf("%d jobs, want %d", n, store.SignInLinksPerHour)
		}
		// an hour after the first, one more is allowed
		clock.Advance(55*time.Minute + 30*time.Second) // t0+60m30s: the first has left the window
		if got, _ := s.RequestSignInLink(ctx, "kari@norse.example"); got != store.SignInLinkQueued {
			t.Fatalf("an hour later: %v", got)
		}
		if got, _ := s.RequestSignInLink(ctx, "kari@norse.example"); got != store.SignInRateLimited {
			t.Fatalf("then again: %v", got)
		}
	})
}

// The limit holds when many requests arrive at once: the count and the insert are one
// transaction on the member's row.
func TestSignInLinkLimitIsExactUnderConcurrency(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		s := storetest.MustOpen(t, e.URL(t), store.Options{})
		m := mustMember(t, s, "Kari Selger", "kari@norse.example", lead.RoleSales, 1)
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				if _, err := s.RequestSignInLink(t.Context(), "kari@norse.example"); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if n := count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE staff_id = $1`, m.ID); n != store.SignInLinksPerHour {
			t.Fatalf("%d jobs after 20 concurrent requests, want %d", n, store.SignInLinksPerHour)
		}
	})
}

func TestSignInLinks(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		kari := mustMember(t, s, "Kari Selger", "kari@norse.example", lead.RoleSales, 1)
		unauthorized := func(t *testing.T, err error) {
			t.Helper()
			if lead.ErrorCode(err) != lead.CodeUnauthorized {
				t.Fatalf("got %v, want unauthorized", err)
			}
		}

		t.Run("a link signs in once; looking at it does not spend it", func(t *testing.T) {
			raw, err := s.CreateSignInLink(ctx, kari.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(raw, "lsl_") || len(raw) < 4+43 {
				t.Fatalf("token %q: want lsl_ and 32 random bytes", raw)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM signin_links WHERE token_hash = $1`, store.HashToken(raw)); n != 1 {
				t.Fatalf("hash stored %d times", n)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM signin_links WHERE token_hash = $1`, raw); n != 0 {
				t.Fatal("the raw token is stored")
			}
			for range 3 {
				if err := s.CheckSignInLink(ctx, raw); err != nil {
					t.Fatalf("check: %v", err)
				}
			}
			m, err := s.UseSignInLink(ctx, raw)
			if err != nil || m.ID != kari.ID {
				t.Fatalf("use: %+v, %v", m, err)
			}
			_, err = s.UseSignInLink(ctx, raw)
			unauthorized(t, err)
			unauthorized(t, s.CheckSignInLink(ctx, raw))
		})
		t.Run("forged", func(t *testing.T) {
			for _, raw := range []string{"", "lsl_", "lsl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "lds_x", strings.Repeat("lsl_", 40)} {
				_, err := s.UseSignInLink(ctx, raw)
				unauthorized(t, err)
				unauthorized(t, s.CheckSignInLink(ctx, raw))
			}
		})
		t.Run("expired after 15 minutes", func(t *testing.T) {
			raw, err := s.CreateSignInLink(ctx, kari.ID)
			if err != nil {
				t.Fatal(err)
			}
			clock.Advance(store.SignInLinkTTL)
			unauthorized(t, s.CheckSignInLink(ctx, raw))
			_, err = s.UseSignInLink(ctx, raw)
			unauthorized(t, err)
			if n := count(t, s, `SELECT COUNT(*) FROM signin_links WHERE used_at IS NOT NULL AND token_hash = $1`, store.HashToken(raw)); n != 0 {
				t.Fatal("an expired link was marked used")
			}
		})
		t.Run("a deactivated member's link no longer works, and none is made for them", func(t *testing.T) {
			ola := mustMember(t, s, "Ola Borte", "ola@norse.example", lead.RoleSales, 1)
			raw, err := s.CreateSignInLink(ctx, ola.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.UpdateMember(ctx, ola.ID, lead.MemberInput{Active: ptr(false)}, lead.Actor{Name: "admin"}); err != nil {
				t.Fatal(err)
			}
			_, err = s.UseSignInLink(ctx, raw)
			unauthorized(t, err)
			if _, err := s.CreateSignInLink(ctx, ola.ID); err != lead.ErrNotFound {
				t.Fatalf("link for an inactive member: %v", err)
			}
			if _, err := s.ActiveMemberByEmail(ctx, "ola@norse.example"); err != lead.ErrNotFound {
				t.Fatalf("inactive member by email: %v", err)
			}
		})
		t.Run("of two concurrent uses exactly one signs in", func(t *testing.T) {
			raw, err := s.CreateSignInLink(ctx, kari.ID)
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			wins := 0
			for range 8 {
				wg.Go(func() {
					if _, err := s.UseSignInLink(ctx, raw); err == nil {
						mu.Lock()
						wins++
						mu.Unlock()
					} else if lead.ErrorCode(err) != lead.CodeUnauthorized {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if wins != 1 {
				t.Fatalf("%d uses signed in, want 1", wins)
			}
		})
	})
}
