package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/jobs"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/mail"
	"github.com/norsedigital/leads/internal/mail/mailtest"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// member adds a member of the team through the store.
func (s *site) member(name, email, role, language string) lead.Member {
	s.t.Helper()
	m, err := s.Store.CreateMember(s.t.Context(), lead.MemberInput{Name: &name, Email: &email, Role: &role, Language: &language})
	if err != nil {
		s.t.Fatal(err)
	}
	return m
}

// deliverMail runs the real email worker once against the SMTP server, with the sign-in
// link composer the service registers.
func (s *site) deliverMail(smtp *mailtest.Server) {
	s.t.Helper()
	sender, err := mail.NewSMTPSender(smtp.URL(), "Meander <no-reply@meander.invalid>")
	if err != nil {
		s.t.Fatal(err)
	}
	renderer, err := mail.NewRenderer(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	w := &jobs.EmailWorker{Store: s.Store, Sender: sender, Renderer: renderer, PrivacyURL: s.URL + "/privacy",
		Composers: map[string]jobs.Composer{store.EmailSignInLink: jobs.SignInLinkComposer(s.Store, s.URL, nil)}}
	w.RunOnce(context.Background())
}

var linkRe = regexp.MustCompile(`(http://[^\s"<>]+/console/sign-in/link\?[^\s"<>]+)`)

// signInLink is the sign-in link of the message, as a path on the site.
func signInLink(t *testing.T, m mailtest.Received) string {
	t.Helper()
	link := linkRe.FindString(m.TextBody())
	if link == "" {
		t.Fatalf("no sign-in link in:\n%s", m.TextBody())
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

// signInLinkFor delivers the queued email until the sign-in link to addr has come through
// smtp (other jobs may be due before it), and returns it as a path on the site.
func (s *site) signInLinkFor(t *testing.T, smtp *mailtest.Server, addr string) string {
	t.Helper()
	for range 20 {
		s.deliverMail(smtp)
		for _, m := range smtp.Messages() {
			if len(m.To) == 1 && m.To[0] == addr && linkRe.MatchString(m.TextBody()) {
				return signInLink(t, m)
			}
		}
	}
	t.Fatalf("no sign-in link to %s came through", addr)
	return ""
}

var tokenFieldRe = regexp.MustCompile(`name="token" value="([^"]+)"`)

func TestSignInByEmailLink(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		forEachLang(t, func(t *testing.T, l i18n.Lang) { testSignInByEmailLink(t, e, l) })
	})
}

func testSignInByEmailLink(t *testing.T, e storetest.Engine, lang i18n.Lang) {
	s := newSite(t, e.URL(t), siteOpts{lang: lang})
	smtp := mailtest.Start(t)
	kari := s.member("Kari Selger", "kari@norse.example", "sales", "en")
	ola := s.member("Ola Borte", "ola@norse.example", "admin", "nb")
	if _, err := s.Store.UpdateMember(t.Context(), ola.ID, lead.MemberInput{Active: new(false)}, lead.Actor{Name: "test"}); err != nil {
		t.Fatal(err)
	}
	ask := func(email string) response {
		t.Helper()
		return s.do(s.client(), http.MethodPost, "/console/sign-in/email", url.Values{"email": {email}})
	}

	t.Run("the sign-in page offers the link, and the token for services", func(t *testing.T) {
		p := s.get(s.client(), "/console/sign-in")
		if p.StatusCode != 200 || !strings.Contains(p.Body, `action="/console/sign-in/email"`) || !strings.Contains(p.Body, `action="/console/sign-in"`) ||
			!strings.Contains(p.Body, tx(lang, "signin.email_heading")) {
			t.Fatalf("sign-in page: %d\n%s", p.StatusCode, p.Body)
		}
		if strings.Contains(p.Body, "/console/oidc/start") {
			t.Fatal("a single sign-on button without single sign-on")
		}
	})

	t.Run("known, unknown and inactive addresses get the same page; only the member an email", func(t *testing.T) {
		known := ask("  KARI@norse.example ")
		for _, other := range []string{"nobody@norse.example", "ola@norse.example"} {
			p := ask(other)
			if p.StatusCode != known.StatusCode || p.Body != known.Body {
				t.Fatalf("%s got another answer than a member's:\n%d %s\nvs %d %s", other, p.StatusCode, p.Body, known.StatusCode, known.Body)
			}
		}
		if known.StatusCode != 200 || !strings.Contains(known.Body, tx(lang, "signin.sent_text")) {
			t.Fatalf("answer: %d\n%s", known.StatusCode, known.Body)
		}
		if n := s.count(`SELECT COUNT(*) FROM email_jobs`); n != 1 {
			t.Fatalf("%d email jobs, want 1 (the member's)", n)
		}
		if n := s.count(`SELECT COUNT(*) FROM signin_links`); n != 0 {
			t.Fatal("a link was minted before the email went out")
		}
	})

	t.Run("a malformed address is refused beside the field", func(t *testing.T) {
		p := ask("not an address")
		if p.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `aria-invalid="true"`) ||
			!strings.Contains(p.Body, tx(lang, "signin.email_invalid")) || !strings.Contains(p.Body, `value="not an address"`) {
			t.Fatalf("%d\n%s", p.StatusCode, p.Body)
		}
	})

	s.deliverMail(smtp)
	msgs := smtp.WaitFor(t, 1, 0)
	if len(msgs) != 1 || msgs[0].To[0] != "kari@norse.example" {
		t.Fatalf("messages: %+v", msgs)
	}
	// the member's language, not the page's
	if subj := msgs[0].Header("Subject"); subj != tx(i18n.EN, "mail.signin.subject") {
		t.Errorf("subject %q", subj)
	}
	link := signInLink(t, msgs[0])

	t.Run("following the link does not spend it; the button does, once", func(t *testing.T) {
		c := s.client()
		var token string
		for range 3 { // mail scanners fetch it too
			p := s.get(c, link)
			if p.StatusCode != 200 {
				t.Fatalf("GET link: %d\n%s", p.StatusCode, p.Body)
			}
			m := tokenFieldRe.FindStringSubmatch(p.Body)
			if m == nil {
				t.Fatalf("no sign-in form:\n%s", p.Body)
			}
			token = m[1]
			if strings.Count(p.Body, token) != 1 {
				t.Fatal("the page repeats the link's token (language switch?)")
			}
		}
		if n := s.count(`SELECT COUNT(*) FROM signin_links WHERE used_at IS NOT NULL`); n != 0 {
			t.Fatal("a GET spent the link")
		}
		// another site cannot post it for the browser
		if p := s.do(c, http.MethodPost, "/console/sign-in/link", url.Values{"token": {token}}, "Sec-Fetch-Site", "cross-site"); p.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site post: %d", p.StatusCode)
		}
		p := s.do(c, http.MethodPost, "/console/sign-in/link", url.Values{"token": {token}})
		if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/console" {
			t.Fatalf("POST link: %d %q\n%s", p.StatusCode, p.Header.Get("Location"), p.Body)
		}
		home := s.get(c, "/console/leads")
		if home.StatusCode != 200 || !strings.Contains(home.Body, "Kari Selger") {
			t.Fatalf("console after sign-in: %d\n%s", home.StatusCode, home.Body)
		}
		var staffID string
		if err := s.Store.DB().QueryRow(`SELECT CAST(staff_id AS TEXT) FROM console_sessions WHERE staff_id IS NOT NULL`).Scan(&staffID); err != nil || staffID != kari.ID {
			t.Fatalf("session of %q, %v; want the member's", staffID, err)
		}

		// used twice: a clear page and no session
		again := s.client()
		p = s.do(again, http.MethodPost, "/console/sign-in/link", url.Values{"token": {token}})
		if p.StatusCode != http.StatusGone || !strings.Contains(p.Body, tx(lang, "signin.link_bad_title")) || len(p.Cookies()) != 0 {
			t.Fatalf("second use: %d %v\n%s", p.StatusCode, p.Cookies(), p.Body)
		}
		if p := s.get(again, "/console/leads"); p.StatusCode != http.StatusSeeOther {
			t.Fatalf("signed in after a second use: %d", p.StatusCode)
		}
		if p := s.get(again, link); p.StatusCode != http.StatusGone || strings.Contains(p.Body, `name="token"`) {
			t.Fatalf("GET of a used link: %d", p.StatusCode)
		}
	})

	t.Run("forged and expired links get the clear page and no session", func(t *testing.T) {
		forged := "lsl_" + strings.Repeat("A", 43)
		for _, path := range []string{"/console/sign-in/link?token=" + forged, "/console/sign-in/link", "/console/sign-in/link?token=%00"} {
			if p := s.get(s.client(), path); p.StatusCode != http.StatusGone || !strings.Contains(p.Body, tx(lang, "signin.link_bad_text")) {
				t.Fatalf("%s: %d", path, p.StatusCode)
			}
		}
		if p := s.do(s.client(), http.MethodPost, "/console/sign-in/link", url.Values{"token": {forged}}); p.StatusCode != http.StatusGone || len(p.Cookies()) != 0 {
			t.Fatalf("forged POST: %d", p.StatusCode)
		}
		raw, err := s.Store.CreateSignInLink(t.Context(), kari.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Store.DB().Exec(`UPDATE signin_links SET expires_at = created_at WHERE token_hash = $1`, store.HashToken(raw)); err != nil {
			t.Fatal(err)
		}
		if p := s.do(s.client(), http.MethodPost, "/console/sign-in/link", url.Values{"token": {raw}}); p.StatusCode != http.StatusGone || len(p.Cookies()) != 0 {
			t.Fatalf("expired POST: %d", p.StatusCode)
		}
	})

	t.Run("at most five link emails an hour, with the same answer", func(t *testing.T) {
		first := ask("kari@norse.example") // the 2nd of the hour
		for range 5 {
			if p := ask("kari@norse.example"); p.StatusCode != first.StatusCode || p.Body != first.Body {
				t.Fatal("the limit shows on the page")
			}
		}
		if n := s.count(`SELECT COUNT(*) FROM email_jobs WHERE staff_id = $1`, kari.ID); n != store.SignInLinksPerHour {
			t.Fatalf("%d link emails, want %d", n, store.SignInLinksPerHour)
		}
	})
}
