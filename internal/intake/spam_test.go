package intake_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/intake"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/spam"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// Release validates the held booking again, as if it arrived now: rules that changed since
// (here: an address at a throwaway-mail domain) refuse it, and it stays held.
func TestReleaseValidatesAgain(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		st := storetest.MustOpen(t, e.URL(t), store.Options{})
		svc := &intake.Service{Store: st, ConsentVersion: "v1"}
		b := lead.Booking{FirstName: "Tess", LastName: "Throwaway", Email: "tess@mailinator.com",
			EmailNormalized: "tess@mailinator.com", OrganizationName: "Org"}
		id, err := st.HoldBooking(ctx, store.HeldParams{Booking: b, IP: "192.0.2.1", ConsentVersion: "v0", Reason: "pow_missing"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = svc.Release(ctx, id)
		var de *lead.Error
		if lead.ErrorCode(err) != lead.CodeInvalid || !errors.As(err, &de) || len(de.Issues) != 1 || de.Issues[0].Rule != lead.RuleEmailDomainNotAccepted {
			t.Fatalf("release: %v, want email_domain_not_accepted", err)
		}
		if _, err := st.HeldBooking(ctx, id); err != nil {
			t.Fatalf("the refused release deleted it: %v", err)
		}
		// a valid one is booked with the consent version it was held with
		b.Email, b.EmailNormalized = "tess@example.org", "tess@example.org"
		id, _ = st.HoldBooking(ctx, store.HeldParams{Booking: b, IP: "192.0.2.1", ConsentVersion: "v0", Reason: "pow_missing"})
		res, err := svc.Release(ctx, id)
		if err != nil || res.BookingID == "" {
			t.Fatalf("release: %+v, %v", res, err)
		}
		var version string
		if err := st.DB().QueryRow(`SELECT consent_version FROM bookings WHERE id = $1`, res.BookingID).Scan(&version); err != nil || version != "v0" {
			t.Fatalf("consent version %q, %v", version, err)
		}
	})
}

// An address whose held submissions reached their limit is refused from memory, and only
// bookings that would be held: the next unsolved one is refused even with the held rows
// gone from the database, while a solved one from the same address is booked.
func TestHeldLimitIsRememberedForUnsolvedBookingsOnly(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		st := storetest.MustOpen(t, e.URL(t), store.Options{})
		svc := &intake.Service{Store: st, ConsentVersion: "v1", RateLimit: intake.RateLimit{Count: 2, Window: time.Hour},
			PowMaxNumber: 50}
		yes := true
		in := func(n int) lead.BookingInput {
			return lead.BookingInput{FirstName: "Flo", LastName: "Od", Email: fmt.Sprintf("flood%d@example.org", n),
				OrganizationName: "Flood Org", ConsentGiven: &yes}
		}
		m := intake.Meta{IP: "192.0.2.50"}
		for i := range 2 {
			if _, err := svc.Book(ctx, in(i), m); err != nil {
				t.Fatalf("held booking %d: %v", i, err)
			}
		}
		if _, err := svc.Book(ctx, in(2), m); lead.ErrorCode(err) != lead.CodeRateLimited {
			t.Fatalf("third unsolved booking: %v, want rate limited", err)
		}
		if _, err := st.DB().Exec(`DELETE FROM held_bookings`); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Book(ctx, in(3), m); lead.ErrorCode(err) != lead.CodeRateLimited {
			t.Fatalf("unsolved booking of a full address: %v, want rate limited without the database", err)
		}
		var n int
		if err := st.DB().QueryRow(`SELECT COUNT(*) FROM held_bookings`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d held rows, %v", n, err)
		}
		ch, err := svc.Challenge(ctx)
		if err != nil {
			t.Fatal(err)
		}
		solved := m
		sol, ok := spam.Solve(ch)
		if !ok {
			t.Fatal("challenge not solved")
		}
		solved.Altcha = sol.Encode()
		if _, err := svc.Book(ctx, in(4), solved); err != nil {
			t.Fatalf("a solved booking of the same address: %v", err)
		}
		if err := st.DB().QueryRow(`SELECT COUNT(*) FROM leads`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d leads, want the solved one (%v)", n, err)
		}
	})
}
