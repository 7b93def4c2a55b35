package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// TestSelfServiceDemoBrowser: in a real browser, on both engines, the prospect opens their
// page, tries a time that another lead took meanwhile (refused beside the field, focusable,
// nothing changed), moves the demo to a free time, then cancels it; the host is told by
// email each time, by the invitation and the cancellation (SPEC §14 "Move or cancel my demo").
func TestSelfServiceDemoBrowser(t *testing.T) {
	br := startBrowser(t)
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		d := newDemoSiteOn(t, e.URL(t))
		id, link, slots := d.myDemo(t, person("Magnhild", "Mover", "magnhild@my.example", "Moving Mentors"), 0)
		tab := openTab(t, br)
		tab.do(chromedp.Navigate(d.URL+link+"?lang=en"), chromedp.WaitVisible(chromedp.ID("demo-current")))
		tab.screenshot("my-page-demo-" + e.Name)
		if got := run(tab, chromedp.Text(chromedp.ID("demo-current"))); got != tx(i18n.EN, "my.demo_current", i18n.DateTime(i18n.EN, oslo(t), slots[0]), "Hedda Vert") {
			t.Errorf("the demo shown as %q", got)
		}
		value := func(i int) string { return slots[i].UTC().Format(time.RFC3339) }

		// another lead takes slot 1 while the page is open: the move there is refused
		taker := d.seed(person("Quick", "Taker", "quick@my.example", "Quick Mentors"))
		d.qualify(t, taker)
		if _, err := d.Store.ScheduleDemo(t.Context(), taker, store.DemoSchedule{StartsAt: slots[1], HostID: d.host.ID}, *d.demos,
			lead.Actor{Name: "sally"}); err != nil {
			t.Fatal(err)
		}
		tab.do(chromedp.SetValue(chromedp.ID("starts_at"), value(1)))
		tab.submit(chromedp.CSS(`form[action*="/demo?"] button`), http.StatusConflict)
		tab.do(chromedp.WaitVisible(chromedp.ID("starts_at-error")))
		tab.screenshot("my-page-demo-refused-" + e.Name)
		if got := run(tab, chromedp.Text(chromedp.ID("starts_at-error"))); !strings.Contains(got, tx(i18n.EN, "my.demo_taken")) {
			t.Errorf("the error beside the field: %q", got)
		}
		if cur, _ := d.Store.LeadDemo(t.Context(), id); cur == nil || !cur.StartsAt.Equal(slots[0]) {
			t.Fatalf("a refused move changed the demo: %+v", cur)
		}

		// the move
		tab.do(chromedp.SetValue(chromedp.ID("starts_at"), value(3)))
		tab.submit(chromedp.CSS(`form[action*="/demo?"] button`), http.StatusOK)
		if got := run(tab, chromedp.Text(chromedp.CSS(".banner-ok"))); got != tx(i18n.EN, "my.demo_moved") {
			t.Errorf("flash %q", got)
		}
		if got := run(tab, chromedp.Text(chromedp.ID("demo-current"))); !strings.Contains(got, i18n.DateTime(i18n.EN, oslo(t), slots[3])) {
			t.Errorf("after the move the page shows %q", got)
		}
		if cur, _ := d.Store.LeadDemo(t.Context(), id); cur == nil || !cur.StartsAt.Equal(slots[3]) || cur.Sequence != 1 {
			t.Fatalf("moved demo %+v", cur)
		}

		// the host hears of the new time (an email not sent before a cancel is not sent at all)
		hostMail := func() string {
			t.Helper()
			for d.worker.RunOnce(t.Context()) > 0 {
			}
			var methods []string
			for _, m := range d.smtp.Messages() {
				if m.To[0] == "hedda@norse.example" && m.Part("application/ics") != "" {
					ev, method := calendarOf(t, m)
					methods = append(methods, method+" "+ev.GetProperty("SEQUENCE").Value)
				}
			}
			return strings.Join(methods, ", ")
		}
		if got := hostMail(); !strings.Contains(got, "REQUEST 1") {
			t.Errorf("the host's emails after the move: %s", got)
		}

		// the cancel
		tab.submit(chromedp.CSS(`form[action*="/demo/cancel"] button`), http.StatusOK)
		if got := run(tab, chromedp.Text(chromedp.CSS(".banner-ok"))); got != tx(i18n.EN, "my.demo_cancelled") {
			t.Errorf("flash %q", got)
		}
		if n := run(tab, chromedp.Evaluate[int](`document.querySelectorAll("#starts_at, form[action*='/demo/cancel']").length`)); n != 0 {
			t.Errorf("the demo forms are still on the page after the cancel")
		}
		if cur, _ := d.Store.LeadDemo(t.Context(), id); cur != nil {
			t.Fatalf("still scheduled: %+v", cur)
		}
		if l, _ := d.Store.GetLead(t.Context(), id); l.Status != lead.StatusDemoScheduled {
			t.Errorf("status %s after the cancel", l.Status)
		}
		evs := d.events(id)
		if !hasEvent(evs, "demo_rescheduled by data_subject") || !hasEvent(evs, "demo_cancelled by data_subject") {
			t.Errorf("events %v", evs)
		}
		if got := hostMail(); !strings.Contains(got, "CANCEL 2") {
			t.Errorf("the host's emails after the cancel: %s", got)
		}

		tab.clean()
	})
}
