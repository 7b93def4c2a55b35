package mail_test

import (
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/mail"
)

func demoEmail(kind string, loc *time.Location, start time.Time) mail.DemoEmail {
	return mail.DemoEmail{Kind: kind, To: "kari@example.org", Name: "Kari", UID: "d1@leads.meander", Sequence: 3,
		Start: start, End: start.Add(30 * time.Minute), Location: loc, HostName: `Ada "the host" O'Vert, Sr.`,
		HostEmail: "ada@norse.example", LeadName: "Kari Nordmann", LeadEmail: "kari@example.org", Organization: "Frivillig Norge",
		PersonalLink: "https://leads.example/my/abc", Stamp: start.Add(-48 * time.Hour)}
}

// The iCalendar object parses with the library's own parser in any zone: one that never
// changes its offset gets a single STANDARD observance; names that RFC 5545 would need
// to quote are made plain; a reminder carries no calendar part.
func TestInvitationCalendar(t *testing.T) {
	r, err := mail.NewInvitationRenderer(nil)
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	for _, c := range []struct {
		loc          *time.Location
		observances  int
		start, local string
	}{
		{time.UTC, 1, "2027-03-30T09:00:00Z", "20270330T090000"},
		{ny, 6, "2027-03-30T13:00:00Z", "20270330T090000"}, // EDT: three years of two changes
	} {
		start, _ := time.Parse(time.RFC3339, c.start)
		m, err := r.Render(i18n.EN, demoEmail(mail.DemoCancellation, c.loc, start))
		if err != nil {
			t.Fatal(err)
		}
		if m.Calendar == nil || m.Calendar.Method != "CANCEL" || len(m.Attachments) != 1 || m.Attachments[0].Name != "invite.ics" {
			t.Fatalf("%s: calendar %+v, attachments %d", c.loc, m.Calendar, len(m.Attachments))
		}
		cal, err := ics.ParseCalendar(strings.NewReader(m.Calendar.Data))
		if err != nil {
			t.Fatalf("%s: %v\n%s", c.loc, err, m.Calendar.Data)
		}
		tz := cal.Timezones()
		if len(tz) != 1 || len(tz[0].Components) != c.observances {
			t.Fatalf("%s: VTIMEZONE %d observances, want %d\n%s", c.loc, len(tz[0].Components), c.observances, m.Calendar.Data)
		}
		ev := cal.Events()[0]
		if got, err := ev.GetStartAt(); err != nil || !got.Equal(start) || ev.GetProperty(ics.ComponentPropertyDtStart).Value != c.local {
			t.Fatalf("%s: DTSTART %v %v", c.loc, got, err)
		}
		if o := ev.GetProperty(ics.ComponentPropertyOrganizer); o.ICalParameters["CN"][0] != "Ada  the host  O’Vert  Sr." {
			t.Fatalf("organizer CN %q", o.ICalParameters["CN"])
		}
		if st := ev.GetProperty(ics.ComponentPropertyStatus); st.Value != "CANCELLED" || ev.GetProperty(ics.ComponentPropertySequence).Value != "3" {
			t.Fatalf("status %s", st.Value)
		}
	}
	m, err := r.Render(i18n.NB, demoEmail(mail.DemoReminder, time.UTC, time.Date(2027, 1, 5, 9, 0, 0, 0, time.UTC)))
	if err != nil || m.Calendar != nil || len(m.Attachments) != 0 || !strings.HasPrefix(m.Subject, "Påminnelse") {
		t.Fatalf("reminder %q %+v %v", m.Subject, m.Calendar, err)
	}
	bad := demoEmail(mail.DemoInvitation, time.UTC, time.Now())
	bad.To = "kari@example.org\r\nBcc: x@evil.example"
	if _, err := r.Render(i18n.EN, bad); err == nil {
		t.Fatal("a recipient with a line break was rendered")
	}
}
