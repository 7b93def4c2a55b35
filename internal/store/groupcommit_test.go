package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/lead/query"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

var errBroken = errors.New("the booking failed after its writes")

// Bookings that arrive together share a transaction on SQLite, and every per-booking rule
// still holds inside it: a refused booking (rate limit) rolls back only itself, dedup and
// the limit see the bookings before them in the same group, and every accepted booking is
// stored with its lead, event and email job. On PostgreSQL the same load runs one
// transaction per booking; the outcome must be identical.
func TestBookingsCommittedTogether(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		store.FailBookingsAfterWrites(s, func(p store.BookingParams) error {
			if strings.HasPrefix(p.IdempotencyKey, "key-") {
				return errBroken
			}
			return nil
		})

		const flood, others, sameEmail, broken = 40, 40, 20, 10
		type outcome struct {
			kind string
			res  store.BookingResult
			err  error
		}
		out := make(chan outcome, flood+others+sameEmail+broken)
		var start, wg sync.WaitGroup
		start.Add(1)
		book := func(kind string, p store.BookingParams) {
			defer wg.Done()
			start.Wait()
			res, err := s.Book(ctx, p)
			out <- outcome{kind, res, err}
		}
		for i := range flood { // one IP: 5 accepted, the rest refused
			wg.Add(1)
			go book("flood", params(booking(fmt.Sprintf("flood%d@example.org", i)), "203.0.113.1"))
		}
		for i := range others { // each from its own IP: all accepted
			wg.Add(1)
			go book("other", params(booking(fmt.Sprintf("other%d@example.org", i)), fmt.Sprintf("198.51.100.%d", i+1)))
		}
		for i := range sameEmail { // one email from many IPs: one lead, one email
			wg.Add(1)
			go book("same", params(booking("Same@Example.org"), fmt.Sprintf("192.0.2.%d", i+1)))
		}
		for i := range broken { // fails after its writes: they must all roll back, alone
			p := params(booking(fmt.Sprintf("broken%d@example.org", i)), fmt.Sprintf("198.51.100.%d", 100+i))
			p.IdempotencyKey = fmt.Sprintf("key-%d", i)
			wg.Add(1)
			go book("broken", p)
		}
		start.Done()
		wg.Wait()
		close(out)

		accepted := map[string]int{}
		emails := 0
		bookingIDs := map[string]bool{}
		for o := range out {
			switch {
			case o.err == nil:
				accepted[o.kind]++
				bookingIDs[o.res.BookingID] = true
				if o.res.EmailQueued {
					emails++
				}
			case lead.ErrorCode(o.err) == lead.CodeRateLimited && o.kind == "flood":
			case errors.Is(o.err, errBroken) && o.kind == "broken":
			default:
				t.Errorf("%s booking: %v", o.kind, o.err)
			}
		}
		if accepted["flood"] != 5 || accepted["other"] != others || accepted["same"] != sameEmail {
			t.Errorf("accepted %v, want flood 5, other %d, same %d", accepted, others, sameEmail)
		}
		total := 5 + others + sameEmail
		if got := count(t, s, `SELECT COUNT(*) FROM bookings`); got != total || len(bookingIDs) != total {
			t.Errorf("%d bookings stored, %d distinct ids answered, want %d", got, len(bookingIDs), total)
		}
		if got := count(t, s, `SELECT COUNT(*) FROM leads`); got != 5+others+1 {
			t.Errorf("%d leads, want %d", got, 5+others+1)
		}
		if got := count(t, s, `SELECT COUNT(*) FROM leads WHERE email LIKE 'broken%'`) +
			count(t, s, `SELECT COUNT(*) FROM idempotency_keys`); got != 0 {
			t.Errorf("%d rows left by bookings that failed", got)
		}
		if got := count(t, s, `SELECT COUNT(*) FROM bookings WHERE ip_address = '203.0.113.1'`); got != 5 {
			t.Errorf("%d bookings stored from the flooding IP", got)
		}
		if got := count(t, s, `SELECT COUNT(*) FROM email_jobs`); got != emails || emails != 5+others+1 {
			t.Errorf("%d email jobs, %d answered as queued, want %d", got, emails, 5+others+1)
		}
		// nothing of a refused booking is left: every lead has its created event, every
		// booking its event
		if got := count(t, s, `SELECT COUNT(*) FROM leads WHERE NOT EXISTS
			(SELECT 1 FROM lead_events WHERE lead_id = leads.id AND type = 'created')`); got != 0 {
			t.Errorf("%d leads without their created event", got)
		}
		if got := count(t, s, `SELECT COUNT(*) FROM lead_events WHERE type IN ('created', 'booking_linked')`); got != total {
			t.Errorf("%d booking events, want %d", got, total)
		}
		if e.Name == "sqlite" {
			groups, writes := store.GroupCommits(s)
			if writes != flood+others+sameEmail+broken || groups >= writes {
				t.Errorf("%d writes in %d transactions: nothing was committed together", writes, groups)
			}
			t.Logf("%d bookings in %d transactions", writes, groups)
		}
	})
}

// A booking whose caller has gone before its turn is not stored.
func TestBookingCancelledBeforeItsTurn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		s := storetest.MustOpen(t, e.URL(t), store.Options{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := s.Book(ctx, params(booking("gone@example.org"), "203.0.113.7")); err == nil {
			t.Fatal("a cancelled booking was accepted")
		}
		if got := count(t, s, `SELECT COUNT(*) FROM leads`); got != 0 {
			t.Errorf("%d leads stored", got)
		}
	})
}

// A job whose lead was erased between the erasure's own cancel and the claim (the erasure
// cancels what is queued; this is the race it leaves) is cancelled by the claim, not sent.
func TestClaimCancelsTheJobOfAnErasedLead(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		s := storetest.MustOpen(t, e.URL(t), store.Options{})
		res, err := s.Book(ctx, params(booking("erased@example.org"), "203.0.113.8"))
		if err != nil || !res.EmailQueued {
			t.Fatalf("book: %+v %v", res, err)
		}
		if _, err := s.Book(ctx, params(booking("kept@example.org"), "203.0.113.8")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().Exec(`UPDATE leads SET anonymized_at = updated_at WHERE id = $1`, res.LeadID); err != nil {
			t.Fatal(err)
		}
		jobs, err := s.ClaimEmailJobs(ctx, 10, time.Minute)
		if err != nil || len(jobs) != 1 || jobs[0].To != "kept@example.org" || jobs[0].FirstName != "Ada" {
			t.Fatalf("claimed %+v %v, want the kept lead's job only", jobs, err)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE lead_id = $1 AND status = 'cancelled'`, res.LeadID); n != 1 {
			t.Errorf("the erased lead's job is not cancelled")
		}
	})
}

// Close waits for the writes queued for a shared commit (SQLite only: PostgreSQL has no
// queue, each write is its own transaction): one running and one waiting behind it when
// Close begins are both committed, and a write arriving after is refused as unavailable.
// Before, the database closed under them and the waiting write — an email job's "done"
// mark, say — was lost.
func TestCloseCommitsTheQueuedWrites(t *testing.T) {
	ctx := context.Background()
	url := storetest.SQLiteURL(t)
	s, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := s.Book(ctx, params(booking(fmt.Sprintf("close%d@example.org", i)), "203.0.113.9")); err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := s.ClaimEmailJobs(ctx, 10, time.Minute)
	if err != nil || len(jobs) != 2 {
		t.Fatalf("claim: %d jobs, %v", len(jobs), err)
	}
	markDone := func(id string) func(ctx context.Context, tx *sql.Tx) error {
		return func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE email_jobs SET status = 'done' WHERE id = $1`, id)
			return err
		}
	}
	started, release := make(chan struct{}), make(chan struct{})
	first, second, closed := make(chan error, 1), make(chan error, 1), make(chan error, 1)
	go func() {
		first <- store.GroupedWrite(ctx, s, func(ctx context.Context, tx *sql.Tx) error {
			close(started)
			<-release // the group's transaction stays open
			return markDone(jobs[0].ID)(ctx, tx)
		})
	}()
	<-started
	go func() { second <- store.GroupedWrite(ctx, s, markDone(jobs[1].ID)) }()
	waitFor(t, "the second write queued", func() bool { n, _ := store.GroupQueue(s); return n == 1 })
	go func() { closed <- s.Close() }()
	waitFor(t, "Close begun", func() bool { _, c := store.GroupQueue(s); return c })
	if err := store.GroupedWrite(ctx, s, markDone(jobs[1].ID)); lead.ErrorCode(err) != lead.CodeUnavailable {
		t.Errorf("a write after Close began: %v, want unavailable", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Errorf("the write running when Close began: %v", err)
	}
	if err := <-second; err != nil {
		t.Errorf("the write queued when Close began: %v", err)
	}
	if err := <-closed; err != nil {
		t.Errorf("close: %v", err)
	}
	reopened := storetest.MustOpen(t, url, store.Options{})
	if c, _ := reopened.EmailJobCounts(ctx); c["done"] != 2 {
		t.Errorf("after Close: %v, want both jobs done", c)
	}
}

// waitFor polls cond until it holds; it fails the test after 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// Bookings committed together are found by search (on SQLite a group indexes its new leads
// in one statement before its COMMIT instead of the insert trigger doing it per booking,
// migration 00011), and a booking of the group that rolled back to its savepoint leaves
// nothing in the index. On PostgreSQL each booking is its own transaction; the outcome
// must be the same.
func TestSearchFindsLeadsBookedTogether(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		s := storetest.MustOpen(t, e.URL(t), store.Options{})
		store.FailBookingsAfterWrites(s, func(p store.BookingParams) error {
			if strings.HasPrefix(p.IdempotencyKey, "key-") {
				return errBroken
			}
			return nil
		})
		const kept, broken = 48, 12
		var start, wg sync.WaitGroup
		start.Add(1)
		for i := range kept + broken {
			b := booking(fmt.Sprintf("grouped%d@example.org", i))
			b.LastName = fmt.Sprintf("Qv%03dzk", i)
			p := params(b, fmt.Sprintf("198.51.100.%d", i+1))
			if i >= kept {
				p.IdempotencyKey = fmt.Sprintf("key-%d", i)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				start.Wait()
				_, err := s.Book(ctx, p)
				if (err != nil) != (i >= kept) {
					t.Errorf("booking %d: %v", i, err)
				}
			}()
		}
		start.Done()
		wg.Wait()
		if e.Name == "sqlite" {
			if groups, writes := store.GroupCommits(s); groups >= writes {
				t.Fatalf("%d writes in %d transactions: nothing was committed together", writes, groups)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM leads_search_deferred`); n != 0 {
				t.Errorf("%d rows left in leads_search_deferred", n)
			}
		}
		for i := range kept + broken {
			name := fmt.Sprintf("Qv%03dzk", i)
			page, err := s.ListLeads(ctx, query.Filter{Query: strings.ToLower(name)}, 10, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := 1
			if i >= kept {
				want = 0
			}
			if len(page.Items) != want || (want == 1 && page.Items[0].LastName != name) {
				t.Errorf("search %q: %d leads, want %d", name, len(page.Items), want)
			}
		}
		page, err := s.ListLeads(ctx, query.Filter{Query: "grouped"}, 100, nil)
		if err != nil || len(page.Items) != kept {
			t.Errorf("search \"grouped\": %d leads, %v; want %d", len(page.Items), err, kept)
		}
	})
}

// The committer lets a group fill only when writes come concurrently in small groups:
// eight writers that each take a moment between bookings (as an HTTP request does) end up
// sharing commits several at a time, while a lone writer is never held back, each of its
// writes a group of its own.
func TestGroupCommitWaitsOnlyForConcurrentWrites(t *testing.T) {
	ctx := t.Context()
	s := storetest.MustOpenSQLite(t, store.Options{})
	for i := range 30 {
		if _, err := s.Book(ctx, params(booking(fmt.Sprintf("alone%d@example.org", i)), "198.51.100.1")); err != nil && lead.ErrorCode(err) != lead.CodeRateLimited {
			t.Fatal(err)
		}
	}
	if groups, writes := store.GroupCommits(s); store.GroupCommitDelays(s) != 0 || groups != writes {
		t.Fatalf("a lone writer: %d writes in %d groups, %d waits; want no wait and a group each", writes, groups, store.GroupCommitDelays(s))
	}

	const writers, each = 8, 40
	groups0, writes0 := store.GroupCommits(s)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				time.Sleep(500 * time.Microsecond)
				p := params(booking(fmt.Sprintf("w%d-%d@example.org", w, i)), fmt.Sprintf("198.51.%d.%d", 101+w, i+1))
				if _, err := s.Book(ctx, p); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	groups, writes := store.GroupCommits(s)
	groups, writes = groups-groups0, writes-writes0
	if store.GroupCommitDelays(s) == 0 || writes != writers*each || float64(writes)/float64(groups) < 2 {
		t.Fatalf("eight writers: %d writes in %d groups after %d waits; want groups of several", writes, groups, store.GroupCommitDelays(s))
	}
	t.Logf("eight writers: %d writes in %d groups, %d waits", writes, groups, store.GroupCommitDelays(s))
}
