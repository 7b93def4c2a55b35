package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// TestOwnersAPI: owner_id on create and patch (owner_not_assignable, nothing stored), the
// owner and overdue filters of the list and the export, and speed_to_lead (SPEC §11).
func TestOwnersAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		ctx := t.Context()
		name, email := "Kari Selger", "kari@norse.example"
		kari, err := h.Store.CreateMember(ctx, lead.MemberInput{Name: &name, Email: &email, Role: ptrTo("sales")})
		if err != nil {
			t.Fatal(err)
		}
		kariToken, _, err := h.Store.CreateMemberToken(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		resp, data := h.do("POST", "/api/v1/bookings", "", validBooking("owned@example.no"))
		if resp.StatusCode != 201 && resp.StatusCode != 202 {
			t.Fatalf("booking %d %s", resp.StatusCode, data)
		}
		var booked struct{ LeadID string }
		if err := h.Store.DB().QueryRow(`SELECT id FROM leads WHERE email_normalized = 'owned@example.no'`).Scan(&booked.LeadID); err != nil {
			t.Fatal(err)
		}
		l := getLead(t, h, booked.LeadID)
		if l.OwnerID == nil || *l.OwnerID != kari.ID || l.ContactDueAt == nil {
			t.Fatalf("booked lead %+v", l)
		}

		// an unknown or inactive owner: 422 naming the rule and the field, nothing stored
		inactiveName, inactiveEmail := "Gone", "gone@norse.example"
		gone, err := h.Store.CreateMember(ctx, lead.MemberInput{Name: &inactiveName, Email: &inactiveEmail, Role: ptrTo("sales"), Active: ptrTo(false)})
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []any{gone.ID, "0b1e6a57-0000-4000-8000-000000000000", "nope"} {
			resp, data := h.do("PATCH", "/api/v1/leads/"+booked.LeadID, h.Sales, map[string]any{"owner_id": bad, "status": "contacted"})
			p := mustProblem(t, resp, data, 422)
			if !hasIssue(p.Errors, "owner_id", lead.RuleOwnerNotAssignable) {
				t.Fatalf("problem %+v", p)
			}
			body := map[string]any{"first_name": "Per", "last_name": "Hansen", "email": "staff@example.no", "organization_name": "Org",
				"source": "event", "consent_given": true, "consent_timestamp": time.Now().UTC().Format(time.RFC3339), "owner_id": bad}
			resp, data = h.do("POST", "/api/v1/leads", h.Sales, body)
			if p := mustProblem(t, resp, data, 422); !hasIssue(p.Errors, "owner_id", lead.RuleOwnerNotAssignable) {
				t.Fatalf("problem %+v", p)
			}
		}
		if l := getLead(t, h, booked.LeadID); l.Status != lead.StatusNew || l.OwnerID == nil || *l.OwnerID != kari.ID {
			t.Fatalf("a refused patch changed the lead: %+v", l)
		}
		if n := h.count(`SELECT COUNT(*) FROM leads`); n != 1 {
			t.Fatalf("%d leads after refused creates", n)
		}
		// a type that is not a string or null is malformed
		resp, data = h.do("PATCH", "/api/v1/leads/"+booked.LeadID, h.Sales, map[string]any{"owner_id": 7})
		mustProblem(t, resp, data, 400)

		// null clears; a member takes it back (their own: no email); the events say manual
		resp, data = h.do("PATCH", "/api/v1/leads/"+booked.LeadID, h.Sales, map[string]any{"owner_id": nil})
		if resp.StatusCode != 200 || decode[lead.Lead](t, data).OwnerID != nil {
			t.Fatalf("clear: %d %s", resp.StatusCode, data)
		}
		resp, data = h.do("PATCH", "/api/v1/leads/"+booked.LeadID, kariToken, map[string]any{"owner_id": kari.ID})
		if resp.StatusCode != 200 || *decode[lead.Lead](t, data).OwnerID != kari.ID {
			t.Fatalf("take: %d %s", resp.StatusCode, data)
		}
		if n := h.count(`SELECT COUNT(*) FROM lead_events WHERE lead_id = $1 AND type = 'owner_assigned' AND details LIKE '%"manual"%'`, booked.LeadID); n != 2 {
			t.Fatalf("%d manual owner events, want 2", n)
		}
		if n := h.count(`SELECT COUNT(*) FROM email_jobs WHERE kind = 'owner_new_lead' AND lead_id = $1`, booked.LeadID); n != 1 {
			t.Fatalf("%d new-lead emails, want 1 (the booking's; none for taking it oneself)", n)
		}
		// staff create with an owner
		body := map[string]any{"first_name": "Per", "last_name": "Hansen", "email": "staff@example.no", "organization_name": "Org",
			"source": "event", "consent_given": true, "consent_timestamp": time.Now().UTC().Format(time.RFC3339), "owner_id": nil}
		resp, data = h.do("POST", "/api/v1/leads", h.Sales, body)
		if resp.StatusCode != 201 {
			t.Fatalf("create %d %s", resp.StatusCode, data)
		}
		created := decode[lead.Lead](t, data)
		if created.OwnerID == nil || *created.OwnerID != kari.ID {
			t.Fatalf("created without owner_id: owner %v, want the rule's", created.OwnerID)
		}

		// the filters; the harness's SLA is 0 working days: due at once (or next working day 08:00)
		resp, data = h.do("POST", "/api/v1/bookings", "", validBooking("second@example.no"))
		if resp.StatusCode >= 300 {
			t.Fatalf("booking %d %s", resp.StatusCode, data)
		}
		if _, err := h.Store.UpdateMember(ctx, kari.ID, lead.MemberInput{Active: ptrTo(false)}, lead.Actor{Name: "admin"}); err != nil {
			t.Fatal(err)
		}
		resp, data = h.do("GET", "/api/v1/leads?owner_id=none", h.Sales, nil)
		if list := decode[leadList](t, data); resp.StatusCode != 200 || len(list.Items) != 3 {
			t.Fatalf("unowned after the only member left: %d %s", resp.StatusCode, data)
		}
		resp, data = h.do("GET", "/api/v1/leads?owner_id="+kari.ID, h.Sales, nil)
		if list := decode[leadList](t, data); resp.StatusCode != 200 || len(list.Items) != 0 {
			t.Fatalf("kari's after deactivation: %s", data)
		}
		h.Clock.Advance(5 * 24 * time.Hour)
		if _, err := h.Store.AppendNote(ctx, created.ID, "called", lead.Actor{Name: "svc"}); err != nil {
			t.Fatal(err)
		}
		resp, data = h.do("GET", "/api/v1/leads?overdue=true&owner_id=none", h.Sales, nil)
		list := decode[leadList](t, data)
		if resp.StatusCode != 200 || len(list.Items) != 2 {
			t.Fatalf("overdue: %d %s", resp.StatusCode, data)
		}
		resp, data = h.do("GET", "/api/v1/leads.csv?overdue=true", h.Sales, nil)
		if resp.StatusCode != 200 || strings.Count(strings.TrimSpace(string(data)), "\n") != 2 || strings.Contains(string(data), created.ID) {
			t.Fatalf("export overdue: %d %s", resp.StatusCode, data)
		}
		for _, q := range []string{"owner_id=kari", "overdue=yes"} {
			resp, data = h.do("GET", "/api/v1/leads?"+q, h.Sales, nil)
			if p := mustProblem(t, resp, data, 422); p.Errors[0].Rule != "query_parameter_validation" {
				t.Fatalf("%s: %+v", q, p)
			}
		}

		resp, data = h.do("GET", "/api/v1/stats/pipeline", h.Sales, nil)
		st := decode[struct {
			SpeedToLead struct {
				Overall struct {
					Leads, Contacted, WithinSLA int
				} `json:"overall"`
				ByOwner []map[string]any `json:"by_owner"`
			} `json:"speed_to_lead"`
		}](t, data)
		if resp.StatusCode != 200 || st.SpeedToLead.Overall.Leads != 3 || st.SpeedToLead.Overall.Contacted != 1 || len(st.SpeedToLead.ByOwner) != 1 {
			t.Fatalf("stats %d %s", resp.StatusCode, data)
		}
	})
}

type leadList struct {
	Items []lead.Lead `json:"items"`
}

func ptrTo[T any](v T) *T { return &v }

func getLead(t *testing.T, h *harness, id string) lead.Lead {
	t.Helper()
	resp, data := h.do("GET", "/api/v1/leads/"+id, h.Sales, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("get %d %s", resp.StatusCode, data)
	}
	return decode[lead.Lead](t, data)
}

// TestImportOwnerEmail: an import row names its owner by owner_email (an active member) or
// gets one by the rule; a row naming anyone else is refused with owner_not_assignable and
// not stored, and the other rows are.
func TestImportOwnerEmail(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		ctx := t.Context()
		add := func(name, email string, active bool) lead.Member {
			m, err := h.Store.CreateMember(ctx, lead.MemberInput{Name: &name, Email: &email, Role: ptrTo("sales"), Active: &active})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		kari, ola := add("Kari", "kari@norse.example", true), add("Ola", "ola@norse.example", true)
		add("Gone", "gone@norse.example", false)
		consent := h.Clock.Now().Add(-time.Hour).Format(time.RFC3339)
		file := csvBody(t, [][]string{
			{"first_name", "last_name", "email", "organization_name", "consent_given", "consent_timestamp", "owner_email"},
			{"Ann", "Named", "ann@example.org", "Org", "yes", consent, " OLA@norse.example "},
			{"Bob", "Rule", "bob@example.org", "Org", "yes", consent, ""},
			{"Cy", "Gone", "cy@example.org", "Org", "yes", consent, "gone@norse.example"},
			{"Di", "Stranger", "di@example.org", "Org", "yes", consent, "nobody@norse.example"},
		})
		resp, data := h.do("POST", "/api/v1/imports", h.Sales, file, "Content-Type", "text/csv")
		got := decode[importAnswer](t, data)
		if resp.StatusCode != 200 || got.Created != 2 || len(got.Refused) != 2 || len(got.IgnoredColumns) != 0 {
			t.Fatalf("import %d %s", resp.StatusCode, data)
		}
		for i, r := range got.Refused {
			if r.Row != 3+i || r.Field != "owner_email" || r.Rule != lead.RuleOwnerNotAssignable {
				t.Fatalf("refused %+v", got.Refused)
			}
		}
		owner := func(email string) string {
			var id string
			if err := h.Store.DB().QueryRow(`SELECT COALESCE(CAST(owner_id AS TEXT), '') FROM leads WHERE email_normalized = $1`, email).Scan(&id); err != nil {
				t.Fatal(err)
			}
			return id
		}
		if owner("ann@example.org") != ola.ID || owner("bob@example.org") != kari.ID {
			t.Fatalf("owners: ann %s, bob %s", owner("ann@example.org"), owner("bob@example.org"))
		}
		if n := h.count(`SELECT COUNT(*) FROM leads WHERE contact_due_at IS NULL`); n != 0 {
			t.Fatalf("%d imported leads without contact_due_at", n)
		}
	})
}
