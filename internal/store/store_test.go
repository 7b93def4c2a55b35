package store_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func booking(email string) lead.Booking {
	return lead.Booking{FirstName: "Ada", LastName: "Lovelace", Email: email, EmailNormalized: lead.NormalizeEmail(email),
		OrganizationName: "Analytical Mentors", Message: "Hello"}
}

func params(b lead.Booking, ip string) store.BookingParams {
	return store.BookingParams{Booking: b, IP: ip, UserAgent: "test", ConsentVersion: "2026-01", RateLimit: 5, RateWindow: time.Hour}
}

func count(t *testing.T, s *store.Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestMigrationsShareOneHistory(t *testing.T) {
	versions := map[string][]string{}
	for _, engine := range []string{"postgres", "sqlite"} {
		entries, err := fs.ReadDir(store.Migrations(), "migrations/"+engine)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			versions[engine] = append(versions[engine], e.Name())
		}
	}
	if fmt.Sprint(versions["postgres"]) != fmt.Sprint(versions["sqlite"]) || len(versions["sqlite"]) == 0 {
		t.Fatalf("migration files differ: %v", versions)
	}
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		url := e.URL(t)
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, url, store.Options{Now: clock.Now})

		t.Run("migrate is idempotent and ready", func(t *testing.T) {
			n, err := s.Migrate(ctx)
			if err != nil || n != 0 {
				t.Fatalf("second migrate: n=%d err=%v", n, err)
			}
			if err := s.Ready(ctx); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("new booking creates lead, booking, event and email job", func(t *testing.T) {
			b := booking("new@example.org")
			b.Phone = "+4722334455"
			b.UTMCampaign = "spring"
			res, err := s.Book(ctx, params(b, "192.0.2.1"))
			if err != nil {
				t.Fatal(err)
			}
			if !res.NewLead || !res.EmailQueued || res.BookingID == "" {
				t.Fatalf("result %+v", res)
			}
			l, err := s.GetLead(ctx, res.LeadID)
			if err != nil {
				t.Fatal(err)
			}
			if l.Status != lead.StatusNew || l.Source != lead.SourceDemoBooking || !l.ConsentGiven ||
				l.ConsentTimestamp == nil || !l.ConsentTimestamp.Equal(t0) || !l.CreatedAt.Equal(t0) ||
				*l.Phone != "+4722334455" || *l.UTMCampaign != "spring" || *l.IPAddress != "192.0.2.1" || l.Notes != nil {
				t.Fatalf("lead %+v", l)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM lead_events WHERE lead_id = $1 AND type = 'created' AND actor = 'public'`, res.LeadID); n != 1 {
				t.Fatalf("created events = %d", n)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE lead_id = $1 AND booking_id = $2 AND status = 'pending'`, res.LeadID, res.BookingID); n != 1 {
				t.Fatalf("email jobs = %d", n)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM bookings WHERE id = $1 AND consent_version = '2026-01' AND user_agent = 'test'`, res.BookingID); n != 1 {
				t.Fatalf("bookings = %d", n)
			}
		})

		t.Run("known email links booking, fills empty fields, appends note, keeps values", func(t *testing.T) {
			first, err := s.Book(ctx, params(booking("Known@Example.org"), "192.0.2.2"))
			if err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Minute)
			b := booking("  known@EXAMPLE.org")
			b.FirstName = "Other"
			b.RoleTitle = "Director"
			b.Message = "Second message"
			second, err := s.Book(ctx, params(b, "192.0.2.3"))
			if err != nil {
				t.Fatal(err)
			}
			if second.NewLead || second.LeadID != first.LeadID || second.EmailQueued {
				t.Fatalf("second booking %+v (first %+v)", second, first)
			}
			l, _ := s.GetLead(ctx, first.LeadID)
			if l.FirstName != "Ada" || l.RoleTitle == nil || *l.RoleTitle != "Director" || !l.UpdatedAt.Equal(t0.Add(time.Minute)) ||
				l.Notes == nil || !strings.Contains(*l.Notes, "Second message") || !strings.Contains(*l.Notes, second.BookingID) {
				t.Fatalf("linked lead %+v", l)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM bookings WHERE lead_id = $1`, first.LeadID); n != 2 {
				t.Fatalf("bookings = %d", n)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM lead_events WHERE lead_id = $1 AND type = 'booking_linked'`, first.LeadID); n != 1 {
				t.Fatalf("booking_linked events = %d", n)
			}
			// a day later the lead gets a confirmation again
			clock.Advance(24 * time.Hour)
			third, err := s.Book(ctx, params(b, "192.0.2.4"))
			if err != nil || !third.EmailQueued {
				t.Fatalf("third booking %+v %v", third, err)
			}
		})

		t.Run("a booking's note joins the notes only while they stay within 100,000 characters", func(t *testing.T) {
			// the note line's length, learnt from a lead whose notes were empty
			again := booking("probe@example.org")
			again.Message = "Booked again"
			probe, _ := s.Book(ctx, params(booking("probe@example.org"), "192.0.2.30"))
			s.Book(ctx, params(again, "192.0.2.31"))
			pl, _ := s.GetLead(ctx, probe.LeadID)
			line := utf8.RuneCountInString(*pl.Notes)
			for i, c := range []struct {
				filler   int // characters already in the notes: 'ø', two bytes each, counted once
				appended bool
			}{
				{store.MaxNotesLength - 1 - line, true}, // exactly full afterwards
				{store.MaxNotesLength - line, false},    // one character too many
			} {
				email := fmt.Sprintf("full%d@example.org", i)
				first, err := s.Book(ctx, params(booking(email), fmt.Sprintf("192.0.2.%d", 40+2*i)))
				if err != nil {
					t.Fatal(err)
				}
				filler := strings.Repeat("ø", c.filler)
				if _, err := s.DB().Exec(`UPDATE leads SET notes = $1 WHERE id = $2`, filler, first.LeadID); err != nil {
					t.Fatal(err)
				}
				again.Email, again.EmailNormalized = email, email
				second, err := s.Book(ctx, params(again, fmt.Sprintf("192.0.2.%d", 41+2*i)))
				if err != nil || second.LeadID != first.LeadID {
					t.Fatalf("second booking %+v %v", second, err)
				}
				l, _ := s.GetLead(ctx, first.LeadID)
				got := utf8.RuneCountInString(*l.Notes)
				if c.appended && (got != store.MaxNotesLength || !strings.Contains(*l.Notes, second.BookingID)) ||
					!c.appended && *l.Notes != filler {
					t.Errorf("filler %d: notes of %d characters, appended %v", c.filler, got, strings.Contains(*l.Notes, second.BookingID))
				}
				if n := count(t, s, `SELECT COUNT(*) FROM bookings WHERE id = $1 AND message = 'Booked again'`, second.BookingID); n != 1 {
					t.Errorf("the booking row lost the message: %d", n)
				}
			}
		})

		t.Run("rate limit counts accepted bookings in the window", func(t *testing.T) {
			ip := "198.51.100.7"
			for i := range 5 {
				if _, err := s.Book(ctx, params(booking(fmt.Sprintf("rl%d@example.org", i)), ip)); err != nil {
					t.Fatal(err)
				}
				clock.Advance(time.Minute)
			}
			_, err := s.Book(ctx, params(booking("rl5@example.org"), ip))
			var de *lead.Error
			if !errors.As(err, &de) || de.Code != lead.CodeRateLimited || de.Rule != lead.RuleRateLimit {
				t.Fatalf("6th booking: %v", err)
			}
			// the first booking leaves the window 60 min after it was made: 55 min from now
			if de.RetryAfter != 55*time.Minute {
				t.Fatalf("RetryAfter = %v", de.RetryAfter)
			}
			clock.Advance(55 * time.Minute)
			if _, err := s.Book(ctx, params(booking("rl5@example.org"), ip)); err != nil {
				t.Fatalf("after the window: %v", err)
			}
		})

		t.Run("idempotency key replays the first answer and stores nothing new", func(t *testing.T) {
			p := params(booking("idem@example.org"), "192.0.2.50")
			p.IdempotencyKey = "k1"
			first, err := s.Book(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			second, err := s.Book(ctx, p)
			if err != nil || !second.Replayed || second.BookingID != first.BookingID {
				t.Fatalf("replay %+v %v", second, err)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM bookings WHERE ip_address = '192.0.2.50'`); n != 1 {
				t.Fatalf("bookings = %d", n)
			}
			// the IP's limit reached, a repeat is still answered as it was; a new one is refused
			for i := range 4 {
				q := params(booking(fmt.Sprintf("idem%d@example.org", i)), "192.0.2.50")
				if _, err := s.Book(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			if third, err := s.Book(ctx, p); err != nil || !third.Replayed {
				t.Fatalf("replay at the limit: %+v %v", third, err)
			}
			if _, err := s.Book(ctx, params(booking("idem9@example.org"), "192.0.2.50")); lead.ErrorCode(err) != lead.CodeRateLimited {
				t.Fatalf("sixth booking: %v", err)
			}
		})

		t.Run("hard delete is refused by the database", func(t *testing.T) {
			before := count(t, s, `SELECT COUNT(*) FROM leads`)
			_, err := s.DB().Exec(`DELETE FROM leads`)
			if err == nil {
				t.Fatal("DELETE FROM leads succeeded")
			}
			if after := count(t, s, `SELECT COUNT(*) FROM leads`); after != before || before == 0 {
				t.Fatalf("leads %d -> %d", before, after)
			}
		})

		t.Run("email jobs are claimed once, retried, completed", func(t *testing.T) {
			jobs, err := s.ClaimEmailJobs(ctx, 100, time.Minute)
			if err != nil || len(jobs) == 0 {
				t.Fatalf("claim: %v %v", jobs, err)
			}
			again, err := s.ClaimEmailJobs(ctx, 100, time.Minute)
			if err != nil || len(again) != 0 {
				t.Fatalf("claimed twice: %v %v", again, err)
			}
			j := jobs[0]
			if j.To == "" || j.FirstName != "Ada" || j.Attempts != 1 {
				t.Fatalf("job %+v", j)
			}
			retry := clock.Now().Add(time.Minute)
			if err := s.RetryEmailJob(ctx, j.ID, &retry, "smtp 451"); err != nil {
				t.Fatal(err)
			}
			for _, other := range jobs[1:] {
				if err := s.CompleteEmailJob(ctx, other.ID); err != nil {
					t.Fatal(err)
				}
			}
			if got, _ := s.ClaimEmailJobs(ctx, 100, time.Minute); len(got) != 0 {
				t.Fatalf("claimed before due: %v", got)
			}
			clock.Advance(time.Minute)
			got, err := s.ClaimEmailJobs(ctx, 100, time.Minute)
			if err != nil || len(got) != 1 || got[0].ID != j.ID || got[0].Attempts != 2 {
				t.Fatalf("retry claim: %+v %v", got, err)
			}
			// a worker that dies leaves its lease; it runs out and the job is due again
			clock.Advance(2 * time.Minute)
			got, err = s.ClaimEmailJobs(ctx, 100, time.Minute)
			if err != nil || len(got) != 1 || got[0].Attempts != 3 {
				t.Fatalf("expired lease claim: %+v %v", got, err)
			}
			if err := s.CompleteEmailJob(ctx, j.ID); err != nil {
				t.Fatal(err)
			}
			counts, _ := s.EmailJobCounts(ctx)
			if counts["pending"] != 0 || counts["running"] != 0 || counts["done"] == 0 {
				t.Fatalf("counts %v", counts)
			}
		})

		t.Run("concurrent bookings with one email make one lead and one email", func(t *testing.T) {
			const n = 20
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				wg.Go(func() {
					_, err := s.Book(ctx, params(booking("Race@Example.org"), fmt.Sprintf("203.0.113.%d", i+1)))
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if got := count(t, s, `SELECT COUNT(*) FROM leads WHERE email_normalized = 'race@example.org'`); got != 1 {
				t.Fatalf("leads = %d", got)
			}
			if got := count(t, s, `SELECT COUNT(*) FROM bookings WHERE email = 'Race@Example.org'`); got != n {
				t.Fatalf("bookings = %d", got)
			}
			if got := count(t, s, `SELECT COUNT(*) FROM email_jobs j JOIN leads l ON l.id = j.lead_id WHERE l.email_normalized = 'race@example.org'`); got != 1 {
				t.Fatalf("email jobs = %d", got)
			}
		})

		t.Run("concurrent bookings from one IP are limited exactly", func(t *testing.T) {
			const n = 50
			var wg sync.WaitGroup
			var mu sync.Mutex
			ok, limited := 0, 0
			for i := range n {
				wg.Go(func() {
					_, err := s.Book(ctx, params(booking(fmt.Sprintf("flood%d@example.org", i)), "198.51.100.99"))
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						ok++
					case lead.ErrorCode(err) == lead.CodeRateLimited:
						limited++
					default:
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if ok != 5 || limited != n-5 {
				t.Fatalf("accepted %d, limited %d", ok, limited)
			}
		})

		t.Run("unknown lead is ErrNotFound", func(t *testing.T) {
			for _, id := range []string{"0190a0e0-0000-7000-8000-000000000000", "not-a-uuid", ""} {
				if _, err := s.GetLead(ctx, id); !errors.Is(err, lead.ErrNotFound) {
					t.Fatalf("GetLead(%q) = %v", id, err)
				}
			}
		})
	})
}

func TestTokens(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		s := storetest.MustOpen(t, e.URL(t), store.Options{})
		raw, tok, err := s.CreateToken(ctx, "alice", lead.RoleSales)
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) < 40 || tok.Role != lead.RoleSales {
			t.Fatalf("token %q %+v", raw, tok)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM api_tokens WHERE token_hash = $1`, store.HashToken(raw)); n != 1 {
			t.Fatalf("hash rows = %d", n)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM api_tokens WHERE token_hash = $1 OR name = $1`, raw); n != 0 {
			t.Fatal("raw token stored")
		}
		got, err := s.Authenticate(ctx, raw)
		if err != nil || got.Name != "alice" || got.Role != lead.RoleSales {
			t.Fatalf("authenticate: %+v %v", got, err)
		}
		for _, bad := range []string{"", raw + "x", raw[:len(raw)-1], "lds_nope"} {
			if _, err := s.Authenticate(ctx, bad); lead.ErrorCode(err) != lead.CodeUnauthorized {
				t.Fatalf("Authenticate(%q) = %v", bad, err)
			}
		}
		if _, _, err := s.CreateToken(ctx, "alice", lead.RoleAdmin); lead.ErrorCode(err) != lead.CodeConflict {
			t.Fatalf("duplicate name: %v", err)
		}
		if _, _, err := s.CreateToken(ctx, "bob", "root"); lead.ErrorCode(err) != lead.CodeInvalid {
			t.Fatalf("bad role: %v", err)
		}
		if err := s.RevokeToken(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeToken(ctx, "alice"); !errors.Is(err, lead.ErrNotFound) {
			t.Fatalf("second revoke: %v", err)
		}
		if _, err := s.Authenticate(ctx, raw); lead.ErrorCode(err) != lead.CodeUnauthorized {
			t.Fatalf("revoked token accepted: %v", err)
		}
		if _, _, err := s.CreateToken(ctx, "alice", lead.RoleAdmin); err != nil {
			t.Fatalf("name reuse after revoke: %v", err)
		}
		list, err := s.ListTokens(ctx)
		if err != nil || len(list) != 2 || list[0].RevokedAt == nil || list[1].RevokedAt != nil {
			t.Fatalf("list %+v %v", list, err)
		}
	})
}
