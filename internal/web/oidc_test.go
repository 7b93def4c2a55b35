package web_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store/storetest"
	"github.com/norsedigital/leads/internal/web"
	"github.com/norsedigital/leads/internal/web/oidctest"
)

// Single sign-on against a real OpenID provider (zitadel's op package) started here:
// discovery, keys, authorization and token endpoints are the provider's own.
func TestSingleSignOn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		forEachLang(t, func(t *testing.T, l i18n.Lang) { testSingleSignOn(t, e, l) })
	})
}

// ssoStart begins a sign-in with client c and follows the provider's redirects (its login
// step signs in whoever the test chose) up to the callback to the site, which it returns
// unfollowed as a path with its query.
func (s *site) ssoStart(c *http.Client) string {
	s.t.Helper()
	p := s.do(c, http.MethodPost, "/console/oidc/start", url.Values{})
	if p.StatusCode != http.StatusSeeOther {
		s.t.Fatalf("start: %d\n%s", p.StatusCode, p.Body)
	}
	next := p.Header.Get("Location")
	for range 10 {
		if strings.HasPrefix(next, s.URL) {
			u, _ := url.Parse(next)
			if u.Path != "/console/oidc/callback" {
				s.t.Fatalf("the provider sent the browser to %s", u.Path)
			}
			return u.RequestURI()
		}
		resp, err := c.Get(next)
		if err != nil {
			s.t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 3 {
			s.t.Fatalf("provider answered %d at %s", resp.StatusCode, next)
		}
		loc, err := resp.Location()
		if err != nil {
			s.t.Fatal(err)
		}
		next = loc.String()
	}
	s.t.Fatal("too many redirects")
	return ""
}

func sessionCookie(p response) bool {
	for _, c := range p.Cookies() {
		if c.Name == "leads_console" && c.Value != "" {
			return true
		}
	}
	return false
}

func testSingleSignOn(t *testing.T, e storetest.Engine, lang i18n.Lang) {
	var prov *oidctest.Provider
	users := []oidctest.User{
		{ID: "u-kari", Email: "Kari@Norse.example", EmailVerified: true},
		{ID: "u-unverified", Email: "per@norse.example", EmailVerified: false},
		{ID: "u-stranger", Email: "stranger@elsewhere.example", EmailVerified: true},
		{ID: "u-ola", Email: "ola@norse.example", EmailVerified: true},
	}
	s := newSite(t, e.URL(t), siteOpts{lang: lang, oidc: func(siteURL string) *web.OIDCConfig {
		prov = oidctest.Start(t, "leads-console", "s3cret", siteURL+"/console/oidc/callback", users...)
		prov.AddClient("another-app", "other", siteURL+"/elsewhere")
		return &web.OIDCConfig{Issuer: prov.Issuer, ClientID: "leads-console", ClientSecret: "s3cret",
			RedirectURL: siteURL + "/console/oidc/callback", Name: "Norse ID"}
	}})
	kari := s.member("Kari Selger", "kari@norse.example", "admin", "en")
	s.member("Per Uverifisert", "per@norse.example", "sales", "nb")
	ola := s.member("Ola Borte", "ola@norse.example", "sales", "nb")
	if _, err := s.Store.UpdateMember(t.Context(), ola.ID, lead.MemberInput{Active: new(false)}, lead.Actor{Name: "test"}); err != nil {
		t.Fatal(err)
	}
	sessions := func() int { return s.count(`SELECT COUNT(*) FROM console_sessions`) }
	// refused checks a callback's answer: the refusal page, no session cookie, nothing stored
	refused := func(t *testing.T, c *http.Client, p response, status int, text string) {
		t.Helper()
		if p.StatusCode != status || !strings.Contains(p.Body, tx(lang, text)) || sessionCookie(p) {
			t.Fatalf("%d (want %d), session cookie %v\n%s", p.StatusCode, status, sessionCookie(p), p.Body)
		}
		if n := sessions(); n != 0 {
			t.Fatalf("%d sessions stored", n)
		}
		if p := s.get(c, "/console/leads"); p.StatusCode != http.StatusSeeOther {
			t.Fatalf("the console let a refused sign-in in: %d", p.StatusCode)
		}
	}

	t.Run("the sign-in page offers it", func(t *testing.T) {
		p := s.get(s.client(), "/console/sign-in")
		if !strings.Contains(p.Body, `action="/console/oidc/start"`) || !strings.Contains(p.Body, tx(lang, "signin.sso", "Norse ID")) {
			t.Fatalf("no single sign-on button:\n%s", p.Body)
		}
	})

	t.Run("wrong state", func(t *testing.T) {
		prov.SignInAs("u-kari")
		c := s.client()
		cb := s.ssoStart(c)
		u, _ := url.Parse(cb)
		q := u.Query()
		q.Set("state", "forged"+q.Get("state")[6:])
		refused(t, c, s.get(c, u.Path+"?"+q.Encode()), http.StatusBadRequest, "signin.sso_failed_text")
		// the attempt is over: not even the right state works after a wrong one
		refused(t, c, s.get(c, cb), http.StatusBadRequest, "signin.sso_failed_text")
	})
	t.Run("a callback in another browser (no attempt cookie)", func(t *testing.T) {
		prov.SignInAs("u-kari")
		cb := s.ssoStart(s.client())
		other := s.client()
		refused(t, other, s.get(other, cb), http.StatusBadRequest, "signin.sso_failed_text")
	})
	for _, tc := range []struct {
		name, user string
		knob       func()
	}{
		{"wrong nonce", "u-kari", func() { prov.WrongNonce("a-nonce-we-never-sent") }},
		{"wrong audience", "u-kari", func() { prov.WrongAudience("another-app") }},
		{"wrong issuer", "u-kari", func() { prov.WrongIssuer("http://issuer.invalid") }},
		{"unverified email", "u-unverified", func() {}},
		{"unknown email", "u-stranger", func() {}},
		{"inactive member", "u-ola", func() {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prov.Reset()
			defer prov.Reset()
			prov.SignInAs(tc.user)
			tc.knob()
			c := s.client()
			cb := s.ssoStart(c)
			refused(t, c, s.get(c, cb), http.StatusForbidden, "signin.sso_refused_text")
		})
	}

	t.Run("an active member with a verified email signs in", func(t *testing.T) {
		prov.Reset()
		prov.SignInAs("u-kari")
		c := s.client()
		p := s.get(c, s.ssoStart(c))
		if p.StatusCode != 200 || !sessionCookie(p) || !strings.Contains(p.Body, tx(lang, "signin.done_title")) || strings.Contains(p.Body, "code=") {
			t.Fatalf("callback: %d\n%s", p.StatusCode, p.Body)
		}
		home := s.get(c, "/console/leads")
		if home.StatusCode != 200 || !strings.Contains(home.Body, "Kari Selger") || !strings.Contains(home.Body, `href="/console/team"`) {
			t.Fatalf("console: %d\n%s", home.StatusCode, home.Body)
		}
		var staffID string
		if err := s.Store.DB().QueryRow(`SELECT CAST(staff_id AS TEXT) FROM console_sessions`).Scan(&staffID); err != nil || staffID != kari.ID {
			t.Fatalf("session of %q, %v", staffID, err)
		}
	})

	t.Run("a browser that has chosen no language gets the member's", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		p := s.get(c, s.ssoStart(c))
		if p.StatusCode != 200 || !strings.Contains(p.Body, `<html lang="en">`) {
			t.Fatalf("callback: %d\n%s", p.StatusCode, p.Body)
		}
		if home := s.get(c, "/console/leads"); !strings.Contains(home.Body, `<html lang="en">`) {
			t.Fatal("the console is not in the member's language")
		}
	})
}

// The service starts, and the other ways in work, while the provider cannot be reached
// or names another issuer; single sign-on is then refused with no session.
func TestSingleSignOnProviderTrouble(t *testing.T) {
	for name, issuer := range map[string]func(prov *oidctest.Provider) string{
		"unreachable":     func(*oidctest.Provider) string { return "http://127.0.0.1:1" },
		"issuer mismatch": func(p *oidctest.Provider) string { return p.Issuer + "/" },
	} {
		t.Run(name, func(t *testing.T) {
			s := newSite(t, storetest.SQLiteURL(t), siteOpts{oidc: func(siteURL string) *web.OIDCConfig {
				prov := oidctest.Start(t, "leads-console", "s3cret", siteURL+"/console/oidc/callback")
				return &web.OIDCConfig{Issuer: issuer(prov), ClientID: "leads-console", ClientSecret: "s3cret",
					RedirectURL: siteURL + "/console/oidc/callback"}
			}})
			c := s.client()
			if p := s.get(c, "/console/sign-in"); p.StatusCode != 200 || !strings.Contains(p.Body, "/console/oidc/start") {
				t.Fatalf("sign-in page: %d", p.StatusCode)
			}
			p := s.do(c, http.MethodPost, "/console/oidc/start", url.Values{})
			if p.StatusCode != http.StatusServiceUnavailable || !strings.Contains(p.Body, tx(i18n.NB, "signin.sso_unavailable")) {
				t.Fatalf("start: %d\n%s", p.StatusCode, p.Body)
			}
			s.signIn(s.Sales) // the token still works
		})
	}
}
