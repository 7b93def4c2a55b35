package web_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/jobs"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/mail"
	"github.com/norsedigital/leads/internal/mail/mailtest"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
	"github.com/norsedigital/leads/internal/webhook"
)

// The whole walk of SPEC §14 in a real browser, on both engines: book on the form, read the
// confirmation from a real SMTP server, open its personal link, download, correct (a refused
// correction first), erase; then the link answers 410 and no copy of the person's data is
// left in any table (lead, bookings, events, email jobs, webhook payloads, links).
func TestSelfServiceBrowserWalk(t *testing.T) {
	br := startBrowser(t)
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		s := newSite(t, e.URL(t), siteOpts{rateLimit: 100})
		if _, _, err := s.Store.CreateWebhook(ctx, "https://hooks.example/leads", webhook.Events); err != nil {
			t.Fatal(err)
		}
		bystander := s.seed(person("Ottoline", "Brackenridge", "ottoline@keep-me.example", "Keep Org"))
		smtp := mailtest.Start(t)
		sender, err := mail.NewSMTPSender(smtp.URL(), "Meander <no-reply@meander.invalid>")
		if err != nil {
			t.Fatal(err)
		}
		renderer, err := mail.NewRenderer(nil)
		if err != nil {
			t.Fatal(err)
		}
		links := jobs.PersonalLinks{PublicURL: s.URL}
		worker := &jobs.EmailWorker{Store: s.Store, Sender: sender, Renderer: renderer, PrivacyURL: s.URL + "/privacy",
			PersonalLink: links.URL}

		needles := []string{"Zebulonia", "Quillfeatherby", "zebulonia.quill@erase-me.example", "+4791234567",
			"Chief Wombat Officer", "Xylophant", "Head Wombat"}
		tab := openTab(t, br)
		tab.do(chromedp.Navigate(s.URL+"/?lang=en"), chromedp.WaitVisible(chromedp.ID("first_name")),
			chromedp.SendKeys(chromedp.ID("first_name"), "Zebulonia"),
			chromedp.SendKeys(chromedp.ID("last_name"), "Quillfeatherby"),
			chromedp.SendKeys(chromedp.ID("email"), "Zebulonia.Quill@erase-me.example"),
			chromedp.SendKeys(chromedp.ID("phone"), "+47 912 34 567"),
			chromedp.SendKeys(chromedp.ID("role_title"), "Chief Wombat Officer"),
			chromedp.SendKeys(chromedp.ID("organization_name"), "Mentor Collective"),
			chromedp.SendKeys(chromedp.ID("message"), "Ask about the Xylophant circle"),
			chromedp.Click(chromedp.ID("consent_given")))
		tab.submit(chromedp.CSS(`button[type=submit]`), http.StatusOK)
		l, ok := s.leadByEmail("zebulonia.quill@erase-me.example")
		if !ok || l.Language != "en" {
			t.Fatalf("booked lead %v %+v", ok, l)
		}

		// the confirmation, from the SMTP server, carries the link in both parts
		if n := worker.RunOnce(ctx); n != 2 {
			t.Fatalf("the worker claimed %d emails, want the two confirmations", n)
		}
		var msg mailtest.Received
		for _, m := range smtp.WaitFor(t, 2, 30*time.Second) {
			if len(m.To) == 1 && m.To[0] == "Zebulonia.Quill@erase-me.example" {
				msg = m
			}
		}
		linkRe := regexp.MustCompile(regexp.QuoteMeta(s.URL) + `/my/[A-Za-z0-9_-]{43}`)
		link := linkRe.FindString(msg.TextBody())
		if link == "" || !strings.Contains(msg.HTMLBody(), `href="`+link+`"`) || !strings.Contains(msg.TextBody(), tx(i18n.EN, "mail.selfservice")) {
			t.Fatalf("no personal link in the confirmation:\n%s", msg.TextBody())
		}
		if found := searchDB(t, s.Store, []string{strings.TrimPrefix(link, s.URL+"/my/")}); len(found) > 0 {
			t.Fatalf("the raw link is stored: %v", found)
		}

		// the page, in the lead's language
		tab.do(chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("main h1")))
		tab.screenshot("my-page-" + e.Name)
		if got := run(tab, chromedp.Text(chromedp.CSS("main h1"))); got != tx(i18n.EN, "my.heading") {
			t.Errorf("heading %q", got)
		}
		if body := run(tab, chromedp.Text(chromedp.CSS("main"))); !strings.Contains(body, "Quillfeatherby") || !strings.Contains(body, "Xylophant") {
			t.Errorf("the page does not show the lead's data")
		}

		// download: a file with the export document
		dir := t.TempDir()
		if _, err := chromedp.CallBrowser(tab.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
			BrowserContextID: chromedp.FromContext(tab.ctx).BrowserContextID}); err != nil {
			t.Fatal(err)
		}
		tab.do(chromedp.Click(chromedp.CSS(`form[action*="/export"] button`)))
		file := waitDownload(t, tab.ctx, dir)
		var x store.LeadExport
		if err := json.Unmarshal(file, &x); err != nil || x.Lead.ID != l.ID || len(x.Bookings) != 1 || x.Consent.Bookings[0].ConsentVersion != "test-1" {
			t.Fatalf("downloaded %v: %s", err, file)
		}
		if !hasEvent(s.events(l.ID), "exported by data_subject") {
			t.Errorf("no exported event by data_subject")
		}

		// a refused correction (the browser's own checks off): errors beside the fields, nothing stored
		tab.do(chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("role_title")),
			chromedp.SetAttributeValue(chromedp.CSS(`form[action*="/details"]`), "novalidate", ""),
			setValue("first_name", ""),
			setValue("role_title", "Head Wombat"))
		tab.submit(chromedp.CSS(`form[action*="/details"] button`), http.StatusUnprocessableEntity)
		tab.do(chromedp.WaitVisible(chromedp.ID("first_name-error")), chromedp.WaitVisible(chromedp.ID("error-summary")))
		tab.screenshot("my-page-refused-" + e.Name)
		if got := tab.activeID(); got != "error-summary" {
			t.Errorf("focus after a refused correction is on %q", got)
		}
		if after, _ := s.Store.GetLead(ctx, l.ID); after.FirstName != "Zebulonia" || deref(after.RoleTitle) != "Chief Wombat Officer" {
			t.Errorf("a refused correction stored something: %+v", after)
		}
		// corrected
		tab.do(chromedp.SendKeys(chromedp.ID("first_name"), "Zebulonia"))
		tab.submit(chromedp.CSS(`form[action*="/details"] button`), http.StatusOK)
		if got := run(tab, chromedp.Text(chromedp.CSS(".banner-ok"))); got != tx(i18n.EN, "my.corrected") {
			t.Errorf("flash %q", got)
		}
		if after, _ := s.Store.GetLead(ctx, l.ID); deref(after.RoleTitle) != "Head Wombat" || after.FirstName != "Zebulonia" {
			t.Errorf("corrected lead %+v", after)
		}
		if !hasEvent(s.events(l.ID), "updated by data_subject") {
			t.Errorf("no updated event by data_subject")
		}

		// every value is somewhere before the erasure: the search works
		found := searchDB(t, s.Store, needles)
		for _, n := range needles {
			if len(found[n]) == 0 {
				t.Fatalf("before erasure %q is nowhere: the search is broken", n)
			}
		}

		// erase: the confirmation step, then 410
		tab.submit(chromedp.CSS(`a[href*="/erase"]`), http.StatusOK)
		tab.submit(chromedp.CSS(`form[action*="/erase"] button`), http.StatusGone)
		if got := run(tab, chromedp.Text(chromedp.CSS("main h1"))); got != tx(i18n.EN, "my.gone_title") {
			t.Errorf("after erasure: %q", got)
		}
		if resp, err := chromedp.RunResponse(tab.ctx, chromedp.Navigate(link)); err != nil || resp.Status != http.StatusGone {
			t.Errorf("the link after erasure: %v %v", resp, err)
		}
		if !hasEvent(s.events(l.ID), "anonymized by data_subject") {
			t.Errorf("no anonymized event by data_subject: %v", s.events(l.ID))
		}
		if found := searchDB(t, s.Store, needles); len(found) > 0 {
			t.Errorf("after erasure the person's data is still stored: %v", found)
		}
		if n := s.count(`SELECT COUNT(*) FROM personal_links WHERE lead_id = $1 AND revoked_at IS NULL`, l.ID); n != 0 {
			t.Errorf("%d live links after erasure", n)
		}
		if n := s.count(`SELECT COUNT(*) FROM webhook_deliveries`); n == 0 {
			t.Error("no webhook payloads were stored: the search of them proves nothing")
		}
		if b, _ := s.Store.GetLead(ctx, bystander); b.FirstName != "Ottoline" {
			t.Errorf("the bystander was touched: %+v", b)
		}
		tab.clean()
	})
}

// setValue sets a field's value as typing would (chromedp.SetValue refuses an empty one).
func setValue(id, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf("document.getElementById(%q).value = %q; undefined", id, value))
}

// waitDownload waits for the browser to finish the one download into dir and returns it.
func waitDownload(t *testing.T, ctx context.Context, dir string) []byte {
	t.Helper()
	for {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".crdownload") {
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err == nil && json.Valid(b) {
					return b
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no download in %s", dir)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// searchDB returns, for each needle found (case-insensitively) in any column of any table,
// where. Tables and columns come from the catalog, so a table added later is searched too.
func searchDB(t *testing.T, st *store.Store, needles []string) map[string][]string {
	t.Helper()
	db := st.DB()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if st.Engine() == "postgres" {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	tables := queryStrings(t, db, q)
	found := map[string][]string{}
	for _, tbl := range tables {
		cq := `SELECT name FROM pragma_table_info($1)`
		if st.Engine() == "postgres" {
			cq = `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`
		}
		for _, col := range queryStrings(t, db, cq, tbl) {
			for _, v := range queryStrings(t, db, `SELECT CAST("`+col+`" AS TEXT) FROM "`+tbl+`" WHERE "`+col+`" IS NOT NULL`) {
				for _, n := range needles {
					if strings.Contains(strings.ToLower(v), strings.ToLower(n)) {
						found[n] = append(found[n], tbl+"."+col)
					}
				}
			}
		}
	}
	return found
}

func queryStrings(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// testSelfServiceA11y runs axe on every self-service page in lang (TestAccessibility).
func testSelfServiceA11y(t *testing.T, br context.Context, s *site, src string, lang i18n.Lang) {
	q := "?lang=" + string(lang)
	id, link := s.myLink(person("Sigrid", "Undset", "sigrid."+string(lang)+"@a11y.example", "Bjerkebæk Mentors"))
	_, gone := s.myLink(person("Gone", "Person", "gone."+string(lang)+"@a11y.example", "Erased Org"))
	goneLead, _ := s.leadByEmail("gone." + string(lang) + "@a11y.example")
	if _, err := s.Store.AnonymizeLead(t.Context(), goneLead.ID, lead.DataSubjectActor); err != nil {
		t.Fatal(err)
	}
	tab := openTab(t, br)
	for _, path := range []string{"/my" + q, "/my" + q + "&sent=1", link + q, link + "/erase" + q,
		"/my/" + strings.Repeat("A", 43) + q, gone + q} {
		tab.do(chromedp.Navigate(s.URL+path), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if got := run(tab, chromedp.Evaluate[string](`document.documentElement.lang`)); got != string(lang) {
			t.Errorf("%s: <html lang=%q>", path, got)
		}
		tab.axe(src, path)
	}
	// the request form refused, and the correction refused
	tab.do(chromedp.Navigate(s.URL+"/my"+q), chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SetAttributeValue(chromedp.CSS(`form[action^="/my"]`), "novalidate", ""),
		chromedp.SendKeys(chromedp.ID("email"), "not-an-address"))
	tab.submit(chromedp.CSS(`form button[type=submit]`), http.StatusUnprocessableEntity)
	tab.do(chromedp.WaitVisible(chromedp.ID("error-summary")))
	if got := tab.activeID(); got != "error-summary" {
		t.Errorf("after a refused request focus is on %q", got)
	}
	tab.axe(src, "/my with an error")
	tab.do(chromedp.Navigate(s.URL+link+q), chromedp.WaitVisible(chromedp.ID("first_name")),
		chromedp.SetAttributeValue(chromedp.CSS(`form[action*="/details"]`), "novalidate", ""),
		setValue("last_name", ""),
		setValue("phone", "12"))
	tab.submit(chromedp.CSS(`form[action*="/details"] button`), http.StatusUnprocessableEntity)
	tab.axe(src, "the page with a refused correction")
	if l, _ := s.Store.GetLead(t.Context(), id); l.LastName != "Undset" {
		t.Errorf("a refused correction stored %q", l.LastName)
	}
	// with a demo (a site with demo scheduling): the page, and a move refused beside the field
	d := newDemoSite(t)
	_, demoLink, slots := d.myDemo(t, person("Dagny", "Demo", "dagny."+string(lang)+"@a11y.example", "Demo Mentors"), 0)
	taker := d.seed(person("Tor", "Taker", "tor."+string(lang)+"@a11y.example", "Taker Mentors"))
	d.qualify(t, taker)
	tab.do(chromedp.Navigate(d.URL+demoLink+q), chromedp.WaitVisible(chromedp.ID("starts_at")))
	tab.axe(src, "the page with a demo")
	if _, err := d.Store.ScheduleDemo(t.Context(), taker, store.DemoSchedule{StartsAt: slots[1], HostID: d.host.ID}, *d.demos,
		lead.Actor{Name: "sally"}); err != nil {
		t.Fatal(err)
	}
	tab.do(chromedp.SetValue(chromedp.ID("starts_at"), slots[1].Format(time.RFC3339)))
	tab.submit(chromedp.CSS(`form[action*="/demo?"] button`), http.StatusConflict)
	tab.do(chromedp.WaitVisible(chromedp.ID("starts_at-error")))
	tab.axe(src, "the page with a refused move of the demo")
	tab.clean()
}
