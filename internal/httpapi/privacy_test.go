package httpapi_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// privBook books through the public API from ip with a user agent and returns the lead id.
func privBook(t *testing.T, h *harness, email, ip, ua string) string {
	t.Helper()
	b := validBooking(email)
	b["phone"] = "+47 22 33 44 55"
	b["utm_campaign"] = "spring"
	resp, data := h.do("POST", "/api/v1/bookings", "", b, "X-Forwarded-For", ip, "User-Agent", ua)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("booking: %d %s", resp.StatusCode, data)
	}
	var id string
	if err := h.Store.DB().QueryRow(`SELECT lead_id FROM bookings WHERE id = $1`,
		decode[struct {
			BookingID string `json:"booking_id"`
		}](t, data).BookingID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func privCount(t *testing.T, h *harness, q string, args ...any) int {
	t.Helper()
	var n int
	if err := h.Store.DB().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestPrivacyRoutesAreAdminOnly(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		id := privBook(t, h, "ada@example.org", "192.0.2.10", "Browser/1")
		routes := []struct {
			method, path string
			body         any
		}{
			{"POST", "/api/v1/leads/" + id + "/anonymize", nil},
			{"POST", "/api/v1/erasure-requests", map[string]string{"email": "ada@example.org"}},
			{"GET", "/api/v1/leads/" + id + "/export", nil},
		}
		for _, rt := range routes {
			t.Run(rt.method+" "+rt.path, func(t *testing.T) {
				resp, data := h.do(rt.method, rt.path, "", rt.body)
				mustProblem(t, resp, data, http.StatusUnauthorized)
				resp, data = h.do(rt.method, rt.path, "lds_not-a-real-token", rt.body)
				mustProblem(t, resp, data, http.StatusUnauthorized)
				resp, data = h.do(rt.method, rt.path, h.Sales, rt.body)
				mustProblem(t, resp, data, http.StatusForbidden)
			})
		}
		// the refused requests did nothing
		l, err := h.Store.GetLead(t.Context(), id)
		if err != nil || l.AnonymizedAt != nil || l.FirstName != "Ada" {
			t.Fatalf("lead changed by refused requests: %+v %v", l, err)
		}
		if n := privCount(t, h, `SELECT COUNT(*) FROM lead_events WHERE type IN ('anonymized', 'exported')`); n != 0 {
			t.Errorf("refused requests wrote %d events", n)
		}
	})
}

func TestAnonymizeAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		id := privBook(t, h, "Ada.Lovelace@Example.org", "192.0.2.10", "Browser/1")
		before, _ := h.Store.GetLead(t.Context(), id)

		resp, data := h.do("POST", "/api/v1/leads/"+id+"/anonymize", h.Admin, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == "" {
			t.Fatalf("anonymize: %d %s", resp.StatusCode, data)
		}
		got := decode[lead.Lead](t, data)
		if got.ID != id || got.FirstName != "[erased]" || got.LastName != "[erased]" || got.Email != "erased+"+id+"@invalid" ||
			got.Phone != nil || got.Message != nil || got.Notes != nil || got.IPAddress != nil || got.RoleTitle != nil ||
			got.AnonymizedAt == nil {
			t.Errorf("not erased: %s", data)
		}
		if got.OrganizationName != before.OrganizationName || got.Status != before.Status || got.Source != before.Source ||
			!reflect.DeepEqual(got.UTMCampaign, before.UTMCampaign) || !got.CreatedAt.Equal(before.CreatedAt) ||
			!got.ConsentGiven || !got.ConsentTimestamp.Equal(*before.ConsentTimestamp) {
			t.Errorf("kept fields changed: %+v", got)
		}
		for _, col := range []string{"phone", "message", "notes", "ip_address", "role_title", "anonymized_at"} {
			if !strings.Contains(string(data), `"`+col+`":`) {
				t.Errorf("%s missing from %s", col, data)
			}
		}

		h.Clock.Advance(time.Second)
		resp2, data2 := h.do("POST", "/api/v1/leads/"+id+"/anonymize", h.Admin, nil)
		if resp2.StatusCode != http.StatusOK || string(data2) != string(data) || resp2.Header.Get("ETag") != resp.Header.Get("ETag") {
			t.Errorf("second anonymize: %d %s, want %s", resp2.StatusCode, data2, data)
		}
		if n := privCount(t, h, `SELECT COUNT(*) FROM lead_events WHERE lead_id = $1 AND type = 'anonymized' AND actor = 'adam-admin'`, id); n != 1 {
			t.Errorf("anonymized events: %d", n)
		}

		t.Run("edits answer 409", func(t *testing.T) {
			resp, data := h.do("PATCH", "/api/v1/leads/"+id, h.Sales, map[string]any{"first_name": "Ada"},
				"Content-Type", "application/merge-patch+json")
			mustProblem(t, resp, data, http.StatusConflict)
			resp, data = h.do("POST", "/api/v1/leads/"+id+"/notes", h.Sales, map[string]any{"text": "called back"})
			mustProblem(t, resp, data, http.StatusConflict)
		})

		t.Run("booking with the old address makes a new lead", func(t *testing.T) {
			again := privBook(t, h, "ada.lovelace@example.org", "192.0.2.11", "Browser/1")
			if again == id {
				t.Fatal("booking linked to the erased lead")
			}
			if l, _ := h.Store.GetLead(t.Context(), again); l.FirstName != "Ada" || l.AnonymizedAt != nil {
				t.Errorf("new lead %+v", l)
			}
		})

		t.Run("unknown lead", func(t *testing.T) {
			for _, bad := range []string{store.NewID(), "not-a-uuid"} {
				resp, data := h.do("POST", "/api/v1/leads/"+bad+"/anonymize", h.Admin, nil)
				mustProblem(t, resp, data, http.StatusNotFound)
			}
		})
	})
}

func TestErasureRequestAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		id := privBook(t, h, "grace@example.org", "192.0.2.20", "Browser/2")

		resp, data := h.do("POST", "/api/v1/erasure-requests", h.Admin, map[string]string{"email": " Grace@EXAMPLE.org "})
		if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(data)) != `{"anonymized":1,"held_deleted":0}` {
			t.Fatalf("erasure request: %d %s", resp.StatusCode, data)
		}
		if l, _ := h.Store.GetLead(t.Context(), id); l.AnonymizedAt == nil {
			t.Fatalf("lead not anonymized: %+v", l)
		}
		resp, data = h.do("POST", "/api/v1/erasure-requests", h.Admin, map[string]string{"email": "grace@example.org"})
		if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(data)) != `{"anonymized":0,"held_deleted":0}` {
			t.Fatalf("repeated request: %d %s", resp.StatusCode, data)
		}

		for _, c := range []struct {
			name        string
			body        any
			ctype       string
			status      int
			field, rule string
		}{
			{"invalid email", `{"email": "not an address"}`, "", 422, "email", lead.RuleEmailFormat},
			{"email with a line break", `{"email": "a@example.org\r\nBcc: x@example.org"}`, "", 422, "email", lead.RuleEmailFormat},
			{"missing email", `{}`, "", 422, "email", lead.RuleRequiredFields},
			{"null email", `{"email": null}`, "", 422, "email", lead.RuleRequiredFields},
			{"email not a string", `{"email": 42}`, "", 422, "email", lead.RuleEmailFormat},
			{"unknown field", `{"email": "a@example.org", "id": "x"}`, "", 422, "id", ""},
			{"malformed JSON", `{"email": `, "", 400, "", ""},
			{"not JSON", "email=a@example.org", "application/x-www-form-urlencoded", 415, "", ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				var hdr []string
				if c.ctype != "" {
					hdr = []string{"Content-Type", c.ctype}
				}
				resp, data := h.do("POST", "/api/v1/erasure-requests", h.Admin, c.body, hdr...)
				p := mustProblem(t, resp, data, c.status)
				if c.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != c.field || (c.rule != "" && p.Errors[0].Rule != c.rule)) {
					t.Errorf("errors %+v", p.Errors)
				}
			})
		}
	})
}

func TestExportAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		id := privBook(t, h, "katherine@example.org", "198.51.100.30", "ExportBrowser/3.0")
		privBook(t, h, "katherine@example.org", "198.51.100.31", "ExportBrowser/3.1")

		resp, data := h.do("GET", "/api/v1/leads/"+id+"/export", h.Admin, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("export: %d %s", resp.StatusCode, data)
		}
		if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="lead-`+id+`.json"` {
			t.Errorf("Content-Disposition %q", cd)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		x := decode[store.LeadExport](t, data)
		if x.Lead.ID != id || x.Lead.Email != "katherine@example.org" || len(x.Bookings) != 2 || len(x.Emails) != 1 {
			t.Fatalf("export %s", data)
		}
		if b := x.Bookings[1]; *b.IPAddress != "198.51.100.31" || *b.UserAgent != "ExportBrowser/3.1" || b.ConsentVersion != "test-1" {
			t.Errorf("second booking %+v", b)
		}
		// consent proof: the version from --consent-version, the server's clock, IP and agent
		if len(x.Consent.Bookings) != 2 || !x.Consent.ConsentGiven {
			t.Fatalf("consent %+v", x.Consent)
		}
		c := x.Consent.Bookings[0]
		if c.ConsentVersion != "test-1" || *c.IPAddress != "198.51.100.30" || *c.UserAgent != "ExportBrowser/3.0" ||
			!c.ConsentTimestamp.Equal(x.Lead.CreatedAt) || !x.Consent.ConsentTimestamp.Equal(x.Lead.CreatedAt) {
			t.Errorf("booking consent %+v (lead created %v)", c, x.Lead.CreatedAt)
		}
		if em := x.Emails[0]; em.Status != "pending" || em.BookingID != x.Bookings[0].ID || strings.Contains(string(data), `"to"`) {
			t.Errorf("email %+v", em)
		}
		last := x.Events[len(x.Events)-1]
		if last.Type != "exported" || last.Actor != "adam-admin" {
			t.Errorf("last event %+v", last)
		}
		if n := privCount(t, h, `SELECT COUNT(*) FROM lead_events WHERE lead_id = $1 AND type = 'exported'`, id); n != 1 {
			t.Errorf("exported events: %d", n)
		}

		// after erasure the export shows what is left, and the erasure itself
		h.do("POST", "/api/v1/leads/"+id+"/anonymize", h.Admin, nil)
		resp, data = h.do("GET", "/api/v1/leads/"+id+"/export", h.Admin, nil)
		if resp.StatusCode != http.StatusOK || strings.Contains(string(data), "katherine") || strings.Contains(string(data), "198.51.100") ||
			!strings.Contains(string(data), `"anonymized"`) {
			t.Errorf("export after erasure: %d %s", resp.StatusCode, data)
		}

		resp, data = h.do("GET", "/api/v1/leads/"+store.NewID()+"/export", h.Admin, nil)
		mustProblem(t, resp, data, http.StatusNotFound)
	})
}
