package intake_test

import (
	"errors"
	"testing"

	"github.com/norsedigital/leads/internal/intake"
	"github.com/norsedigital/leads/internal/lead"
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
