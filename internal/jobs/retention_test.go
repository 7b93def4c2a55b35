package jobs_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/jobs"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
	"github.com/norsedigital/leads/internal/webhook"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

const retention = 720 * time.Hour

func bookFrom(t *testing.T, s *store.Store, email, ip string) store.BookingResult {
	t.Helper()
	res, err := s.Book(context.Background(), store.BookingParams{
		Booking: lead.Booking{FirstName: "Ada", LastName: "Lovelace", Email: email, EmailNormalized: lead.NormalizeEmail(email),
			OrganizationName: "Analytical Mentors"},
		IP: ip, UserAgent: "test", ConsentVersion: "2026-01", RateLimit: 5, RateWindow: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// ipsLeft counts the addresses still stored on rows created before cutoff, and after it.
func ipsLeft(t *testing.T, s *store.Store, cutoff time.Time) (old, recent int) {
	t.Helper()
	for _, tbl := range []string{"leads", "bookings"} {
		var o, r int
		if err := s.DB().QueryRow(`SELECT
			COALESCE(SUM(CASE WHEN created_at < $1 THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN created_at >= $1 THEN 1 ELSE 0 END), 0)
			FROM `+tbl+` WHERE ip_address IS NOT NULL`, cutoff.Format("2006-01-02T15:04:05.000000Z")).Scan(&o, &r); err != nil {
			t.Fatal(err)
		}
		old, recent = old+o, recent+r
	}
	return old, recent
}

func TestRetentionClearsOldAddressesOnly(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})

		a := bookFrom(t, s, "a@example.org", "192.0.2.1")
		b := bookFrom(t, s, "b@example.org", "192.0.2.2")
		clock.Advance(29 * 24 * time.Hour)
		linked := bookFrom(t, s, "a@example.org", "192.0.2.3") // a recent booking of an old lead
		fresh := bookFrom(t, s, "c@example.org", "192.0.2.4")
		clock.Advance(24*time.Hour + time.Hour) // now a and b are 30 days and 1 hour old

		job := &jobs.RetentionJob{Store: s, Retention: retention, Batch: 1, Now: clock.Now}
		n, err := job.RunOnce(ctx)
		if err != nil || n != 4 {
			t.Fatalf("first round cleared %d (%v), want 4: two old leads and their two bookings", n, err)
		}
		for _, id := range []string{a.LeadID, b.LeadID} {
			if l, _ := s.GetLead(ctx, id); l.IPAddress != nil {
				t.Errorf("old lead %s keeps its address", id)
			}
		}
		if l, _ := s.GetLead(ctx, fresh.LeadID); l.IPAddress == nil || *l.IPAddress != "192.0.2.4" {
			t.Errorf("a recent lead lost its address")
		}
		bookings, _ := s.ListBookings(ctx, a.LeadID)
		for _, bk := range bookings {
			if kept := bk.IPAddress != nil; kept != (bk.ID == linked.BookingID) {
				t.Errorf("booking %s (recent: %v) address kept: %v", bk.ID, bk.ID == linked.BookingID, kept)
			}
		}
		if old, recent := ipsLeft(t, s, clock.Now().Add(-retention)); old != 0 || recent != 3 {
			t.Errorf("left: %d old, %d recent", old, recent)
		}
		if n, err := job.RunOnce(ctx); err != nil || n != 0 {
			t.Errorf("second round cleared %d (%v)", n, err)
		}

		// A month later the recent rows have aged out as well.
		clock.Advance(29 * 24 * time.Hour)
		if n, err := job.RunOnce(ctx); err != nil || n != 3 {
			t.Errorf("a month later cleared %d (%v), want 3", n, err)
		}
		if n, err := (&jobs.RetentionJob{Store: s, Now: clock.Now}).RunOnce(ctx); err != nil || n != 0 {
			t.Errorf("without a retention period nothing is cleared: %d %v", n, err)
		}
	})
}

func TestRetentionClearsWebhookPayloads(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		if _, _, err := s.CreateWebhook(ctx, "https://hooks.example/leads", webhook.Events); err != nil {
			t.Fatal(err)
		}
		bookFrom(t, s, "a@example.org", "192.0.2.123") // lead.created and booking.created payloads
		clock.Advance(retention + time.Hour)
		n, err := (&jobs.RetentionJob{Store: s, Retention: retention, Batch: 1, Now: clock.Now}).RunOnce(ctx)
		if err != nil || n != 4 {
			t.Fatalf("cleared %d (%v), want the lead, the booking and two payloads", n, err)
		}
		var left int
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM webhook_deliveries WHERE payload LIKE '%192.0.2.123%'`).Scan(&left); err != nil || left != 0 {
			t.Errorf("%d payloads keep the address (%v)", left, err)
		}
	})
}

func TestRetentionKeepsRateLimitWorking(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		for i := range 5 {
			bookFrom(t, s, fmt.Sprintf("p%d@example.org", i), "192.0.2.50")
		}
		// even the shortest sensible retention never reaches into the rate limit's hour
		job := &jobs.RetentionJob{Store: s, Retention: time.Hour, Now: clock.Now}
		clock.Advance(59 * time.Minute)
		if n, err := job.RunOnce(ctx); err != nil || n != 0 {
			t.Fatalf("cleared %d (%v) inside the hour", n, err)
		}
		_, err := s.Book(ctx, store.BookingParams{
			Booking: lead.Booking{FirstName: "Ada", LastName: "L", Email: "p9@example.org", EmailNormalized: "p9@example.org",
				OrganizationName: "X"},
			IP: "192.0.2.50", ConsentVersion: "2026-01", RateLimit: 5, RateWindow: time.Hour})
		if lead.ErrorCode(err) != lead.CodeRateLimited {
			t.Fatalf("6th booking within the hour: %v", err)
		}
	})
}

// Two instances (two Stores on one database) running rounds at the same time clear every
// old address exactly once between them.
func TestRetentionConcurrentInstances(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		clock := storetest.NewClock(t0)
		url := e.URL(t)
		s1 := storetest.MustOpen(t, url, store.Options{Now: clock.Now})
		s2 := storetest.MustOpen(t, url, store.Options{Now: clock.Now})
		const leads = 60
		for i := range leads {
			bookFrom(t, s1, fmt.Sprintf("p%d@example.org", i), fmt.Sprintf("198.51.100.%d", i))
		}
		clock.Advance(retention + time.Hour)

		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		var rounds []int
		for i := range 8 {
			s := []*store.Store{s1, s2}[i%2]
			wg.Go(func() {
				n, err := (&jobs.RetentionJob{Store: s, Retention: retention, Batch: 7, Now: clock.Now}).RunOnce(ctx)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total += n
				rounds = append(rounds, n)
				mu.Unlock()
			})
		}
		wg.Wait()
		if total != 2*leads {
			t.Errorf("rounds cleared %v, %d in total; want each of the %d addresses cleared once", rounds, total, 2*leads)
		}
		if old, _ := ipsLeft(t, s1, clock.Now().Add(-retention)); old != 0 {
			t.Errorf("%d old addresses left", old)
		}
		t.Logf("rounds cleared %v", rounds)
	})
}

func TestRetentionRunStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	clock := storetest.NewClock(t0)
	s := storetest.MustOpenSQLite(t, store.Options{Now: clock.Now})
	bookFrom(t, s, "a@example.org", "192.0.2.1")
	clock.Advance(retention + time.Hour)
	done := make(chan struct{})
	go func() {
		(&jobs.RetentionJob{Store: s, Retention: retention, Delay: time.Millisecond, Now: clock.Now}).Run(ctx)
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if old, _ := ipsLeft(t, s, clock.Now().Add(-retention)); old == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first round did not run shortly after start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// Held submissions (SPEC §15) are deleted after HeldRetention; younger ones stay.
func TestRetentionDeletesOldHeldBookings(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		hold := func(email string) string {
			id, err := s.HoldBooking(ctx, store.HeldParams{Booking: lead.Booking{FirstName: "Ada", LastName: "L", Email: email,
				EmailNormalized: email, OrganizationName: "Org"}, IP: "192.0.2.1", ConsentVersion: "2026-01", Reason: "pow_missing"})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		old := hold("old@example.org")
		clock.Advance(20 * 24 * time.Hour)
		young := hold("young@example.org")
		clock.Advance(10*24*time.Hour + time.Minute) // old is 30 days and a minute old
		j := &jobs.RetentionJob{Store: s, Retention: retention, HeldRetention: jobs.DefaultHeldRetention, Now: clock.Now}
		n, err := j.RunOnce(ctx)
		if err != nil || n < 1 {
			t.Fatalf("RunOnce: %d, %v", n, err)
		}
		if _, err := s.HeldBooking(ctx, old); err == nil {
			t.Fatal("the 30-day-old held booking is still there")
		}
		if _, err := s.HeldBooking(ctx, young); err != nil {
			t.Fatalf("the 10-day-old held booking went: %v", err)
		}
	})
}
