package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/norsedigital/leads/internal/i18n"
)

// The demo emails (SPEC §13): an invitation (iCalendar METHOD:REQUEST), a cancellation
// (METHOD:CANCEL) and a reminder (no calendar part: the entry is already in the calendar),
// to the lead or to the host. The iCalendar object is made and checked with
// github.com/arran4/golang-ical.

//go:embed templates/demo.txt templates/demo.html
var demoFS embed.FS

// Kinds of demo email.
const (
	DemoInvitation   = "invitation"
	DemoCancellation = "cancellation"
	DemoReminder     = "reminder"
)

// DemoEmail is the data of one demo email.
type DemoEmail struct {
	Kind string // DemoInvitation, DemoCancellation or DemoReminder
	To   string // the recipient's address
	// Name greets the recipient.
	Name string
	// ForHost is true for the email to the host, false for the one to the lead.
	ForHost bool
	// UID is the demo's stable calendar id; Sequence its SEQUENCE (0, then +1 on every
	// reschedule or cancel).
	UID      string
	Sequence int
	Start    time.Time
	End      time.Time
	Location *time.Location // --timezone: DTSTART/DTEND carry its TZID, with its VTIMEZONE
	// The organizer (the host) and the attendee (the lead).
	HostName, HostEmail string
	LeadName, LeadEmail string
	Organization        string
	// PersonalLink is the prospect's own page (§14), where they move or cancel the demo;
	// only in the lead's email, and only when set.
	PersonalLink string
	// ConsoleLink is the lead's page in the console, in the host's email.
	ConsoleLink string
	// Stamp is DTSTAMP: when the email was written.
	Stamp time.Time
}

// InvitationRenderer writes demo emails; every text comes from the i18n catalog. It is
// safe for concurrent use.
type InvitationRenderer struct {
	cat  *i18n.Catalog
	text *texttemplate.Template
	html *htmltemplate.Template
}

// NewInvitationRenderer parses the embedded templates.
func NewInvitationRenderer(shared *i18n.Catalog) (*InvitationRenderer, error) {
	cat, err := catalogOr(shared)
	if err != nil {
		return nil, err
	}
	// the language is chosen per message: t takes it as its first argument
	t := func(l i18n.Lang, key string, args ...any) string { return cat.T(l, key, args...) }
	text, err := texttemplate.New("demo.txt").Funcs(texttemplate.FuncMap{"t": t}).ParseFS(demoFS, "templates/demo.txt")
	if err != nil {
		return nil, fmt.Errorf("mail: parse demo text template: %w", err)
	}
	html, err := htmltemplate.New("demo.html").Funcs(htmltemplate.FuncMap{"t": t}).ParseFS(demoFS, "templates/demo.html")
	if err != nil {
		return nil, fmt.Errorf("mail: parse demo html template: %w", err)
	}
	return &InvitationRenderer{cat: cat, text: text, html: html}, nil
}

// Render writes e in language l (the recipient's). An invitation and a cancellation carry
// the iCalendar object twice: as the text/calendar alternative that calendar clients act on,
// and as invite.ics for the others.
func (r *InvitationRenderer) Render(l i18n.Lang, e DemoEmail) (Message, error) {
	if l != i18n.EN {
		l = i18n.NB
	}
	switch {
	case strings.TrimSpace(e.To) == "" || strings.ContainsAny(e.To, "\r\n"):
		return Message{}, errors.New("mail: demo email without a valid recipient")
	case e.UID == "" || e.Location == nil || !e.End.After(e.Start):
		return Message{}, errors.New("mail: demo email without its demo")
	case e.Kind != DemoInvitation && e.Kind != DemoCancellation && e.Kind != DemoReminder:
		return Message{}, fmt.Errorf("mail: unknown demo email kind %q", e.Kind)
	}
	when := i18n.DateTime(l, e.Location, e.Start)
	data := struct {
		DemoEmail
		Lang       i18n.Lang
		When, Till string
	}{e, l, when, i18n.Clock(l, e.Location, e.End)}
	var text, html bytes.Buffer
	if err := r.text.Execute(&text, data); err != nil {
		return Message{}, fmt.Errorf("mail: render demo text: %w", err)
	}
	if err := r.html.Execute(&html, data); err != nil {
		return Message{}, fmt.Errorf("mail: render demo html: %w", err)
	}
	m := Message{To: strings.TrimSpace(e.To), Subject: r.cat.T(l, "mail.demo."+e.Kind+".subject", headerSafe(when)),
		Text: text.String(), HTML: html.String()}
	if e.Kind == DemoReminder {
		return m, nil
	}
	method := ics.MethodRequest
	if e.Kind == DemoCancellation {
		method = ics.MethodCancel
	}
	cal, err := r.calendar(l, e, method)
	if err != nil {
		return Message{}, err
	}
	m.Calendar = &CalendarPart{Method: string(method), Data: cal}
	m.Attachments = []Attachment{{Name: "invite.ics", ContentType: "application/ics", Data: []byte(cal)}}
	return m, nil
}

// calendar is the iCalendar object of e: one VEVENT with the demo's UID and SEQUENCE,
// DTSTART and DTEND in e.Location's TZID, described by a VTIMEZONE.
func (r *InvitationRenderer) calendar(l i18n.Lang, e DemoEmail, method ics.Method) (string, error) {
	cal := ics.NewCalendarFor("Norse Digital Products//leads")
	cal.SetMethod(method)
	tzid := e.Location.String()
	addTimezone(cal, e.Location, e.Start)
	ev := cal.AddEvent(e.UID)
	ev.SetDtStampTime(e.Stamp)
	ev.SetSequence(e.Sequence)
	ev.SetProperty(ics.ComponentPropertyDtStart, e.Start.In(e.Location).Format(icsLocal), ics.WithTZID(tzid))
	ev.SetProperty(ics.ComponentPropertyDtEnd, e.End.In(e.Location).Format(icsLocal), ics.WithTZID(tzid))
	ev.SetSummary(r.cat.T(l, "mail.demo.summary", e.Organization))
	ev.SetOrganizer("mailto:"+e.HostEmail, ics.WithCN(cn(e.HostName)))
	ev.AddAttendee("mailto:"+e.LeadEmail, ics.WithCN(cn(e.LeadName)), ics.CalendarUserTypeIndividual,
		ics.ParticipationRoleReqParticipant, ics.ParticipationStatusNeedsAction, ics.WithRSVP(true))
	if method == ics.MethodCancel {
		ev.SetStatus(ics.ObjectStatusCancelled)
	} else {
		ev.SetStatus(ics.ObjectStatusConfirmed)
	}
	if e.PersonalLink != "" && !e.ForHost {
		ev.SetURL(e.PersonalLink)
		ev.SetDescription(r.cat.T(l, "mail.demo.link", e.PersonalLink))
	} else if e.ConsoleLink != "" && e.ForHost {
		ev.SetDescription(r.cat.T(l, "mail.demo.console", e.ConsoleLink))
	}
	var b strings.Builder
	if err := cal.SerializeTo(&b); err != nil {
		return "", fmt.Errorf("mail: write calendar: %w", err)
	}
	return b.String(), nil
}

// icsLocal is a local DATE-TIME of RFC 5545 (with a TZID parameter).
const icsLocal = "20060102T150405"

// addTimezone adds the VTIMEZONE of loc: every change of its UTC offset from the start of
// the year before around's to the end of the year after (the observance in force at the
// demo, and at a demo moved into next year, is always described), each
// a STANDARD or DAYLIGHT observance with its own DTSTART, as Go's zone database knows them. A
// zone that never changes gets one STANDARD.
func addTimezone(cal *ics.Calendar, loc *time.Location, around time.Time) {
	tz := cal.AddTimezone(loc.String())
	from := time.Date(around.In(loc).Year()-1, 1, 1, 0, 0, 0, 0, loc)
	to := from.AddDate(3, 0, 0)
	observance := func(daylight bool, at time.Time, before, after int, name string) {
		props := []ics.IANAProperty{
			// DTSTART is the local time of the change in the offset in force before it
			prop("DTSTART", at.Add(time.Duration(before)*time.Second).UTC().Format(icsLocal)),
			prop("TZOFFSETFROM", offset(before)),
			prop("TZOFFSETTO", offset(after)),
			prop("TZNAME", name),
		}
		if daylight {
			tz.Components = append(tz.Components, &ics.Daylight{ComponentBase: ics.ComponentBase{Properties: props}})
		} else {
			tz.Components = append(tz.Components, &ics.Standard{ComponentBase: ics.ComponentBase{Properties: props}})
		}
	}
	found := false
	for day := from; day.Before(to); day = day.Add(24 * time.Hour) {
		_, a := day.Zone()
		next := day.Add(24 * time.Hour)
		if _, b := next.Zone(); a == b {
			continue
		}
		// the second of the change, by bisection
		lo, hi := day, next
		for hi.Sub(lo) > time.Second {
			mid := lo.Add(hi.Sub(lo) / 2)
			if _, o := mid.Zone(); o == a {
				lo = mid
			} else {
				hi = mid
			}
		}
		name, b := hi.Zone()
		observance(hi.IsDST(), hi, a, b, name)
		found = true
	}
	if !found {
		name, off := from.Zone()
		observance(false, time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Duration(off)*time.Second), off, off, name)
	}
}

func prop(name, value string) ics.IANAProperty {
	return ics.IANAProperty{BaseProperty: ics.BaseProperty{IANAToken: name, Value: value}}
}

// offset is a UTC offset in seconds as iCalendar writes it: +0100, -0330.
func offset(sec int) string {
	sign := '+'
	if sec < 0 {
		sign, sec = '-', -sec
	}
	return fmt.Sprintf("%c%02d%02d", sign, sec/3600, sec%3600/60)
}

// cn is a name as a CN parameter: the library escapes , ; : " \ ' with backslashes, which
// RFC 5545 does not know in parameter values (they would need quoting), so they become spaces
// (an apostrophe its typographic twin).
func cn(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\'':
			return '’'
		case strings.ContainsRune(`,;:"\`, r), r < 0x20 || r == 0x7f:
			return ' '
		}
		return r
	}, name)
}

// headerSafe drops control characters from text bound for a header.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
