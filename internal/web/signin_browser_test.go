package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/mail/mailtest"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// A member signs in by email link in a real browser: asks on the sign-in page, the link
// comes through the real SMTP server, the link's page signs in with its button, and the
// console opens as the member.
func TestBrowserSignInByEmailLink(t *testing.T) {
	browser := startBrowser(t)
	s := newSite(t, storetest.SQLiteURL(t), siteOpts{})
	smtp := mailtest.Start(t)
	forEachLang(t, func(t *testing.T, lang i18n.Lang) {
		email := "kari." + string(lang) + "@norse.example"
		s.member("Kari "+string(lang), email, "admin", string(lang))
		tab := openTab(t, browser)
		tab.do(chromedp.Navigate(s.URL+"/console?lang="+string(lang)), chromedp.WaitVisible(chromedp.ID("email")),
			chromedp.SendKeys(chromedp.ID("email"), email))
		tab.submit(chromedp.CSS(`form[action="/console/sign-in/email"] button`), http.StatusOK)
		if got := run(tab, chromedp.Text(chromedp.CSS("main h1"))); got != tx(lang, "signin.sent_title") {
			t.Fatalf("after asking: %q", got)
		}

		before := len(smtp.Messages())
		s.deliverMail(smtp)
		msgs := smtp.WaitFor(t, before+1, 0)
		m := msgs[len(msgs)-1]
		if m.To[0] != email {
			t.Fatalf("mail to %v", m.To)
		}
		// the member's language: the link opens the page in it
		link := signInLink(t, m)
		if !strings.Contains(link, "lang="+string(lang)) {
			t.Errorf("link %s is not in the member's language", link)
		}
		tab.do(chromedp.Navigate(s.URL+link), chromedp.WaitVisible(chromedp.CSS(`form[action="/console/sign-in/link"] button`)))
		tab.submit(chromedp.CSS(`form[action="/console/sign-in/link"] button`), http.StatusOK)
		tab.do(chromedp.WaitVisible(chromedp.CSS(".who-name")))
		if who := run(tab, chromedp.Text(chromedp.CSS(".who-name"))); who != "Kari "+string(lang) {
			t.Fatalf("signed in as %q", who)
		}
		if loc := run(tab, chromedp.Location()); !strings.HasSuffix(loc, "/console/leads?owner_id=me") {
			t.Fatalf("landed on %s", loc)
		}
		tab.screenshot("console-signed-in-by-link-" + string(lang))
		// the link is spent: opening it again shows the clear page
		tab.do(chromedp.Navigate(s.URL+link), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if got := run(tab, chromedp.Text(chromedp.CSS("main h1"))); got != tx(lang, "signin.link_bad_title") {
			t.Fatalf("used link: %q", got)
		}
		tab.clean()
	})
}
