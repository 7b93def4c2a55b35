package i18n

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/lead"
)

func TestCatalogComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range entries {
		if seen[e.Key] {
			t.Errorf("key %q defined twice", e.Key)
		}
		seen[e.Key] = true
		if strings.TrimSpace(e.NB) == "" || strings.TrimSpace(e.EN) == "" {
			t.Errorf("key %q lacks a language: nb %q, en %q", e.Key, e.NB, e.EN)
		}
		// both languages take the same arguments, in the same order
		if verbs(e.NB) != verbs(e.EN) {
			t.Errorf("key %q: nb verbs %q, en verbs %q", e.Key, verbs(e.NB), verbs(e.EN))
		}
	}
	c, err := NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.T(NB, "booking.submit"); got != "Bestill demo" {
		t.Errorf("nb booking.submit = %q", got)
	}
	if got := c.T(EN, "booking.submit"); got != "Book my demo" {
		t.Errorf("en booking.submit = %q", got)
	}
	for rule := range ruleArgs {
		if !c.Has("rule." + rule) {
			t.Errorf("rule %s has no message", rule)
		}
	}
	// a missing key would come back as itself: the web and mail tests fail on that
	if got := c.T(NB, "no.such.key"); got != "no.such.key" || c.Has("no.such.key") {
		t.Errorf("unknown key = %q", got)
	}
}

// verbs is the sequence of fmt verbs of a format.
func verbs(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+1 < len(s) {
			i++
			if s[i] != '%' {
				b.WriteByte(s[i])
			}
		}
	}
	return b.String()
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name, query, cookie, accept string
		want                        Lang
		setsCookie                  bool
	}{
		{"nothing: nb", "", "", "", NB, false},
		{"Accept-Language en", "", "", "en-GB,en;q=0.9", EN, false},
		{"Accept-Language no", "", "", "no", NB, false},
		{"Accept-Language nn before en", "", "", "nn-NO,en;q=0.5", NB, false},
		{"Accept-Language nb-NO", "", "", "nb-NO", NB, false},
		{"unsupported only: nb", "", "", "de-DE,fr;q=0.8", NB, false},
		{"first supported wins", "", "", "de,en;q=0.9,nb;q=0.8", EN, false},
		{"malformed header: nb", "", "", ";;;q=x", NB, false},
		{"cookie beats header", "", "en", "nb", EN, false},
		{"bad cookie ignored", "", "xx", "en", EN, false},
		{"query beats all, remembered", "nb", "en", "en", NB, true},
		{"query en", "en", "", "nb", EN, true},
		{"query nn counts as nb", "nn", "", "en", NB, true},
		{"query the cookie already has", "en", "en", "", EN, false},
		{"bad query ignored", "de", "", "en", EN, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/?lang="+tt.query, nil)
			if tt.query == "" {
				r = httptest.NewRequest(http.MethodGet, "/", nil)
			}
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: CookieName, Value: tt.cookie})
			}
			if tt.accept != "" {
				r.Header.Set("Accept-Language", tt.accept)
			}
			w := httptest.NewRecorder()
			if got := Negotiate(w, r); got != tt.want {
				t.Errorf("Negotiate = %s, want %s", got, tt.want)
			}
			set := w.Result().Cookies()
			if tt.setsCookie != (len(set) == 1) {
				t.Fatalf("cookies set: %v", set)
			}
			if tt.setsCookie && (set[0].Name != "lang" || set[0].Value != string(tt.want) || set[0].Path != "/" || !set[0].HttpOnly) {
				t.Errorf("cookie %+v", set[0])
			}
		})
	}
}

func TestAPILang(t *testing.T) {
	for accept, want := range map[string]Lang{"": EN, "nb": NB, "no-NO": NB, "de": EN, "en-US": EN, "sv,nn;q=0.5": NB} {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/leads", nil)
		r.Header.Set("Accept-Language", accept)
		if got := APILang(r); got != want {
			t.Errorf("Accept-Language %q: %s, want %s", accept, got, want)
		}
	}
}

// Europe/Oslo changes from CEST (+2) to CET (+1) at 01:00 UTC on 25 October 2026, and
// back at 01:00 UTC on 28 March 2027: the same UTC hour on each side shows an hour apart.
func TestDateTime(t *testing.T) {
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		utc    string
		nb, en string
	}{
		{"2026-10-24T07:30:00Z", "24. okt. 2026 kl. 09.30", "24 Oct 2026, 09:30"}, // summer time
		{"2026-10-25T00:59:00Z", "25. okt. 2026 kl. 02.59", "25 Oct 2026, 02:59"}, // the last summer minute
		{"2026-10-25T01:00:00Z", "25. okt. 2026 kl. 02.00", "25 Oct 2026, 02:00"}, // the clock goes back
		{"2026-10-26T07:30:00Z", "26. okt. 2026 kl. 08.30", "26 Oct 2026, 08:30"}, // winter time
		{"2026-12-03T08:30:00Z", "3. des. 2026 kl. 09.30", "3 Dec 2026, 09:30"},
		{"2026-12-31T23:30:00Z", "1. jan. 2027 kl. 00.30", "1 Jan 2027, 00:30"},   // the local date, not UTC's
		{"2027-03-28T00:30:00Z", "28. mar. 2027 kl. 01.30", "28 Mar 2027, 01:30"}, // before the spring change
		{"2027-03-28T01:30:00Z", "28. mar. 2027 kl. 03.30", "28 Mar 2027, 03:30"}, // after it
		{"2027-05-17T10:05:00Z", "17. mai 2027 kl. 12.05", "17 May 2027, 12:05"},
	}
	for _, tt := range tests {
		ts, err := time.Parse(time.RFC3339, tt.utc)
		if err != nil {
			t.Fatal(err)
		}
		if got := DateTime(NB, oslo, ts); got != tt.nb {
			t.Errorf("nb %s = %q, want %q", tt.utc, got, tt.nb)
		}
		if got := DateTime(EN, oslo, ts); got != tt.en {
			t.Errorf("en %s = %q, want %q", tt.utc, got, tt.en)
		}
	}
	if got := Clock(NB, oslo, time.Date(2026, 7, 1, 7, 5, 0, 0, time.UTC)); got != "09.05" {
		t.Errorf("nb clock %q", got)
	}
	if got := Clock(EN, oslo, time.Date(2026, 12, 1, 7, 5, 0, 0, time.UTC)); got != "08:05" {
		t.Errorf("en clock %q", got)
	}
}

func TestIssue(t *testing.T) {
	c, err := NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		is     lead.Issue
		nb, en string
	}{
		{lead.Issue{Field: "first_name", Rule: lead.RuleRequiredFields, Message: "First name is required."},
			"Fornavn må fylles ut.", "First name is required."},
		{lead.Issue{Field: "message", Rule: lead.RuleMessageLength, Message: "Message must be at most 5000 characters."},
			"Meldingen kan ha høyst 5\u00a0000 tegn.", "Message must be at most 5000 characters."},
		{lead.Issue{Field: "email", Rule: lead.RuleEmailFormat, Message: "Email must be a valid email address, like name@example.org."},
			"Skriv en gyldig e-postadresse, for eksempel navn@eksempel.no.", "Email must be a valid email address, like name@example.org."},
		{lead.Issue{Field: "status", Rule: lead.RuleStatusEnum, Message: "x"},
			"Statusen må være en av disse: new, contacted, qualified, demo_scheduled, demo_completed, proposal_sent, negotiation, won, lost, disqualified.", "x"},
		{lead.Issue{Field: "wat", Rule: "some_new_rule", Message: ""},
			"wat ble ikke godtatt (regel some_new_rule).", "wat was not accepted (rule some_new_rule)."},
	}
	for _, tt := range tests {
		if got := c.Issue(NB, tt.is); got != tt.nb {
			t.Errorf("nb %s/%s = %q, want %q", tt.is.Field, tt.is.Rule, got, tt.nb)
		}
		if got := c.Issue(EN, tt.is); got != tt.en {
			t.Errorf("en %s/%s = %q, want %q", tt.is.Field, tt.is.Rule, got, tt.en)
		}
	}
	in := []lead.Issue{{Field: "first_name", Rule: lead.RuleRequiredFields, Message: "First name is required."}}
	out := c.Issues(NB, in)
	if out[0].Message != "Fornavn må fylles ut." || in[0].Message != "First name is required." || out[0].Rule != in[0].Rule || out[0].Field != in[0].Field {
		t.Errorf("Issues: %+v (input %+v)", out, in)
	}
}
