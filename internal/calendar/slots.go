package calendar

import (
	"fmt"
	"strings"
	"time"
)

// Hours is a daily window of local clock time, as durations since midnight: Start inclusive, End exclusive.
type Hours struct {
	Start, End time.Duration
}

// ParseHours reads a window such as "09:00-15:00" (the --demo-hours flag); an en dash works too, and End may be
// 24:00.
func ParseHours(s string) (Hours, error) {
	from, to, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		from, to, ok = strings.Cut(strings.TrimSpace(s), "–")
	}
	if !ok {
		return Hours{}, fmt.Errorf("hours %q: want HH:MM-HH:MM, for example 09:00-15:00", s)
	}
	start, err := parseClock(from)
	if err != nil {
		return Hours{}, fmt.Errorf("hours %q: start: %w", s, err)
	}
	end, err := parseClock(to)
	if err != nil {
		return Hours{}, fmt.Errorf("hours %q: end: %w", s, err)
	}
	if end <= start {
		return Hours{}, fmt.Errorf("hours %q: the end must be after the start", s)
	}
	return Hours{Start: start, End: end}, nil
}

// parseClock reads HH:MM from 00:00 to 24:00.
func parseClock(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if len(s) != 5 || s[2] != ':' || !isDigits(s[:2]) || !isDigits(s[3:]) {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	h, m := int(s[0]-'0')*10+int(s[1]-'0'), int(s[3]-'0')*10+int(s[4]-'0')
	if h > 24 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("%q is not a time of day", s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// String gives the window back as ParseHours reads it.
func (h Hours) String() string {
	f := func(d time.Duration) string {
		return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return f(h.Start) + "-" + f(h.End)
}

// Slots are the demo starts offered at now (§13): every length from h.Start, each ending by h.End, on the first
// days working days after now's local date; in UTC, ascending. None when length or days is not positive.
func (c *Calendar) Slots(now time.Time, h Hours, length time.Duration, days int) []time.Time {
	if length <= 0 || days <= 0 {
		return nil
	}
	var slots []time.Time
	day := noon(now.In(c.loc))
	for range days {
		day = c.nextWorkingDay(day)
		start, end := c.at(day, h.Start), c.at(day, h.End)
		for s := start; !s.Add(length).After(end); s = s.Add(length) {
			slots = append(slots, s.UTC())
		}
	}
	return slots
}

// IsOffered reports whether t is exactly one of Slots(now, h, length, days): how a preferred time is checked.
func (c *Calendar) IsOffered(t, now time.Time, h Hours, length time.Duration, days int) bool {
	for _, s := range c.Slots(now, h, length, days) {
		if s.Equal(t) {
			return true
		}
	}
	return false
}

// InHours reports whether a demo starting at t and lasting length falls on a working day within h, whatever the
// slot grid: the check for a demo scheduled or moved by staff (§13, demo_time_not_available, with "not past").
func (c *Calendar) InHours(t time.Time, h Hours, length time.Duration) bool {
	if length <= 0 || !c.IsWorkingDay(t) {
		return false
	}
	day := noon(t.In(c.loc))
	return !t.Before(c.at(day, h.Start)) && !t.Add(length).After(c.at(day, h.End))
}

// Overlaps reports whether the half-open intervals [aStart, aEnd) and [bStart, bEnd) share an instant, so that
// back-to-back demos do not overlap.
func Overlaps(aStart, aEnd, bStart, bEnd time.Time) bool {
	return aStart.Before(bEnd) && bStart.Before(aEnd)
}
