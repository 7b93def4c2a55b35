package store_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
	"github.com/norsedigital/leads/internal/webhook"
)

// bookFrom stores a public booking of email from ip.
func bookFrom(t *testing.T, s *store.Store, email, ip string) store.BookingResult {
	t.Helper()
	res, err := s.Book(t.Context(), params(booking(email), ip))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestPersonalLinks(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		a := bookFrom(t, s, "ada@links.example", "192.0.2.1")
		b := bookFrom(t, s, "bob@links.example", "192.0.2.2")

		raw, err := s.NewPersonalLink(ctx, a.LeadID)
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) != 43 { // 32 bytes, base64url
			t.Fatalf("link token %q: want 43 characters", raw)
		}
		raw2, err := s.NewPersonalLink(ctx, a.LeadID)
		if err != nil || raw2 == raw {
			t.Fatalf("a second link must be fresh: %q %q %v", raw, raw2, err)
		}
		rawB, err := s.NewPersonalLink(ctx, b.LeadID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{raw, raw2} {
			if id, err := s.PersonalLinkLead(ctx, tok); err != nil || id != a.LeadID {
				t.Fatalf("link resolves to %q, %v; want %s", id, err, a.LeadID)
			}
		}
		// only the hash is stored
		if found := findIn(everyValue(t, s), []string{raw, raw2, rawB}); len(found) > 0 {
			t.Fatalf("a raw link token is stored: %v", found)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM personal_links WHERE token_hash = $1`, store.HashToken(raw)); n != 1 {
			t.Fatalf("%d rows with the link's hash, want 1", n)
		}

		// forged, malformed, unknown lead
		forged := strings.Repeat("A", 43)
		for _, tok := range []string{forged, "", "short", raw + "x", strings.Repeat("!", 43)} {
			if _, err := s.PersonalLinkLead(ctx, tok); !errors.Is(err, lead.ErrNotFound) {
				t.Errorf("link %q: %v, want not found", tok, err)
			}
		}
		if _, err := s.NewPersonalLink(ctx, store.NewID()); !errors.Is(err, lead.ErrNotFound) {
			t.Errorf("link for an unknown lead: %v", err)
		}
		if _, err := s.NewPersonalLink(ctx, "not-an-id"); !errors.Is(err, lead.ErrNotFound) {
			t.Errorf("link for a malformed id: %v", err)
		}

		// erasure: the lead's links answer gone, the other lead's still work, and no new one
		if _, err := s.AnonymizeLead(ctx, a.LeadID, lead.DataSubjectActor); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{raw, raw2} {
			if _, err := s.PersonalLinkLead(ctx, tok); !errors.Is(err, store.ErrPersonalLinkGone) {
				t.Errorf("link after erasure: %v, want gone", err)
			}
		}
		if n := count(t, s, `SELECT COUNT(*) FROM personal_links WHERE lead_id = $1 AND revoked_at IS NULL`, a.LeadID); n != 0 {
			t.Errorf("%d links of the erased lead not revoked", n)
		}
		if _, err := s.NewPersonalLink(ctx, a.LeadID); !errors.Is(err, lead.ErrNotFound) {
			t.Errorf("link for an erased lead: %v", err)
		}
		if id, err := s.PersonalLinkLead(ctx, rawB); err != nil || id != b.LeadID {
			t.Errorf("the other lead's link: %q %v", id, err)
		}

		// expiry: valid until 30 days, then not found; minting purges expired rows
		clock.Advance(store.PersonalLinkTTL - time.Second)
		if _, err := s.PersonalLinkLead(ctx, rawB); err != nil {
			t.Errorf("link one second before expiry: %v", err)
		}
		clock.Advance(time.Second)
		if _, err := s.PersonalLinkLead(ctx, rawB); !errors.Is(err, lead.ErrNotFound) {
			t.Errorf("expired link: %v, want not found", err)
		}
		if _, err := s.PersonalLinkLead(ctx, raw); !errors.Is(err, lead.ErrNotFound) {
			t.Errorf("expired link of an erased lead: %v, want not found", err)
		}
		if _, err := s.NewPersonalLink(ctx, b.LeadID); err != nil {
			t.Fatal(err)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM personal_links`); n != 1 {
			t.Errorf("%d links stored after the purge, want only the new one", n)
		}
	})
}

func TestRequestPersonalLink(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		a := bookFrom(t, s, "ada@ask.example", "192.0.2.1")
		gone := bookFrom(t, s, "gone@ask.example", "192.0.2.2")
		if _, err := s.AnonymizeLead(ctx, gone.LeadID, lead.Actor{Name: "admin"}); err != nil {
			t.Fatal(err)
		}
		links := func(leadID string) int {
			return count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE kind = 'personal_link' AND lead_id = $1`, leadID)
		}
		ask := func(email, ip string) error {
			return s.RequestPersonalLink(ctx, store.LinkRequest{Email: email, IP: ip, Limit: 100, Window: time.Hour})
		}

		// unknown, erased and invalid addresses: no email, no error
		for _, addr := range []string{"nobody@ask.example", "gone@ask.example", "not an address", ""} {
			if err := ask(addr, "198.51.100.1"); err != nil {
				t.Fatalf("%q: %v", addr, err)
			}
		}
		if n := count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE kind = 'personal_link'`); n != 0 {
			t.Fatalf("%d link emails for addresses that are no live lead's", n)
		}

		// at most 3 per address in 24 hours, also when asked at once (written in other case)
		var wg sync.WaitGroup
		errs := make(chan error, 10)
		for i := range 10 {
			wg.Go(func() { errs <- ask(" ADA@ask.example", fmt.Sprintf("198.51.100.%d", 10+i)) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := links(a.LeadID); n != store.PersonalLinkEmailsPerDay {
			t.Fatalf("%d link emails after 10 requests, want %d", n, store.PersonalLinkEmailsPerDay)
		}
		var j struct{ booking, staff *string }
		if err := s.DB().QueryRow(`SELECT booking_id, staff_id FROM email_jobs WHERE kind = 'personal_link' LIMIT 1`).Scan(&j.booking, &j.staff); err != nil || j.booking != nil || j.staff != nil {
			t.Fatalf("a link email is to the lead about no booking: %v %v %v", j.booking, j.staff, err)
		}
		clock.Advance(24*time.Hour - time.Second)
		if err := ask("ada@ask.example", "198.51.100.99"); err != nil || links(a.LeadID) != 3 {
			t.Fatalf("a 4th link within 24 hours: %v, %d", err, links(a.LeadID))
		}
		clock.Advance(2 * time.Second)
		if err := ask("ada@ask.example", "198.51.100.99"); err != nil || links(a.LeadID) != 4 {
			t.Fatalf("a link 24 hours later: %v, %d", err, links(a.LeadID))
		}

		// the export lists the email about no booking
		x, err := s.ExportLead(ctx, a.LeadID, lead.DataSubjectActor)
		if err != nil || len(x.Emails) != 5 {
			t.Fatalf("export: %d emails, %v", len(x.Emails), err)
		}

		// the job is claimed for the lead, in its language, and cancelled by erasure
		jobs, err := s.ClaimEmailJobs(ctx, 20, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		kinds := 0
		for _, j := range jobs {
			if j.Kind == store.EmailPersonalLink {
				kinds++
				if j.To != "ada@ask.example" || j.FirstName != "Ada" || j.LeadID != a.LeadID || j.Language != "nb" {
					t.Errorf("claimed link email %+v", j)
				}
			}
		}
		if kinds != 4 {
			t.Errorf("claimed %d link emails, want 4", kinds)
		}
	})
}

func TestLinkRequestsPerIP(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		bookFrom(t, s, "ada@ip.example", "192.0.2.1")
		req := func(email, ip string) error {
			return s.RequestPersonalLink(ctx, store.LinkRequest{Email: email, IP: ip, Limit: 5, Window: time.Hour})
		}
		// 20 at once from one client, for addresses known or not: exactly 5 go through
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, limited := 0, 0
		for i := range 20 {
			wg.Go(func() {
				email := fmt.Sprintf("stranger%d@ip.example", i)
				if i%2 == 0 {
					email = "ada@ip.example"
				}
				err := req(email, "2001:db8:1:2::"+fmt.Sprint(i+1)) // one /64
				mu.Lock()
				defer mu.Unlock()
				var le *lead.Error
				switch {
				case err == nil:
					ok++
				case errors.As(err, &le) && le.Code == lead.CodeRateLimited && le.Rule == lead.RuleRateLimit && le.RetryAfter > 0:
					limited++
				default:
					t.Errorf("request: %v", err)
				}
			})
		}
		wg.Wait()
		if ok != 5 || limited != 15 {
			t.Fatalf("%d accepted, %d limited; want 5 and 15", ok, limited)
		}
		// another client is not limited; the first is again once the window has passed
		if err := req("x@ip.example", "192.0.2.200"); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Hour)
		if err := req("x@ip.example", "2001:db8:1:2::99"); err != nil {
			t.Fatalf("after the window: %v", err)
		}
		// rows out of the window are gone: the table keeps no more than the limit needs
		if n := count(t, s, `SELECT COUNT(*) FROM personal_link_requests`); n != 1 {
			t.Errorf("%d request rows kept, want 1", n)
		}
		// the table holds keys, never the addresses asked about
		if found := findIn(everyValue(t, s), []string{"stranger1@ip.example"}); len(found) > 0 {
			t.Errorf("an address asked about is stored: %v", found)
		}
	})
}

func TestAnonymizeInactive(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		staff := lead.Actor{Name: "sally"}
		mk := func(email string, status ...string) string {
			id := bookFrom(t, s, email, "192.0.2."+fmt.Sprint(len(email))).LeadID
			for _, st := range status {
				if _, err := s.PatchLead(ctx, id, lead.Input{Status: lead.Val(st)}, nil, staff); err != nil {
					t.Fatal(err)
				}
			}
			return id
		}
		lost := mk("lost@old.example", "lost")
		disq := mk("disq@old.example", "disqualified")
		won := mk("won@old.example", "contacted", "qualified", "demo_scheduled", "demo_completed", "proposal_sent", "negotiation", "won")
		fresh := mk("new@old.example")
		link, err := s.NewPersonalLink(ctx, lost)
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(10 * time.Hour)
		touched := mk("touched@old.example", "lost")
		clock.Advance(10 * time.Hour)
		// a lost lead changed later (a note) is not inactive
		recent := mk("recent@old.example", "lost")
		if _, err := s.AppendNote(ctx, recent, "called again", staff); err != nil {
			t.Fatal(err)
		}

		cutoff := t0.Add(15 * time.Hour) // lost, disq and touched are older; recent is not
		b, err := s.AnonymizeInactive(ctx, cutoff, 2)
		if err != nil || b.Skipped || b.Anonymized != 2 {
			t.Fatalf("first batch: %+v %v", b, err)
		}
		b, err = s.AnonymizeInactive(ctx, cutoff, 2)
		if err != nil || b.Anonymized != 1 {
			t.Fatalf("second batch: %+v %v", b, err)
		}
		if b, err = s.AnonymizeInactive(ctx, cutoff, 2); err != nil || b.Anonymized != 0 {
			t.Fatalf("third batch: %+v %v", b, err)
		}
		for id, want := range map[string]bool{lost: true, disq: true, touched: true, won: false, fresh: false, recent: false} {
			l, err := s.GetLead(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if (l.AnonymizedAt != nil) != want {
				t.Errorf("lead %s (%s): anonymized %v, want %v", l.Email, l.Status, l.AnonymizedAt != nil, want)
			}
			if !want {
				continue
			}
			if l.FirstName != store.ErasedName || l.Email != store.ErasedEmail(id) {
				t.Errorf("not erased: %+v", l)
			}
			events, err := s.ListEvents(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			last := events[len(events)-1]
			if last.Type != lead.EventAnonymized || last.Actor != store.RetentionActor.Name || !strings.Contains(string(last.Details), `"reason":"retention"`) {
				t.Errorf("last event %s by %s %s, want anonymized by retention with reason retention", last.Type, last.Actor, last.Details)
			}
		}
		if _, err := s.PersonalLinkLead(ctx, link); !errors.Is(err, store.ErrPersonalLinkGone) {
			t.Errorf("the link of a lead anonymized by retention: %v", err)
		}
	})
}

// An erasure by the person on their own page leaves no copy: lead, bookings, events, the
// link emails (cancelled), webhook payloads, and the links (revoked).
func TestSelfServiceErasureLeavesNoCopy(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		if _, _, err := s.CreateWebhook(ctx, "https://hooks.example/leads", webhook.Events); err != nil {
			t.Fatal(err)
		}
		id := victim.book(t, s, victim.ip, victim.message, "spring", "").LeadID
		bystander.book(t, s, bystander.ip, bystander.message, "spring", "")
		link, err := s.NewPersonalLink(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RequestPersonalLink(ctx, store.LinkRequest{Email: victim.email, IP: victim.ip2, Limit: 5, Window: time.Hour}); err != nil {
			t.Fatal(err)
		}
		corrected := "Chief Pangolin Officer"
		if _, err := s.PatchLead(ctx, id, lead.Input{RoleTitle: lead.Val(corrected)}, nil, lead.DataSubjectActor); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ExportLead(ctx, id, lead.DataSubjectActor); err != nil {
			t.Fatal(err)
		}
		needles := append(victim.needles()[:0:0], victim.first, victim.last, victim.email, victim.phoneE164, victim.role, victim.message, victim.ip, victim.userAgent, corrected)
		found := findIn(everyValue(t, s), needles)
		for _, n := range needles {
			if len(found[n]) == 0 { // the booking keeps the role the lead no longer has
				t.Fatalf("before erasure %q is nowhere: the search is broken", n)
			}
		}
		clock.Advance(time.Minute)
		if _, err := s.AnonymizeLead(ctx, id, lead.DataSubjectActor); err != nil {
			t.Fatal(err)
		}
		if found := findIn(everyValue(t, s), needles); len(found) > 0 {
			t.Errorf("after erasure the person's data is still stored: %v", found)
		}
		if found := findIn(everyValue(t, s), []string{bystander.first, bystander.email}); len(found) != 2 {
			t.Errorf("the bystander's data must stay: %v", found)
		}
		if _, err := s.PersonalLinkLead(ctx, link); !errors.Is(err, store.ErrPersonalLinkGone) {
			t.Errorf("the link after erasure: %v", err)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE lead_id = $1 AND kind = 'personal_link' AND status = 'cancelled'`, id); n != 1 {
			t.Errorf("the queued link email is not cancelled: %d", n)
		}
		for _, want := range []string{"updated", "exported", "anonymized"} {
			if n := count(t, s, `SELECT COUNT(*) FROM lead_events WHERE lead_id = $1 AND type = $2 AND actor = 'data_subject'`, id, want); n != 1 {
				t.Errorf("%d %s events by data_subject", n, want)
			}
		}
	})
}

// The claim mints the personal link of every email to a lead in its own transaction (or
// statement): one fresh link per claimed email, stored hashed, resolving to the lead; an
// email to a member gets none; a claim after the lead's erasure sends nothing.
func TestClaimMintsPersonalLinks(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		s := storetest.MustOpen(t, e.URL(t), store.Options{})
		a := bookFrom(t, s, "ada@claim.example", "192.0.2.1")
		b := bookFrom(t, s, "bo@claim.example", "192.0.2.2")
		m, err := s.CreateMember(ctx, lead.MemberInput{Name: ptr("Kari"), Email: ptr("kari@norse.example"), Role: ptr("sales")})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.EnqueueEmail(ctx, store.EmailJobSpec{Kind: store.EmailPersonalLink, LeadID: a.LeadID}); err != nil {
			t.Fatal(err)
		}
		if err := s.EnqueueEmail(ctx, store.EmailJobSpec{Kind: "owner_new_lead", LeadID: a.LeadID, StaffID: m.ID}); err != nil {
			t.Fatal(err)
		}
		jobs, err := s.ClaimEmailJobs(ctx, 20, time.Minute)
		if err != nil || len(jobs) != 4 {
			t.Fatalf("claimed %d jobs, %v; want two confirmations, a link email and a member's", len(jobs), err)
		}
		seen := map[string]bool{}
		for _, j := range jobs {
			if j.StaffID != "" {
				if j.PersonalLink != "" {
					t.Errorf("the member's email got a personal link")
				}
				continue
			}
			if len(j.PersonalLink) != 43 || seen[j.PersonalLink] {
				t.Fatalf("job %s: link %q (a fresh 43-character link per email)", j.Kind, j.PersonalLink)
			}
			seen[j.PersonalLink] = true
			if id, err := s.PersonalLinkLead(ctx, j.PersonalLink); err != nil || id != j.LeadID {
				t.Errorf("job %s: the link resolves to %q, %v; want %s", j.Kind, id, err, j.LeadID)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM personal_links WHERE token_hash = $1 AND lead_id = $2`, store.HashToken(j.PersonalLink), j.LeadID); n != 1 {
				t.Errorf("job %s: %d rows hold the link's hash", j.Kind, n)
			}
		}
		if n := count(t, s, `SELECT COUNT(*) FROM personal_links`); n != 3 {
			t.Errorf("%d links stored, want 3", n)
		}
		// queued for b, then b erased: the claim cancels the email and mints nothing
		if err := s.EnqueueEmail(ctx, store.EmailJobSpec{Kind: store.EmailPersonalLink, LeadID: b.LeadID}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AnonymizeLead(ctx, b.LeadID, lead.DataSubjectActor); err != nil {
			t.Fatal(err)
		}
		if jobs, err := s.ClaimEmailJobs(ctx, 20, time.Minute); err != nil || len(jobs) != 0 {
			t.Fatalf("claimed %d jobs of an erased lead, %v", len(jobs), err)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM personal_links WHERE lead_id = $1 AND revoked_at IS NULL`, b.LeadID); n != 0 {
			t.Errorf("%d live links for the erased lead", n)
		}
	})
}
