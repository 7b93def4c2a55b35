package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/mail/mailtest"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// TestOwnerEmailsPreferredTimes: through the worker and a real SMTP server, the owner's
// emails about a new lead and a booking again list that booking's preferred demo times in
// the member's language and the service's time zone, and have no such line when the booking
// named none (SPEC §13).
func TestOwnerEmailsPreferredTimes(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		s, clock, smtp, w := newOwnerFixture(t, e, "https://leads.test")
		member := func(name, email, language string) {
			if _, err := s.CreateMember(ctx, lead.MemberInput{Name: &name, Email: &email, Role: ptr("sales"), Language: &language}); err != nil {
				t.Fatal(err)
			}
		}
		sent := 0
		toOwner := func(addr string) []mailtest.Received {
			t.Helper()
			for w.RunOnce(ctx) > 0 {
			}
			all := smtp.Messages()
			var out []mailtest.Received
			for _, m := range all[sent:] {
				if m.To[0] == addr {
					out = append(out, m)
				}
			}
			sent = len(all)
			return out
		}
		book := func(email string, times ...time.Time) {
			t.Helper()
			b := lead.Booking{FirstName: "Ada", LastName: "Lovelace", Email: email, EmailNormalized: email,
				OrganizationName: "Mentors", PreferredTimes: times}
			if _, err := s.Book(ctx, store.BookingParams{Booking: b, IP: "192.0.2.1", ConsentVersion: "1"}); err != nil {
				t.Fatal(err)
			}
		}
		// Wednesday 2 December 09:00 and Thursday 3 December 14:30 in Oslo (08:00Z, 13:30Z)
		wed, thu := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC), time.Date(2026, 12, 3, 13, 30, 0, 0, time.UTC)
		lines := func(m mailtest.Received, want ...string) {
			t.Helper()
			text, html := m.TextBody(), m.HTMLBody()
			for _, w := range want {
				if !strings.Contains(text, w) || !strings.Contains(html, w) {
					t.Errorf("%q lacks %q:\n%s", m.Header("Subject"), w, text)
				}
			}
		}

		member("Kari", "kari@norse.example", "en")
		book("ada@example.org", wed, thu)
		msgs := toOwner("kari@norse.example")
		if len(msgs) != 1 {
			t.Fatalf("%d emails to the owner", len(msgs))
		}
		lines(msgs[0], "Preferred demo times:", "2 Dec 2026, 09:00", "3 Dec 2026, 14:30")
		if !strings.Contains(strings.ReplaceAll(msgs[0].TextBody(), "\r\n", "\n"), "Preferred demo times:\n– 2 Dec 2026, 09:00\n– 3 Dec 2026, 14:30\n") {
			t.Errorf("the times are not listed one a line:\n%s", msgs[0].TextBody())
		}

		// booked again: that booking's times, not the first one's
		clock.Advance(time.Hour)
		book("ada@example.org", thu)
		msgs = toOwner("kari@norse.example")
		if len(msgs) != 1 || msgs[0].Header("Subject") != "Booked again: Mentors" {
			t.Fatalf("%d booked-again emails", len(msgs))
		}
		lines(msgs[0], "Preferred demo times:", "3 Dec 2026, 14:30")
		if strings.Contains(msgs[0].TextBody(), "2 Dec 2026") {
			t.Errorf("the booked-again email lists the earlier booking's time:\n%s", msgs[0].TextBody())
		}

		// in Norwegian for a Norwegian member; none named: no such line
		member("Ola", "ola@norse.example", "nb")
		book("per@example.org", wed)
		msgs = toOwner("ola@norse.example")
		if len(msgs) != 1 {
			t.Fatalf("%d emails to Ola", len(msgs))
		}
		lines(msgs[0], "Ønskede demotider:", "2. des. 2026 kl. 09.00")
		book("ingen@example.org")
		for _, addr := range []string{"kari@norse.example", "ola@norse.example"} {
			for _, m := range toOwner(addr) {
				if body := m.TextBody() + m.HTMLBody(); strings.Contains(body, "Preferred demo times") || strings.Contains(body, "Ønskede demotider") {
					t.Errorf("a booking without preferred times got the line:\n%s", m.TextBody())
				}
			}
		}
	})
}
