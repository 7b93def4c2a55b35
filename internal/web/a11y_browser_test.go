package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// axeTags are the rule sets every page must pass with zero violations (SPEC §12).
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// axeSource is axe-core's axe.min.js: $LEADS_AXE_JS, else where .ci/run installs it
// ($HOME/.cache/leads-axe, npm install --prefix). Outside CI a missing axe skips the test;
// under CI=true it fails.
func axeSource(t *testing.T) string {
	t.Helper()
	path := os.Getenv("LEADS_AXE_JS")
	if path == "" {
		home, _ := os.UserHomeDir()
		path = filepath.Join(home, ".cache", "leads-axe", "node_modules", "axe-core", "axe.min.js")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("axe-core is required under CI=true: %v (npm install --prefix \"$HOME/.cache/leads-axe\" axe-core@4, or set LEADS_AXE_JS)", err)
		}
		t.Skipf("axe-core not found at %s (npm install --prefix \"$HOME/.cache/leads-axe\" axe-core@4, or set LEADS_AXE_JS)", path)
	}
	return string(b)
}

type axeViolation struct {
	ID    string `json:"id"`
	Help  string `json:"help"`
	Nodes []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// axe injects axe-core into the tab's page through the DevTools protocol (Runtime.evaluate:
// the pages' CSP rightly refuses any script of theirs) and fails on every violation.
func (tb *tab) axe(src, page string) {
	tb.t.Helper()
	run(tb, chromedp.Evaluate[chromedp.Void](src+"\n;undefined"))
	tags, _ := json.Marshal(axeTags)
	res := run(tb, chromedp.Evaluate[[]axeViolation](
		`axe.run(document, {runOnly: {type: "tag", values: `+string(tags)+`}, resultTypes: ["violations"]}).then(r => r.violations)`,
		chromedp.EvalAwaitPromise))
	for _, v := range res {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprint(n.Target)+": "+n.Summary)
		}
		tb.t.Errorf("%s: axe %s (%s):\n  %s", page, v.ID, v.Help, strings.Join(where, "\n  "))
	}
}

// activeID is the id of the focused element.
func (tb *tab) activeID() string {
	tb.t.Helper()
	return run(tb, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`))
}

// TestAccessibility runs axe-core on every page, in both languages, and books a demo with
// the keyboard alone.
func TestAccessibility(t *testing.T) {
	src := axeSource(t)
	browser := startBrowser(t)
	s := newSite(t, storetest.SQLiteURL(t), siteOpts{rateLimit: 100})
	id := s.seed(person("Ada", "Lovelace", "ada@example.org", "Analytical Mentors"))
	member := s.member("Kari Selger", "kari@norse.example", "sales", "nb")
	var bookingRef string
	if err := s.Store.DB().QueryRow(`SELECT id FROM bookings WHERE lead_id = $1`, id).Scan(&bookingRef); err != nil {
		t.Fatal(err)
	}
	// the Review page with a held booking and a blocklist entry (SPEC §15)
	held, _ := lead.ValidateBooking(withConsent(person("Hedy", "Held", "hedy@example.org", "Held Org")))
	if _, err := s.Store.HoldBooking(t.Context(), store.HeldParams{Booking: held, IP: "192.0.2.7", ConsentVersion: "test-1",
		Reason: "pow_missing"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Store.AddBlock(t.Context(), "domain", "spam.example"); err != nil {
		t.Fatal(err)
	}

	t.Run("axe finds violations on a page that has them", func(t *testing.T) {
		bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `<!doctype html><html><title>x</title><p style="color:#bbb;background:#fff">faint</p><input id="nolabel">`)
		}))
		defer bad.Close()
		tab := openTab(t, browser)
		tab.do(chromedp.Navigate(bad.URL), chromedp.WaitVisible(chromedp.ID("nolabel")))
		run(tab, chromedp.Evaluate[chromedp.Void](src+"\n;undefined"))
		ids := run(tab, chromedp.Evaluate[[]string](`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa"]}}).then(r => r.violations.map(v => v.id))`,
			chromedp.EvalAwaitPromise))
		for _, want := range []string{"color-contrast", "label", "html-has-lang"} {
			if !slices.Contains(ids, want) {
				t.Errorf("axe did not report %s on a page that breaks it; reported %v", want, ids)
			}
		}
	})

	forEachLang(t, func(t *testing.T, lang i18n.Lang) {
		q := "lang=" + string(lang)
		t.Run("public pages", func(t *testing.T) {
			tab := openTab(t, browser)
			for _, path := range []string{"/?" + q, "/thanks?ref=" + bookingRef + "&phone=unrecognized&" + q, "/privacy?" + q,
				"/?embed=1&" + q} {
				tab.do(chromedp.Navigate(s.URL+path), chromedp.WaitVisible(chromedp.CSS("main")))
				if got := run(tab, chromedp.Evaluate[string](`document.documentElement.lang`)); got != string(lang) {
					t.Errorf("%s: <html lang=%q>", path, got)
				}
				tab.axe(src, path)
			}
			// the form with errors, refused by the server; focus lands on the error summary
			tab.do(chromedp.Navigate(s.URL+"/?"+q), chromedp.WaitVisible(chromedp.ID("first_name")),
				chromedp.SetAttributeValue(chromedp.CSS("form.booking-form"), "novalidate", ""),
				chromedp.SendKeys(chromedp.ID("email"), "not-an-email"),
				chromedp.SendKeys(chromedp.ID("phone"), "12"))
			tab.submit(chromedp.CSS(`button[type=submit]`), http.StatusUnprocessableEntity)
			tab.do(chromedp.WaitVisible(chromedp.CSS(".error-summary")))
			if got := tab.activeID(); got != "error-summary" {
				t.Errorf("after a refused submit focus is on %q, not the error summary", got)
			}
			if got := run(tab, chromedp.Text(chromedp.ID("error-summary-title"))); got != tx(lang, "booking.summary") {
				t.Errorf("error summary title %q", got)
			}
			tab.axe(src, "booking form with errors")
			tab.clean()
		})

		t.Run("console pages", func(t *testing.T) {
			tab := openTab(t, browser)
			tab.do(chromedp.Navigate(s.URL+"/console/sign-in?"+q), chromedp.WaitVisible(chromedp.ID("token")))
			tab.axe(src, "sign-in")
			tab.do(chromedp.SendKeys(chromedp.ID("token"), "lds_wrong"))
			tab.submit(chromedp.CSS(`form[action="/console/sign-in"] button`), http.StatusUnauthorized)
			tab.axe(src, "sign-in with an error")
			tab.do(chromedp.SendKeys(chromedp.ID("token"), s.Admin))
			tab.submit(chromedp.CSS(`form[action="/console/sign-in"] button`), http.StatusOK)
			for _, path := range []string{"/console/leads", "/console/leads?status=nope", "/console/leads/" + id,
				"/console/leads/" + id + "/anonymize", "/console/stats", "/console/stats?created_from=2026-05-01&created_to=2026-01-01", "/console/import", "/console/review", "/console/review?done=released", "/console/nope",
				"/console/team", "/console/team/" + member.ID} {
				tab.do(chromedp.Navigate(s.URL+path), chromedp.WaitVisible(chromedp.CSS("main h1")))
				if got := run(tab, chromedp.Evaluate[string](`document.documentElement.lang`)); got != string(lang) {
					t.Errorf("%s: <html lang=%q>", path, got)
				}
				tab.axe(src, path)
			}
			// a refused note and an import report
			tab.do(chromedp.Navigate(s.URL+"/console/leads/"+id), chromedp.WaitVisible(chromedp.ID("text")),
				chromedp.SetAttributeValue(chromedp.CSS(`form[action$="/notes"]`), "novalidate", ""),
				chromedp.SendKeys(chromedp.ID("text"), "<script>x</script>"))
			tab.submit(chromedp.CSS(`form[action$="/notes"] button`), http.StatusUnprocessableEntity)
			tab.axe(src, "lead page with a refused note")
			csv := filepath.Join(t.TempDir(), "leads.csv")
			os.WriteFile(csv, []byte("first_name,last_name,email,organization_name,consent_given,consent_timestamp,colour\n"+
				"Grace,Hopper,grace."+string(lang)+"@example.org,Navy Labs,yes,2026-01-10T09:00:00Z,blue\n"+
				"Bad,Email,not-an-email,Nowhere,yes,2026-01-10T09:00:00Z,grey\n"+
				"Alan,Turing,alan."+string(lang)+"@example.org,Bletchley,yes,2026-01-10T09:00:00Z,x\n"), 0o600)
			tab.do(chromedp.Navigate(s.URL+"/console/import"), chromedp.WaitVisible(chromedp.ID("file")),
				chromedp.SetUploadFiles(chromedp.ID("file"), []string{csv}))
			tab.submit(chromedp.CSS(`form[action="/console/import"] button`), http.StatusOK)
			tab.do(chromedp.WaitVisible(chromedp.ID("import-summary")))
			tab.axe(src, "import report")
			// the Team page refusing a new member and a change, errors beside the fields
			tab.do(chromedp.Navigate(s.URL+"/console/team"), chromedp.WaitVisible(chromedp.ID("name")),
				chromedp.SendKeys(chromedp.ID("email"), "not-an-address"), chromedp.SetValue(chromedp.ID("weight"), "11"))
			tab.submit(chromedp.CSS(`form[action="/console/team"] button`), http.StatusUnprocessableEntity)
			tab.axe(src, "team page with errors")
			tab.do(chromedp.Navigate(s.URL+"/console/team/"+member.ID), chromedp.WaitVisible(chromedp.ID("weight")),
				chromedp.SetValue(chromedp.ID("weight"), "0"))
			tab.submit(chromedp.CSS(`form[action="/console/team/`+member.ID+`"] button`), http.StatusUnprocessableEntity)
			tab.axe(src, "member page with errors")
			tab.clean()
		})

		t.Run("sign-in pages", func(t *testing.T) {
			tab := openTab(t, browser)
			tab.do(chromedp.Navigate(s.URL+"/console/sign-in?"+q), chromedp.WaitVisible(chromedp.ID("email")),
				chromedp.SetAttributeValue(chromedp.CSS(`form[action="/console/sign-in/email"]`), "novalidate", ""),
				chromedp.SendKeys(chromedp.ID("email"), "not an address"))
			tab.submit(chromedp.CSS(`form[action="/console/sign-in/email"] button`), http.StatusUnprocessableEntity)
			tab.axe(src, "sign-in with a refused address")
			tab.do(chromedp.SetValue(chromedp.ID("email"), "someone@example.org"))
			tab.submit(chromedp.CSS(`form[action="/console/sign-in/email"] button`), http.StatusOK)
			tab.axe(src, "link on its way")
			raw, err := s.Store.CreateSignInLink(t.Context(), member.ID)
			if err != nil {
				t.Fatal(err)
			}
			tab.do(chromedp.Navigate(s.URL+"/console/sign-in/link?token="+raw), chromedp.WaitVisible(chromedp.CSS("main h1")))
			tab.axe(src, "link page")
			tab.do(chromedp.Navigate(s.URL+"/console/sign-in/link?token=lsl_forged"), chromedp.WaitVisible(chromedp.CSS("main h1")))
			tab.axe(src, "unusable link")
			tab.clean()
		})

		t.Run("self-service pages", func(t *testing.T) { testSelfServiceA11y(t, browser, s, src, lang) })

		t.Run("console pages of a member", func(t *testing.T) {
			me, token := s.salesMember("Mia "+string(lang), "mia."+string(lang)+"@norse.example")
			mine := s.seed(person("Olav", "Overdue", "olav."+string(lang)+"@example.org", "Late Org"))
			if _, err := s.Store.PatchLead(t.Context(), mine, lead.Input{OwnerID: lead.Val(me)}, nil, lead.Actor{Name: "setup"}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Store.DB().Exec(`UPDATE leads SET contact_due_at = '2026-01-05T09:00:00.000000Z' WHERE id = $1`, mine); err != nil {
				t.Fatal(err)
			}
			tab := openTab(t, browser)
			tab.do(chromedp.Navigate(s.URL+"/console/sign-in?"+q), chromedp.WaitVisible(chromedp.ID("token")),
				chromedp.SendKeys(chromedp.ID("token"), token))
			tab.submit(chromedp.CSS(`form[action="/console/sign-in"] button`), http.StatusOK)
			tab.do(chromedp.WaitVisible(chromedp.ID("overdue-leads")))
			tab.axe(src, "My leads")
			for _, path := range []string{"/console/leads?owner_id=none&overdue=true", "/console/leads/" + id, "/console/leads/" + mine, "/console/stats"} {
				tab.do(chromedp.Navigate(s.URL+path), chromedp.WaitVisible(chromedp.CSS("main h1")))
				tab.axe(src, path)
			}
			tab.clean()
		})

		t.Run("the booking form with the keyboard alone", func(t *testing.T) {
			tab := openTab(t, browser)
			tab.do(chromedp.Navigate(s.URL+"/?utm_campaign=keys&"+q), chromedp.WaitVisible(chromedp.ID("first_name")))
			// from the top of the page: skip link, logo, language switch, then the form
			for range 10 {
				if tab.activeID() == "first_name" {
					break
				}
				tab.do(chromedp.KeyEvent("\t"))
			}
			email := "keys." + string(lang) + "@example.org"
			steps := []struct{ id, keys string }{
				{"first_name", "Katherine"}, {"last_name", "Johnson"}, {"email", email}, {"phone", "+47 22 33 44 55"},
				{"role_title", "Coordinator"}, {"organization_name", "Keyboard Mentors"}, {"organization_type", ""},
				{"organization_size", "1"}, {"message", "Only keys"}, {"consent_given", " "},
			}
			for i, st := range steps {
				if i > 0 {
					tab.do(chromedp.KeyEvent("\t"))
				}
				if got := tab.activeID(); got != st.id {
					t.Fatalf("Tab reached %q, want %q", got, st.id)
				}
				if st.keys != "" {
					tab.do(chromedp.KeyEvent(st.keys))
				}
			}
			tab.do(chromedp.KeyEvent("\t")) // the privacy notice link in the consent text
			tab.do(chromedp.KeyEvent("\t"))
			if tag := run(tab, chromedp.Evaluate[string](`document.activeElement.type`)); tag != "submit" {
				t.Fatalf("Tab after the consent reached %q, not the submit button", tag)
			}
			resp, err := chromedp.RunResponse(tab.ctx, chromedp.KeyEvent("\r"))
			if err != nil || resp.Status != http.StatusOK {
				t.Fatalf("Enter on submit: %v %v", resp, err)
			}
			tab.do(chromedp.WaitVisible(chromedp.CSS(".ref")))
			l, ok := s.leadByEmail(email)
			if !ok || l.FirstName != "Katherine" || deref(l.OrganizationSize) != "1-9" || deref(l.UTMCampaign) != "keys" || !l.ConsentGiven {
				t.Fatalf("keyboard booking stored %v %+v", ok, l)
			}
			tab.clean()
		})

		t.Run("screenshots of the form", func(t *testing.T) {
			for _, size := range []struct {
				name string
				w, h int64
				opts []chromedp.EmulateViewportOption
			}{{"phone", 390, 844, []chromedp.EmulateViewportOption{chromedp.EmulateMobile}}, {"desktop", 1280, 900, nil}} {
				tab := openTab(t, browser)
				tab.do(chromedp.EmulateViewport(size.w, size.h, size.opts...),
					chromedp.Navigate(s.URL+"/?"+url.Values{"lang": {string(lang)}}.Encode()), chromedp.WaitVisible(chromedp.ID("first_name")))
				if overflow := run(tab, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); overflow {
					t.Errorf("%s: the form scrolls sideways", size.name)
				}
				tab.screenshot("form-" + string(lang) + "-" + size.name)
				tab.clean()
			}
		})
	})
	testDemoAccessibility(t, browser, src) // demos_browser_test.go
}
