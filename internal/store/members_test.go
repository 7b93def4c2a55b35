package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

func ptr[T any](v T) *T { return &v }

// mustMember adds a member or fails the test.
func mustMember(t *testing.T, s *store.Store, name, email string, role lead.Role, weight int) lead.Member {
	t.Helper()
	m, err := s.CreateMember(t.Context(), lead.MemberInput{Name: &name, Email: &email, Role: ptr(string(role)), Weight: &weight})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMembers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		kari := mustMember(t, s, "Kari Selger", "Kari@Norse.example", lead.RoleSales, 2)
		if kari.Language != "nb" || !kari.Active || kari.Weight != 2 || kari.AwayUntil != nil {
			t.Fatalf("defaults: %+v", kari)
		}

		t.Run("an email is taken once, whatever its case", func(t *testing.T) {
			_, err := s.CreateMember(ctx, lead.MemberInput{Name: ptr("Other"), Email: ptr(" kari@norse.EXAMPLE "), Role: ptr("admin")})
			if lead.ErrorCode(err) != lead.CodeConflict {
				t.Fatalf("got %v, want conflict", err)
			}
		})
		t.Run("bad input names its rules and stores nothing", func(t *testing.T) {
			_, err := s.CreateMember(ctx, lead.MemberInput{Name: ptr(" "), Email: ptr("not-an-address"), Role: ptr("boss"),
				Weight: ptr(11), Language: ptr("de")})
			var le *lead.Error
			if !asLeadError(err, &le) || le.Code != lead.CodeInvalid {
				t.Fatalf("got %v", err)
			}
			rules := map[string]string{}
			for _, is := range le.Issues {
				rules[is.Field] = is.Rule
			}
			want := map[string]string{"name": lead.RuleRequiredFields, "email": lead.RuleEmailFormat, "role": lead.RuleRequiredFields,
				"weight": lead.RuleStaffWeight, "language": lead.RuleLanguageEnum}
			for f, r := range want {
				if rules[f] != r {
					t.Errorf("field %s: rule %q, want %q", f, rules[f], r)
				}
			}
			if n := count(t, s, `SELECT COUNT(*) FROM staff`); n != 1 {
				t.Fatalf("%d members stored, want 1", n)
			}
		})
		t.Run("update and look up", func(t *testing.T) {
			away := t0.Add(48 * time.Hour)
			m, err := s.UpdateMember(ctx, kari.ID, lead.MemberInput{Language: ptr("en"), Weight: ptr(3), AwayUntil: &away}, lead.Actor{Name: "admin"})
			if err != nil {
				t.Fatal(err)
			}
			if m.Language != "en" || m.Weight != 3 || m.AwayUntil == nil || !m.AwayUntil.Equal(away) || !m.Away(t0) || m.Away(away) {
				t.Fatalf("updated: %+v", m)
			}
			got, err := s.MemberByEmail(ctx, "KARI@norse.example")
			if err != nil || got.ID != kari.ID || got.Weight != 3 {
				t.Fatalf("by email: %+v, %v", got, err)
			}
			if _, err := s.UpdateMember(ctx, kari.ID, lead.MemberInput{Weight: ptr(0)}, lead.Actor{}); lead.ErrorCode(err) != lead.CodeInvalid {
				t.Fatalf("weight 0: %v", err)
			}
			if _, err := s.GetMember(ctx, store.NewID()); err != lead.ErrNotFound && lead.ErrorCode(err) != lead.CodeNotFound {
				t.Fatalf("unknown member: %v", err)
			}
			list, err := s.ListMembers(ctx)
			if err != nil || len(list) != 1 || list[0].ID != kari.ID {
				t.Fatalf("list: %+v, %v", list, err)
			}
		})
		t.Run("a member's token acts as the member while they are active", func(t *testing.T) {
			raw, tok, err := s.CreateMemberToken(ctx, "kari@norse.example")
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Authenticate(ctx, raw)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != tok.ID || got.StaffID != kari.ID || got.Name != "Kari Selger" || got.Role != lead.RoleSales {
				t.Fatalf("authenticated as %+v", got)
			}
			if a := got.Actor(); a.StaffID != kari.ID || a.Name != "Kari Selger" {
				t.Fatalf("actor %+v", a)
			}
			// the member's role follows the member, not the token
			if _, err := s.UpdateMember(ctx, kari.ID, lead.MemberInput{Role: ptr("admin")}, lead.Actor{}); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.Authenticate(ctx, raw); got.Role != lead.RoleAdmin {
				t.Fatalf("role after promotion: %q", got.Role)
			}
			// a session opened by link or single sign-on stands for the member directly
			rawSess, _, err := s.CreateSession(ctx, store.Token{Name: kari.Name, Role: kari.Role, StaffID: kari.ID}, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			sess, err := s.SessionFor(ctx, rawSess)
			if err != nil || sess.Token.StaffID != kari.ID || sess.Token.ID != "" || sess.Token.Role != lead.RoleAdmin {
				t.Fatalf("member session: %+v, %v", sess, err)
			}
			if _, err := s.UpdateMember(ctx, kari.ID, lead.MemberInput{Active: ptr(false)}, lead.Actor{}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Authenticate(ctx, raw); lead.ErrorCode(err) != lead.CodeUnauthorized {
				t.Fatalf("token of a deactivated member: %v", err)
			}
			if _, err := s.SessionFor(ctx, rawSess); lead.ErrorCode(err) != lead.CodeUnauthorized {
				t.Fatalf("session of a deactivated member: %v", err)
			}
			if _, _, err := s.CreateMemberToken(ctx, "kari@norse.example"); lead.ErrorCode(err) != lead.CodeConflict {
				t.Fatalf("token for an inactive member: %v", err)
			}
		})
	})
}

// TestEmailJobKinds: a job for a member goes to the member (in their language) and is
// cancelled when the member is deactivated or the lead it is about is erased; the
// confirmation's once-a-day rule counts confirmations only.
func TestEmailJobKinds(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		ola := mustMember(t, s, "Ola Selger", "ola@norse.example", lead.RoleSales, 1)
		if _, err := s.UpdateMember(ctx, ola.ID, lead.MemberInput{Language: ptr("en")}, lead.Actor{}); err != nil {
			t.Fatal(err)
		}
		res := book(t, s, "kind@example.no")
		claimAll := func() []store.EmailJob {
			t.Helper()
			jobs, err := s.ClaimEmailJobs(ctx, 10, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range jobs {
				if err := s.CompleteEmailJob(ctx, j.ID); err != nil {
					t.Fatal(err)
				}
			}
			return jobs
		}
		claimAll() // the confirmation

		if err := s.EnqueueEmail(ctx, store.EmailJobSpec{Kind: "test_notice", LeadID: res.LeadID, StaffID: ola.ID}); err != nil {
			t.Fatal(err)
		}
		if err := s.EnqueueEmail(ctx, store.EmailJobSpec{Kind: "test_link", StaffID: ola.ID}); err != nil {
			t.Fatal(err)
		}
		jobs := claimAll()
		if len(jobs) != 2 {
			t.Fatalf("claimed %d jobs, want 2", len(jobs))
		}
		for _, j := range jobs {
			if j.To != "ola@norse.example" || j.FirstName != "Ola Selger" || j.Language != "en" || j.StaffID != ola.ID {
				t.Fatalf("member job %+v", j)
			}
		}

		// a booking of the same lead the same day: the member's emails do not count as its confirmation
		clock.Advance(time.Minute)
		if r := book(t, s, "kind@example.no"); r.EmailQueued {
			t.Fatal("a second confirmation within 24 hours")
		}

		// the future job of a member who leaves, and one about a lead that is erased, are cancelled
		if err := s.EnqueueEmail(ctx, store.EmailJobSpec{Kind: "test_notice", LeadID: res.LeadID, StaffID: ola.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AnonymizeLead(ctx, res.LeadID, lead.Actor{Name: "admin"}); err != nil {
			t.Fatal(err)
		}
		if err := s.EnqueueEmail(ctx, store.EmailJobSpec{Kind: "test_link", StaffID: ola.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateMember(ctx, ola.ID, lead.MemberInput{Active: ptr(false)}, lead.Actor{}); err != nil {
			t.Fatal(err)
		}
		if jobs := claimAll(); len(jobs) != 0 {
			t.Fatalf("claimed %d jobs for an erased lead or an inactive member", len(jobs))
		}
		// (the emails to the lead's owner, SPEC §11, are cancelled with the lead too)
		if n := count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE status = 'cancelled' AND kind LIKE 'test_%'`); n != 2 {
			t.Fatalf("%d jobs cancelled, want 2", n)
		}
	})
}

// book stores a public booking from a fresh address or fails the test.
func book(t *testing.T, s *store.Store, email string) store.BookingResult {
	t.Helper()
	res, err := s.Book(t.Context(), params(booking(email), "192.0.2.77"))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func asLeadError(err error, target **lead.Error) bool { return errors.As(err, target) }
