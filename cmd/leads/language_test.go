package main

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/mail/mailtest"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// TestStoredLanguage runs the real program on both engines (SPEC §12): a JSON booking's
// language member, else Accept-Language, else nb, is stored on the booking and its lead
// and writes the confirmation (real SMTP server) in it; a linked booking moves the lead's
// language; staff create stores it; the lead, its admin export and the CSV export show it.
func TestStoredLanguage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		db := e.URL(t)
		smtp := mailtest.Start(t)
		p := startProgram(t, nil, "--database", db, "--smtp", smtp.URL(), "--public-url", "https://leads.example")
		admin := privToken(t, db, "lang-admin", "admin", io.Discard)

		bookings := []struct {
			first, email, body string
			hdr                []string
			lang, greeting     string
		}{
			{"Anna", "anna@example.org", `"language":"en",`, nil, "en", "Hello Anna,"},
			{"Bo", "bo@example.org", "", []string{"Accept-Language", "nb-NO,nb;q=0.9,en;q=0.5"}, "nb", "Hei, Bo!"},
			{"Cy", "cy@example.org", "", nil, "nb", "Hei, Cy!"},
			{"Di", "di@example.org", `"language":"nb",`, []string{"Accept-Language", "en-GB"}, "nb", "Hei, Di!"},
		}
		for i, b := range bookings {
			body := "{" + b.body + strings.TrimPrefix(bookingJSON(b.first, b.email), "{")
			status, resp := p.post(t, "/api/v1/bookings", body, b.hdr...)
			if status != 201 {
				t.Fatalf("%s: booking %d %s", b.first, status, resp)
			}
			msgs := smtp.WaitFor(t, i+1, 10*time.Second)
			m := msgs[i]
			if m.To[0] != b.email || !strings.Contains(m.TextBody(), b.greeting) || !strings.Contains(m.HTMLBody(), b.first) {
				t.Fatalf("%s: email to %v is not in %s:\n%s", b.first, m.To, b.lang, m.TextBody())
			}
			l := langLead(t, p, admin, b.email)
			if l.Language != b.lang {
				t.Errorf("%s: lead language %q, want %q", b.first, l.Language, b.lang)
			}
			if got := langBookings(t, p, admin, l.ID); len(got) != 1 || got[0] != b.lang {
				t.Errorf("%s: booking languages %v, want [%s]", b.first, got, b.lang)
			}
		}

		// a linked booking moves the lead's language to the latest booking's
		status, resp := p.post(t, "/api/v1/bookings", `{"language":"en",`+strings.TrimPrefix(bookingJSON("Cy", "CY@example.org"), "{"))
		if status != 201 {
			t.Fatalf("linked booking: %d %s", status, resp)
		}
		cy := langLead(t, p, admin, "cy@example.org")
		if got := langBookings(t, p, admin, cy.ID); cy.Language != "en" || !slices.Equal(got, []string{"nb", "en"}) {
			t.Errorf("linked booking: lead %q, bookings %v", cy.Language, got)
		}

		// staff create: the language given, nb without one; an unknown one is refused by rule
		for _, c := range []struct{ member, want string }{{`"language":"en",`, "en"}, {"", "nb"}} {
			st, body := privDo(t, p, "POST", "/api/v1/leads", admin, "application/json", `{`+c.member+`"first_name":"Eva",
				"last_name":"Staff","email":"eva`+c.want+`@example.org","organization_name":"Org","source":"event",
				"consent_given":true,"consent_timestamp":"2026-01-01T00:00:00Z"}`)
			var l struct{ Language string }
			if st != 201 || json.Unmarshal([]byte(body), &l) != nil || l.Language != c.want {
				t.Fatalf("staff create %q: %d %s", c.member, st, body)
			}
		}
		st, body := privDo(t, p, "POST", "/api/v1/leads", admin, "application/json", `{"language":"de","first_name":"Eva",
			"last_name":"Staff","email":"evade@example.org","organization_name":"Org","source":"event",
			"consent_given":true,"consent_timestamp":"2026-01-01T00:00:00Z"}`)
		if st != 422 || !strings.Contains(body, "language_enum_validation") {
			t.Fatalf("staff create language de: %d %s", st, body)
		}
		// staff patch
		st, body = privDo(t, p, "PATCH", "/api/v1/leads/"+cy.ID, admin, "application/merge-patch+json", `{"language":"nb"}`)
		if st != 200 || !strings.Contains(body, `"language":"nb"`) {
			t.Fatalf("patch language: %d %s", st, body)
		}

		// the CSV export has the column
		st, body = privDo(t, p, "GET", "/api/v1/leads.csv", admin, "", "")
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if st != 200 || err != nil || len(recs) < 2 {
			t.Fatalf("export: %d %v", st, err)
		}
		col := slices.Index(recs[0], "language")
		if col < 0 {
			t.Fatalf("export header %v has no language", recs[0])
		}
		byEmail := map[string]string{}
		emailCol := slices.Index(recs[0], "email")
		for _, r := range recs[1:] {
			byEmail[r[emailCol]] = r[col]
		}
		if byEmail["anna@example.org"] != "en" || byEmail["bo@example.org"] != "nb" || byEmail["evaen@example.org"] != "en" {
			t.Errorf("export languages %v", byEmail)
		}
	})
}

type langLeadJSON struct {
	ID       string `json:"id"`
	Email    string `json:"email"`
	Language string `json:"language"`
}

// langLead is the live lead with email, read through the staff API.
func langLead(t *testing.T, p *program, token, email string) langLeadJSON {
	t.Helper()
	st, body := privDo(t, p, "GET", "/api/v1/leads?q="+email, token, "", "")
	var list struct{ Items []langLeadJSON }
	if st != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list.Items) != 1 {
		t.Fatalf("lead %s: %d %s", email, st, body)
	}
	return list.Items[0]
}

// langBookings are the languages of a lead's bookings, oldest first, from its admin export.
func langBookings(t *testing.T, p *program, token, id string) []string {
	t.Helper()
	st, body := privDo(t, p, "GET", "/api/v1/leads/"+id+"/export", token, "", "")
	var x struct {
		Bookings []struct{ Language string }
	}
	if st != 200 || json.Unmarshal([]byte(body), &x) != nil {
		t.Fatalf("export of %s: %d %s", id, st, body)
	}
	var out []string
	for _, b := range x.Bookings {
		out = append(out, b.Language)
	}
	return out
}
