package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/calendar"
	"github.com/norsedigital/leads/internal/jobs"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/mail"
	"github.com/norsedigital/leads/internal/mail/mailtest"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// TestOwnerEmails: through the worker and a real SMTP server, the owner of a new lead is told
// in their language (never the prospect's message), a booking of their lead again at most
// once a day, and an overdue lead once, and not once it was contacted (SPEC §11).
func TestOwnerEmails(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		const base = "https://leads.test"
		s, clock, smtp, w := newOwnerFixture(t, e, base) // Tuesday: due Wednesday 10:00
		member := func(name, email, language string) lead.Member {
			m, err := s.CreateMember(ctx, lead.MemberInput{Name: &name, Email: &email, Role: ptr("sales"), Language: &language})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		member("Kari", "kari@norse.example", "en")
		sent := 0
		drain := func() []mailtest.Received {
			t.Helper()
			for w.RunOnce(ctx) > 0 {
			}
			all := smtp.Messages()
			out := all[sent:]
			sent = len(all)
			return out
		}
		toMember := func(msgs []mailtest.Received, addr string) []mailtest.Received {
			var out []mailtest.Received
			for _, m := range msgs {
				if m.To[0] == addr {
					out = append(out, m)
				}
			}
			return out
		}

		b := lead.Booking{FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.org", EmailNormalized: "ada@example.org",
			OrganizationName: "Mentors & Co", OrganizationSize: "10-49", RoleTitle: "Leader", UTMCampaign: "winter",
			Message: "SECRET-MESSAGE please"}
		res, err := s.Book(ctx, store.BookingParams{Booking: b, IP: "192.0.2.1", ConsentVersion: "1"})
		if err != nil {
			t.Fatal(err)
		}
		msgs := toMember(drain(), "kari@norse.example")
		if len(msgs) != 1 {
			t.Fatalf("%d emails to the owner, want 1", len(msgs))
		}
		m := msgs[0]
		if subj := m.Header("Subject"); subj != "New lead: Mentors & Co" {
			t.Fatalf("subject %q", subj)
		}
		text, html := m.TextBody(), m.HTMLBody()
		for _, want := range []string{"Hello Kari", "Ada Lovelace", "Mentors & Co", "Leader", "10-49", "Demo booking", "winter",
			base + "/console/leads/" + res.LeadID} {
			if !strings.Contains(text, want) {
				t.Errorf("text lacks %q:\n%s", want, text)
			}
		}
		if !strings.Contains(html, "Mentors &amp; Co") || strings.Contains(html, "Mentors & Co") {
			t.Errorf("the organization is not escaped in the HTML part:\n%s", html)
		}
		if strings.Contains(text+html, "SECRET") {
			t.Fatal("the prospect's message reached the owner's email")
		}

		// booked again: once a day
		clock.Advance(time.Hour)
		if _, err := s.Book(ctx, store.BookingParams{Booking: b, IP: "192.0.2.2", ConsentVersion: "1"}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Hour)
		if _, err := s.Book(ctx, store.BookingParams{Booking: b, IP: "192.0.2.3", ConsentVersion: "1"}); err != nil {
			t.Fatal(err)
		}
		msgs = toMember(drain(), "kari@norse.example")
		if len(msgs) != 1 || msgs[0].Header("Subject") != "Booked again: Mentors & Co" {
			t.Fatalf("%d booked-again emails, want 1", len(msgs))
		}

		// a Norwegian member gets the next lead in Norwegian, and contacts it in time
		ola := member("Ola", "ola@norse.example", "nb")
		b2 := b
		b2.Email, b2.EmailNormalized, b2.OrganizationName = "per@example.org", "per@example.org", "Frivillig Norge"
		res2, err := s.Book(ctx, store.BookingParams{Booking: b2, IP: "192.0.2.4", ConsentVersion: "1"})
		if err != nil {
			t.Fatal(err)
		}
		msgs = toMember(drain(), "ola@norse.example")
		if len(msgs) != 1 || msgs[0].Header("Subject") != "Ny lead: Frivillig Norge" || !strings.Contains(msgs[0].TextBody(), "Hei, Ola!") {
			t.Fatalf("Norwegian email: %d %q", len(msgs), msgs[0].Header("Subject"))
		}
		if _, err := s.AppendNote(ctx, res2.LeadID, "called", lead.Actor{Name: "Ola", StaffID: ola.ID}); err != nil {
			t.Fatal(err)
		}

		// before the due time nothing; after it one reminder, to the owner of the uncontacted lead only
		clock.Advance(20 * time.Hour) // Wednesday 08:00
		if msgs := drain(); len(msgs) != 0 {
			t.Fatalf("%d emails before the due time", len(msgs))
		}
		clock.Advance(3 * time.Hour)
		msgs = drain()
		if len(msgs) != 1 || msgs[0].To[0] != "kari@norse.example" || msgs[0].Header("Subject") != "Waiting for contact: Mentors & Co" {
			t.Fatalf("reminders %d", len(msgs))
		}
		if !strings.Contains(msgs[0].TextBody(), "2 Dec 2026, 10:00") {
			t.Errorf("the reminder does not say when it was due:\n%s", msgs[0].TextBody())
		}
		clock.Advance(48 * time.Hour)
		if msgs := drain(); len(msgs) != 0 {
			t.Fatalf("%d emails after the reminder: never twice", len(msgs))
		}
	})
}

// newOwnerFixture is a store whose clock stands at Tuesday 1 December 2026 10:00 in Oslo
// (contact within one working day), a real SMTP server, and the email worker with the owner
// emails' composers, their links under base.
func newOwnerFixture(t *testing.T, e storetest.Engine, base string) (*store.Store, *storetest.Clock, *mailtest.Server, *jobs.EmailWorker) {
	t.Helper()
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	clock := storetest.NewClock(time.Date(2026, 12, 1, 10, 0, 0, 0, oslo))
	s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now, Calendar: calendar.New(oslo), ContactSLA: 1})
	smtp := mailtest.Start(t)
	sender, err := mail.NewSMTPSender(smtp.URL(), "Meander <no-reply@meander.invalid>")
	if err != nil {
		t.Fatal(err)
	}
	renderer, err := mail.NewRenderer(nil)
	if err != nil {
		t.Fatal(err)
	}
	owner, err := mail.NewOwnerRenderer(nil)
	if err != nil {
		t.Fatal(err)
	}
	w := &jobs.EmailWorker{Store: s, Sender: sender, Renderer: renderer, PrivacyURL: base + "/privacy", Now: clock.Now,
		Composers: (&jobs.OwnerEmails{Store: s, Renderer: owner, PublicURL: base, Location: oslo, Now: clock.Now}).Composers()}
	return s, clock, smtp, w
}
