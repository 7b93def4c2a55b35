// Package calendar answers the questions of time that the sales team's promises rest on: which days are working
// days, when a new lead is due for contact (SPEC §11, speed to lead) and which demo slots are offered (SPEC §13).
// It is pure: no storage, no HTTP and no clock of its own; "now" is always passed in, so callers inject the clock.
//
// The rules:
//
//   - A working day is Monday to Friday in the calendar's time zone that is not a Norwegian public holiday. The
//     holidays come from github.com/rickar/cal/v2/no, a maintained library, not a list kept here. Christmas Eve
//     and New Year's Eve are not public holidays there, so they are working days.
//   - ContactDue: a lead created on a working day is due at the same local clock time N working days later; a
//     lead created on another day counts from 08:00 local of the next working day, so it is due at 08:00 N
//     working days after that day. N = 0 makes it due at once, or at 08:00 of the next working day.
//   - Slots: demo starts every length within the daily window (a slot ends by the window's end), on working days,
//     from the first working day after now's local date, for the given number of working days; in UTC, ascending.
//   - A local clock time that does not exist (the clock jumps over it) becomes the instant the clock reads that
//     time shifted by the jump (Go's rule); one that happens twice becomes the first of the two, so a deadline is
//     never later than the clock time it names.
package calendar

import (
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/no"
)

// firstHour is when a lead created outside working days starts to count (§11).
const firstHour = 8 * time.Hour

// Calendar knows the working days in one time zone. It is safe for concurrent use.
type Calendar struct {
	loc *time.Location
	bc  *cal.BusinessCalendar
}

// New returns the calendar of Norwegian working days seen from loc (nil means UTC).
func New(loc *time.Location) *Calendar {
	if loc == nil {
		loc = time.UTC
	}
	bc := cal.NewBusinessCalendar() // Monday to Friday
	bc.AddHoliday(no.Holidays...)
	return &Calendar{loc: loc, bc: bc}
}

// Location is the time zone whose local dates and clock times the calendar uses.
func (c *Calendar) Location() *time.Location { return c.loc }

// IsWorkingDay reports whether t's date, in the calendar's zone, is a working day.
func (c *Calendar) IsWorkingDay(t time.Time) bool {
	return c.bc.IsWorkday(t.In(c.loc))
}

// ContactDue is when a lead created at created must have been contacted, slaDays working days later (§11).
// A negative slaDays counts as 0. The result is in UTC and never before created.
func (c *Calendar) ContactDue(created time.Time, slaDays int) time.Time {
	local := created.In(c.loc)
	day := noon(local)
	clock := sinceMidnight(local)
	if !c.bc.IsWorkday(day) {
		day = c.nextWorkingDay(day)
		clock = firstHour
	}
	for range max(slaDays, 0) {
		day = c.nextWorkingDay(day)
	}
	due := c.at(day, clock)
	if due.Before(created) {
		// N = 0 within an hour that happens twice: the first reading of the clock time came before the lead.
		return created.UTC()
	}
	return due.UTC()
}

// nextWorkingDay is noon of the first working day after day's date.
func (c *Calendar) nextWorkingDay(day time.Time) time.Time {
	for {
		y, m, d := day.Date()
		day = time.Date(y, m, d+1, 12, 0, 0, 0, c.loc)
		if c.bc.IsWorkday(day) {
			return day
		}
	}
}

// noon is 12:00 local on t's date: days are stepped from noon, where no zone changes its clock.
func noon(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 12, 0, 0, 0, t.Location())
}

// sinceMidnight is t's local clock time as a duration since 00:00.
func sinceMidnight(t time.Time) time.Duration {
	h, m, s := t.Clock()
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second +
		time.Duration(t.Nanosecond())
}

// at is the instant when the clock on day's date in the calendar's zone reads clock; see the package comment for
// clock times that do not exist or happen twice.
func (c *Calendar) at(day time.Time, clock time.Duration) time.Time {
	y, m, d := day.Date()
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Add(clock) // the wall clock, read as if it were UTC
	best := time.Time{}
	// Every offset in force around that day; with one of them the wall clock may have happened more than once.
	for _, probe := range []time.Duration{-36 * time.Hour, 0, 36 * time.Hour} {
		_, off := t.Add(probe).In(c.loc).Zone()
		cand := t.Add(-time.Duration(off) * time.Second)
		local := cand.In(c.loc)
		if local.Year() == t.Year() && local.YearDay() == t.YearDay() && sinceMidnight(local) == sinceMidnight(t) &&
			(best.IsZero() || cand.Before(best)) {
			best = cand
		}
	}
	if best.IsZero() {
		// The clock jumped over that time: Go's reading moves it on by the jump.
		return time.Date(y, m, d, 0, 0, 0, int(clock), c.loc)
	}
	return best
}
