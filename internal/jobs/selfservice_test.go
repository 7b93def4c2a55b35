package jobs_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/jobs"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/mail"
	"github.com/norsedigital/leads/internal/mail/mailtest"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

var linkRe = regexp.MustCompile(`http://leads\.test/my/([A-Za-z0-9_-]{43})`)

// Every email to a lead carries a fresh personal link, minted by the claim that hands it
// to the worker: the confirmation and the link email alike. The queue never holds the
// token, an erased lead's queued link email is not sent, and the link of an email claimed
// before the erasure is revoked by it.
func TestEmailsCarryAFreshPersonalLink(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		s := storetest.MustOpen(t, e.URL(t), store.Options{})
		smtp := mailtest.Start(t)
		sender, err := mail.NewSMTPSender(smtp.URL(), "Meander <no-reply@meander.invalid>")
		if err != nil {
			t.Fatal(err)
		}
		renderer, err := mail.NewRenderer(nil)
		if err != nil {
			t.Fatal(err)
		}
		linkRenderer, err := mail.NewPersonalLinkRenderer(nil)
		if err != nil {
			t.Fatal(err)
		}
		const privacyURL = "http://leads.test/privacy"
		links := jobs.PersonalLinks{PublicURL: "http://leads.test/"}
		w := &jobs.EmailWorker{Store: s, Sender: sender, Renderer: renderer, PrivacyURL: privacyURL,
			PersonalLink: links.URL,
			Composers:    map[string]jobs.Composer{store.EmailPersonalLink: links.Composer(linkRenderer, privacyURL)}}

		a := bookFrom(t, s, "ada@fresh.example", "192.0.2.1")
		if err := s.RequestPersonalLink(ctx, store.LinkRequest{Email: "ada@fresh.example", IP: "192.0.2.9"}); err != nil {
			t.Fatal(err)
		}
		if n := w.RunOnce(ctx); n != 2 {
			t.Fatalf("claimed %d jobs, want the confirmation and the link email", n)
		}
		msgs := smtp.WaitFor(t, 2, 10*time.Second)
		var tokens []string
		subjects := map[string]bool{}
		for _, m := range msgs {
			subjects[m.Header("Subject")] = true
			text, html := m.TextBody(), m.HTMLBody()
			mt, mh := linkRe.FindStringSubmatch(text), linkRe.FindStringSubmatch(html)
			if mt == nil || mh == nil || mt[1] != mh[1] {
				t.Fatalf("email %q has no personal link in both parts:\n%s\n%s", m.Header("Subject"), text, html)
			}
			if strings.Contains(m.Header("Subject"), mt[1]) {
				t.Error("the link is in the subject, which the log mailer logs")
			}
			id, err := s.PersonalLinkLead(ctx, mt[1])
			if err != nil || id != a.LeadID {
				t.Fatalf("the emailed link resolves to %q, %v", id, err)
			}
			tokens = append(tokens, mt[1])
		}
		if tokens[0] == tokens[1] {
			t.Error("two emails carry the same link")
		}
		if !subjects["Lenken til din side hos Meander"] {
			t.Errorf("subjects %v: want the link email's", subjects)
		}
		// the queue holds ids only
		var n int
		for _, tok := range tokens {
			if err := s.DB().QueryRow(`SELECT COUNT(*) FROM email_jobs WHERE COALESCE(last_error, '') LIKE $1`, "%"+tok+"%").Scan(&n); err != nil || n != 0 {
				t.Errorf("a job row holds the token (%d, %v)", n, err)
			}
		}

		// a link email claimed before the erasure carries a link the erasure revoked; one
		// still queued at the erasure is cancelled by the claim, never sent
		if err := s.RequestPersonalLink(ctx, store.LinkRequest{Email: "ada@fresh.example", IP: "192.0.2.9"}); err != nil {
			t.Fatal(err)
		}
		jobsClaimed, err := s.ClaimEmailJobs(ctx, 5, time.Minute)
		if err != nil || len(jobsClaimed) != 1 || jobsClaimed[0].PersonalLink == "" {
			t.Fatalf("claim: %v %v", jobsClaimed, err)
		}
		if id, err := s.PersonalLinkLead(ctx, jobsClaimed[0].PersonalLink); err != nil || id != a.LeadID {
			t.Fatalf("the claimed job's link resolves to %q, %v", id, err)
		}
		if err := s.RequestPersonalLink(ctx, store.LinkRequest{Email: "ada@fresh.example", IP: "192.0.2.9"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AnonymizeLead(ctx, a.LeadID, lead.DataSubjectActor); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PersonalLinkLead(ctx, jobsClaimed[0].PersonalLink); !errors.Is(err, store.ErrPersonalLinkGone) {
			t.Errorf("the link of an email claimed before the erasure: %v, want gone", err)
		}
		before := len(smtp.Messages())
		if n := w.RunOnce(ctx); n != 0 {
			t.Errorf("claimed %d jobs of an erased lead", n)
		}
		if len(smtp.Messages()) != before {
			t.Error("an email went to an erased lead")
		}
	})
}

// Lost and disqualified leads unchanged for --inactive-retention are anonymized by the
// retention job (reason retention), exactly once with several instances running it; 0
// turns it off.
func TestRetentionAnonymizesInactiveLeads(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		clock := storetest.NewClock(t0)
		url := e.URL(t)
		s := storetest.MustOpen(t, url, store.Options{Now: clock.Now})
		other := storetest.MustOpen(t, url, store.Options{Now: clock.Now}) // a second instance
		staff := lead.Actor{Name: "sally"}
		var inactive []string
		for i, st := range []string{"lost", "disqualified", "lost", "disqualified", "lost", "lost", "lost"} {
			id := bookFrom(t, s, "old"+string(rune('a'+i))+"@inactive.example", "192.0.2."+string(rune('1'+i))).LeadID
			if _, err := s.PatchLead(ctx, id, lead.Input{Status: lead.Val(st)}, nil, staff); err != nil {
				t.Fatal(err)
			}
			inactive = append(inactive, id)
		}
		open := bookFrom(t, s, "open@inactive.example", "192.0.2.100").LeadID
		const twoYears = 17520 * time.Hour
		clock.Advance(twoYears - time.Hour)
		recent := bookFrom(t, s, "recent@inactive.example", "192.0.2.101").LeadID
		if _, err := s.PatchLead(ctx, recent, lead.Input{Status: lead.Val("lost")}, nil, staff); err != nil {
			t.Fatal(err)
		}

		off := &jobs.RetentionJob{Store: s, Retention: time.Hour, InactiveRetention: 0, Now: clock.Now}
		clock.Advance(2 * time.Hour)
		if _, err := off.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM leads WHERE anonymized_at IS NOT NULL`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d leads anonymized with inactive retention off (%v)", n, err)
		}

		// two instances, two rounds each, at once, small batches: every inactive lead once
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() {
				j := &jobs.RetentionJob{Store: []*store.Store{s, other}[i%2], Retention: time.Hour, InactiveRetention: twoYears, Batch: 20, Now: clock.Now}
				if _, err := j.RunOnce(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		// a round skipped by the lock leaves work for the next: run once more alone
		if _, err := (&jobs.RetentionJob{Store: s, Retention: time.Hour, InactiveRetention: twoYears, Batch: 20, Now: clock.Now}).RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		for _, id := range inactive {
			events, err := s.ListEvents(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			anon := 0
			for _, ev := range events {
				if ev.Type == lead.EventAnonymized {
					anon++
					if ev.Actor != store.RetentionActor.Name || !strings.Contains(string(ev.Details), `"reason":"retention"`) {
						t.Errorf("event %s by %s: %s", ev.Type, ev.Actor, ev.Details)
					}
				}
			}
			if anon != 1 {
				t.Errorf("lead %s has %d anonymized events, want 1", id, anon)
			}
		}
		for _, id := range []string{open, recent} {
			if l, err := s.GetLead(ctx, id); err != nil || l.AnonymizedAt != nil {
				t.Errorf("lead %s (%s) anonymized: %v", id, l.Status, err)
			}
		}
	})
}

// The retention round deletes link requests older than the IP retention (their keys are
// client addresses) and expired links, even when nobody asks for a link to do it.
func TestRetentionPurgesSelfServiceRows(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		id := bookFrom(t, s, "ada@purge.example", "192.0.2.1").LeadID
		if err := s.RequestPersonalLink(ctx, store.LinkRequest{Email: "x@purge.example", IP: "192.0.2.9", Limit: 5, Window: time.Hour}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.NewPersonalLink(ctx, id); err != nil {
			t.Fatal(err)
		}
		rows := func(table string) int {
			var n int
			if err := s.DB().QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		job := &jobs.RetentionJob{Store: s, Retention: retention, Now: clock.Now}
		clock.Advance(retention - time.Minute)
		if _, err := job.RunOnce(ctx); err != nil || rows("personal_link_requests") != 1 || rows("personal_links") != 1 {
			t.Fatalf("before their time: %v, %d requests, %d links", err, rows("personal_link_requests"), rows("personal_links"))
		}
		clock.Advance(store.PersonalLinkTTL)
		if _, err := job.RunOnce(ctx); err != nil || rows("personal_link_requests") != 0 || rows("personal_links") != 0 {
			t.Fatalf("after: %v, %d requests, %d links", err, rows("personal_link_requests"), rows("personal_links"))
		}
	})
}
