package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

func TestSpamKeyIsSharedByInstances(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		url := e.URL(t)
		a := storetest.MustOpen(t, url, store.Options{})
		b := storetest.MustOpen(t, url, store.Options{})
		var keys [2][]byte
		var wg sync.WaitGroup
		for i, s := range []*store.Store{a, b} {
			wg.Go(func() {
				k, err := s.SpamKey(t.Context())
				if err != nil {
					t.Error(err)
				}
				keys[i] = k
			})
		}
		wg.Wait()
		if len(keys[0]) != 32 || !bytes.Equal(keys[0], keys[1]) {
			t.Fatalf("keys %x and %x: want one 256-bit key", keys[0], keys[1])
		}
		again, _ := a.SpamKey(t.Context())
		if !bytes.Equal(again, keys[0]) {
			t.Fatal("the key changed")
		}
	})
}

// A challenge is used once, however many bookings (on however many instances) race for it.
func TestChallengeIsUsedOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		url := e.URL(t)
		a := storetest.MustOpen(t, url, store.Options{})
		b := storetest.MustOpen(t, url, store.Options{})
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Go(func() {
				p := params(booking("race"+string(rune('a'+i))+"@example.org"), "192.0.2."+string(rune('1'+i)))
				p.Challenge, p.ChallengeExpires = "c0ffee", time.Now().Add(20*time.Minute)
				_, errs[i] = s.Book(t.Context(), p)
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !store.IsChallengeUsed(err):
				t.Errorf("unexpected error %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d bookings accepted one challenge, want 1", ok)
		}
		if got := count(t, a, `SELECT COUNT(*) FROM leads`); got != 1 {
			t.Fatalf("%d leads; the refused bookings must leave nothing", got)
		}
	})
}

func TestHeldBookings(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		hold := func(email, ip, key string) (string, error) {
			return s.HoldBooking(ctx, store.HeldParams{Booking: booking(email), IP: ip, UserAgent: "Bot/1", ConsentVersion: "2026-01",
				Language: "en", Reason: "pow_missing", IdempotencyKey: key, RateLimit: 3, RateWindow: time.Hour})
		}
		first, err := hold("Held@Example.org", "192.0.2.1", "k1")
		if err != nil {
			t.Fatal(err)
		}
		t.Run("a repeated idempotency key keeps one row", func(t *testing.T) {
			again, err := hold("Held@Example.org", "192.0.2.1", "k1")
			if err != nil || again != first {
				t.Fatalf("repeat: %s, %v; want %s", again, err, first)
			}
		})
		t.Run("no lead, no email, no webhook", func(t *testing.T) {
			for _, q := range []string{`SELECT COUNT(*) FROM leads`, `SELECT COUNT(*) FROM bookings`, `SELECT COUNT(*) FROM email_jobs`,
				`SELECT COUNT(*) FROM webhook_deliveries`} {
				if n := count(t, s, q); n != 0 {
					t.Errorf("%s = %d", q, n)
				}
			}
		})
		t.Run("listed and read with what is needed to book it later", func(t *testing.T) {
			clock.Advance(time.Second)
			second, err := hold("other@example.org", "192.0.2.1", "")
			if err != nil {
				t.Fatal(err)
			}
			list, err := s.HeldBookings(ctx, 10)
			if err != nil || len(list) != 2 || list[0].ID != second || list[1].ID != first {
				t.Fatalf("list %+v, %v; want newest first", list, err)
			}
			h, err := s.HeldBooking(ctx, first)
			if err != nil || h.Booking.Email != "Held@Example.org" || h.IP != "192.0.2.1" || h.UserAgent != "Bot/1" ||
				h.ConsentVersion != "2026-01" || h.Language != "en" || h.Reason != "pow_missing" || !h.CreatedAt.Equal(t0) {
				t.Fatalf("held %+v, %v", h, err)
			}
		})
		t.Run("held submissions have their own per-IP limit", func(t *testing.T) {
			if _, err := hold("third@example.org", "192.0.2.1", ""); err != nil {
				t.Fatal(err)
			}
			if _, err := hold("fourth@example.org", "192.0.2.1", ""); lead.ErrorCode(err) != lead.CodeRateLimited {
				t.Fatalf("fourth in the hour: %v, want rate limited", err)
			}
			if _, err := hold("fourth@example.org", "192.0.2.2", ""); err != nil {
				t.Fatalf("another address: %v", err)
			}
		})
		t.Run("discard deletes it", func(t *testing.T) {
			id, _ := hold("discard@example.org", "192.0.2.3", "")
			if err := s.DiscardHeldBooking(ctx, id); err != nil {
				t.Fatal(err)
			}
			if err := s.DiscardHeldBooking(ctx, id); !errors.Is(err, lead.ErrNotFound) {
				t.Fatalf("second discard: %v", err)
			}
			if _, err := s.HeldBooking(ctx, "not-an-id"); !errors.Is(err, lead.ErrNotFound) {
				t.Fatalf("bad id: %v", err)
			}
		})
		t.Run("erasure by email deletes the address's held submissions", func(t *testing.T) {
			n, err := s.DeleteHeldByEmail(ctx, " HELD@example.org ")
			if err != nil || n != 1 {
				t.Fatalf("deleted %d, %v", n, err)
			}
			if _, err := s.HeldBooking(ctx, first); !errors.Is(err, lead.ErrNotFound) {
				t.Fatalf("still there: %v", err)
			}
		})
		t.Run("retention forgets expired challenges, clears addresses, deletes after the period", func(t *testing.T) {
			p := params(booking("used@example.org"), "192.0.2.9")
			p.Challenge, p.ChallengeExpires = "abc", clock.Now().Add(20*time.Minute)
			if _, err := s.Book(ctx, p); err != nil {
				t.Fatal(err)
			}
			before := count(t, s, `SELECT COUNT(*) FROM held_bookings`)
			r, err := s.DeleteExpiredSpam(ctx, clock.Now().Add(-30*24*time.Hour), time.Time{}, clock.Now())
			if err != nil || r.Held != 0 || r.Challenges != 0 || r.IPs != 0 {
				t.Fatalf("nothing is old yet: %+v, %v", r, err)
			}
			clock.Advance(8 * 24 * time.Hour)
			// a shorter --ip-retention (7 days) clears the addresses first
			r, err = s.DeleteExpiredSpam(ctx, clock.Now().Add(-30*24*time.Hour), clock.Now().Add(-7*24*time.Hour), clock.Now())
			if err != nil || r.Held != 0 || r.IPs != before || r.Challenges != 1 || count(t, s, `SELECT COUNT(*) FROM held_bookings WHERE ip_address IS NOT NULL`) != 0 {
				t.Fatalf("after 8 days with 7 days of IP retention: %+v, %v", r, err)
			}
			clock.Advance(23 * 24 * time.Hour)
			r, err = s.DeleteExpiredSpam(ctx, clock.Now().Add(-30*24*time.Hour), time.Time{}, clock.Now())
			if err != nil || r.Held != before || r.Challenges != 0 {
				t.Fatalf("after 31 days: %+v, %v; want %d held", r, err, before)
			}
		})
	})
}

// Releasing books the held submission and deletes it in one transaction: of two
// salespeople releasing it at once, exactly one books it.
func TestReleaseIsOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		s := storetest.MustOpen(t, e.URL(t), store.Options{})
		b := booking("release@example.org")
		id, err := s.HoldBooking(ctx, store.HeldParams{Booking: b, IP: "192.0.2.1", ConsentVersion: "2026-01", Reason: "pow_missing"})
		if err != nil {
			t.Fatal(err)
		}
		errs := make([]error, 4)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = s.Book(ctx, store.BookingParams{Booking: b, IP: "192.0.2.1", ConsentVersion: "2026-01", ReleaseHeldID: id})
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, lead.ErrNotFound):
				t.Errorf("unexpected %v", err)
			}
		}
		if ok != 1 || count(t, s, `SELECT COUNT(*) FROM bookings`) != 1 || count(t, s, `SELECT COUNT(*) FROM held_bookings`) != 0 {
			t.Fatalf("%d releases succeeded; bookings %d, held %d", ok, count(t, s, `SELECT COUNT(*) FROM bookings`),
				count(t, s, `SELECT COUNT(*) FROM held_bookings`))
		}
		if n := count(t, s, `SELECT COUNT(*) FROM email_jobs`); n != 1 {
			t.Fatalf("%d email jobs, want the confirmation", n)
		}
	})
}

func TestBlocklist(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		s := storetest.MustOpen(t, e.URL(t), store.Options{})
		em, err := s.AddBlock(ctx, "email", "spam@example.org")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddBlock(ctx, "email", "spam@example.org"); lead.ErrorCode(err) != lead.CodeConflict {
			t.Fatalf("duplicate: %v, want conflict", err)
		}
		dom, _ := s.AddBlock(ctx, "domain", "spam.example")
		ip, _ := s.AddBlock(ctx, "ip", "203.0.113.0/24")
		if _, err := s.DB().Exec(`INSERT INTO blocklist (id, kind, value, hits, created_at) VALUES ($1, 'phone', 'x', 0, $2)`,
			store.NewID(), "2026-01-01T00:00:00.000000Z"); err == nil {
			t.Fatal("the database took an unknown kind")
		}
		cands, err := s.BlockCandidates(ctx, "someone@example.org")
		if err != nil || len(cands) != 2 {
			t.Fatalf("candidates %+v, %v; want the domain and ip entries only", cands, err)
		}
		cands, _ = s.BlockCandidates(ctx, "spam@example.org")
		if len(cands) != 3 {
			t.Fatalf("candidates of the blocked address %+v", cands)
		}
		if err := s.CountBlockHit(ctx, dom.ID); err != nil {
			t.Fatal(err)
		}
		s.CountBlockHit(ctx, dom.ID)
		list, err := s.Blocklist(ctx)
		if err != nil || len(list) != 3 || list[0].ID != em.ID {
			t.Fatalf("list %+v, %v", list, err)
		}
		for _, x := range list {
			if x.ID == dom.ID && (x.Hits != 2 || x.LastHitAt == nil) {
				t.Fatalf("domain entry %+v: want 2 hits", x)
			}
		}
		if err := s.DeleteBlock(ctx, ip.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteBlock(ctx, ip.ID); !errors.Is(err, lead.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		if err := s.DeleteBlock(ctx, "nope"); !errors.Is(err, lead.ErrNotFound) {
			t.Fatalf("bad id: %v", err)
		}
	})
}

// Each store keeps a copy of the blocklist for the bookings' checks: its own changes apply
// to the next check, another instance's once BlocklistCacheTTL has passed; a list longer
// than the copy may hold is queried per check, and still answers exactly.
func TestBlocklistCopy(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		clock := storetest.NewClock(t0)
		url := e.URL(t)
		s := storetest.MustOpen(t, url, store.Options{Now: clock.Now})
		other := storetest.MustOpen(t, url, store.Options{Now: clock.Now})
		candidates := func(st *store.Store, email string) int {
			t.Helper()
			c, err := st.BlockCandidates(ctx, email)
			if err != nil {
				t.Fatal(err)
			}
			return len(c)
		}
		if n := candidates(s, "a@example.org"); n != 0 {
			t.Fatalf("%d candidates in an empty list", n)
		}
		own, err := s.AddBlock(ctx, "domain", "spam.example")
		if err != nil {
			t.Fatal(err)
		}
		if n := candidates(s, "a@example.org"); n != 1 {
			t.Fatalf("after its own change: %d candidates, want 1 at once", n)
		}
		if _, err := other.AddBlock(ctx, "email", "a@example.org"); err != nil {
			t.Fatal(err)
		}
		if n := candidates(s, "a@example.org"); n != 1 {
			t.Fatalf("another instance's entry counted before the copy's time ran out (%d): no copy is kept", n)
		}
		clock.Advance(store.BlocklistCacheTTL)
		if n := candidates(s, "a@example.org"); n != 2 {
			t.Fatalf("another instance's entry after %s: %d candidates, want 2", store.BlocklistCacheTTL, n)
		}
		if err := s.DeleteBlock(ctx, own.ID); err != nil {
			t.Fatal(err)
		}
		if n := candidates(s, "a@example.org"); n != 1 {
			t.Fatalf("after its own delete: %d candidates, want 1", n)
		}

		// a list too long to copy: every check asks the database
		for i := range 1000 {
			if _, err := other.AddBlock(ctx, "email", fmt.Sprintf("x%d@example.org", i)); err != nil {
				t.Fatal(err)
			}
		}
		clock.Advance(store.BlocklistCacheTTL)
		if n := candidates(s, "b@example.org"); n != 0 {
			t.Fatalf("%d candidates for an address on no list", n)
		}
		if _, err := other.AddBlock(ctx, "email", "b@example.org"); err != nil {
			t.Fatal(err)
		}
		if n := candidates(s, "b@example.org"); n != 1 || candidates(s, "x7@example.org") != 1 {
			t.Fatalf("a long list: %d candidates for a just-blocked address, want 1 at once", n)
		}
	})
}
