package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/norsedigital/leads/internal/corpora"
	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// The pages in a real browser: headless Chromium from Debian's package, driven over the
// DevTools protocol against the real server on a random port. Every tab is watched for
// JavaScript dialogs, exceptions, console calls and CSP violations: our pages run only the
// booking form's own proof-of-work files, which make none of these, so any is a failure.
func TestBrowser(t *testing.T) {
	browser := startBrowser(t)
	s := newSite(t, storetest.SQLiteURL(t), siteOpts{rateLimit: 100})

	t.Run("the watcher sees scripts and CSP violations", func(t *testing.T) {
		// a page that breaks the rules on purpose, to prove the checks below can fail
		bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/csp" {
				w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'")
			}
			fmt.Fprint(w, `<!doctype html><p style="color:red">x</p><script>alert("canary")</script>`)
		}))
		defer bad.Close()
		tab := openTab(t, browser)
		tab.do(chromedp.Navigate(bad.URL + "/csp"))
		tab.waitProblems(func(p []string) bool { return len(p) >= 2 })
		if !slices.ContainsFunc(tab.problems(), func(p string) bool { return strings.Contains(p, "Content Security Policy") }) {
			t.Fatalf("no CSP violation seen: %q", tab.problems())
		}
		tab2 := openTab(t, browser)
		tab2.do(chromedp.Navigate(bad.URL + "/open"))
		tab2.waitProblems(func(p []string) bool {
			return slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, "dialog") })
		})
	})

	forEachLang(t, func(t *testing.T, lang i18n.Lang) {
		testBrowserPages(t, browser, s, lang)
	})
	testBrowserConsoleSafety(t, browser, s)
}

// testBrowserPages are the browser tests that read the pages' text, run in one language.
func testBrowserPages(t *testing.T, browser context.Context, s *site, lang i18n.Lang) {
	email := func(local string) string { return local + "." + string(lang) + "@example.org" }
	t.Run("a prospect books a demo from a campaign link, on a phone", func(t *testing.T) {
		tab := openTab(t, browser)
		tab.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
			chromedp.Navigate(s.URL+"/?utm_source=newsletter&utm_medium=email&utm_campaign=spring-demo&lang="+string(lang)),
			chromedp.WaitVisible(chromedp.ID("first_name")))
		tab.screenshot("booking-form-phone-" + string(lang))
		if overflow := run(tab, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); overflow {
			t.Error("the form scrolls sideways on a phone-sized screen")
		}
		tab.do(
			chromedp.SendKeys(chromedp.ID("first_name"), "Mary"),
			chromedp.SendKeys(chromedp.ID("last_name"), "Jackson"),
			chromedp.SendKeys(chromedp.ID("email"), email("mary.jackson")),
			chromedp.SendKeys(chromedp.ID("phone"), "+47 22 33 44 55"),
			chromedp.SendKeys(chromedp.ID("organization_name"), "Langley Peer Support"),
			chromedp.SetValue(chromedp.ID("organization_size"), "10-49"),
			chromedp.SendKeys(chromedp.ID("message"), "We run 40 mentors & want matching."),
			chromedp.Click(chromedp.ID("consent_given")))
		tab.submit(chromedp.CSS(`button[type=submit]`), http.StatusOK)
		tab.do(chromedp.WaitVisible(chromedp.CSS(".ref")))
		tab.screenshot("thanks-phone-" + string(lang))
		if got := run(tab, chromedp.Text(chromedp.CSS("h1"))); got != tx(lang, "thanks.title") {
			t.Errorf("thank-you heading %q", got)
		}
		ref := run(tab, chromedp.Text(chromedp.CSS(".ref")))
		if loc := run(tab, chromedp.Location()); !strings.Contains(loc, "/thanks?lang="+string(lang)+"&ref="+ref) {
			t.Fatalf("landed on %s", loc)
		}
		l, ok := s.leadByEmail(email("mary.jackson"))
		if !ok {
			t.Fatal("no lead")
		}
		if deref(l.UTMSource) != "newsletter" || deref(l.UTMMedium) != "email" || deref(l.UTMCampaign) != "spring-demo" ||
			deref(l.OrganizationSize) != "10-49" || deref(l.Phone) != "+4722334455" || l.Source != lead.SourceDemoBooking {
			t.Fatalf("stored lead %+v", l)
		}
		if n := s.count(`SELECT COUNT(*) FROM bookings WHERE id = $1 AND lead_id = $2`, ref, l.ID); n != 1 {
			t.Fatal("the reference shown is not the booking")
		}
		tab.clean()
	})

	t.Run("the form works embedded in another site's iframe", func(t *testing.T) {
		// the marketing site is another site: localhost versus 127.0.0.1
		u, _ := url.Parse(s.URL)
		formURL := "http://localhost:" + u.Port() + "/?embed=1&utm_source=partner-site"
		host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `<!doctype html><title>Partner</title><h1>Partner site</h1><iframe src="%s" width="640" height="720" title="Book a demo" sandbox="allow-forms allow-same-origin allow-scripts allow-popups allow-popups-to-escape-sandbox"></iframe>`, formURL)
		}))
		defer host.Close()
		tab := openTab(t, browser)
		tab.do(chromedp.Navigate(host.URL), chromedp.WaitVisible(chromedp.CSS("iframe")))
		frame := tab.frame(t, "http://localhost:"+u.Port()+"/")
		frame.do(chromedp.WaitVisible(chromedp.ID("first_name")))
		tab.viewportShot("booking-embedded")
		if n := run(frame, chromedp.Evaluate[int](`document.querySelectorAll(".site-header, .site-footer").length`)); n != 0 {
			t.Error("the embedded form shows the site header or footer")
		}
		frame.do(
			chromedp.SendKeys(chromedp.ID("first_name"), "Emb"),
			chromedp.SendKeys(chromedp.ID("last_name"), "Edded"),
			chromedp.SendKeys(chromedp.ID("email"), "embedded@example.org"),
			chromedp.SendKeys(chromedp.ID("organization_name"), "Iframe Mentors"),
			chromedp.Click(chromedp.ID("consent_given")))
		frame.submit(chromedp.CSS(`button[type=submit]`), http.StatusOK)
		frame.do(chromedp.WaitVisible(chromedp.CSS(".ref")))
		tab.do(chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
		tab.viewportShot("booking-embedded-thanks")
		l, ok := s.leadByEmail("embedded@example.org")
		if !ok || deref(l.UTMSource) != "partner-site" {
			t.Fatalf("embedded booking: %v %+v", ok, l)
		}
		tab.clean()
		frame.clean()
	})

	t.Run("a booking with errors shows them beside the fields", func(t *testing.T) {
		tab := openTab(t, browser)
		tab.do(chromedp.Navigate(s.URL+"/?lang="+string(lang)), chromedp.WaitVisible(chromedp.ID("first_name")),
			// the contract: the server's messages, with the browser's own checks bypassed
			chromedp.SetAttributeValue(chromedp.CSS("form.booking-form"), "novalidate", ""),
			chromedp.SendKeys(chromedp.ID("last_name"), "Lovelace"),
			chromedp.SendKeys(chromedp.ID("email"), "not-an-email"),
			chromedp.SendKeys(chromedp.ID("organization_name"), `R&D <50 mentors`),
			chromedp.SendKeys(chromedp.ID("organization_type"), `"><img src=x onerror=alert(1)>`),
			chromedp.SendKeys(chromedp.ID("message"), "Keep this text"))
		tab.submit(chromedp.CSS(`button[type=submit]`), http.StatusUnprocessableEntity)
		tab.do(chromedp.WaitVisible(chromedp.CSS(".error-summary")))
		tab.screenshot("booking-errors-" + string(lang))
		type field struct {
			Invalid     string `json:"invalid"`
			Description string `json:"description"`
		}
		fields := run(tab, chromedp.Evaluate[map[string]field](`Object.fromEntries(
			["first_name", "email", "organization_type", "consent_given", "last_name"].map(id => {
				const el = document.getElementById(id);
				const ids = (el.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
				return [id, {invalid: el.getAttribute("aria-invalid") || "",
					description: ids.map(d => document.getElementById(d).textContent.trim()).join(" | ")}];
			}))`))
		for _, id := range []string{"first_name", "email", "organization_type", "consent_given"} {
			f := fields[id]
			if f.Invalid != "true" || !strings.Contains(f.Description, tx(lang, "error.label")) {
				t.Errorf("%s: aria-invalid %q, described by %q", id, f.Invalid, f.Description)
			}
		}
		if f := fields["last_name"]; f.Invalid != "" || strings.Contains(f.Description, tx(lang, "error.label")) {
			t.Errorf("a valid field is marked: %+v", f)
		}
		if focused := run(tab, chromedp.Evaluate[string](`document.activeElement.id`)); focused != "error-summary" {
			t.Errorf("focus is on %q, not the error summary", focused)
		}
		for id, want := range map[string]string{"last_name": "Lovelace", "email": "not-an-email",
			"organization_name": "R&D <50 mentors", "organization_type": `"><img src=x onerror=alert(1)>`, "message": "Keep this text"} {
			if got := run(tab, chromedp.Value(chromedp.ID(id))); got != want {
				t.Errorf("%s kept as %q, want %q", id, got, want)
			}
		}
		// the summary links move focus to their field
		tab.do(chromedp.Click(chromedp.CSS(`.error-summary a[href="#email"]`)))
		if focused := run(tab, chromedp.Evaluate[string](`document.activeElement.id`)); focused != "email" {
			t.Errorf("summary link focused %q", focused)
		}
		if _, ok := s.leadByEmail("not-an-email"); ok || s.count(`SELECT COUNT(*) FROM leads WHERE last_name = 'Lovelace'`) != 0 {
			t.Fatal("a refused booking was stored")
		}
		tab.clean()
	})

	t.Run("a salesperson finds a lead, moves it on and adds a note", func(t *testing.T) {
		id := s.seed(person("Dorothy", "Vaughan", email("dorothy"), "Fortran Friends "+string(lang)+" Network"))
		s.seed(person("Other", "Person", email("other"), "Unrelated Org"))
		tab := openTab(t, browser)
		tab.do(chromedp.Navigate(s.URL+"/console?lang="+string(lang)), chromedp.WaitVisible(chromedp.ID("token")))
		tab.screenshot("console-sign-in-" + string(lang))
		tab.do(chromedp.SendKeys(chromedp.ID("token"), s.Sales),
			chromedp.Click(chromedp.CSS(`form[action="/console/sign-in"] button`)),
			chromedp.WaitVisible(chromedp.ID("q")))
		tab.screenshot("console-lead-list-" + string(lang))
		tab.do(chromedp.SendKeys(chromedp.ID("q"), "fortran friends "+string(lang)))
		tab.submit(chromedp.CSS(`form.filters button[type=submit]`), http.StatusOK)
		tab.do(chromedp.WaitVisible(chromedp.CSS(`a[href="/console/leads/` + id + `"]`)))
		if rows := run(tab, chromedp.Evaluate[int](`document.querySelectorAll("tbody tr").length`)); rows != 1 {
			t.Fatalf("search shows %d rows", rows)
		}
		tab.do(chromedp.Click(chromedp.CSS(`a[href="/console/leads/`+id+`"]`)),
			chromedp.WaitVisible(chromedp.ID("move-title")))
		tab.screenshot("console-lead-" + string(lang))
		buttons := `[...document.querySelectorAll("form.status-actions button")].map(b => b.value + "=" + b.textContent.trim())`
		labels := func(statuses ...string) string {
			var out []string
			for _, st := range statuses {
				out = append(out, st+"="+tx(lang, "status."+st))
			}
			return strings.Join(out, ",")
		}
		if got := run(tab, chromedp.Evaluate[[]string](buttons)); strings.Join(got, ",") != labels("contacted", "lost", "disqualified") {
			t.Fatalf("status buttons %v", got)
		}
		tab.submit(chromedp.CSS(`button[name=status][value=contacted]`), http.StatusOK)
		tab.do(chromedp.WaitVisible(chromedp.CSS(".banner-ok")))
		if got := run(tab, chromedp.Evaluate[[]string](buttons)); strings.Join(got, ",") != labels("qualified", "lost", "disqualified") {
			t.Fatalf("status buttons after the move %v", got)
		}
		if l, _ := s.Store.GetLead(t.Context(), id); l.Status != lead.StatusContacted {
			t.Fatalf("status %s", l.Status)
		}
		note := "Spoke with Dorothy: demo on Tuesday, 40 mentors <3 regions."
		tab.do(chromedp.SendKeys(chromedp.ID("text"), note))
		tab.submit(chromedp.CSS(`form[action$="/notes"] button`), http.StatusOK)
		tab.do(chromedp.WaitVisible(chromedp.ID("lead-notes")))
		if got := run(tab, chromedp.Text(chromedp.ID("lead-notes"))); !strings.Contains(got, "sally-sales: "+note) {
			t.Fatalf("notes %q", got)
		}
		history := run(tab, chromedp.Text(chromedp.ID("history")))
		for _, want := range []string{tx(lang, "event.note_added"), tx(lang, "event.status_changed", tx(lang, "status.new"), tx(lang, "status.contacted")), "sally-sales"} {
			if !strings.Contains(history, want) {
				t.Errorf("history lacks %q:\n%s", want, history)
			}
		}
		tab.screenshot("console-lead-after-" + string(lang))
		// times in Europe/Oslo, in the page's language
		if l, _ := s.Store.GetLead(t.Context(), id); !strings.Contains(run(tab, chromedp.Text(chromedp.CSS("dl.fields"))), i18n.DateTime(lang, oslo(t), l.CreatedAt)) {
			t.Errorf("the lead page does not show the creation time as %q", i18n.DateTime(lang, oslo(t), l.CreatedAt))
		}
		tab.do(chromedp.Click(chromedp.CSS(`nav a[href="/console/stats"]`)), chromedp.WaitVisible(chromedp.ID("funnel")))
		if bars := run(tab, chromedp.Evaluate[int](`document.querySelectorAll("#funnel rect.bar").length`)); bars != 8 {
			t.Errorf("funnel has %d bars", bars)
		}
		tab.screenshot("console-stats-" + string(lang))
		tab.do(chromedp.Click(chromedp.CSS(`form[action="/console/sign-out"] button`)), chromedp.WaitVisible(chromedp.ID("token")))
		tab.clean()
	})

	t.Run("a member lands on My leads, takes a lead, moves it and sees speed to lead", func(t *testing.T) {
		ctx := t.Context()
		name := "Mia Member " + string(lang)
		me, token := s.salesMember(name, email("mia"))
		mine := s.seed(person("Overdue", "Olsen", email("overdue"), "Late Org "+string(lang)))
		free := s.seed(person("Free", "Fredriksen", email("free"), "Open Org "+string(lang)))
		// mine is overdue (its contact was due long ago); free has no owner
		if _, err := s.Store.PatchLead(ctx, mine, lead.Input{OwnerID: lead.Val(me)}, nil, lead.Actor{Name: "setup"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Store.PatchLead(ctx, free, lead.Input{OwnerID: lead.Null()}, nil, lead.Actor{Name: "setup"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Store.DB().Exec(`UPDATE leads SET contact_due_at = '2026-01-05T09:00:00.000000Z' WHERE id = $1`, mine); err != nil {
			t.Fatal(err)
		}
		tab := openTab(t, browser)
		tab.do(chromedp.Navigate(s.URL+"/console?lang="+string(lang)), chromedp.WaitVisible(chromedp.ID("token")),
			chromedp.SendKeys(chromedp.ID("token"), token),
			chromedp.Click(chromedp.CSS(`form[action="/console/sign-in"] button`)),
			chromedp.WaitVisible(chromedp.ID("overdue-leads")))
		tab.screenshot("console-my-leads-" + string(lang))
		if h1 := run(tab, chromedp.Text(chromedp.CSS("main h1"))); h1 != tx(lang, "owner.my_leads") {
			t.Fatalf("landed on %q, not My leads", h1)
		}
		if got := run(tab, chromedp.Text(chromedp.ID("overdue-leads"))); !strings.Contains(got, "Overdue Olsen") || strings.Contains(got, "Fredriksen") {
			t.Fatalf("overdue first: %q", got)
		}
		if n := run(tab, chromedp.Evaluate[int](`document.querySelectorAll("tbody .badge-overdue").length`)); n != 1 {
			t.Errorf("%d overdue badges in my list, want 1", n)
		}
		// the unassigned leads, through the owner filter
		tab.do(chromedp.SetValue(chromedp.ID("owner_id"), "none"))
		tab.submit(chromedp.CSS(`form.filters button[type=submit]`), http.StatusOK)
		tab.do(chromedp.WaitVisible(chromedp.CSS(`a[href="/console/leads/`+free+`"]`)),
			chromedp.Click(chromedp.CSS(`a[href="/console/leads/`+free+`"]`)),
			chromedp.WaitVisible(chromedp.ID("owner-title")))
		if got := run(tab, chromedp.Text(chromedp.ID("lead-owner"))); got != tx(lang, "owner.unassigned") {
			t.Fatalf("owner %q", got)
		}
		tab.submit(chromedp.CSS(`button[name=owner_id][value=me]`), http.StatusOK)
		tab.do(chromedp.WaitVisible(chromedp.CSS(".banner-ok")))
		if got := run(tab, chromedp.Text(chromedp.ID("lead-owner"))); got != name {
			t.Fatalf("owner after Take it %q", got)
		}
		if l, _ := s.Store.GetLead(ctx, free); l.OwnerID == nil || *l.OwnerID != me {
			t.Fatalf("stored owner %v", l.OwnerID)
		}
		tab.submit(chromedp.CSS(`button[name=status][value=contacted]`), http.StatusOK)
		tab.do(chromedp.WaitVisible(chromedp.CSS(".banner-ok")))
		tab.screenshot("console-lead-taken-" + string(lang))
		l, _ := s.Store.GetLead(ctx, free)
		if l.FirstContactedAt == nil || !strings.Contains(run(tab, chromedp.Text(chromedp.CSS("dl.fields"))), i18n.DateTime(lang, oslo(t), *l.FirstContactedAt)) {
			t.Fatalf("first contact %v not shown", l.FirstContactedAt)
		}
		tab.do(chromedp.Click(chromedp.CSS(`nav a[href="/console/stats"]`)), chromedp.WaitVisible(chromedp.ID("speed")))
		row := run(tab, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#speed tbody tr")].filter(r => r.cells[0].textContent.trim() === `+"`"+name+"`"+`).map(r => [...r.cells].map(c => c.textContent.trim()).join("|"))`))
		if len(row) != 1 || !strings.HasPrefix(row[0], name+"|2|1|") {
			t.Fatalf("speed to lead row of the member %q, want 2 leads, 1 contacted", row)
		}
		tab.screenshot("console-speed-" + string(lang))
		tab.clean()
	})
}

// testBrowserConsoleSafety are the browser tests of the console that do not depend on the
// language.
func testBrowserConsoleSafety(t *testing.T, browser context.Context, s *site) {
	t.Run("an admin anonymizes a lead", func(t *testing.T) {
		id := s.seed(person("Erin", "Erasure", "erin@example.org", "Forget Me Foundation"))
		tab := openTab(t, browser)
		tab.do(chromedp.Navigate(s.URL+"/console/sign-in"), chromedp.WaitVisible(chromedp.ID("token")),
			chromedp.SendKeys(chromedp.ID("token"), s.Admin),
			chromedp.Click(chromedp.CSS(`form[action="/console/sign-in"] button`)), chromedp.WaitVisible(chromedp.ID("q")),
			chromedp.Navigate(s.URL+"/console/leads/"+id),
			chromedp.WaitVisible(chromedp.ID("erase-title")),
			chromedp.Click(chromedp.CSS(`a[href$="/anonymize"]`)),
			chromedp.WaitVisible(chromedp.CSS(`form[action$="/anonymize"] button`)))
		tab.screenshot("console-anonymize-confirm")
		tab.do(chromedp.Click(chromedp.CSS(`form[action$="/anonymize"] button`)),
			chromedp.WaitVisible(chromedp.CSS(".banner-ok")))
		tab.screenshot("console-anonymized")
		l, err := s.Store.GetLead(t.Context(), id)
		if err != nil || l.AnonymizedAt == nil || l.Email == "erin@example.org" {
			t.Fatalf("lead %+v %v", l, err)
		}
		if body := run(tab, chromedp.Text(chromedp.CSS("main"))); strings.Contains(body, "erin@example.org") || strings.Contains(body, "Erasure") {
			t.Fatal("the page still shows erased data")
		}
		tab.clean()
	})

	t.Run("stored XSS payloads do not run in the console", func(t *testing.T) {
		// every payload of the corpus that the validator accepts is stored as a message
		type stored struct{ id, message string }
		var leads []stored
		for i, p := range corpora.Lines(t, "xss-payloads.txt") {
			in := person("Corpus", fmt.Sprintf("Payload%d", i), fmt.Sprintf("xss%d@example.org", i), "XSS Corpus Org")
			in.Message = p
			if _, res := lead.ValidateBooking(withConsent(in)); !res.OK() {
				continue
			}
			leads = append(leads, stored{s.seed(in), p})
		}
		if len(leads) < 10 {
			t.Fatalf("only %d payloads accepted; the corpus changed?", len(leads))
		}
		// and markup stored behind the validator's back, in every field the console shows
		hostile := s.seed(person("Hostile", "Row", "hostile@example.org", "Hostile Org"))
		db, now := s.Store.DB(), time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`UPDATE leads SET first_name = $2, last_name = $3, organization_name = $4, message = $5, notes = $6,
				role_title = $7, utm_campaign = $8, phone = $9 WHERE id = $1`, []any{hostile,
				`<img src=x onerror=alert(1)>`, `<script>alert(2)</script>`, `"><svg onload=alert(3)> Hostile Org`,
				`</p><script>alert(4)</script>`, `</textarea><iframe src=javascript:alert(5)>`,
				`' onmouseover='alert(7)`, `javascript:alert(6)`, `"><body onload=alert(8)>`}},
			{`UPDATE bookings SET user_agent = $2, utm_campaign = $3, first_name = $4 WHERE lead_id = $1`, []any{hostile,
				`<script>alert(9)</script>`, `<img src=x onerror=alert(10)>`, `<svg/onload=alert(11)>`}},
			{`INSERT INTO lead_events (id, lead_id, type, actor, details, created_at) VALUES ($1, $2, 'status_changed', $3, $4, $5)`,
				[]any{store.NewID(), hostile, `<script>alert(12)</script>`, `{"from": "<img src=x onerror=alert(13)>", "to": "won"}`, now}},
			{`INSERT INTO lead_events (id, lead_id, type, actor, details, created_at) VALUES ($1, $2, '<b onmouseover=alert(14)>', 'x', '{"k": "<script>alert(15)</script>"}', $3)`,
				[]any{store.NewID(), hostile, now}},
		} {
			if _, err := db.Exec(q.sql, q.args...); err != nil {
				t.Fatalf("%s: %v", q.sql, err)
			}
		}

		tab := openTab(t, browser)
		tab.do(chromedp.Navigate(s.URL+"/console/sign-in"), chromedp.WaitVisible(chromedp.ID("token")),
			chromedp.SendKeys(chromedp.ID("token"), s.Admin),
			chromedp.Click(chromedp.CSS(`form[action="/console/sign-in"] button`)), chromedp.WaitVisible(chromedp.ID("q")))
		for _, path := range []string{"/console/leads?q=hostile", "/console/leads?q=XSS+Corpus", "/console/leads/" + hostile,
			"/console/leads/" + hostile + "/anonymize", "/console/stats"} {
			tab.do(chromedp.Navigate(s.URL+path), chromedp.WaitVisible(chromedp.CSS("main h1")))
		}
		tab.do(chromedp.Navigate(s.URL+"/console/leads/"+hostile), chromedp.WaitVisible(chromedp.ID("lead-message")))
		tab.screenshot("console-hostile-lead")
		if got := run(tab, chromedp.Evaluate[string](`document.getElementById("lead-message").textContent`)); got != `</p><script>alert(4)</script>` {
			t.Errorf("hostile message shown as %q", got)
		}
		if n := run(tab, chromedp.Evaluate[int](`document.querySelectorAll("main script, main img, main iframe, main svg:not(.check) [onload]").length`)); n != 0 {
			t.Errorf("%d injected elements in the page", n)
		}
		for _, l := range leads {
			tab.do(chromedp.Navigate(s.URL+"/console/leads/"+l.id), chromedp.WaitVisible(chromedp.ID("lead-message")))
			if got := run(tab, chromedp.Evaluate[string](`document.getElementById("lead-message").textContent`)); got != l.message {
				t.Errorf("payload shown as %q, stored %q", got, l.message)
			}
		}
		tab.clean()
	})
}

func withConsent(in lead.BookingInput) lead.BookingInput {
	yes := true
	in.ConsentGiven = &yes
	return in
}

// startBrowser starts headless Chromium for the test. Without it the test is skipped,
// except under CI=true, where it fails.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("LEADS_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium is required under CI=true: %v (apt-get install chromium)", err)
		}
		t.Skipf("chromium not found at %s (apt-get install chromium, or set LEADS_CHROMIUM)", path)
	}
	profile, err := os.MkdirTemp("", "leads-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// the browser's helpers may write for a moment after it exits
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(profile), chromedp.WindowSize(1280, 900))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no deadline
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// tab is one browser tab in its own browser context (its own cookies), watched for
// anything that would mean a script ran or the CSP was violated.
type tab struct {
	t   *testing.T
	ctx context.Context
	dir string

	mu    sync.Mutex
	found []string
}

func openTab(t *testing.T, browser context.Context) *tab {
	t.Helper()
	return openTarget(t, browser, chromedp.WithNewBrowserContext())
}

func openTarget(t *testing.T, parent context.Context, where chromedp.ContextOption) *tab {
	t.Helper()
	tb := &tab{t: t, dir: t.TempDir()}
	if d := os.Getenv("LEADS_SCREENSHOT_DIR"); d != "" {
		tb.dir = d
	}
	var tabCtx context.Context
	tabCtx, cancel := chromedp.NewContext(parent, where, chromedp.WithListener(func(ev any) {
		switch ev := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			tb.note("dialog %s: %q", ev.Type, ev.Message)
			go chromedp.Call(tabCtx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		case *runtime.EventExceptionThrown:
			tb.note("exception: %s", ev.ExceptionDetails.Text)
		case *runtime.EventConsoleAPICalled:
			tb.note("console.%s called", ev.Type) // our pages have no script to call it
		case *log.EventEntryAdded:
			e := ev.Entry
			// the browser logs every 4xx/5xx page as a failed load; statuses are checked by the tests
			if e.Source == log.EntrySourceNetwork && strings.Contains(e.Text, "the server responded with a status of") {
				return
			}
			if e.Level == log.EntryLevelError || e.Level == log.EntryLevelWarning {
				tb.note("%s %s: %s", e.Source, e.Level, e.Text)
			}
		}
	}))
	t.Cleanup(cancel)
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(tabCtx, 90*time.Second)
	t.Cleanup(cancelTimeout)
	tb.ctx = ctx
	return tb
}

// frame attaches to the cross-site iframe whose URL starts with prefix: Chrome runs it as
// a target of its own.
func (tb *tab) frame(t *testing.T, prefix string) *tab {
	t.Helper()
	for {
		infos, err := chromedp.Targets(tb.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range infos {
			if info.Type == "iframe" && strings.HasPrefix(info.URL, prefix) {
				return openTarget(t, tb.ctx, chromedp.WithTargetID(info.TargetID))
			}
		}
		select {
		case <-tb.ctx.Done():
			t.Fatalf("no iframe target %s", prefix)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (tb *tab) note(format string, args ...any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.found = append(tb.found, fmt.Sprintf(format, args...))
}

func (tb *tab) problems() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return slices.Clone(tb.found)
}

// waitProblems waits until the watcher's findings satisfy ok (for the canary test).
func (tb *tab) waitProblems(ok func([]string) bool) {
	tb.t.Helper()
	for !ok(tb.problems()) {
		select {
		case <-tb.ctx.Done():
			tb.t.Fatalf("the watcher did not see the expected problems; saw %q", tb.problems())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// clean fails the test when anything ran or was blocked in this tab.
func (tb *tab) clean() {
	tb.t.Helper()
	if p := tb.problems(); len(p) > 0 {
		tb.t.Errorf("the pages ran script or violated the CSP:\n%s", strings.Join(p, "\n"))
	}
}

func (tb *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, steps...); err != nil {
		loc, _ := chromedp.Run(tb.ctx, chromedp.Location())
		tb.t.Fatalf("browser at %s: %v", loc, err)
	}
}

// submit clicks sel and waits for the page it loads, which must answer status.
func (tb *tab) submit(sel chromedp.CSS, status int64) {
	tb.t.Helper()
	resp, err := chromedp.RunResponse(tb.ctx, chromedp.Click(sel))
	if err != nil {
		tb.t.Fatalf("submit %s: %v", sel, err)
	}
	if resp.Status != status {
		tb.t.Fatalf("submit %s: status %d, want %d", sel, resp.Status, status)
	}
}

func run[T any](tb *tab, a chromedp.Action[T]) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, a)
	if err != nil {
		tb.t.Fatalf("browser: %v", err)
	}
	return v
}

// screenshot saves the whole page as a PNG and fails when it is blank (a single colour).
func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	tb.checkPNG(name, run(tb, chromedp.FullScreenshot(100)))
}

// viewportShot is screenshot of the visible part only: Chrome leaves cross-site iframes
// out of full-page captures.
func (tb *tab) viewportShot(name string) {
	tb.t.Helper()
	tb.checkPNG(name, run(tb, chromedp.CaptureScreenshot()))
}

func (tb *tab) checkPNG(name string, buf []byte) {
	tb.t.Helper()
	path := filepath.Join(tb.dir, name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		tb.t.Fatalf("screenshot %s: %v", name, err)
	}
	b := img.Bounds()
	first := img.At(b.Min.X, b.Min.Y)
	r0, g0, b0, a0 := first.RGBA()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, g, bl, a := img.At(x, y).RGBA(); r != r0 || g != g0 || bl != b0 || a != a0 {
				tb.t.Logf("screenshot %s: %dx%d, %s", name, b.Dx(), b.Dy(), path)
				return
			}
		}
	}
	tb.t.Fatalf("screenshot %s is blank (one colour)", name)
}

func oslo(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
