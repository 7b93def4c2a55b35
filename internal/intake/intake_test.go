package intake_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/intake"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/spam"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// The service renders its answer from the store's result, on a replay too, and runs on its
// own injected clock and ids.
func TestServiceBooksWithItsOwnClockAndIDs(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		// far from the real time: a service reading time.Now would remember the full
		// address for years
		clock := storetest.NewClock(time.Date(2031, 5, 1, 12, 0, 0, 0, time.UTC))
		st := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		ids := 0
		svc := &intake.Service{Store: st, RateLimit: intake.RateLimit{Count: 1, Window: time.Hour}, ConsentVersion: "v1",
			SpamPolicy: spam.PolicyOff, Now: clock.Now, NewID: func() string { ids++; return "00000000-0000-7000-8000-00000000000" + string(rune('0'+ids)) }}
		yes := true
		in := lead.BookingInput{FirstName: "Walk", LastName: "Oneway", Email: "walk@example.org", Phone: "12",
			OrganizationName: "Oneway Org", ConsentGiven: &yes}
		m := intake.Meta{IP: "192.0.2.7", IdempotencyKey: "walk-key", BodyHash: "json:walk"}

		first, err := svc.Book(ctx, in, m)
		if err != nil {
			t.Fatal(err)
		}
		if len(first.Warnings) != 1 || first.Warnings[0].Rule != lead.RulePhoneFormat || first.Status != "received" {
			t.Fatalf("first answer %+v, want received with the phone warning", first)
		}
		again, err := svc.Book(ctx, in, m)
		a, _ := json.Marshal(first)
		b, _ := json.Marshal(again)
		if err != nil || string(a) != string(b) {
			t.Fatalf("replay answered %s, %v; want the first answer %s", b, err, a)
		}

		// the address is full (one per hour): refused, then remembered on the service's clock
		other := in
		other.Email = "walk2@example.org"
		if _, err := svc.Book(ctx, other, intake.Meta{IP: "192.0.2.7"}); lead.ErrorCode(err) != lead.CodeRateLimited {
			t.Fatalf("second booking of the hour: %v, want rate limited", err)
		}
		clock.Advance(61 * time.Minute)
		if _, err := svc.Book(ctx, other, intake.Meta{IP: "192.0.2.7"}); err != nil {
			t.Fatalf("after the window on the injected clock: %v", err)
		}

		// a honeypot submission is answered with an id of the service's, and nothing is stored
		bot := in
		bot.Email = "bot@example.org"
		r, err := svc.Book(ctx, bot, intake.Meta{IP: "192.0.2.8", Honeypot: "http://spam.example"})
		if err != nil || r.BookingID != "00000000-0000-7000-8000-000000000001" {
			t.Fatalf("honeypot answer %+v, %v; want the injected id", r, err)
		}
		var n int
		if err := st.DB().QueryRow(`SELECT COUNT(*) FROM bookings`).Scan(&n); err != nil || n != 2 {
			t.Fatalf("%d bookings stored, %v; want 2", n, err)
		}
	})
}
