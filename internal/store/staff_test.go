package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/norsedigital/leads/internal/httpapi"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// staffLead is a lead as staff would create it, validated like the API does.
func staffLead(t *testing.T, email string) lead.Lead {
	t.Helper()
	yes, consent := true, t0.Add(-time.Hour)
	l, res := lead.ValidateCreate(lead.Input{
		FirstName: lead.Val("Grace"), LastName: lead.Val("Hopper"), Email: lead.Val(email),
		OrganizationName: lead.Val("Compiler Club"), Source: lead.Val("event"),
		ConsentGiven: &yes, ConsentTimestamp: &consent,
	}, t0)
	if !res.OK() {
		t.Fatalf("invalid test lead: %+v", res.Errors)
	}
	return l
}

// staffWantCode fails unless err is a domain error with code (and rule, when given).
func staffWantCode(t *testing.T, err error, code lead.Code, rule string) *lead.Error {
	t.Helper()
	var de *lead.Error
	if !errors.As(err, &de) || de.Code != code || (rule != "" && de.Rule != rule) {
		t.Fatalf("error %v, want code %s rule %q", err, code, rule)
	}
	return de
}

func staffEventTypes(t *testing.T, s *store.Store, id string) []string {
	t.Helper()
	events, err := s.ListEvents(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
	}
	return types
}

// staffMarkErased anonymizes a lead the way erasure leaves it, without depending on the erasure code.
func staffMarkErased(t *testing.T, s *store.Store, id string) {
	t.Helper()
	if _, err := s.DB().Exec(`UPDATE leads SET email_normalized = $2, anonymized_at = $3 WHERE id = $1`,
		id, "erased+"+id+"@invalid", t0.Format("2006-01-02T15:04:05.000000Z")); err != nil {
		t.Fatal(err)
	}
}

func TestStaffLeadStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		url := e.URL(t)
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, url, store.Options{Now: clock.Now})

		t.Run("create stores the lead as read back, with a created event naming the actor and no email", func(t *testing.T) {
			in := staffLead(t, "Grace@Example.org")
			l, err := s.CreateLead(ctx, in, lead.Actor{Name: "sally"})
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.GetLead(ctx, l.ID)
			if err != nil {
				t.Fatal(err)
			}
			if httpapi.LeadETag(got) != httpapi.LeadETag(l) {
				t.Fatalf("returned lead differs from stored one:\n%+v\n%+v", l, got)
			}
			if l.Email != "Grace@Example.org" || l.Source != lead.SourceEvent || l.Status != lead.StatusNew ||
				!l.CreatedAt.Equal(t0) || !l.UpdatedAt.Equal(t0) || l.Notes != nil || l.IPAddress != nil || l.AnonymizedAt != nil ||
				l.ConsentTimestamp == nil || !l.ConsentTimestamp.Equal(t0.Add(-time.Hour)) {
				t.Fatalf("lead %+v", l)
			}
			events, err := s.ListEvents(ctx, l.ID)
			if err != nil || len(events) != 1 || events[0].Type != lead.EventCreated || events[0].Actor != "sally" ||
				string(events[0].Details) != `{"source":"event"}` {
				t.Fatalf("events %+v, %v", events, err)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE lead_id = $1`, l.ID); n != 0 {
				t.Fatalf("staff create enqueued %d emails", n)
			}
		})

		t.Run("create with a live lead's email, any case, is a dedup conflict naming that lead", func(t *testing.T) {
			first, err := s.CreateLead(ctx, staffLead(t, "dup@example.org"), lead.Actor{Name: "sally"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.CreateLead(ctx, staffLead(t, "  DUP@Example.ORG"), lead.Actor{Name: "sally"})
			if de := staffWantCode(t, err, lead.CodeConflict, lead.RuleDeduplication); de.ExistingLeadID != first.ID {
				t.Fatalf("existing lead %q, want %q", de.ExistingLeadID, first.ID)
			}
			res, err := s.Book(ctx, params(booking("booked@example.org"), "192.0.2.50"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.CreateLead(ctx, staffLead(t, "booked@example.org"), lead.Actor{Name: "sally"})
			if de := staffWantCode(t, err, lead.CodeConflict, lead.RuleDeduplication); de.ExistingLeadID != res.LeadID {
				t.Fatalf("existing lead %q, want the booked lead %q", de.ExistingLeadID, res.LeadID)
			}
		})

		t.Run("an erased lead's address is free again", func(t *testing.T) {
			old, err := s.CreateLead(ctx, staffLead(t, "again@example.org"), lead.Actor{Name: "sally"})
			if err != nil {
				t.Fatal(err)
			}
			staffMarkErased(t, s, old.ID)
			fresh, err := s.CreateLead(ctx, staffLead(t, "again@example.org"), lead.Actor{Name: "sally"})
			if err != nil || fresh.ID == old.ID {
				t.Fatalf("create after erasure: %+v, %v", fresh, err)
			}
		})

		t.Run("concurrent creates with one email: exactly one lead, every other call names it", func(t *testing.T) {
			const n = 12
			var wg sync.WaitGroup
			ids := make([]string, n)
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					l, err := s.CreateLead(ctx, staffLead(t, "race@example.org"), lead.Actor{Name: "sally"})
					ids[i], errs[i] = l.ID, err
				})
			}
			wg.Wait()
			var winner string
			for i, err := range errs {
				if err == nil {
					if winner != "" {
						t.Fatalf("two creates won: %s and %s", winner, ids[i])
					}
					winner = ids[i]
				}
			}
			if winner == "" {
				t.Fatalf("no create won: %v", errs)
			}
			for _, err := range errs {
				if err != nil {
					if de := staffWantCode(t, err, lead.CodeConflict, lead.RuleDeduplication); de.ExistingLeadID != winner {
						t.Fatalf("conflict names %q, want %q", de.ExistingLeadID, winner)
					}
				}
			}
			if c := count(t, s, `SELECT COUNT(*) FROM leads WHERE email_normalized = 'race@example.org'`); c != 1 {
				t.Fatalf("%d leads with the address", c)
			}
		})

		t.Run("patch writes fields and status, moves updated_at, and logs field names without values", func(t *testing.T) {
			l, err := s.CreateLead(ctx, staffLead(t, "patch@example.org"), lead.Actor{Name: "sally"})
			if err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Minute)
			got, err := s.PatchLead(ctx, l.ID, lead.Input{
				FirstName: lead.Val("Amazing Grace"), Email: lead.Val("Patched@Example.org"), Phone: lead.Val("+47 22 33 44 55"),
				RoleTitle: lead.Null(), Status: lead.Val("contacted"),
			}, httpapi.IfMatch([]string{httpapi.LeadETag(l)}), lead.Actor{Name: "paul"})

			if err != nil {
				t.Fatal(err)
			}
			if got.FirstName != "Amazing Grace" || got.Email != "Patched@Example.org" || got.Phone == nil || *got.Phone != "+4722334455" ||
				got.Status != lead.StatusContacted || !got.UpdatedAt.Equal(t0.Add(time.Minute)) || !got.CreatedAt.Equal(l.CreatedAt) {
				t.Fatalf("patched lead %+v", got)
			}
			events, err := s.ListEvents(ctx, l.ID)
			if err != nil || len(events) != 3 {
				t.Fatalf("events %+v, %v", events, err)
			}
			if events[1].Type != lead.EventUpdated || events[1].Actor != "paul" || string(events[1].Details) != `{"fields":["first_name","email","phone"]}` {
				t.Fatalf("updated event %+v (%s)", events[1], events[1].Details)
			}
			if events[2].Type != lead.EventStatusChanged || string(events[2].Details) != `{"from":"new","to":"contacted"}` {
				t.Fatalf("status event %+v (%s)", events[2], events[2].Details)
			}
			// the dedup key moved with the address: a booking with it links to this lead
			res, err := s.Book(ctx, params(booking("patched@example.org"), "192.0.2.51"))
			if err != nil || res.NewLead || res.LeadID != l.ID {
				t.Fatalf("booking with the patched address: %+v, %v", res, err)
			}
		})

		t.Run("patch that changes nothing writes nothing", func(t *testing.T) {
			l, err := s.CreateLead(ctx, staffLead(t, "noop@example.org"), lead.Actor{Name: "sally"})
			if err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Minute)
			got, err := s.PatchLead(ctx, l.ID, lead.Input{FirstName: lead.Val("Grace"), Phone: lead.Null(), Status: lead.Val("new")}, nil, lead.Actor{Name: "paul"})
			if err != nil || httpapi.LeadETag(got) != httpapi.LeadETag(l) {
				t.Fatalf("no-op patch changed the lead: %+v, %v", got, err)
			}
			if types := staffEventTypes(t, s, l.ID); len(types) != 1 {
				t.Fatalf("events %v", types)
			}
		})

		t.Run("stale If-Match is a precondition failure, even for a patch that changes nothing", func(t *testing.T) {
			l, err := s.CreateLead(ctx, staffLead(t, "stale@example.org"), lead.Actor{Name: "sally"})
			if err != nil {
				t.Fatal(err)
			}
			stale := httpapi.LeadETag(l)
			if _, err := s.AppendNote(ctx, l.ID, "called", lead.Actor{Name: "sally"}); err != nil {
				t.Fatal(err)
			}
			_, err = s.PatchLead(ctx, l.ID, lead.Input{}, httpapi.IfMatch([]string{stale}), lead.Actor{Name: "paul"})
			staffWantCode(t, err, lead.CodePrecondition, "")
			_, err = s.PatchLead(ctx, l.ID, lead.Input{LastName: lead.Val("Murray")}, httpapi.IfMatch([]string{}), lead.Actor{Name: "paul"})
			staffWantCode(t, err, lead.CodePrecondition, "")
			cur, _ := s.GetLead(ctx, l.ID)
			got, err := s.PatchLead(ctx, l.ID, lead.Input{LastName: lead.Val("Murray")}, httpapi.IfMatch([]string{stale, httpapi.LeadETag(cur)}), lead.Actor{Name: "paul"})
			if err != nil || got.LastName != "Murray" {
				t.Fatalf("patch with a matching tag in the list: %+v, %v", got, err)
			}
		})

		t.Run("concurrent patches holding the same ETag: exactly one wins", func(t *testing.T) {
			l, err := s.CreateLead(ctx, staffLead(t, "contended@example.org"), lead.Actor{Name: "sally"})
			if err != nil {
				t.Fatal(err)
			}
			etag := []string{httpapi.LeadETag(l)}
			const n = 10
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					// every writer sees the same clock tick: updated_at alone must still tell them apart
					_, errs[i] = s.PatchLead(ctx, l.ID, lead.Input{RoleTitle: lead.Val(strings.Repeat("x", i+1))}, httpapi.IfMatch(etag), lead.Actor{Name: "paul"})
				})
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				if err == nil {
					won++
				} else {
					staffWantCode(t, err, lead.CodePrecondition, "")
				}
			}
			if won != 1 {
				t.Fatalf("%d patches won: %v", won, errs)
			}
			if c := count(t, s, `SELECT COUNT(*) FROM lead_events WHERE lead_id = $1 AND type = 'updated'`, l.ID); c != 1 {
				t.Fatalf("%d updated events", c)
			}
		})

		t.Run("concurrent status moves without If-Match are each checked against the committed status", func(t *testing.T) {
			l, err := s.CreateLead(ctx, staffLead(t, "moves@example.org"), lead.Actor{Name: "sally"})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make([]error, 8)
			for i := range errs {
				wg.Go(func() {
					_, errs[i] = s.PatchLead(ctx, l.ID, lead.Input{Status: lead.Val("contacted")}, nil, lead.Actor{Name: "paul"})
				})
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if c := count(t, s, `SELECT COUNT(*) FROM lead_events WHERE lead_id = $1 AND type = 'status_changed'`, l.ID); c != 1 {
				t.Fatalf("%d status_changed events for one move", c)
			}
		})

		t.Run("refused status move lists the allowed next statuses", func(t *testing.T) {
			l, err := s.CreateLead(ctx, staffLead(t, "skip@example.org"), lead.Actor{Name: "sally"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.PatchLead(ctx, l.ID, lead.Input{Status: lead.Val("won")}, nil, lead.Actor{Name: "paul"})
			de := staffWantCode(t, err, lead.CodeInvalid, "")
			if len(de.Issues) != 1 || de.Issues[0].Rule != lead.RuleStatusTransition ||
				strings.Join(staffStatusNames(de.Allowed), ",") != "contacted,lost,disqualified" {
				t.Fatalf("refusal %+v", de)
			}
			_, err = s.PatchLead(ctx, l.ID, lead.Input{FirstName: lead.Val("")}, nil, lead.Actor{Name: "paul"})
			if de := staffWantCode(t, err, lead.CodeInvalid, ""); de.Allowed != nil {
				t.Fatalf("allowed set for a non-transition error: %+v", de)
			}
		})

		t.Run("patching the email onto another live lead's address is a conflict naming it", func(t *testing.T) {
			a, err := s.CreateLead(ctx, staffLead(t, "holder@example.org"), lead.Actor{Name: "sally"})
			if err != nil {
				t.Fatal(err)
			}
			b, err := s.CreateLead(ctx, staffLead(t, "mover@example.org"), lead.Actor{Name: "sally"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.PatchLead(ctx, b.ID, lead.Input{Email: lead.Val("HOLDER@example.org")}, nil, lead.Actor{Name: "paul"})
			if de := staffWantCode(t, err, lead.CodeConflict, lead.RuleDeduplication); de.ExistingLeadID != a.ID {
				t.Fatalf("conflict names %q, want %q", de.ExistingLeadID, a.ID)
			}
			if got, _ := s.GetLead(ctx, b.ID); got.Email != "mover@example.org" {
				t.Fatalf("refused patch changed the email: %+v", got)
			}
			// a lead may change the case of its own address
			if got, err := s.PatchLead(ctx, a.ID, lead.Input{Email: lead.Val("Holder@Example.org")}, nil, lead.Actor{Name: "paul"}); err != nil || got.Email != "Holder@Example.org" {
				t.Fatalf("case change of own address: %+v, %v", got, err)
			}
		})

		t.Run("an erased lead cannot be patched or annotated", func(t *testing.T) {
			l, err := s.CreateLead(ctx, staffLead(t, "gone@example.org"), lead.Actor{Name: "sally"})
			if err != nil {
				t.Fatal(err)
			}
			staffMarkErased(t, s, l.ID)
			_, err = s.PatchLead(ctx, l.ID, lead.Input{FirstName: lead.Val("Back")}, nil, lead.Actor{Name: "paul"})
			staffWantCode(t, err, lead.CodeConflict, "")
			_, err = s.AppendNote(ctx, l.ID, "hello", lead.Actor{Name: "paul"})
			staffWantCode(t, err, lead.CodeConflict, "")
		})

		t.Run("unknown and malformed ids are not found", func(t *testing.T) {
			for _, id := range []string{"0190f0a0-0000-7000-8000-000000000000", "not-a-uuid", ""} {
				if _, err := s.PatchLead(ctx, id, lead.Input{}, nil, lead.Actor{Name: "paul"}); !errors.Is(err, lead.ErrNotFound) {
					t.Errorf("patch %q: %v", id, err)
				}
				if _, err := s.AppendNote(ctx, id, "x", lead.Actor{Name: "paul"}); !errors.Is(err, lead.ErrNotFound) {
					t.Errorf("note %q: %v", id, err)
				}
				if _, err := s.ListEvents(ctx, id); !errors.Is(err, lead.ErrNotFound) {
					t.Errorf("events %q: %v", id, err)
				}
				if _, err := s.ListBookings(ctx, id); !errors.Is(err, lead.ErrNotFound) {
					t.Errorf("bookings %q: %v", id, err)
				}
			}
		})

		t.Run("notes are appended as stamped lines, logged without their text, within 100000 code points", func(t *testing.T) {
			l, err := s.CreateLead(ctx, staffLead(t, "notes@example.org"), lead.Actor{Name: "sally"})
			if err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Hour)
			got, err := s.AppendNote(ctx, l.ID, "Called,\r\nleft a message", lead.Actor{Name: "sally"})
			if err != nil {
				t.Fatal(err)
			}
			stamp := "[" + clock.Now().Format(time.RFC3339) + "] sally: "
			if got.Notes == nil || *got.Notes != stamp+"Called,\nleft a message" || !got.UpdatedAt.Equal(clock.Now()) {
				t.Fatalf("notes %q updated %v", staffDeref(got.Notes), got.UpdatedAt)
			}
			got, err = s.AppendNote(ctx, l.ID, "second", lead.Actor{Name: "paul"})
			if err != nil || !strings.HasSuffix(*got.Notes, "left a message\n["+clock.Now().Format(time.RFC3339)+"] paul: second") {
				t.Fatalf("second note: %q, %v", staffDeref(got.Notes), err)
			}
			events, _ := s.ListEvents(ctx, l.ID)
			if last := events[len(events)-1]; last.Type != lead.EventNoteAdded || last.Actor != "paul" || strings.Contains(string(last.Details), "second") {
				t.Fatalf("note event %+v (%s)", last, last.Details)
			}
			_, err = s.AppendNote(ctx, l.ID, "  ", lead.Actor{Name: "paul"})
			if de := staffWantCode(t, err, lead.CodeInvalid, ""); de.Issues[0].Rule != lead.RuleRequiredFields {
				t.Fatalf("blank note: %+v", de)
			}

			// the limit counts code points: "ø" is two bytes
			big, err := s.CreateLead(ctx, staffLead(t, "bignotes@example.org"), lead.Actor{Name: "sally"})
			if err != nil {
				t.Fatal(err)
			}
			if big, err = s.AppendNote(ctx, big.ID, strings.Repeat("ø", 60000), lead.Actor{Name: "tester"}); err != nil {
				t.Fatal(err)
			}
			used := utf8.RuneCountInString(*big.Notes)
			room := store.MaxNotesLength - used - 1 - len("["+clock.Now().Format(time.RFC3339)+"] tester: ")
			_, err = s.AppendNote(ctx, big.ID, strings.Repeat("ø", room+1), lead.Actor{Name: "tester"})
			if de := staffWantCode(t, err, lead.CodeInvalid, ""); de.Issues[0].Rule != lead.RuleFieldLength {
				t.Fatalf("over the limit: %+v", de)
			}
			if got, _ := s.GetLead(ctx, big.ID); utf8.RuneCountInString(*got.Notes) != used {
				t.Fatalf("refused note changed the notes")
			}
			got, err = s.AppendNote(ctx, big.ID, strings.Repeat("ø", room), lead.Actor{Name: "tester"})
			if err != nil || utf8.RuneCountInString(*got.Notes) != store.MaxNotesLength {
				t.Fatalf("note filling the limit exactly: %v", err)
			}
		})

		t.Run("events are oldest first and bookings newest first, with what the edge recorded", func(t *testing.T) {
			first, err := s.Book(ctx, params(booking("trail@example.org"), "192.0.2.60"))
			if err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Minute)
			secondAt := clock.Now()
			second, err := s.Book(ctx, params(booking("trail@example.org"), "192.0.2.61"))
			if err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Minute)
			if _, err := s.PatchLead(ctx, first.LeadID, lead.Input{Status: lead.Val("contacted")}, nil, lead.Actor{Name: "paul"}); err != nil {
				t.Fatal(err)
			}
			if types := strings.Join(staffEventTypes(t, s, first.LeadID), ","); types != "created,booking_linked,status_changed" {
				t.Fatalf("events %s", types)
			}
			bookings, err := s.ListBookings(ctx, first.LeadID)
			if err != nil || len(bookings) != 2 {
				t.Fatalf("bookings %+v, %v", bookings, err)
			}
			b := bookings[0]
			if b.ID != second.BookingID || bookings[1].ID != first.BookingID || b.LeadID != first.LeadID ||
				staffDeref(b.IPAddress) != "192.0.2.61" || staffDeref(b.UserAgent) != "test" || b.ConsentVersion != "2026-01" ||
				!b.ConsentTimestamp.Equal(secondAt) || !b.CreatedAt.Equal(secondAt) || staffDeref(b.Message) != "Hello" || b.Email != "trail@example.org" {
				t.Fatalf("newest booking %+v", b)
			}
			if js, _ := json.Marshal(b); !strings.Contains(string(js), `"user_agent":"test"`) || !strings.Contains(string(js), `"phone":null`) {
				t.Fatalf("booking JSON %s", js)
			}
		})

		t.Run("the ETag is the same from another store instance on the same database", func(t *testing.T) {
			l, err := s.CreateLead(ctx, staffLead(t, "etag@example.org"), lead.Actor{Name: "sally"})
			if err != nil {
				t.Fatal(err)
			}
			other := storetest.MustOpen(t, url, store.Options{})
			got, err := other.GetLead(ctx, l.ID)
			if err != nil || httpapi.LeadETag(got) != httpapi.LeadETag(l) {
				t.Fatalf("ETag differs across instances: %v", err)
			}
			if tag := httpapi.LeadETag(l); len(tag) != 66 || tag[0] != '"' || tag[65] != '"' {
				t.Fatalf("ETag %s is not a quoted SHA-256", tag)
			}
		})
	})
}

func staffStatusNames(ss []lead.Status) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

func staffDeref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
