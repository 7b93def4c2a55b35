package jobs_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/norsedigital/leads/internal/calendar"
	"github.com/norsedigital/leads/internal/jobs"
	"github.com/norsedigital/leads/internal/lead"
	imail "github.com/norsedigital/leads/internal/mail"
	"github.com/norsedigital/leads/internal/mail/mailtest"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// part is one leaf of a MIME message, decoded.
type part struct {
	contentType string // the whole header, parameters included
	filename    string
	body        string
}

// parts walks a message as received over SMTP.
func parts(t *testing.T, raw []byte) (subject string, out []part) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	var walk func(ct, enc, disp string, body io.Reader)
	walk = func(ct, enc, disp string, body io.Reader) {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			t.Fatalf("content type %q: %v", ct, err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p.Header.Get("Content-Disposition"), p)
			}
		}
		switch strings.ToLower(enc) {
		case "quoted-printable":
			body = quotedprintable.NewReader(body)
		case "base64":
			body = base64.NewDecoder(base64.StdEncoding, body)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		_, dp, _ := mime.ParseMediaType(disp)
		out = append(out, part{contentType: ct, filename: dp["filename"], body: string(b)})
	}
	walk(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), "", m.Body)
	return subject, out
}

// invite is what one demo email carried: its calendar part and invite.ics, each parsed.
type invite struct {
	to, subject, text string
	method            string // of the text/calendar part's content type
	part, file        *ics.Calendar
}

func readInvite(t *testing.T, r mailtest.Received) invite {
	t.Helper()
	subject, ps := parts(t, r.Data)
	inv := invite{to: r.To[0], subject: subject}
	for _, p := range ps {
		mt, params, _ := mime.ParseMediaType(p.contentType)
		switch {
		case mt == "text/plain" && p.filename == "":
			inv.text = p.body
		case mt == "text/calendar":
			inv.method = params["method"]
			cal, err := ics.ParseCalendar(strings.NewReader(p.body))
			if err != nil {
				t.Fatalf("calendar part: %v\n%s", err, p.body)
			}
			inv.part = cal
		case p.filename == "invite.ics":
			cal, err := ics.ParseCalendar(strings.NewReader(p.body))
			if err != nil {
				t.Fatalf("invite.ics: %v\n%s", err, p.body)
			}
			inv.file = cal
		}
	}
	return inv
}

func calProp(c *ics.Calendar, name string) string {
	for _, p := range c.CalendarProperties {
		if p.IANAToken == name {
			return p.Value
		}
	}
	return ""
}

// checkEvent holds the one VEVENT of cal to the demo and returns it.
func checkEvent(t *testing.T, cal *ics.Calendar, method, uid string, seq int, start time.Time, local string) *ics.VEvent {
	t.Helper()
	if got := calProp(cal, "METHOD"); got != method {
		t.Fatalf("METHOD %q, want %s", got, method)
	}
	if tz := cal.Timezones(); len(tz) != 1 || tz[0].GetProperty(ics.ComponentPropertyTzid).Value != "Europe/Oslo" {
		t.Fatalf("VTIMEZONE %+v", tz)
	}
	events := cal.Events()
	if len(events) != 1 {
		t.Fatalf("%d VEVENTs", len(events))
	}
	ev := events[0]
	if ev.Id() != uid {
		t.Fatalf("UID %q, want %q", ev.Id(), uid)
	}
	if got := ev.GetProperty(ics.ComponentPropertySequence).Value; got != string(rune('0'+seq)) {
		t.Fatalf("SEQUENCE %s, want %d", got, seq)
	}
	dt := ev.GetProperty(ics.ComponentPropertyDtStart)
	if dt.Value != local || !slices.Equal(dt.ICalParameters["TZID"], []string{"Europe/Oslo"}) {
		t.Fatalf("DTSTART %v %q, want TZID=Europe/Oslo:%s", dt.ICalParameters, dt.Value, local)
	}
	got, err := ev.GetStartAt()
	if err != nil || !got.Equal(start) {
		t.Fatalf("DTSTART is %v (%v), want %v", got.UTC(), err, start)
	}
	end, err := ev.GetEndAt()
	if err != nil || !end.Equal(start.Add(30*time.Minute)) {
		t.Fatalf("DTEND is %v (%v)", end, err)
	}
	return ev
}

// The offset Oslo's VTIMEZONE gives at the local time local (20270330T090000), read from
// the observances the .ics itself carries, not from Go's zone database.
func vtimezoneOffset(t *testing.T, cal *ics.Calendar, local string) string {
	t.Helper()
	best, off := "", ""
	for _, c := range cal.Timezones()[0].Components {
		var props []ics.IANAProperty
		switch o := c.(type) {
		case *ics.Standard:
			props = o.Properties
		case *ics.Daylight:
			props = o.Properties
		default:
			continue
		}
		var start, to string
		for _, p := range props {
			switch p.IANAToken {
			case "DTSTART":
				start = p.Value
			case "TZOFFSETTO":
				to = p.Value
			}
		}
		if start <= local && start > best {
			best, off = start, to
		}
	}
	return off
}

func TestDemoInvitationsOverSMTP(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		// Tuesday 2026-10-20: the demo is on Monday the 26th, the day after the clocks go back
		clock := storetest.NewClock(time.Date(2026, 10, 20, 10, 0, 0, 0, time.UTC))
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		smtp := mailtest.Start(t)
		sender, err := imail.NewSMTPSender(smtp.URL(), "Meander <no-reply@meander.invalid>")
		if err != nil {
			t.Fatal(err)
		}
		oslo, _ := time.LoadLocation("Europe/Oslo")
		rules := store.DemoRules{Calendar: calendar.New(oslo), Hours: calendar.Hours{Start: 9 * time.Hour, End: 15 * time.Hour}, Length: 30 * time.Minute}
		renderer, err := imail.NewInvitationRenderer(nil)
		if err != nil {
			t.Fatal(err)
		}
		demos := &jobs.DemoEmails{Store: s, Renderer: renderer, Location: oslo, PublicURL: "http://leads.test", Now: clock.Now,
			PersonalLink: func(j store.EmailJob) string { return "http://leads.test/my/token-" + j.LeadID[:8] }}
		confirm, _ := imail.NewRenderer(nil)
		w := &jobs.EmailWorker{Store: s, Sender: sender, Renderer: confirm, PrivacyURL: "http://leads.test/privacy", Composers: demos.Composers()}

		host, err := s.CreateMember(ctx, lead.MemberInput{Name: ptr("Ada Vert"), Email: ptr("ada@norse.example"), Role: ptr("sales")})
		if err != nil {
			t.Fatal(err)
		}
		consent := clock.Now().Add(-time.Hour)
		l, err := s.CreateLead(ctx, lead.Lead{FirstName: "Kari", LastName: "Nordmann", Email: "kari@example.org", OrganizationName: "Frivillig Norge",
			Source: lead.SourcePhone, Status: lead.StatusQualified, ConsentGiven: true, ConsentTimestamp: &consent, Language: "en"}, lead.Actor{Name: "t"})
		if err != nil {
			t.Fatal(err)
		}
		send := func(want int) map[string]invite {
			t.Helper()
			before := len(smtp.Messages())
			w.RunOnce(ctx)
			msgs := smtp.WaitFor(t, before+want, 10*time.Second)[before:]
			if len(msgs) != want {
				t.Fatalf("%d emails, want %d", len(msgs), want)
			}
			out := map[string]invite{}
			for _, m := range msgs {
				out[m.To[0]] = readInvite(t, m)
			}
			return out
		}

		autumn := time.Date(2026, 10, 26, 8, 0, 0, 0, time.UTC) // 09:00 CET
		d, err := s.ScheduleDemo(ctx, l.ID, store.DemoSchedule{StartsAt: autumn, HostID: host.ID}, rules, lead.Actor{Name: "t"})
		if err != nil {
			t.Fatal(err)
		}
		uid := d.ID + "@leads.meander"
		got := send(2) // the reminders wait for their time
		toLead, toHost := got["kari@example.org"], got["ada@norse.example"]
		for who, inv := range map[string]invite{"lead": toLead, "host": toHost} {
			if inv.part == nil || inv.file == nil || inv.method != "REQUEST" {
				t.Fatalf("%s: calendar part %v (method %q), invite.ics %v", who, inv.part != nil, inv.method, inv.file != nil)
			}
			for _, cal := range []*ics.Calendar{inv.part, inv.file} {
				ev := checkEvent(t, cal, "REQUEST", uid, 0, autumn, "20261026T090000")
				if o := ev.GetProperty(ics.ComponentPropertyOrganizer); o == nil || !strings.EqualFold(o.Value, "mailto:ada@norse.example") {
					t.Fatalf("%s: ORGANIZER %+v", who, o)
				}
				if a := ev.Attendees(); len(a) != 1 || a[0].Email() != "kari@example.org" {
					t.Fatalf("%s: ATTENDEE %+v", who, a)
				}
			}
			if off := vtimezoneOffset(t, inv.file, "20261026T090000"); off != "+0100" {
				t.Fatalf("%s: the VTIMEZONE gives %s on 26 Oct 2026, want +0100", who, off)
			}
		}
		if toLead.subject != "Meander demo, 26 Oct 2026, 09:00" || !strings.Contains(toLead.text, "http://leads.test/my/token-"+l.ID[:8]) {
			t.Fatalf("lead's email (English): %q\n%s", toLead.subject, toLead.text)
		}
		if u := toLead.file.Events()[0].GetProperty(ics.ComponentPropertyUrl); u == nil || u.Value != "http://leads.test/my/token-"+l.ID[:8] {
			t.Fatalf("the lead's invitation lacks the personal link: %+v", u)
		}
		if toHost.subject != "Demo av Meander 26. okt. 2026 kl. 09.00" || strings.Contains(toHost.text, "/my/") ||
			!strings.Contains(toHost.text, "http://leads.test/console/leads/"+l.ID) {
			t.Fatalf("host's email (Norwegian): %q\n%s", toHost.subject, toHost.text)
		}

		// moved into next spring, past the clocks going forward: sequence 1, 09:00 CEST
		spring := time.Date(2027, 3, 30, 7, 0, 0, 0, time.UTC)
		if _, err := s.ScheduleDemo(ctx, l.ID, store.DemoSchedule{StartsAt: spring}, rules, lead.Actor{Name: "t"}); err != nil {
			t.Fatal(err)
		}
		for who, inv := range send(2) {
			for _, cal := range []*ics.Calendar{inv.part, inv.file} {
				checkEvent(t, cal, "REQUEST", uid, 1, spring, "20270330T090000")
			}
			if off := vtimezoneOffset(t, inv.file, "20270330T090000"); off != "+0200" {
				t.Fatalf("%s: the VTIMEZONE gives %s on 30 Mar 2027, want +0200", who, off)
			}
		}

		// the reminders of the first time were cancelled with the move: only the new ones come
		clock.Advance(spring.Add(-24*time.Hour + time.Minute).Sub(clock.Now()))
		reminders := send(2)
		for who, inv := range reminders {
			if inv.part != nil || inv.file != nil || !strings.Contains(inv.subject, "30") {
				t.Fatalf("reminder to %s: %q with calendar %v", who, inv.subject, inv.part != nil)
			}
		}

		// cancelled: METHOD:CANCEL, STATUS:CANCELLED, same UID, sequence 2; the 1 h reminders die
		if _, err := s.CancelDemo(ctx, l.ID, lead.Actor{Name: "t"}); err != nil {
			t.Fatal(err)
		}
		for who, inv := range send(2) {
			if inv.method != "CANCEL" {
				t.Fatalf("%s: method %q", who, inv.method)
			}
			for _, cal := range []*ics.Calendar{inv.part, inv.file} {
				ev := checkEvent(t, cal, "CANCEL", uid, 2, spring, "20270330T090000")
				if st := ev.GetProperty(ics.ComponentPropertyStatus); st == nil || st.Value != "CANCELLED" {
					t.Fatalf("%s: STATUS %+v", who, st)
				}
			}
		}
		clock.Advance(24 * time.Hour)
		if n := w.RunOnce(ctx); n != 0 {
			t.Fatalf("%d emails after the cancel, want none (the 1 h reminders died)", n)
		}

		// an erasure cancels the demo: the host alone is told, nothing goes to the erased lead
		other, err := s.CreateLead(ctx, lead.Lead{FirstName: "Per", LastName: "Hansen", Email: "per@example.org", OrganizationName: "Lag og Foreninger",
			Source: lead.SourcePhone, Status: lead.StatusQualified, ConsentGiven: true, ConsentTimestamp: &consent}, lead.Actor{Name: "t"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ScheduleDemo(ctx, other.ID, store.DemoSchedule{StartsAt: spring.Add(7 * 24 * time.Hour), HostID: host.ID}, rules, lead.Actor{Name: "t"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AnonymizeLead(ctx, other.ID, lead.Actor{Name: "admin"}); err != nil {
			t.Fatal(err)
		}
		erased := send(1)
		inv, ok := erased["ada@norse.example"]
		if !ok || inv.method != "CANCEL" || strings.Contains(inv.text, "Per") || strings.Contains(inv.text, "/console/leads/") {
			t.Fatalf("after the erasure: %+v", erased)
		}
		checkEvent(t, inv.file, "CANCEL", inv.file.Events()[0].Id(), 1, spring.Add(7*24*time.Hour), "20270406T090000")
	})
}

func ptr[T any](v T) *T { return &v }
