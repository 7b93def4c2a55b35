package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// The booking form without JavaScript: what a browser with scripts off, or a screen
// reader, gets. Browser behaviour is in browser_test.go.
func TestBookingForm(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		forEachLang(t, func(t *testing.T, l i18n.Lang) { testBookingForm(t, e, l) })
	})
}

func testBookingForm(t *testing.T, e storetest.Engine, lang i18n.Lang) {
	{
		s := newSite(t, e.URL(t), siteOpts{lang: lang})
		c := s.client()

		t.Run("utm values come from the page's own URL", func(t *testing.T) {
			p := s.get(c, "/?utm_source=newsletter&utm_medium=email&utm_campaign=spring%20%2726&utm_term=x")
			for _, want := range []string{
				`<input type="hidden" name="utm_source" value="newsletter">`,
				`<input type="hidden" name="utm_medium" value="email">`,
				`<input type="hidden" name="utm_campaign" value="spring &#39;26">`,
			} {
				if !strings.Contains(p.Body, want) {
					t.Errorf("missing %s", want)
				}
			}
			if strings.Contains(p.Body, `name="utm_term"`) {
				t.Error("unknown utm parameter copied")
			}
			// a value the booking would refuse is dropped rather than making the form unusable
			p = s.get(c, "/?utm_source=%3Cscript%3Ealert(1)%3C/script%3E&utm_campaign="+strings.Repeat("x", 201)+"&utm_medium=ok")
			if strings.Contains(p.Body, `name="utm_source"`) || strings.Contains(p.Body, `name="utm_campaign"`) ||
				!strings.Contains(p.Body, `name="utm_medium" value="ok"`) {
				t.Error("invalid utm values were not dropped")
			}
		})

		t.Run("a valid booking lands on the thank-you page", func(t *testing.T) {
			f := bookingForm("Grace", "Hopper", "grace@example.org", "Compiler Mentors")
			f.Set("utm_source", "newsletter")
			f.Set("utm_campaign", "spring")
			f.Set("message", "Line one\r\nline two")
			p := s.do(c, http.MethodPost, "/", f)
			if p.StatusCode != http.StatusSeeOther {
				t.Fatalf("status %d\n%s", p.StatusCode, p.Body)
			}
			loc, err := url.Parse(p.Header.Get("Location"))
			if err != nil || loc.Path != "/thanks" || len(loc.Query().Get("ref")) != 36 {
				t.Fatalf("Location %q", p.Header.Get("Location"))
			}
			l, ok := s.leadByEmail("grace@example.org")
			if !ok {
				t.Fatal("no lead stored")
			}
			if l.Source != lead.SourceDemoBooking || l.Status != lead.StatusNew || deref(l.UTMSource) != "newsletter" ||
				deref(l.UTMCampaign) != "spring" || l.UTMMedium != nil || deref(l.Message) != "Line one\nline two" {
				t.Fatalf("stored lead %+v", l)
			}
			if n := s.count(`SELECT COUNT(*) FROM bookings WHERE id = $1 AND lead_id = $2`, loc.Query().Get("ref"), l.ID); n != 1 {
				t.Fatal("the reference is not the booking's id")
			}
			thanks := s.get(c, loc.String())
			if thanks.StatusCode != 200 || !strings.Contains(thanks.Body, loc.Query().Get("ref")) {
				t.Fatalf("thank-you page %d", thanks.StatusCode)
			}
		})

		t.Run("errors are shown beside the fields with what was typed", func(t *testing.T) {
			f := url.Values{"first_name": {""}, "last_name": {"<b>Bold</b>"}, "email": {"not an email"},
				"phone": {"12"}, "organization_name": {"R&D \"Mentors\""}, "message": {"Hello"}, "utm_source": {"ad"}}
			before := s.count(`SELECT COUNT(*) FROM bookings`)
			p := s.do(c, http.MethodPost, "/", f)
			if p.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d", p.StatusCode)
			}
			for _, name := range []string{"first_name", "last_name", "email", "consent_given"} {
				tag := inputTag(t, p.Body, name)
				if !strings.Contains(tag, `aria-invalid="true"`) {
					t.Errorf("%s: no aria-invalid in %s", name, tag)
				}
				if !strings.Contains(describedBy(tag), name+"-error") {
					t.Errorf("%s: aria-describedby does not name its error: %s", name, tag)
				}
				if !strings.Contains(p.Body, `id="`+name+`-error"`) {
					t.Errorf("%s: no error message element", name)
				}
				if !strings.Contains(p.Body, `<a href="#`+name+`">`) {
					t.Errorf("%s: not linked from the error summary", name)
				}
			}
			// focus goes to the error summary, and only there; its links lead to the fields
			if strings.Count(p.Body, " autofocus") != 1 || !regexp.MustCompile(`<div class="error-summary" id="error-summary"[^>]* tabindex="-1" autofocus>`).MatchString(p.Body) {
				t.Error("autofocus is not on the error summary alone")
			}
			if !strings.Contains(p.Body, tx(lang, "booking.summary")) || !strings.Contains(p.Body, `lang="`+string(lang)+`"`) {
				t.Error("the error summary is not in the page's language")
			}
			// valid fields are not marked, and keep their text (escaped)
			if tag := inputTag(t, p.Body, "organization_name"); strings.Contains(tag, "aria-invalid") ||
				!strings.Contains(tag, `value="R&amp;D &#34;Mentors&#34;"`) {
				t.Errorf("organization_name: %s", tag)
			}
			if tag := inputTag(t, p.Body, "last_name"); !strings.Contains(tag, `value="&lt;b&gt;Bold&lt;/b&gt;"`) {
				t.Errorf("last_name not kept escaped: %s", tag)
			}
			// the phone warning is shown, not as an error
			if tag := inputTag(t, p.Body, "phone"); strings.Contains(tag, "aria-invalid") || !strings.Contains(describedBy(tag), "phone-warning") {
				t.Errorf("phone: %s", tag)
			}
			if !strings.Contains(p.Body, `name="utm_source" value="ad"`) || !strings.Contains(p.Body, ">\nHello</textarea>") {
				t.Error("hidden or textarea values lost")
			}
			if !strings.HasPrefix(titleOf(p.Body), tx(lang, "error.prefix", "")) {
				t.Errorf("title %q does not say there is an error", titleOf(p.Body))
			}
			if after := s.count(`SELECT COUNT(*) FROM bookings`); after != before {
				t.Fatal("a refused booking stored something")
			}
		})

		t.Run("a phone warning does not block", func(t *testing.T) {
			f := bookingForm("Alan", "Turing", "alan@example.org", "Bletchley Buddies")
			f.Set("phone", "12")
			p := s.do(c, http.MethodPost, "/", f)
			if p.StatusCode != http.StatusSeeOther || !strings.Contains(p.Header.Get("Location"), "phone=unrecognized") {
				t.Fatalf("%d %s", p.StatusCode, p.Header.Get("Location"))
			}
			if l, ok := s.leadByEmail("alan@example.org"); !ok || deref(l.Phone) != "12" {
				t.Fatal("lead not stored with the phone as given")
			}
			if thanks := s.get(c, p.Header.Get("Location")); !strings.Contains(thanks.Body, tx(lang, "thanks.phone")) {
				t.Error("thank-you page does not mention the phone")
			}
		})

		t.Run("the honeypot stores nothing and looks the same", func(t *testing.T) {
			f := bookingForm("Bot", "Bot", "bot@example.org", "Spam")
			f.Set("website", "http://spam.example")
			p := s.do(c, http.MethodPost, "/", f, "X-Forwarded-For", "198.51.100.7")
			if p.StatusCode != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/thanks?lang="+string(lang)+"&ref=") {
				t.Fatalf("%d %s", p.StatusCode, p.Header.Get("Location"))
			}
			if _, ok := s.leadByEmail("bot@example.org"); ok {
				t.Fatal("honeypot booking stored")
			}
		})

		t.Run("a double-clicked submit books once", func(t *testing.T) {
			form := s.get(c, "/").Body
			key := regexp.MustCompile(`name="idempotency_key" value="([0-9a-f]{32})"`).FindStringSubmatch(form)
			if key == nil {
				t.Fatal("no idempotency key on the form")
			}
			f := bookingForm("Katherine", "Johnson", "katherine@example.org", "Orbit Mentors")
			f.Set("idempotency_key", key[1])
			first := s.do(c, http.MethodPost, "/", f, "X-Forwarded-For", "198.51.100.8")
			second := s.do(c, http.MethodPost, "/", f, "X-Forwarded-For", "198.51.100.8")
			if first.StatusCode != 303 || first.Header.Get("Location") != second.Header.Get("Location") {
				t.Fatalf("%d %q %q", first.StatusCode, first.Header.Get("Location"), second.Header.Get("Location"))
			}
			if n := s.count(`SELECT COUNT(*) FROM bookings WHERE email = $1`, "katherine@example.org"); n != 1 {
				t.Fatalf("%d bookings", n)
			}
		})

		t.Run("a full rate limit says when to try again", func(t *testing.T) {
			ip := "203.0.113.9"
			for i := range 5 {
				f := bookingForm("Rate", "Limit", "rl"+strconv.Itoa(i)+"@example.org", "Org")
				if p := s.do(c, http.MethodPost, "/", f, "X-Forwarded-For", ip); p.StatusCode != 303 {
					t.Fatalf("booking %d: %d", i, p.StatusCode)
				}
			}
			f := bookingForm("Sixth", "Booking", "sixth@example.org", "Org")
			p := s.do(c, http.MethodPost, "/", f, "X-Forwarded-For", ip)
			if p.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("status %d", p.StatusCode)
			}
			if ra, err := strconv.Atoi(p.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 3600 {
				t.Fatalf("Retry-After %q", p.Header.Get("Retry-After"))
			}
			if !strings.Contains(p.Body, tx(lang, "booking.rate_limited", "", "")[:40]) || !strings.Contains(inputTag(t, p.Body, "email"), `value="sixth@example.org"`) {
				t.Fatal("the 429 page does not explain or lost the typed text")
			}
		})

		t.Run("a cross-site post is refused", func(t *testing.T) {
			f := bookingForm("Cross", "Site", "cross@example.org", "Org")
			p := s.do(c, http.MethodPost, "/", f, "Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site")
			if p.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d", p.StatusCode)
			}
			if _, ok := s.leadByEmail("cross@example.org"); ok {
				t.Fatal("stored")
			}
		})

		t.Run("an oversized form is refused", func(t *testing.T) {
			f := bookingForm("Big", "Form", "big@example.org", "Org")
			f.Set("message", strings.Repeat("x", 70<<10))
			if p := s.do(c, http.MethodPost, "/", f); p.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d", p.StatusCode)
			}
		})
	}
}

// inputTag returns the <input>, <select> or <textarea> start tag whose id is name.
func inputTag(t *testing.T, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`<(?:input|select|textarea) [^>]*\bid="` + regexp.QuoteMeta(name) + `"[^>]*>`).FindString(body)
	if m == "" {
		t.Fatalf("no control with id %q", name)
	}
	return m
}

func describedBy(tag string) string {
	m := regexp.MustCompile(`aria-describedby="([^"]*)"`).FindStringSubmatch(tag)
	if m == nil {
		return ""
	}
	return m[1]
}

func titleOf(body string) string {
	m := regexp.MustCompile(`<title>([^<]*)</title>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
