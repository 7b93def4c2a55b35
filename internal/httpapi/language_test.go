package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// SPEC §12: errors[].message follows Accept-Language (default en); rule and field never
// change. A booking's language member must be nb or en.
func TestProblemLanguage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		bad := validBooking("not-an-email")
		delete(bad, "first_name")
		tests := []struct {
			accept           string
			firstName, email string
		}{
			{"", "First name is required.", "Email must be a valid email address, like name@example.org."},
			{"de-DE", "First name is required.", "Email must be a valid email address, like name@example.org."},
			{"en-GB", "First name is required.", "Email must be a valid email address, like name@example.org."},
			{"nb-NO,en;q=0.5", "Fornavn må fylles ut.", "Skriv en gyldig e-postadresse, for eksempel navn@eksempel.no."},
			{"no", "Fornavn må fylles ut.", "Skriv en gyldig e-postadresse, for eksempel navn@eksempel.no."},
			{"nn", "Fornavn må fylles ut.", "Skriv en gyldig e-postadresse, for eksempel navn@eksempel.no."},
		}
		for _, tt := range tests {
			resp, data := h.do(http.MethodPost, "/api/v1/bookings", "", bad, "Accept-Language", tt.accept)
			p := mustProblem(t, resp, data, http.StatusUnprocessableEntity)
			got := map[string]lead.Issue{}
			for _, is := range p.Errors {
				got[is.Field] = is
			}
			if is := got["first_name"]; is.Rule != lead.RuleRequiredFields || is.Message != tt.firstName {
				t.Errorf("Accept-Language %q: first_name %+v, want %q", tt.accept, is, tt.firstName)
			}
			if is := got["email"]; is.Rule != lead.RuleEmailFormat || is.Message != tt.email {
				t.Errorf("Accept-Language %q: email %+v, want %q", tt.accept, is, tt.email)
			}
			if len(p.Errors) != 2 {
				t.Errorf("Accept-Language %q: %d errors %+v", tt.accept, len(p.Errors), p.Errors)
			}
		}

		// the language member: nb or en (no/nn are nb), anything else refused, never stored
		for lang, status := range map[any]int{"nb": 201, "en": 201, "no": 201, "EN": 201, nil: 201, "de": 422, "": 422, 5: 400, true: 400} {
			b := validBooking("lang@example.org")
			b["language"] = lang
			resp, data := h.do(http.MethodPost, "/api/v1/bookings", "", b, "X-Forwarded-For", "198.51.100.77")
			if resp.StatusCode != status {
				t.Errorf("language %v: %d %s, want %d", lang, resp.StatusCode, data, status)
				continue
			}
			if status == 422 {
				if p := mustProblem(t, resp, data, 422); !hasIssue(p.Errors, "language", "language_enum_validation") {
					t.Errorf("language %v: %+v", lang, p.Errors)
				}
			}
		}
		// a form booking's language field is checked the same way
		resp, data := h.do(http.MethodPost, "/api/v1/bookings", "", "first_name=A&last_name=B&email=form-lang%40example.org&organization_name=O&consent_given=on&language=sv",
			"Content-Type", "application/x-www-form-urlencoded", "Accept-Language", "nb")
		if p := mustProblem(t, resp, data, 422); !hasIssue(p.Errors, "language", "language_enum_validation") || p.Errors[0].Message != "Språket må være nb eller en." {
			t.Errorf("form language: %+v", p.Errors)
		}
	})
}
