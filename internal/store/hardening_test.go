package store_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

func TestRateKey(t *testing.T) {
	for _, tt := range []struct{ ip, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"not an ip", "not an ip"},
	} {
		if got := store.RateKey(tt.ip); got != tt.want {
			t.Errorf("RateKey(%q) = %q, want %q", tt.ip, got, tt.want)
		}
	}
}

// SPEC §3.5: an IPv6 client is counted by its /64, exactly under concurrency (the key's
// lock is taken in the booking transaction), and the limit stores the key, not the address.
func TestRateLimitCountsIPv6By64(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: storetest.NewClock(t0).Now})
		const n = 12
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				p := params(booking(fmt.Sprintf("six%d@example.org", i)), fmt.Sprintf("2001:db8:aa:bb:%x::%x", i, i+1))
				p.RateLimit = 2
				_, errs[i] = s.Book(ctx, p)
			})
		}
		wg.Wait()
		ok, limited := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case lead.ErrorCode(err) == lead.CodeRateLimited:
				limited++
			default:
				t.Fatalf("booking: %v", err)
			}
		}
		if ok != 2 || limited != n-2 {
			t.Fatalf("%d accepted, %d limited from one /64; want 2 and %d", ok, limited, n-2)
		}
		if got := count(t, s, `SELECT COUNT(*) FROM bookings WHERE rate_key = '2001:db8:aa:bb::/64'`); got != 2 {
			t.Errorf("%d bookings stored under the /64 key, want 2", got)
		}
		// the consent record keeps the full address
		if got := count(t, s, `SELECT COUNT(*) FROM bookings WHERE ip_address LIKE '2001:db8:aa:bb:%::%'`); got != 2 {
			t.Errorf("%d bookings kept their full address, want 2", got)
		}
		// another /64 is another client
		p := params(booking("other64@example.org"), "2001:db8:aa:bc::1")
		p.RateLimit = 2
		if _, err := s.Book(ctx, p); err != nil {
			t.Fatalf("a booking from another /64: %v", err)
		}
	})
}

// SPEC §3.2: an Idempotency-Key sent again with another body is idempotency_key_reused,
// also when both arrive at once; the same body replays and stores nothing new.
func TestIdempotencyKeyReusedWithAnotherBody(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: storetest.NewClock(t0).Now})
		book := func(email, hash string) (store.BookingResult, error) {
			p := params(booking(email), "192.0.2.50")
			p.IdempotencyKey, p.BodyHash = "same-key", hash
			return s.Book(ctx, p)
		}
		first, err := book("first@example.org", "json:aaa")
		if err != nil {
			t.Fatal(err)
		}
		again, err := book("first@example.org", "json:aaa")
		if err != nil || !again.Replayed || again.BookingID != first.BookingID {
			t.Fatalf("same key, same body: %+v %v; want the first answer replayed", again, err)
		}
		_, err = book("second@example.org", "json:bbb")
		var de *lead.Error
		if lead.ErrorCode(err) != lead.CodeInvalid || !asError(err, &de) || de.Rule != lead.RuleIdempotencyReused {
			t.Fatalf("same key, other body: %v; want idempotency_key_reused", err)
		}
		if got := count(t, s, `SELECT COUNT(*) FROM bookings`); got != 1 {
			t.Fatalf("%d bookings, want 1", got)
		}

		// without a body hash from the edge, the store tells bodies apart by the booking
		p := params(booking("third@example.org"), "192.0.2.51")
		p.IdempotencyKey = "k-nohash"
		if _, err := s.Book(ctx, p); err != nil {
			t.Fatal(err)
		}
		p.Booking = booking("fourth@example.org")
		if _, err := s.Book(ctx, p); lead.ErrorCode(err) != lead.CodeInvalid {
			t.Fatalf("other booking under the same key without hashes: %v", err)
		}

		// concurrent: one of two different bodies is stored, the other refused
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				q := params(booking(fmt.Sprintf("race%d@example.org", i)), "192.0.2.52")
				q.IdempotencyKey, q.BodyHash, q.RateLimit = "race-key", fmt.Sprintf("json:%d", i), 0
				_, errs[i] = s.Book(ctx, q)
			})
		}
		wg.Wait()
		stored, refused := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				stored++
			case lead.ErrorCode(err) == lead.CodeInvalid:
				refused++
			default:
				t.Fatal(err)
			}
		}
		if stored != 1 || refused != n-1 || count(t, s, `SELECT COUNT(*) FROM bookings WHERE ip_address = '192.0.2.52'`) != 1 {
			t.Fatalf("%d stored, %d refused; want 1 and %d", stored, refused, n-1)
		}
	})
}

func asError(err error, de **lead.Error) bool {
	e, ok := err.(*lead.Error)
	if ok {
		*de = e
	}
	return ok
}

// SPEC §9: after an erasure on SQLite the write-ahead log is checkpointed, so the erased
// values are in no file of the database.
func TestErasureLeavesNothingInTheWAL(t *testing.T) {
	ctx := context.Background()
	url := storetest.SQLiteURL(t)
	path := strings.TrimPrefix(url, "sqlite:")
	s := storetest.MustOpen(t, url, store.Options{Now: storetest.NewClock(t0).Now})
	const secret = "Qzxwvutsrqp"
	b := booking("qzxwvutsrqp@example.org")
	b.LastName = secret
	b.Message = "call " + secret
	res, err := s.Book(ctx, params(b, "192.0.2.60"))
	if err != nil {
		t.Fatal(err)
	}
	wal := func() []byte {
		data, err := os.ReadFile(path + "-wal")
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return data
	}
	if !bytes.Contains(wal(), []byte(secret)) {
		t.Fatal("the booking is not in the WAL: the test would prove nothing")
	}
	if _, err := s.AnonymizeLead(ctx, res.LeadID, lead.Actor{Name: "adam-admin"}); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(wal(), []byte(secret)) {
		t.Fatal("the erased last name is still in the -wal file")
	}
	main, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(main, []byte(secret)) {
		t.Fatal("the erased last name is still in the database file")
	}

	// the erasure by email checkpoints too
	b2 := booking("second.secret@example.org")
	b2.LastName = "Pqrstuvwxyq"
	if _, err := s.Book(ctx, params(b2, "192.0.2.61")); err != nil {
		t.Fatal(err)
	}
	if n, err := s.AnonymizeByEmail(ctx, "second.secret@example.org", lead.Actor{Name: "adam-admin"}); err != nil || n != 1 {
		t.Fatalf("AnonymizeByEmail = %d, %v", n, err)
	}
	if bytes.Contains(wal(), []byte("Pqrstuvwxyq")) {
		t.Fatal("the name erased by email is still in the -wal file")
	}
}
