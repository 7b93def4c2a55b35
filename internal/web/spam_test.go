package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/spam"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// solve fetches a challenge and solves it, as the form's worker does.
func (s *site) solve(c *http.Client) string {
	s.t.Helper()
	p := s.get(c, "/api/v1/challenge")
	var ch spam.Challenge
	if p.StatusCode != 200 || json.Unmarshal([]byte(p.Body), &ch) != nil {
		s.t.Fatalf("challenge: %d %s", p.StatusCode, p.Body)
	}
	sol, ok := spam.Solve(ch)
	if !ok {
		s.t.Fatal("unsolvable")
	}
	return sol.Encode()
}

// formStamp reads the time stamp the booking form was served with.
func formStamp(t *testing.T, body string) string {
	t.Helper()
	v := regexpFind(body, `name="form_stamp" value="([^"]+)"`)
	if v == "" {
		t.Fatal("no form_stamp on the booking form")
	}
	return v
}

func TestBookingFormSpamCheck(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		// the production minimum form age, 3 s
		s := newSite(t, e.URL(t), siteOpts{spamPolicy: spam.PolicyHold, powMaxNumber: 300})
		c := s.client()
		form := s.get(c, "/")
		if !strings.Contains(form.Body, `name="altcha"`) || !strings.Contains(form.Body, `src="/static/booking.js?v=`) {
			t.Fatal("the form lacks the altcha field or its script")
		}
		post := func(email string, set func(url.Values)) response {
			f := bookingForm("Ada", "Lovelace", email, "Org")
			f.Set("form_stamp", formStamp(t, form.Body))
			set(f)
			return s.do(c, http.MethodPost, "/", f)
		}
		t.Run("a solved form posted at once is held: too fast", func(t *testing.T) {
			p := post("fast@example.org", func(f url.Values) { f.Set("altcha", s.solve(c)) })
			if p.StatusCode != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/thanks?") {
				t.Fatalf("answer %d %s: want the usual thank-you", p.StatusCode, p.Header.Get("Location"))
			}
			if s.count(`SELECT COUNT(*) FROM held_bookings WHERE email_normalized = 'fast@example.org' AND reason = 'form_too_fast'`) != 1 ||
				s.count(`SELECT COUNT(*) FROM leads`) != 0 {
				t.Fatal("not held as too fast")
			}
		})
		t.Run("a forged time stamp is held", func(t *testing.T) {
			backdated := strings.Replace(formStamp(t, form.Body), ".", "0.", 1) // another time, the old signature
			post("stamp@example.org", func(f url.Values) { f.Set("altcha", s.solve(c)); f.Set("form_stamp", backdated) })
			if s.count(`SELECT COUNT(*) FROM held_bookings WHERE email_normalized = 'stamp@example.org' AND reason = 'form_stamp_invalid'`) != 1 {
				t.Fatal("not held for its stamp")
			}
		})
		t.Run("a disposable address is refused beside the field", func(t *testing.T) {
			p := post("kari@mailinator.com", func(url.Values) {})
			if p.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(p.Body, tx("nb", "rule.email_domain_not_accepted")) {
				t.Fatalf("%d: the form does not say why", p.StatusCode)
			}
		})
	})
}

func TestReviewPage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		s := newSite(t, e.URL(t), siteOpts{spamPolicy: spam.PolicyHold, minFormAge: time.Nanosecond})
		anon := s.client()
		for _, email := range []string{"release@example.org", "discard@example.org"} {
			f := bookingForm("Nora", "Nojs", email, "No Script Org")
			if p := s.do(anon, http.MethodPost, "/", f); p.StatusCode != http.StatusSeeOther {
				t.Fatalf("post: %d", p.StatusCode)
			}
		}
		if p := s.get(anon, "/console/review"); p.StatusCode != http.StatusSeeOther {
			t.Fatalf("anonymous review: %d", p.StatusCode)
		}
		sales := s.signIn(s.Sales)
		page := s.get(sales, "/console/review")
		if page.StatusCode != 200 || !strings.Contains(page.Body, "release@example.org") || !strings.Contains(page.Body, tx("nb", "reason.pow_missing")) {
			t.Fatalf("review page %d lacks the held booking", page.StatusCode)
		}
		if strings.Contains(page.Body, `id="blocklist"`) {
			t.Fatal("sales see the admin's blocklist")
		}
		idOf := func(email string) string {
			var id string
			if err := s.Store.DB().QueryRow(`SELECT id FROM held_bookings WHERE email_normalized = $1`, email).Scan(&id); err != nil {
				t.Fatal(err)
			}
			return id
		}
		csrf := s.csrf(sales)
		rel, dis := idOf("release@example.org"), idOf("discard@example.org")
		if p := s.do(sales, http.MethodPost, "/console/review/"+rel+"/release", url.Values{}); p.StatusCode != http.StatusForbidden {
			t.Fatalf("release without CSRF: %d", p.StatusCode)
		}
		p := s.do(sales, http.MethodPost, "/console/review/"+rel+"/release", url.Values{"csrf": {csrf}})
		if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/console/review?done=released" {
			t.Fatalf("release: %d %s", p.StatusCode, p.Header.Get("Location"))
		}
		if _, ok := s.leadByEmail("release@example.org"); !ok || s.count(`SELECT COUNT(*) FROM email_jobs`) != 1 {
			t.Fatal("released booking is not a lead with its confirmation")
		}
		if p := s.do(sales, http.MethodPost, "/console/review/"+rel+"/release", url.Values{"csrf": {csrf}}); p.StatusCode != http.StatusNotFound ||
			!strings.Contains(p.Body, tx("nb", "review.gone")) {
			t.Fatalf("second release: %d", p.StatusCode)
		}
		if p := s.do(sales, http.MethodPost, "/console/review/"+dis+"/discard", url.Values{"csrf": {csrf}}); p.StatusCode != http.StatusSeeOther {
			t.Fatalf("discard: %d", p.StatusCode)
		}
		if s.count(`SELECT COUNT(*) FROM held_bookings`) != 0 {
			t.Fatal("held bookings left")
		}
		if p := s.do(sales, http.MethodPost, "/console/blocklist", url.Values{"csrf": {csrf}, "kind": {"ip"}, "value": {"192.0.2.1"}}); p.StatusCode != http.StatusForbidden {
			t.Fatalf("sales add to the blocklist: %d", p.StatusCode)
		}

		admin := s.signIn(s.Admin)
		acsrf := s.csrf(admin)
		if p := s.do(admin, http.MethodPost, "/console/blocklist", url.Values{"csrf": {acsrf}, "kind": {"domain"}, "value": {"Spam.Example"}}); p.StatusCode != http.StatusSeeOther {
			t.Fatalf("admin adds: %d", p.StatusCode)
		}
		if p := s.do(admin, http.MethodPost, "/console/blocklist", url.Values{"csrf": {acsrf}, "kind": {"domain"}, "value": {"spam.example"}}); p.StatusCode != http.StatusConflict {
			t.Fatalf("duplicate: %d", p.StatusCode)
		}
		if p := s.do(admin, http.MethodPost, "/console/blocklist", url.Values{"csrf": {acsrf}, "kind": {"ip"}, "value": {"nope"}}); p.StatusCode != http.StatusUnprocessableEntity ||
			!strings.Contains(p.Body, `value="nope"`) {
			t.Fatalf("bad value: %d, or the form lost what was typed", p.StatusCode)
		}
		page = s.get(admin, "/console/review")
		if !strings.Contains(page.Body, `id="blocklist"`) || !strings.Contains(page.Body, "spam.example") {
			t.Fatal("the admin's review page lacks the blocklist entry")
		}
		var bid string
		s.Store.DB().QueryRow(`SELECT id FROM blocklist`).Scan(&bid)
		if p := s.do(admin, http.MethodPost, "/console/blocklist/"+bid+"/delete", url.Values{"csrf": {acsrf}}); p.StatusCode != http.StatusSeeOther ||
			s.count(`SELECT COUNT(*) FROM blocklist`) != 0 {
			t.Fatalf("delete: %d", p.StatusCode)
		}
	})
}
