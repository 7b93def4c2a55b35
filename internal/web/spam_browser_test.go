package web_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/norsedigital/leads/internal/spam"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// The spam check in a real browser (SPEC §15), under the default policy hold: with
// JavaScript the form's worker solves the challenge and the booking becomes a lead; without
// it the booking is held, and a salesperson releases it on the console's Review page. The
// test server's challenges are small and it has no minimum form age (the production 3 s
// would make the test wait: TestBookingFormSpamCheck holds it over HTTP).
func TestBrowserSpamCheck(t *testing.T) {
	browser := startBrowser(t)
	s := newSite(t, storetest.SQLiteURL(t), siteOpts{rateLimit: 100, spamPolicy: spam.PolicyHold, powMaxNumber: 5000,
		minFormAge: time.Nanosecond})
	fill := func(tab *tab, email string) {
		tab.do(chromedp.WaitVisible(chromedp.ID("first_name")),
			chromedp.SendKeys(chromedp.ID("first_name"), "Dorothy"),
			chromedp.SendKeys(chromedp.ID("last_name"), "Vaughan"),
			chromedp.SendKeys(chromedp.ID("email"), email),
			chromedp.SendKeys(chromedp.ID("organization_name"), "West Computers"),
			chromedp.Click(chromedp.ID("consent_given")))
	}

	t.Run("with JavaScript the worker solves the challenge and the booking is a lead", func(t *testing.T) {
		tab := openTab(t, browser)
		tab.do(chromedp.Navigate(s.URL + "/"))
		fill(tab, "dorothy.js@example.org")
		tab.do(chromedp.WaitVisible(chromedp.CSS(`form[data-pow="solved"]`)))
		tab.submit(chromedp.CSS(`button[type=submit]`), http.StatusOK)
		tab.do(chromedp.WaitVisible(chromedp.CSS(".ref")))
		if _, ok := s.leadByEmail("dorothy.js@example.org"); !ok {
			t.Fatal("no lead")
		}
		if n := s.count(`SELECT COUNT(*) FROM held_bookings`); n != 0 {
			t.Fatalf("%d held", n)
		}
		tab.clean()
	})

	t.Run("a person quicker than the worker is booked all the same", func(t *testing.T) {
		tab := openTab(t, browser)
		tab.do(chromedp.Navigate(s.URL + "/"))
		fill(tab, "dorothy.quick@example.org")
		// submit at once: the script holds the post until the solution is in
		tab.submit(chromedp.CSS(`button[type=submit]`), http.StatusOK)
		tab.do(chromedp.WaitVisible(chromedp.CSS(".ref")))
		if _, ok := s.leadByEmail("dorothy.quick@example.org"); !ok {
			t.Fatalf("not booked; held: %d", s.count(`SELECT COUNT(*) FROM held_bookings`))
		}
		tab.clean()
	})

	t.Run("without JavaScript the booking is held, then released in the console", func(t *testing.T) {
		tab := openTab(t, browser)
		if _, err := chromedp.Call(tab.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatal(err)
		}
		tab.do(chromedp.Navigate(s.URL + "/"))
		fill(tab, "dorothy.nojs@example.org")
		tab.submit(chromedp.CSS(`button[type=submit]`), http.StatusOK)
		tab.do(chromedp.WaitVisible(chromedp.CSS(".ref")))
		var id string
		if err := s.Store.DB().QueryRow(`SELECT id FROM held_bookings WHERE email_normalized = 'dorothy.nojs@example.org' AND reason = 'pow_missing'`).Scan(&id); err != nil {
			t.Fatalf("not held: %v", err)
		}
		if _, ok := s.leadByEmail("dorothy.nojs@example.org"); ok {
			t.Fatal("a lead before review")
		}
		tab.clean()

		console := openTab(t, browser)
		console.do(chromedp.Navigate(s.URL+"/console/sign-in"), chromedp.WaitVisible(chromedp.ID("token")),
			chromedp.SendKeys(chromedp.ID("token"), s.Sales),
			chromedp.Click(chromedp.CSS(`form[action="/console/sign-in"] button`)), chromedp.WaitVisible(chromedp.ID("q")),
			chromedp.Click(chromedp.CSS(`a[href="/console/review"]`)),
			chromedp.WaitVisible(chromedp.CSS(`form[action="/console/review/`+id+`/release"] button`)))
		console.screenshot("console-review")
		console.do(chromedp.Click(chromedp.CSS(`form[action="/console/review/`+id+`/release"] button`)),
			chromedp.WaitVisible(chromedp.CSS(".banner-ok")))
		if _, ok := s.leadByEmail("dorothy.nojs@example.org"); !ok {
			t.Fatal("released, but no lead")
		}
		if n := s.count(`SELECT COUNT(*) FROM held_bookings`); n != 0 {
			t.Fatalf("%d still held", n)
		}
		console.clean()
	})
}
