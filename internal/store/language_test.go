package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// TestBookingLanguage (SPEC §12): a booking stores its language, a new lead gets it, a
// linked booking moves the lead's language to its own, the email claim hands it to the
// worker, and the database refuses any language but nb and en.
func TestBookingLanguage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		book := func(email, lang, ip string) store.BookingResult {
			t.Helper()
			p := params(booking(email), ip)
			p.Language = lang
			res, err := s.Book(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		tests := []struct {
			email, lang, want string
		}{
			{"en@example.org", "en", "en"},
			{"nb@example.org", "nb", "nb"},
			{"none@example.org", "", "nb"},
		}
		leadLang := map[string]string{}
		for i, c := range tests {
			res := book(c.email, c.lang, fmt.Sprintf("203.0.113.%d", i+1))
			l, err := s.GetLead(ctx, res.LeadID)
			if err != nil || l.Language != c.want {
				t.Errorf("%s: lead language %q (%v), want %q", c.email, l.Language, err, c.want)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM bookings WHERE id = $1 AND language = $2`, res.BookingID, c.want); n != 1 {
				t.Errorf("%s: the booking's language is not %q", c.email, c.want)
			}
			leadLang[res.LeadID] = c.want
		}
		jobs, err := s.ClaimEmailJobs(ctx, 10, time.Minute)
		if err != nil || len(jobs) != len(tests) {
			t.Fatalf("claim: %d jobs, %v", len(jobs), err)
		}
		for _, j := range jobs {
			if j.Language != leadLang[j.LeadID] {
				t.Errorf("job of %s: language %q, want %q", j.To, j.Language, leadLang[j.LeadID])
			}
		}

		// a linked booking: the lead takes the latest booking's language, the first booking keeps its own
		clock.Advance(time.Minute)
		res := book("EN@example.org", "nb", "203.0.113.9")
		if l, _ := s.GetLead(ctx, res.LeadID); l.Language != lead.LanguageNB || res.NewLead {
			t.Errorf("linked booking: lead language %q, new %v", l.Language, res.NewLead)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM bookings WHERE lead_id = $1 AND language = 'en'`, res.LeadID); n != 1 {
			t.Errorf("the first booking's language changed: %d en bookings", n)
		}

		// the CHECK constraint
		for _, q := range []string{`UPDATE leads SET language = 'de'`, `UPDATE bookings SET language = 'sv'`} {
			if _, err := s.DB().Exec(q); err == nil {
				t.Errorf("%s: accepted", q)
			}
		}
	})
}
