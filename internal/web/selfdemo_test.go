package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/mail/mailtest"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// myDemo seeds a lead with a personal link and a demo scheduled by sales with d.host at
// slots[at]; it returns the lead id, the link's path and the offered slots before it.
func (d *demoSite) myDemo(t *testing.T, in lead.BookingInput, at int) (string, string, []time.Time) {
	t.Helper()
	slots, err := d.Store.OfferedSlots(t.Context(), *d.demos)
	if err != nil || len(slots) < 4 {
		t.Fatalf("slots %v %v", slots, err)
	}
	id, link := d.myLink(in)
	d.qualify(t, id)
	if _, err := d.Store.ScheduleDemo(t.Context(), id, store.DemoSchedule{StartsAt: slots[at], HostID: d.host.ID}, *d.demos,
		lead.Actor{Name: "sally"}); err != nil {
		t.Fatal(err)
	}
	return id, link, slots
}

// calendarOf is the one event of the message's invite.ics, and its METHOD.
func calendarOf(t *testing.T, m mailtest.Received) (*ics.VEvent, string) {
	t.Helper()
	cal, err := ics.ParseCalendar(strings.NewReader(m.Part("application/ics")))
	if err != nil || len(cal.Events()) != 1 {
		t.Fatalf("invite.ics: %v", err)
	}
	method := ""
	for _, p := range cal.CalendarProperties {
		if p.IANAToken == string(ics.PropertyMethod) {
			method = p.Value
		}
	}
	return cal.Events()[0], method
}

// TestSelfServiceDemo: on both engines, the prospect's page shows the demo (in the lead's
// language and the service's time zone, with the host) and the host's free slots; a move to
// a taken or unoffered time is refused beside the field with nothing changed; a move and a
// cancel by data_subject send the invitation and the cancellation through a real SMTP server
// to the lead and the host, and leave the lead's status as staff's would (SPEC §13, §14).
func TestSelfServiceDemo(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		d := newDemoSiteOn(t, e.URL(t))
		c := d.client()
		id, link, slots := d.myDemo(t, person("Kari", "Nordmann", "kari@my.example", "Demo Mentors"), 0)
		other := d.seed(person("Otto", "Other", "otto@my.example", "Other Mentors"))
		d.qualify(t, other)
		if _, err := d.Store.ScheduleDemo(t.Context(), other, store.DemoSchedule{StartsAt: slots[2], HostID: d.host.ID}, *d.demos,
			lead.Actor{Name: "sally"}); err != nil {
			t.Fatal(err)
		}
		for d.worker.RunOnce(t.Context()) > 0 {
		}
		sent := len(d.smtp.Messages())
		newMail := func() []mailtest.Received {
			t.Helper()
			for d.worker.RunOnce(t.Context()) > 0 {
			}
			all := d.smtp.Messages()
			out := all[sent:]
			sent = len(all)
			return out
		}
		value := func(at time.Time) string { return `value="` + at.UTC().Format(time.RFC3339) + `"` }

		// the page: the demo in Norwegian and Oslo time, with its host; the host's free slots
		// only (not the demo's own time, not the other lead's)
		p := d.get(c, link)
		if p.StatusCode != http.StatusOK {
			t.Fatalf("page: %d", p.StatusCode)
		}
		if want := tx(i18n.NB, "my.demo_current", i18n.DateTime(i18n.NB, oslo(t), slots[0]), "Hedda Vert"); !strings.Contains(p.Body, want) {
			t.Errorf("the page lacks %q", want)
		}
		if !strings.Contains(p.Body, value(slots[1])) || !strings.Contains(p.Body, value(slots[3])) ||
			strings.Contains(p.Body, value(slots[0])) || strings.Contains(p.Body, value(slots[2])) {
			t.Errorf("the offered times are not the host's free slots")
		}
		if en := d.get(c, link+"?lang=en"); !strings.Contains(en.Body, tx(i18n.EN, "my.demo_current", i18n.DateTime(i18n.EN, oslo(t), slots[0]), "Hedda Vert")) {
			t.Errorf("the demo in English")
		}
		demoNow := func() lead.Demo {
			t.Helper()
			cur, err := d.Store.LeadDemo(t.Context(), id)
			if err != nil || cur == nil {
				t.Fatalf("the lead's demo: %v %v", cur, err)
			}
			return *cur
		}
		before := demoNow()
		events := len(d.events(id))

		// refusals: cross-site (403), a taken slot (409), a time not offered (422); nothing changes
		for _, action := range []string{"/demo", "/demo/cancel"} {
			if r := d.do(c, http.MethodPost, link+action, url.Values{"starts_at": {slots[1].Format(time.RFC3339)}}, crossSite...); r.StatusCode != http.StatusForbidden {
				t.Errorf("cross-site POST %s: %d", action, r.StatusCode)
			}
		}
		r := d.do(c, http.MethodPost, link+"/demo", url.Values{"starts_at": {slots[2].Format(time.RFC3339)}})
		if r.StatusCode != http.StatusConflict || !strings.Contains(r.Body, `id="starts_at-error"`) ||
			!strings.Contains(r.Body, tx(i18n.NB, "my.demo_taken")) || !strings.Contains(r.Body, `aria-invalid="true"`) {
			t.Errorf("a taken slot: %d", r.StatusCode)
		}
		for _, at := range []string{slots[1].Add(10 * time.Minute).Format(time.RFC3339), slots[0].Add(-24 * time.Hour).Format(time.RFC3339), "soon", ""} {
			r := d.do(c, http.MethodPost, link+"/demo?lang=en", url.Values{"starts_at": {at}})
			if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, tx(i18n.EN, "my.demo_time")) ||
				!strings.Contains(r.Body, tx(i18n.EN, "my.demo_not_moved")) {
				t.Errorf("time %q: %d", at, r.StatusCode)
			}
		}
		if after := demoNow(); after != before || len(d.events(id)) != events || len(newMail()) != 0 {
			t.Fatalf("a refused move changed something: %+v", after)
		}

		// the move: same demo and host, sequence + 1, by data_subject; new invitations
		r = d.do(c, http.MethodPost, link+"/demo", url.Values{"starts_at": {slots[3].Format(time.RFC3339)}})
		if r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "done=demo_moved") {
			t.Fatalf("move: %d %s", r.StatusCode, r.Body)
		}
		moved := demoNow()
		if moved.ID != before.ID || !moved.StartsAt.Equal(slots[3]) || moved.HostID != d.host.ID || moved.Sequence != 1 {
			t.Errorf("moved demo %+v", moved)
		}
		if !hasEvent(d.events(id), "demo_rescheduled by data_subject") {
			t.Errorf("no demo_rescheduled by data_subject: %v", d.events(id))
		}
		if pg := d.get(c, r.Header.Get("Location")); !strings.Contains(pg.Body, tx(i18n.NB, "my.demo_moved")) ||
			!strings.Contains(pg.Body, i18n.DateTime(i18n.NB, oslo(t), slots[3])) {
			t.Errorf("the page after the move")
		}
		to := map[string]string{}
		for _, m := range newMail() {
			ev, method := calendarOf(t, m)
			start, _ := ev.GetStartAt()
			to[m.To[0]] = method + " " + start.UTC().Format(time.RFC3339) + " " + ev.GetProperty(ics.ComponentPropertySequence).Value
		}
		want := "REQUEST " + slots[3].Format(time.RFC3339) + " 1"
		if to["kari@my.example"] != want || to["hedda@norse.example"] != want || len(to) != 2 {
			t.Errorf("invitations after the move: %v, want %q to the lead and the host", to, want)
		}
		// the reminders are the new time's only
		if n := d.count(`SELECT COUNT(*) FROM email_jobs WHERE demo_id = $1 AND kind = 'demo_reminder' AND status = 'pending' AND run_at < $2`,
			moved.ID, slots[3].Add(-24*time.Hour).Format("2006-01-02T15:04:05.000000Z")); n != 0 {
			t.Errorf("%d reminders for the old time are still pending", n)
		}
		if n := d.count(`SELECT COUNT(*) FROM email_jobs WHERE demo_id = $1 AND kind = 'demo_reminder' AND status = 'pending'`, moved.ID); n == 0 {
			t.Error("no reminders for the new time")
		}

		// the cancel: by data_subject, the status stays, cancellations to both
		r = d.do(c, http.MethodPost, link+"/demo/cancel?lang=en", nil)
		if r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "done=demo_cancelled") {
			t.Fatalf("cancel: %d", r.StatusCode)
		}
		if cur, _ := d.Store.LeadDemo(t.Context(), id); cur != nil {
			t.Fatalf("still scheduled: %+v", cur)
		}
		if l, _ := d.Store.GetLead(t.Context(), id); l.Status != lead.StatusDemoScheduled {
			t.Errorf("status %s after the cancel", l.Status)
		}
		if !hasEvent(d.events(id), "demo_cancelled by data_subject") {
			t.Errorf("no demo_cancelled by data_subject: %v", d.events(id))
		}
		if n := d.count(`SELECT COUNT(*) FROM email_jobs WHERE demo_id = $1 AND kind = 'demo_reminder' AND status = 'pending'`, moved.ID); n != 0 {
			t.Errorf("%d reminders left after the cancel", n)
		}
		to = map[string]string{}
		for _, m := range newMail() {
			_, method := calendarOf(t, m)
			to[m.To[0]] = method
		}
		if to["kari@my.example"] != "CANCEL" || to["hedda@norse.example"] != "CANCEL" || len(to) != 2 {
			t.Errorf("cancellations: %v", to)
		}
		pg := d.get(c, r.Header.Get("Location"))
		if !strings.Contains(pg.Body, tx(i18n.EN, "my.demo_cancelled")) || !strings.Contains(pg.Body, tx(i18n.EN, "my.demo_none")) ||
			strings.Contains(pg.Body, `action="`+link+`/demo`) {
			t.Errorf("the page after the cancel")
		}

		// without a demo, both actions are refused (409) and nothing is scheduled: a new demo is for sales
		events = len(d.events(id))
		if r := d.do(c, http.MethodPost, link+"/demo", url.Values{"starts_at": {slots[1].Format(time.RFC3339)}}); r.StatusCode != http.StatusConflict ||
			!strings.Contains(r.Body, tx(i18n.NB, "my.demo_gone")) {
			t.Errorf("a move without a demo: %d", r.StatusCode)
		}
		if r := d.do(c, http.MethodPost, link+"/demo/cancel", nil); r.StatusCode != http.StatusConflict {
			t.Errorf("a cancel without a demo: %d", r.StatusCode)
		}
		if cur, _ := d.Store.LeadDemo(t.Context(), id); cur != nil || len(d.events(id)) != events {
			t.Errorf("a refused action changed something: %+v", cur)
		}
	})
}
