package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/store/storetest"
)

var mailtoHref = regexp.MustCompile(`href="(mailto:[^"]*)"`)

// SPEC §9: a link built from a person's value is encoded; an address such as
// jane%40corp.example?bcc=x@evil.example is one recipient, with no hidden headers.
func TestMailtoLinkIsEncoded(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		s := newSite(t, e.URL(t), siteOpts{})
		for _, tc := range []struct{ email, href string }{
			{"jane%40corp.example?bcc=x@evil.example", "mailto:jane%2540corp.example%3Fbcc%3Dx@evil.example"},
			{"a&cc=b@evil.example", "mailto:a%26cc%3Db@evil.example"},
			{"x#y@evil.example", "mailto:x%23y@evil.example"},
			{"plain.person+tag@example.org", "mailto:plain.person+tag@example.org"},
		} {
			id := s.seed(person("Jane", "Doe", tc.email, "Corp"))
			page := s.get(s.signIn(s.Sales), "/console/leads/"+id)
			if page.StatusCode != http.StatusOK {
				t.Fatalf("lead page: %d", page.StatusCode)
			}
			m := mailtoHref.FindStringSubmatch(page.Body)
			if m == nil || html.UnescapeString(m[1]) != tc.href {
				t.Fatalf("%s: want href %q; page has %q", tc.email, tc.href, m)
			}
			// the link's address, decoded as a mail client does, is the lead's address, alone
			u, err := url.Parse(tc.href)
			if err != nil || u.RawQuery != "" || u.Opaque == "" {
				t.Fatalf("%s: link %q parses as %+v, %v", tc.email, tc.href, u, err)
			}
			if addr, err := url.PathUnescape(u.Opaque); err != nil || addr != tc.email {
				t.Fatalf("%s: link decodes to %q, %v", tc.email, addr, err)
			}
		}
	})
}

// SPEC §7, §9: behind TLS (--public-url https://…), where the proxy talks plain HTTP to
// us, the console cookie is Secure and every response carries HSTS; without it neither.
func TestBehindTLSSecureCookieAndHSTS(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		for _, behind := range []bool{true, false} {
			s := newSite(t, e.URL(t), siteOpts{behindTLS: behind})
			p := s.do(s.client(), http.MethodPost, "/console/sign-in", url.Values{"token": {s.Sales}})
			if p.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign in: %d", p.StatusCode)
			}
			var secure bool
			for _, c := range p.Cookies() {
				if c.Name == "leads_console" {
					secure = c.Secure
				}
			}
			if secure != behind {
				t.Errorf("behind TLS %v: cookie Secure = %v (%q)", behind, secure, p.Header.Values("Set-Cookie"))
			}
			for _, path := range []string{"/", "/console/sign-in", "/healthz", "/api/v1/leads"} {
				h := s.get(s.client(), path).Header.Get("Strict-Transport-Security")
				if behind && !strings.HasPrefix(h, "max-age=") {
					t.Errorf("behind TLS: %s has no HSTS (%q)", path, h)
				}
				if !behind && h != "" {
					t.Errorf("plain HTTP: %s sends HSTS %q", path, h)
				}
			}
		}
	})
}

// SPEC §3.2: the booking form's Idempotency-Key sent again with other values (the form
// edited after going back) is refused, not silently replayed; the same form replays.
func TestBookingFormKeyReusedWithOtherValues(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		s := newSite(t, e.URL(t), siteOpts{})
		const key = "0123456789abcdef0123456789abcdef"
		form := bookingForm("Ada", "Lovelace", "ada.form@example.org", "Analytical Mentors")
		form.Set("idempotency_key", key)
		first := s.do(s.client(), http.MethodPost, "/", form)
		if first.StatusCode != http.StatusSeeOther {
			t.Fatalf("first submit: %d", first.StatusCode)
		}
		again := s.do(s.client(), http.MethodPost, "/", form)
		if again.StatusCode != http.StatusSeeOther || again.Header.Get("Location") != first.Header.Get("Location") {
			t.Fatalf("double click: %d %q, want the first redirect %q", again.StatusCode, again.Header.Get("Location"), first.Header.Get("Location"))
		}
		edited := bookingForm("Grace", "Hopper", "grace.form@example.org", "Navy Mentors")
		edited.Set("idempotency_key", key)
		p := s.do(s.client(), http.MethodPost, "/", edited)
		if p.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(p.Body, tx(i18n.NB, "booking.reused")) ||
			strings.Contains(p.Body, key) {
			t.Fatalf("edited form under the old key: %d (fresh key expected on the page)", p.StatusCode)
		}
		if n := s.count(`SELECT COUNT(*) FROM bookings`); n != 1 {
			t.Fatalf("%d bookings, want 1", n)
		}
	})
}
