package store_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/calendar"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/lead/query"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// owners counts the leads per owner_id ("" for none).
func owners(t *testing.T, s *store.Store) map[string]int {
	t.Helper()
	rows, err := s.DB().Query(`SELECT COALESCE(CAST(owner_id AS TEXT), ''), COUNT(*) FROM leads GROUP BY owner_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		out[id] = n
	}
	return out
}

// ownerEvents are a lead's owner_assigned events' details.
func ownerEvents(t *testing.T, s *store.Store, leadID string) []map[string]any {
	t.Helper()
	events, err := s.ListEvents(t.Context(), leadID)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, e := range events {
		if e.Type == lead.EventOwnerAssigned {
			var d map[string]any
			if err := json.Unmarshal(e.Details, &d); err != nil {
				t.Fatal(err)
			}
			out = append(out, d)
		}
	}
	return out
}

var bookings atomic.Int64

// bookFromAnywhere books from an address of its own each time: no rate limit.
func bookFromAnywhere(t *testing.T, s *store.Store, email string) store.BookingResult {
	t.Helper()
	n := bookings.Add(1)
	res, err := s.Book(t.Context(), params(booking(email), fmt.Sprintf("2001:db8:%x::1", n)))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func ownerOf(t *testing.T, s *store.Store, leadID string) string {
	t.Helper()
	l, err := s.GetLead(t.Context(), leadID)
	if err != nil {
		t.Fatal(err)
	}
	if l.OwnerID == nil {
		return ""
	}
	return *l.OwnerID
}

// TestAssignmentIsExactUnderConcurrency: weights 1, 1 and 2 and 100 new leads booked at once
// (through two stores on one database, as two instances would) give exactly 25, 25 and 50.
func TestAssignmentIsExactUnderConcurrency(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		url := e.URL(t)
		s := storetest.MustOpen(t, url, store.Options{})
		stores := []*store.Store{s}
		if e.Name == "postgres" {
			stores = append(stores, storetest.MustOpen(t, url, store.Options{}))
		}
		a := mustMember(t, s, "A", "a@norse.example", lead.RoleSales, 1)
		b := mustMember(t, s, "B", "b@norse.example", lead.RoleSales, 1)
		c := mustMember(t, s, "C", "c@norse.example", lead.RoleSales, 2)
		mustMember(t, s, "Admin", "admin@norse.example", lead.RoleAdmin, 10) // admins get no leads

		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, 100)
		for i := range 100 {
			wg.Go(func() {
				<-start
				p := params(booking(fmt.Sprintf("p%d@example.no", i)), fmt.Sprintf("198.51.100.%d", i))
				_, err := stores[i%len(stores)].Book(t.Context(), p)
				errs <- err
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got := owners(t, s)
		if got[a.ID] != 25 || got[b.ID] != 25 || got[c.ID] != 50 {
			t.Fatalf("leads per owner %v, want A 25, B 25, C 50", got)
		}
		if n := count(t, s, `SELECT SUM(assignments) FROM staff`); n != 100 {
			t.Fatalf("assignments counted %d, want 100", n)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE kind = 'owner_new_lead' AND staff_id IS NOT NULL`); n != 100 {
			t.Fatalf("%d owner emails, want 100", n)
		}
	})
}

// TestAssignmentRule: the rule's order and ties, who is eligible, the default owner, the
// events and the emails.
func TestAssignmentRule(t *testing.T) {
	book := bookFromAnywhere
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		clock := storetest.NewClock(t0)
		url := e.URL(t)
		s := storetest.MustOpen(t, url, store.Options{Now: clock.Now})

		// nobody in the team: no owner, no event
		r := book(t, s, "first@example.no")
		if o := ownerOf(t, s, r.LeadID); o != "" || len(ownerEvents(t, s, r.LeadID)) != 0 {
			t.Fatalf("owner %q without a team", o)
		}

		// the default owner when nobody is eligible; an admin may be it
		admin := mustMember(t, s, "Admin", "boss@norse.example", lead.RoleAdmin, 1)
		sd := storetest.MustOpen(t, url, store.Options{Now: clock.Now, DefaultOwner: " Boss@Norse.example"})
		r = book(t, sd, "second@example.no")
		if o := ownerOf(t, s, r.LeadID); o != admin.ID {
			t.Fatalf("owner %q, want the default owner", o)
		}
		if ev := ownerEvents(t, s, r.LeadID); len(ev) != 1 || ev[0]["reason"] != lead.ReasonDefault || ev[0]["owner_id"] != admin.ID {
			t.Fatalf("events %v", ev)
		}

		kari := mustMember(t, s, "Kari", "kari@norse.example", lead.RoleSales, 1)
		clock.Advance(time.Second)
		ola := mustMember(t, s, "Ola", "ola@norse.example", lead.RoleSales, 1)
		away := mustMember(t, s, "Away", "away@norse.example", lead.RoleSales, 10)
		until := t0.Add(time.Hour)
		if _, err := s.UpdateMember(ctx, away.ID, lead.MemberInput{AwayUntil: &until}, lead.Actor{Name: "admin"}); err != nil {
			t.Fatal(err)
		}
		// ties: never assigned first, then the earliest created; then the least recently assigned
		var got []string
		for i := range 4 {
			clock.Advance(time.Second)
			got = append(got, ownerOf(t, s, book(t, sd, fmt.Sprintf("tie%d@example.no", i)).LeadID))
		}
		if want := []string{kari.ID, ola.ID, kari.ID, ola.ID}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("owners %v, want %v (kari, ola, …)", got, want)
		}
		r = book(t, sd, "rr@example.no")
		if ev := ownerEvents(t, s, r.LeadID); len(ev) != 1 || ev[0]["reason"] != lead.ReasonRoundRobin {
			t.Fatalf("events %v", ev)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE kind = 'owner_new_lead' AND lead_id = $1 AND staff_id = $2`, r.LeadID, kari.ID); n != 1 {
			t.Fatalf("%d new-lead emails to the owner", n)
		}
		// back from away, the weight-10 member has the lowest share
		clock.Advance(2 * time.Hour)
		if o := ownerOf(t, s, book(t, sd, "back@example.no").LeadID); o != away.ID {
			t.Fatalf("owner %q, want the member back from away", o)
		}

		// staff create: the rule without owner_id; the named owner with it (no email when they take it themselves)
		created, err := s.CreateLead(ctx, ownedLead("created@example.no", nil), lead.Actor{Name: "Kari", StaffID: kari.ID})
		if err != nil {
			t.Fatal(err)
		}
		if created.OwnerID == nil || created.ContactDueAt == nil {
			t.Fatalf("created %+v", created)
		}
		mine, err := s.CreateLead(ctx, ownedLead("mine@example.no", &kari.ID), lead.Actor{Name: "Kari", StaffID: kari.ID})
		if err != nil || *mine.OwnerID != kari.ID {
			t.Fatalf("%v %+v", err, mine)
		}
		if ev := ownerEvents(t, s, mine.ID); len(ev) != 1 || ev[0]["reason"] != lead.ReasonManual {
			t.Fatalf("events %v", ev)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE kind = 'owner_new_lead' AND lead_id = $1`, mine.ID); n != 0 {
			t.Fatal("an email to the member who took the lead themselves")
		}
		// an unknown or inactive owner is refused, and nothing is stored
		gone := mustMember(t, s, "Gone", "gone@norse.example", lead.RoleSales, 1)
		if _, err := s.UpdateMember(ctx, gone.ID, lead.MemberInput{Active: ptr(false)}, lead.Actor{Name: "admin"}); err != nil {
			t.Fatal(err)
		}
		before := count(t, s, `SELECT COUNT(*) FROM leads`)
		for _, id := range []string{gone.ID, "0b1e6a57-0000-4000-8000-000000000000", "nope"} {
			_, err := s.CreateLead(ctx, ownedLead("refused@example.no", &id), lead.Actor{Name: "admin"})
			assertOwnerRefused(t, err)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM leads`); n != before {
			t.Fatal("a refused create stored a lead")
		}
	})
}

func ownedLead(email string, owner *string) lead.Lead {
	ts := t0
	return lead.Lead{FirstName: "Staff", LastName: "Made", Email: email, OrganizationName: "Org", Source: lead.SourceEvent,
		Status: lead.StatusNew, ConsentGiven: true, ConsentTimestamp: &ts, Language: "nb", OwnerID: owner}
}

func assertOwnerRefused(t *testing.T, err error) {
	t.Helper()
	var le *lead.Error
	if !asLeadError(err, &le) || le.Code != lead.CodeInvalid || len(le.Issues) != 1 ||
		le.Issues[0].Rule != lead.RuleOwnerNotAssignable || le.Issues[0].Field != "owner_id" {
		t.Fatalf("got %v, want owner_not_assignable on owner_id", err)
	}
}

// TestOwnerChanges: a linked booking keeps an active owner and tells them once a day; a
// patch names or clears the owner; a deactivated member's open leads go on by the rule.
func TestOwnerChanges(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		kari := mustMember(t, s, "Kari", "kari@norse.example", lead.RoleSales, 1)
		r := book(t, s, "again@example.no")
		if ownerOf(t, s, r.LeadID) != kari.ID {
			t.Fatal("kari should own the lead")
		}
		clock.Advance(time.Minute)
		ola := mustMember(t, s, "Ola", "ola@norse.example", lead.RoleSales, 1)
		for range 2 {
			clock.Advance(time.Hour)
			if r2 := book(t, s, "again@example.no"); r2.LeadID != r.LeadID {
				t.Fatal("not linked")
			}
		}
		if ownerOf(t, s, r.LeadID) != kari.ID || len(ownerEvents(t, s, r.LeadID)) != 1 {
			t.Fatal("a linked booking changed the owner or wrote an event")
		}
		again := `SELECT COUNT(*) FROM email_jobs WHERE kind = 'owner_booked_again' AND lead_id = $1 AND staff_id = $2`
		if n := count(t, s, again, r.LeadID, kari.ID); n != 1 {
			t.Fatalf("%d booked-again emails within a day, want 1", n)
		}
		clock.Advance(24 * time.Hour)
		book(t, s, "again@example.no")
		if n := count(t, s, again, r.LeadID, kari.ID); n != 2 {
			t.Fatalf("%d booked-again emails after a day, want 2", n)
		}

		// a patch: unknown or inactive refused with nothing stored; a member named; null clears
		for _, id := range []string{"0b1e6a57-0000-4000-8000-000000000000", "x"} {
			_, err := s.PatchLead(ctx, r.LeadID, lead.Input{OwnerID: lead.Val(id), Status: lead.Val("contacted")}, nil, lead.Actor{Name: "svc"})
			assertOwnerRefused(t, err)
		}
		if l, _ := s.GetLead(ctx, r.LeadID); l.Status != lead.StatusNew || l.FirstContactedAt != nil {
			t.Fatal("a refused patch stored something")
		}
		l, err := s.PatchLead(ctx, r.LeadID, lead.Input{OwnerID: lead.Val(ola.ID)}, nil, lead.Actor{Name: "Kari", StaffID: kari.ID})
		if err != nil || l.OwnerID == nil || *l.OwnerID != ola.ID {
			t.Fatalf("%v %+v", err, l.OwnerID)
		}
		if ev := ownerEvents(t, s, r.LeadID); len(ev) != 2 || ev[1]["reason"] != lead.ReasonManual || ev[1]["owner_id"] != ola.ID {
			t.Fatalf("events %v", ev)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE kind = 'owner_new_lead' AND lead_id = $1 AND staff_id = $2`, r.LeadID, ola.ID); n != 1 {
			t.Fatal("the member given the lead got no email")
		}
		// the overdue reminder follows the owner
		if n := count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE kind = 'owner_overdue' AND status = 'pending' AND lead_id = $1 AND staff_id = $2`, r.LeadID, ola.ID); n != 1 {
			t.Fatalf("%d pending reminders for the new owner", n)
		}
		if l, err = s.PatchLead(ctx, r.LeadID, lead.Input{OwnerID: lead.Null()}, nil, lead.Actor{Name: "svc"}); err != nil || l.OwnerID != nil {
			t.Fatalf("%v %+v", err, l.OwnerID)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE kind = 'owner_overdue' AND status = 'pending' AND lead_id = $1`, r.LeadID); n != 0 {
			t.Fatal("a reminder with nobody to remind")
		}

		// deactivation: open leads go on by the rule, closed ones stay
		open := book(t, s, "open@example.no").LeadID     // → ola (kari has 1, ola 0)
		closed := book(t, s, "closed@example.no").LeadID // → kari or ola
		if _, err := s.PatchLead(ctx, closed, lead.Input{OwnerID: lead.Val(ola.ID), Status: lead.Val("lost")}, nil, lead.Actor{Name: "svc"}); err != nil {
			t.Fatal(err)
		}
		if ownerOf(t, s, open) != ola.ID {
			t.Fatal("setup: ola should own the open lead")
		}
		if _, err := s.UpdateMember(ctx, ola.ID, lead.MemberInput{Active: ptr(false)}, lead.Actor{Name: "admin"}); err != nil {
			t.Fatal(err)
		}
		if ownerOf(t, s, open) != kari.ID || ownerOf(t, s, closed) != ola.ID {
			t.Fatalf("after deactivation: open %s, closed %s", ownerOf(t, s, open), ownerOf(t, s, closed))
		}
		ev := ownerEvents(t, s, open)
		if last := ev[len(ev)-1]; last["reason"] != lead.ReasonMemberDeactivated || last["owner_id"] != kari.ID {
			t.Fatalf("events %v", ev)
		}
		// a linked booking of a lead whose owner left goes by the rule
		clock.Advance(time.Minute)
		if l, err = s.GetLead(ctx, closed); err != nil {
			t.Fatal(err)
		}
		book(t, s, "closed@example.no")
		if ownerOf(t, s, closed) != kari.ID {
			t.Fatal("a booking of a lead whose owner left kept the inactive owner")
		}
	})
}

// TestSpeedToLead: contact_due_at follows the calendar; first_contacted_at is set once, by
// staff; the overdue reminder is cancelled by the contact.
func TestSpeedToLead(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		oslo, err := time.LoadLocation("Europe/Oslo")
		if err != nil {
			t.Fatal(err)
		}
		// Fri 2026-12-04 16:30 Oslo → Mon 2026-12-07 16:30 (SPEC §11)
		clock := storetest.NewClock(time.Date(2026, 12, 4, 16, 30, 0, 0, oslo))
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now, Calendar: calendar.New(oslo), ContactSLA: 1})
		kari := mustMember(t, s, "Kari", "kari@norse.example", lead.RoleSales, 1)
		r := book(t, s, "due@example.no")
		l, err := s.GetLead(ctx, r.LeadID)
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2026, 12, 7, 16, 30, 0, 0, oslo); l.ContactDueAt == nil || !l.ContactDueAt.Equal(want) {
			t.Fatalf("contact_due_at %v, want %v", l.ContactDueAt, want)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE kind = 'owner_overdue' AND status = 'pending' AND staff_id = $1 AND run_at = $2`,
			kari.ID, l.ContactDueAt.UTC().Format("2006-01-02T15:04:05.000000Z")); n != 1 {
			t.Fatalf("%d reminders due at contact_due_at", n)
		}
		// the prospect's own booking is no contact; a staff note is, once
		clock.Advance(time.Hour)
		book(t, s, "due@example.no")
		if l, _ = s.GetLead(ctx, r.LeadID); l.FirstContactedAt != nil {
			t.Fatal("a booking counted as contact")
		}
		clock.Advance(time.Hour)
		first := clock.Now().UTC().Truncate(time.Microsecond)
		if l, err = s.AppendNote(ctx, r.LeadID, "called", lead.Actor{Name: "Kari", StaffID: kari.ID}); err != nil {
			t.Fatal(err)
		}
		if l.FirstContactedAt == nil || !l.FirstContactedAt.Equal(first) {
			t.Fatalf("first_contacted_at %v, want %v", l.FirstContactedAt, first)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE kind = 'owner_overdue' AND status = 'pending'`); n != 0 {
			t.Fatal("the reminder survived the contact")
		}
		clock.Advance(time.Hour)
		if l, err = s.PatchLead(ctx, r.LeadID, lead.Input{Status: lead.Val("contacted")}, nil, lead.Actor{Name: "svc"}); err != nil {
			t.Fatal(err)
		}
		if !l.FirstContactedAt.Equal(first) {
			t.Fatal("first_contacted_at moved")
		}
		// moving out of new counts too
		r2 := book(t, s, "move@example.no")
		if l, err = s.PatchLead(ctx, r2.LeadID, lead.Input{Status: lead.Val("contacted")}, nil, lead.Actor{Name: "svc"}); err != nil || l.FirstContactedAt == nil {
			t.Fatalf("%v %+v", err, l.FirstContactedAt)
		}
	})
}

// TestOwnerAndOverdueFilters: owner_id=<id>|none and overdue=true select by owner and by the
// store's clock, page by keyset, and the export takes the same filter.
func TestOwnerAndOverdueFilters(t *testing.T) {
	book := bookFromAnywhere
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		clock := storetest.NewClock(t0) // a Wednesday: due a working day later
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now, ContactSLA: 1})
		unowned := make([]string, 0, 3)
		for i := range 3 {
			clock.Advance(time.Second)
			unowned = append(unowned, book(t, s, fmt.Sprintf("free%d@example.no", i)).LeadID)
		}
		kari := mustMember(t, s, "Kari", "kari@norse.example", lead.RoleSales, 1)
		var kariLeads []string
		for i := range 3 {
			clock.Advance(time.Second)
			kariLeads = append(kariLeads, book(t, s, fmt.Sprintf("kari%d@example.no", i)).LeadID)
		}
		ids := func(f query.Filter, limit int) []string {
			var out []string
			var after *query.Cursor
			for {
				page, err := s.ListLeads(ctx, f, limit, after)
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range page.Items {
					out = append(out, l.ID)
				}
				if page.Next == nil {
					return out
				}
				after = page.Next
			}
		}
		rev := func(v []string) []string { return []string{v[2], v[1], v[0]} }
		if got := ids(query.Filter{OwnerID: kari.ID}, 2); fmt.Sprint(got) != fmt.Sprint(rev(kariLeads)) {
			t.Fatalf("owner filter %v, want %v", got, rev(kariLeads))
		}
		if got := ids(query.Filter{OwnerNone: true}, 2); fmt.Sprint(got) != fmt.Sprint(rev(unowned)) {
			t.Fatalf("unowned filter %v, want %v", got, rev(unowned))
		}
		if got := ids(query.Filter{Overdue: true}, 2); len(got) != 0 {
			t.Fatalf("overdue before anything is due: %v", got)
		}
		clock.Advance(25 * time.Hour)
		// one contacted by a note, one moved on: neither is overdue
		if _, err := s.AppendNote(ctx, kariLeads[0], "called", lead.Actor{Name: "Kari", StaffID: kari.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PatchLead(ctx, unowned[0], lead.Input{Status: lead.Val("contacted")}, nil, lead.Actor{Name: "svc"}); err != nil {
			t.Fatal(err)
		}
		want := []string{kariLeads[2], kariLeads[1], unowned[2], unowned[1]}
		if got := ids(query.Filter{Overdue: true}, 3); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("overdue %v, want %v", got, want)
		}
		if got := ids(query.Filter{Overdue: true, OwnerID: kari.ID}, 50); fmt.Sprint(got) != fmt.Sprint(want[:2]) {
			t.Fatalf("overdue of kari %v, want %v", got, want[:2])
		}
		var exported []string
		if err := s.ExportLeads(ctx, query.Filter{Overdue: true, OwnerNone: true}, func(l *lead.Lead) error {
			exported = append(exported, l.ID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(exported) != fmt.Sprint(want[2:]) {
			t.Fatalf("export %v, want %v", exported, want[2:])
		}
	})
}

// TestSpeedToLeadStats: per owner and overall, the leads, the contacted, those contacted in
// time and the median and 90th percentile hours, for the leads created in the range.
func TestSpeedToLeadStats(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		clock := storetest.NewClock(t0) // Wednesday 12:00 UTC: due Thursday 12:00 UTC (13:00 Oslo)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now, ContactSLA: 1})
		book := bookFromAnywhere
		unowned := book(t, s, "none@example.no").LeadID
		kari := mustMember(t, s, "Kari", "kari@norse.example", lead.RoleSales, 1)
		var leads []string
		for i := range 3 {
			leads = append(leads, book(t, s, fmt.Sprintf("k%d@example.no", i)).LeadID)
		}
		svc := lead.Actor{Name: "svc"}
		// contacted after 2 h, 10 h and 30 h (the last too late); the unowned one after 1 h
		for i, h := range []time.Duration{1, 2, 10, 30} {
			if i == 0 {
				clock.Advance(h * time.Hour)
			} else {
				clock.Advance((h - []time.Duration{1, 2, 10, 30}[i-1]) * time.Hour)
			}
			id := unowned
			if i > 0 {
				id = leads[i-1]
			}
			if _, err := s.AppendNote(ctx, id, "called", svc); err != nil {
				t.Fatal(err)
			}
		}
		book(t, s, "waiting@example.no") // kari's, not contacted
		st, err := s.Stats(ctx, query.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		sp := st.SpeedToLead
		f := func(p *float64) float64 {
			if p == nil {
				return -1
			}
			return *p
		}
		if o := sp.Overall; o.Leads != 5 || o.Contacted != 4 || o.WithinSLA != 3 || f(o.MedianHours) != 2 || f(o.P90Hours) != 30 {
			t.Fatalf("overall %+v median %v p90 %v", o, f(o.MedianHours), f(o.P90Hours))
		}
		if len(sp.ByOwner) != 2 || sp.ByOwner[0].OwnerID == nil || *sp.ByOwner[0].OwnerID != kari.ID || *sp.ByOwner[0].Name != "Kari" ||
			sp.ByOwner[1].OwnerID != nil {
			t.Fatalf("by owner %+v", sp.ByOwner)
		}
		if k := sp.ByOwner[0]; k.Leads != 4 || k.Contacted != 3 || k.WithinSLA != 2 || f(k.MedianHours) != 10 || f(k.P90Hours) != 30 {
			t.Fatalf("kari %+v median %v p90 %v", k, f(k.MedianHours), f(k.P90Hours))
		}
		// the range counts: nothing was created after now
		later, err := s.Stats(ctx, query.Filter{CreatedFrom: clock.Now().Add(time.Hour)})
		if err != nil || later.SpeedToLead.Overall.Leads != 0 || len(later.SpeedToLead.ByOwner) != 0 {
			t.Fatalf("%v %+v", err, later.SpeedToLead)
		}
	})
}

// TestDeactivationDuringBookings: a member deactivated while new leads are booked and
// assigned by hand at the same time ends with no open lead, whichever came first.
func TestDeactivationDuringBookings(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		s := storetest.MustOpen(t, e.URL(t), store.Options{})
		kari := mustMember(t, s, "Kari", "kari@norse.example", lead.RoleSales, 1)
		ola := mustMember(t, s, "Ola", "ola@norse.example", lead.RoleSales, 1)
		var seeded []string
		for i := range 10 {
			seeded = append(seeded, bookFromAnywhere(t, s, fmt.Sprintf("seed%d@example.no", i)).LeadID)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, 100)
		for i := range 40 {
			wg.Go(func() {
				<-start
				_, err := s.Book(ctx, params(booking(fmt.Sprintf("during%d@example.no", i)), fmt.Sprintf("2001:db8:ff:%x::1", i)))
				errs <- err
			})
		}
		for _, id := range seeded { // hand each seeded lead to ola while she leaves: refused or handed on
			wg.Go(func() {
				<-start
				_, err := s.PatchLead(ctx, id, lead.Input{OwnerID: lead.Val(ola.ID)}, nil, lead.Actor{Name: "svc"})
				if err != nil && lead.ErrorCode(err) != lead.CodeInvalid {
					errs <- err
				}
			})
		}
		wg.Go(func() {
			<-start
			_, err := s.UpdateMember(ctx, ola.ID, lead.MemberInput{Active: ptr(false)}, lead.Actor{Name: "admin"})
			errs <- err
		})
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := count(t, s, `SELECT COUNT(*) FROM leads WHERE owner_id = $1 AND status = 'new'`, ola.ID); n != 0 {
			t.Fatalf("the member who left owns %d open leads", n)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM leads WHERE owner_id = $1`, kari.ID); n != 50 {
			t.Fatalf("kari owns %d of 50 leads", n)
		}
	})
}
