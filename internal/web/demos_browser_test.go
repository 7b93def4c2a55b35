package web_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/chromedp/chromedp"
	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/jobs"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/mail"
	"github.com/norsedigital/leads/internal/mail/mailtest"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// demoSite is a site with demo scheduling, its clock, a member to host, and an email worker
// that sends the demo emails to a real SMTP server.
type demoSite struct {
	*site
	clock  *storetest.Clock
	host   lead.Member
	smtp   *mailtest.Server
	worker *jobs.EmailWorker
}

func newDemoSite(t *testing.T) *demoSite {
	t.Helper()
	return newDemoSiteOn(t, storetest.SQLiteURL(t))
}

// newDemoSiteOn is newDemoSite on the database at dbURL (storetest.Engine's URL).
func newDemoSiteOn(t *testing.T, dbURL string) *demoSite {
	t.Helper()
	clock := storetest.NewClock(time.Now().UTC().Truncate(time.Microsecond))
	s := newSite(t, dbURL, siteOpts{rateLimit: 100, demos: true, clock: clock})
	host, err := s.Store.CreateMember(t.Context(), lead.MemberInput{Name: ptrTo("Hedda Vert"), Email: ptrTo("hedda@norse.example"), Role: ptrTo("sales")})
	if err != nil {
		t.Fatal(err)
	}
	smtp := mailtest.Start(t)
	sender, err := mail.NewSMTPSender(smtp.URL(), "Meander <no-reply@meander.invalid>")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := mail.NewInvitationRenderer(nil)
	if err != nil {
		t.Fatal(err)
	}
	confirm, err := mail.NewRenderer(nil)
	if err != nil {
		t.Fatal(err)
	}
	demos := &jobs.DemoEmails{Store: s.Store, Renderer: inv, Location: oslo(t), PublicURL: s.URL, Now: clock.Now}
	w := &jobs.EmailWorker{Store: s.Store, Sender: sender, Renderer: confirm, PrivacyURL: s.URL + "/privacy", Composers: demos.Composers()}
	return &demoSite{site: s, clock: clock, host: host, smtp: smtp, worker: w}
}

func ptrTo[T any](v T) *T { return &v }

// qualify moves a lead on to qualified, as sales would.
func (d *demoSite) qualify(t *testing.T, id string) {
	t.Helper()
	for _, st := range []string{"contacted", "qualified"} {
		if _, err := d.Store.PatchLead(t.Context(), id, lead.Input{Status: lead.Val(st)}, nil, lead.Actor{Name: "t"}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBrowserDemos: a prospect ticks preferred times on the form; sales qualifies the lead,
// schedules the demo at the first preferred time from the lead page; the invitation reaches
// the SMTP server; once the demo is over it is closed from the demos to close.
func TestBrowserDemos(t *testing.T) {
	browser := startBrowser(t)
	forEachLang(t, func(t *testing.T, lang i18n.Lang) {
		d := newDemoSite(t)
		q := "lang=" + string(lang)
		email := "pref." + string(lang) + "@example.org"
		tab := openTab(t, browser)
		tab.do(chromedp.Navigate(d.URL+"/?"+q), chromedp.WaitVisible(chromedp.ID("first_name")),
			chromedp.SendKeys(chromedp.ID("first_name"), "Petra"),
			chromedp.SendKeys(chromedp.ID("last_name"), "Prefers"),
			chromedp.SendKeys(chromedp.ID("email"), email),
			chromedp.SendKeys(chromedp.ID("organization_name"), "Timely Mentors"),
			chromedp.Click(chromedp.CSS("#preferred_times details:first-of-type summary")))
		tab.screenshot("booking-preferred-times-" + string(lang))
		first := run(tab, chromedp.Evaluate[string](`document.querySelector("#preferred_times input").value`))
		tab.do(chromedp.Click(chromedp.CSS("#preferred_times details:first-of-type .slot:nth-child(3) input")),
			chromedp.Click(chromedp.CSS("#preferred_times details:first-of-type .slot:nth-child(1) input")),
			chromedp.Click(chromedp.ID("consent_given")))
		// the day's heading is in the prospect's language and time zone
		day := run(tab, chromedp.Text(chromedp.CSS("#preferred_times summary")))
		firstAt, _ := time.Parse(time.RFC3339, first)
		local := firstAt.In(oslo(t))
		if want := tx(lang, "demo.day", tx(lang, "weekday."+strconv.Itoa(int(local.Weekday()))), local.Day(),
			tx(lang, "month."+strconv.Itoa(int(local.Month())))); day != want || local.Hour() != 9 || local.Minute() != 0 {
			t.Errorf("day heading %q, want %q; first slot %s local", day, want, local)
		}
		tab.submit(chromedp.CSS(`.booking-form button[type=submit]`), http.StatusOK)
		tab.do(chromedp.WaitVisible(chromedp.CSS(".ref")))
		l, ok := d.leadByEmail(email)
		if !ok {
			t.Fatal("no lead")
		}
		bookings, err := d.Store.ListBookings(t.Context(), l.ID)
		if err != nil || len(bookings) != 1 || len(bookings[0].PreferredTimes) != 2 || bookings[0].PreferredTimes[0].Format(time.RFC3339) != first {
			t.Fatalf("preferred times stored: %+v %v", bookings, err)
		}
		d.qualify(t, l.ID)

		d.browserSignIn(tab, q)
		tab.do(chromedp.Navigate(d.URL+"/console/leads/"+l.ID), chromedp.WaitVisible(chromedp.ID("starts_at")))
		if got := run(tab, chromedp.Value(chromedp.ID("starts_at"))); got != first {
			t.Fatalf("the time offered first is %q, want the prospect's first preference %q", got, first)
		}
		tab.submit(chromedp.CSS(`form[action$="/demo"] button`), http.StatusOK)
		tab.do(chromedp.WaitVisible(chromedp.ID("demo-current")))
		tab.screenshot("console-demo-scheduled-" + string(lang))
		start, _ := time.Parse(time.RFC3339, first)
		if got := run(tab, chromedp.Text(chromedp.ID("demo-current"))); !strings.Contains(got, i18n.DateTime(lang, oslo(t), start)) ||
			!strings.Contains(got, "Hedda Vert") {
			t.Errorf("demo shown as %q", got)
		}
		if got, _ := d.Store.GetLead(t.Context(), l.ID); got.Status != lead.StatusDemoScheduled {
			t.Fatalf("status %s after scheduling", got.Status)
		}

		// the invitations go out through the queue to the SMTP server
		d.worker.RunOnce(t.Context())
		msgs := d.smtp.WaitFor(t, 3, 10*time.Second) // the confirmation, and the invitations to the lead and the host
		var toLead mailtest.Received
		for _, m := range msgs {
			if m.To[0] == email && m.Part("text/calendar") != "" {
				toLead = m
			}
		}
		cal, err := ics.ParseCalendar(strings.NewReader(toLead.Part("application/ics")))
		if err != nil {
			t.Fatalf("invite.ics: %v", err)
		}
		ev := cal.Events()
		if len(ev) != 1 {
			t.Fatalf("%d events", len(ev))
		}
		if at, err := ev[0].GetStartAt(); err != nil || !at.Equal(start) {
			t.Fatalf("the invitation starts %v (%v), want %v", at, err, start)
		}

		// after the demo: closed from the demos to close
		d.clock.Advance(start.Add(45 * time.Minute).Sub(d.clock.Now()))
		d.browserSignIn(tab, q) // the session may have run out meanwhile
		tab.do(chromedp.Navigate(d.URL+"/console/demos"), chromedp.WaitVisible(chromedp.ID("demos")))
		tab.screenshot("console-demos-to-close-" + string(lang))
		tab.submit(chromedp.CSS(`#demos button[value=completed]`), http.StatusOK)
		tab.do(chromedp.WaitVisible(chromedp.CSS(".banner-ok")))
		if got := run(tab, chromedp.Text(chromedp.CSS(".banner-ok"))); got != tx(lang, "demos.flash") {
			t.Errorf("flash %q", got)
		}
		if got, _ := d.Store.GetLead(t.Context(), l.ID); got.Status != lead.StatusDemoCompleted {
			t.Fatalf("status %s after the outcome", got.Status)
		}
		tab.clean()
	})
}

// demoPages schedules a demo that has ended and one ahead, for the accessibility test: the
// form with slots, a lead page with its demo panel, the demos to close with a row.
func demoPages(t *testing.T, d *demoSite) (leadID string) {
	t.Helper()
	ended := d.seed(person("Ola", "Ended", "ended@example.org", "Past Mentors"))
	ahead := d.seed(person("Kari", "Ahead", "ahead@example.org", "Future Mentors"))
	slots, err := d.Store.OfferedSlots(t.Context(), *d.demos)
	if err != nil || len(slots) < 2 {
		t.Fatalf("slots %v %v", slots, err)
	}
	for i, id := range []string{ended, ahead} {
		d.qualify(t, id)
		if _, err := d.Store.ScheduleDemo(t.Context(), id, store.DemoSchedule{StartsAt: slots[i], HostID: d.host.ID}, *d.demos, lead.Actor{Name: "t"}); err != nil {
			t.Fatal(err)
		}
	}
	d.clock.Advance(slots[0].Add(31 * time.Minute).Sub(d.clock.Now()))
	return ahead
}

// browserSignIn signs the tab in with the sales token.
func (d *demoSite) browserSignIn(tab *tab, q string) {
	tab.t.Helper()
	tab.do(chromedp.Navigate(d.URL+"/console/sign-in?"+q), chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), d.Sales))
	tab.submit(chromedp.CSS(`form[action="/console/sign-in"] button`), http.StatusOK)
}

// testDemoAccessibility runs axe on the demo pages, in both languages: the booking form with
// its slots (and refused), the lead page with its demo panel, the demos to close.
func testDemoAccessibility(t *testing.T, browser context.Context, src string) {
	d := newDemoSite(t)
	leadID := demoPages(t, d)
	forEachLang(t, func(t *testing.T, lang i18n.Lang) {
		q := "lang=" + string(lang)
		tab := openTab(t, browser)
		tab.do(chromedp.Navigate(d.URL+"/?"+q), chromedp.WaitVisible(chromedp.ID("preferred_times")),
			chromedp.Click(chromedp.CSS("#preferred_times details:first-of-type summary")))
		tab.axe(src, "booking form with demo slots")
		// four slots ticked: refused beside the slots, and the summary links to them
		tab.do(chromedp.Click(chromedp.CSS("#preferred_times details:nth-of-type(2) summary")))
		for _, sel := range []string{"details:first-of-type .slot:nth-child(2) input", "details:first-of-type .slot:nth-child(4) input",
			"details:nth-of-type(2) .slot:nth-child(1) input", "details:nth-of-type(2) .slot:nth-child(2) input"} {
			tab.do(chromedp.Click(chromedp.CSS("#preferred_times " + sel)))
		}
		tab.do(chromedp.SendKeys(chromedp.ID("first_name"), "Four"), chromedp.SendKeys(chromedp.ID("last_name"), "Times"),
			chromedp.SendKeys(chromedp.ID("email"), "four."+string(lang)+"@example.org"),
			chromedp.SendKeys(chromedp.ID("organization_name"), "Greedy Mentors"), chromedp.Click(chromedp.ID("consent_given")))
		tab.submit(chromedp.CSS(`.booking-form button[type=submit]`), http.StatusUnprocessableEntity)
		tab.do(chromedp.WaitVisible(chromedp.ID("preferred_times-error")))
		if n := run(tab, chromedp.Evaluate[int](`document.querySelectorAll("#preferred_times input:checked").length`)); n != 4 {
			t.Errorf("%d slots still ticked after the refusal, want the 4 sent", n)
		}
		tab.axe(src, "booking form with refused preferred times")
		d.browserSignIn(tab, q)
		for _, path := range []string{"/console/leads/" + leadID, "/console/demos"} {
			tab.do(chromedp.Navigate(d.URL+path), chromedp.WaitVisible(chromedp.CSS("main h1")))
			tab.axe(src, path)
		}
		tab.clean()
	})
}
