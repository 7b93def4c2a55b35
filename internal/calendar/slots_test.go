package calendar

import (
	"strings"
	"testing"
	"time"
)

var demoHours = Hours{Start: 9 * time.Hour, End: 15 * time.Hour}

func TestSlots(t *testing.T) {
	oslo := mustLoad(t, "Europe/Oslo")
	c := New(oslo)
	now := time.Date(2026, 12, 7, 3, 40, 0, 0, time.UTC) // Monday: offers start on Tuesday
	slots := c.Slots(now, demoHours, 30*time.Minute, 10)

	if len(slots) != 10*12 {
		t.Fatalf("%d slots, want 120 (12 a day for 10 days)", len(slots))
	}
	if want := time.Date(2026, 12, 8, 8, 0, 0, 0, time.UTC); !slots[0].Equal(want) {
		t.Errorf("first slot %s, want %s", slots[0], want)
	}
	if want := time.Date(2026, 12, 21, 13, 30, 0, 0, time.UTC); !slots[len(slots)-1].Equal(want) {
		t.Errorf("last slot %s, want %s (14:30 in Oslo on the tenth working day)", slots[len(slots)-1], want)
	}
	days := map[string]int{}
	for i, s := range slots {
		if s.Location() != time.UTC {
			t.Errorf("slot %s is not in UTC", s)
		}
		if i > 0 && !s.After(slots[i-1]) {
			t.Errorf("slot %s does not come after %s", s, slots[i-1])
		}
		local := s.In(oslo)
		if local.Minute()%30 != 0 || local.Hour() < 9 || local.Hour() > 14 {
			t.Errorf("slot %s is off the 09:00–15:00 grid", local)
		}
		days[local.Format(time.DateOnly)]++
	}
	want := []string{"2026-12-08", "2026-12-09", "2026-12-10", "2026-12-11", "2026-12-14",
		"2026-12-15", "2026-12-16", "2026-12-17", "2026-12-18", "2026-12-21"}
	for _, d := range want {
		if days[d] != 12 {
			t.Errorf("%s has %d slots, want 12", d, days[d])
		}
	}
	if len(days) != len(want) {
		t.Errorf("slots on %d days, want %d: %v", len(days), len(want), days)
	}
}

func TestSlotsSkipHolidays(t *testing.T) {
	c := New(mustLoad(t, "Europe/Oslo"))
	now := time.Date(2026, 12, 23, 11, 0, 0, 0, time.UTC)
	var got []string
	for _, s := range c.Slots(now, Hours{Start: 9 * time.Hour, End: 10 * time.Hour}, time.Hour, 6) {
		got = append(got, s.Format(time.RFC3339))
	}
	want := []string{"2026-12-24T08:00:00Z", "2026-12-28T08:00:00Z", "2026-12-29T08:00:00Z",
		"2026-12-30T08:00:00Z", "2026-12-31T08:00:00Z", "2027-01-04T08:00:00Z"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("slots\n%v\nwant\n%v", got, want)
	}
}

// SPEC §13: Tue 2027-03-30 09:00 Oslo is 07:00Z, Mon 2026-10-26 09:00 Oslo is 08:00Z.
func TestSlotsAcrossClockChanges(t *testing.T) {
	oslo := mustLoad(t, "Europe/Oslo")
	c := New(oslo)
	for _, tc := range []struct {
		name      string
		now       time.Time
		wantFirst time.Time
		wantLast  time.Time
	}{
		{"spring, over Easter", time.Date(2027, 3, 24, 16, 0, 0, 0, oslo), // Wed; Thu, Fri and Mon are holidays
			time.Date(2027, 3, 30, 7, 0, 0, 0, time.UTC), time.Date(2027, 3, 30, 12, 30, 0, 0, time.UTC)},
		{"spring, just before", time.Date(2027, 3, 29, 23, 59, 0, 0, oslo),
			time.Date(2027, 3, 30, 7, 0, 0, 0, time.UTC), time.Date(2027, 3, 30, 12, 30, 0, 0, time.UTC)},
		{"autumn", time.Date(2026, 10, 23, 16, 0, 0, 0, oslo), // Fri, CEST; Mon is CET
			time.Date(2026, 10, 26, 8, 0, 0, 0, time.UTC), time.Date(2026, 10, 26, 13, 30, 0, 0, time.UTC)},
		{"autumn, just before", time.Date(2026, 10, 25, 23, 59, 0, 0, oslo),
			time.Date(2026, 10, 26, 8, 0, 0, 0, time.UTC), time.Date(2026, 10, 26, 13, 30, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			slots := c.Slots(tc.now, demoHours, 30*time.Minute, 1)
			if len(slots) != 12 {
				t.Fatalf("%d slots, want 12", len(slots))
			}
			if !slots[0].Equal(tc.wantFirst) || !slots[11].Equal(tc.wantLast) {
				t.Errorf("slots %s … %s, want %s … %s", slots[0], slots[11], tc.wantFirst, tc.wantLast)
			}
			if !c.IsOffered(tc.wantFirst, tc.now, demoHours, 30*time.Minute, 10) {
				t.Errorf("%s not offered", tc.wantFirst)
			}
		})
	}
}

func TestSlotsWindowEdge(t *testing.T) {
	c := New(mustLoad(t, "Europe/Oslo"))
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	h := Hours{Start: 9 * time.Hour, End: 10 * time.Hour}
	for _, tc := range []struct {
		length time.Duration
		days   int
		want   []string
	}{
		{30 * time.Minute, 1, []string{"08:00", "08:30"}}, // the second ends exactly at 10:00
		{25 * time.Minute, 1, []string{"08:00", "08:25"}}, // a third would end at 10:15
		{61 * time.Minute, 1, nil},
		{0, 1, nil},
		{30 * time.Minute, 0, nil},
	} {
		var got []string
		for _, s := range c.Slots(now, h, tc.length, tc.days) {
			got = append(got, s.Format("15:04"))
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("length %s, %d days: %v, want %v", tc.length, tc.days, got, tc.want)
		}
	}
}

func TestSlotsFromWeekend(t *testing.T) {
	c := New(mustLoad(t, "Europe/Oslo"))
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC) // Saturday
	if s := c.Slots(now, demoHours, 30*time.Minute, 1); len(s) == 0 || !s[0].Equal(time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("slots from Saturday start at %v, want Monday 08:00Z", s)
	}
}

func TestIsOffered(t *testing.T) {
	oslo := mustLoad(t, "Europe/Oslo")
	c := New(oslo)
	now := time.Date(2026, 12, 7, 3, 40, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		t    time.Time
		want bool
	}{
		{"first", time.Date(2026, 12, 8, 8, 0, 0, 0, time.UTC), true},
		{"first, in Oslo's zone", time.Date(2026, 12, 8, 9, 0, 0, 0, oslo), true},
		{"last start of a day", time.Date(2026, 12, 8, 14, 30, 0, 0, oslo), true},
		{"last of the tenth day", time.Date(2026, 12, 21, 14, 30, 0, 0, oslo), true},
		{"window's end", time.Date(2026, 12, 8, 15, 0, 0, 0, oslo), false},
		{"off the grid", time.Date(2026, 12, 8, 9, 15, 0, 0, oslo), false},
		{"a second off", time.Date(2026, 12, 8, 9, 0, 1, 0, oslo), false},
		{"before the window", time.Date(2026, 12, 8, 8, 30, 0, 0, oslo), false},
		{"today", time.Date(2026, 12, 7, 14, 0, 0, 0, oslo), false},
		{"eleventh working day", time.Date(2026, 12, 22, 9, 0, 0, 0, oslo), false},
		{"Saturday", time.Date(2026, 12, 12, 9, 0, 0, 0, oslo), false},
	} {
		if got := c.IsOffered(tc.t, now, demoHours, 30*time.Minute, 10); got != tc.want {
			t.Errorf("%s: IsOffered(%s) = %v, want %v", tc.name, tc.t, got, tc.want)
		}
	}
}

func TestInHours(t *testing.T) {
	oslo := mustLoad(t, "Europe/Oslo")
	c := New(oslo)
	for _, tc := range []struct {
		name string
		t    time.Time
		want bool
	}{
		{"off the grid is still in hours", time.Date(2026, 12, 8, 9, 15, 0, 0, oslo), true},
		{"last that ends in time", time.Date(2026, 12, 8, 14, 30, 0, 0, oslo), true},
		{"ends after the window", time.Date(2026, 12, 8, 14, 45, 0, 0, oslo), false},
		{"before the window", time.Date(2026, 12, 8, 8, 59, 0, 0, oslo), false},
		{"Saturday", time.Date(2026, 12, 12, 10, 0, 0, 0, oslo), false},
		{"Christmas Day", time.Date(2026, 12, 25, 10, 0, 0, 0, oslo), false},
		{"after the spring change", time.Date(2027, 3, 30, 7, 0, 0, 0, time.UTC), true},
		{"an hour early after the spring change", time.Date(2027, 3, 30, 6, 0, 0, 0, time.UTC), false},
	} {
		if got := c.InHours(tc.t, demoHours, 30*time.Minute); got != tc.want {
			t.Errorf("%s: InHours(%s) = %v, want %v", tc.name, tc.t, got, tc.want)
		}
	}
}

func TestOverlaps(t *testing.T) {
	base := time.Date(2026, 12, 8, 8, 0, 0, 0, time.UTC)
	m := func(n int) time.Time { return base.Add(time.Duration(n) * time.Minute) }
	for _, tc := range []struct {
		name   string
		a0, a1 time.Time
		b0, b1 time.Time
		want   bool
	}{
		{"back to back", m(0), m(30), m(30), m(60), false},
		{"back to back, other order", m(30), m(60), m(0), m(30), false},
		{"apart", m(0), m(30), m(45), m(60), false},
		{"same", m(0), m(30), m(0), m(30), true},
		{"partly", m(0), m(30), m(15), m(45), true},
		{"inside", m(0), m(60), m(15), m(30), true},
	} {
		if got := Overlaps(tc.a0, tc.a1, tc.b0, tc.b1); got != tc.want {
			t.Errorf("%s: Overlaps = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestParseHours(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Hours
	}{
		{"09:00-15:00", Hours{9 * time.Hour, 15 * time.Hour}},
		{" 08:30 – 16:15 ", Hours{8*time.Hour + 30*time.Minute, 16*time.Hour + 15*time.Minute}},
		{"00:00-24:00", Hours{0, 24 * time.Hour}},
	} {
		got, err := ParseHours(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseHours(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if s := (Hours{9 * time.Hour, 15 * time.Hour}).String(); s != "09:00-15:00" {
		t.Errorf("String = %q", s)
	}
	for _, in := range []string{"", "09:00", "9-15", "9:00-15:00", "09:00-15:00-16:00", "15:00-09:00",
		"09:00-09:00", "25:00-26:00", "09:60-10:00", "00:00-24:30", "+9:00-15:00", "09.00-15.00", "ab:cd-15:00"} {
		if h, err := ParseHours(in); err == nil {
			t.Errorf("ParseHours(%q) = %v, want an error", in, h)
		} else if !strings.Contains(err.Error(), "hours") {
			t.Errorf("ParseHours(%q): error %q does not say what it was reading", in, err)
		}
	}
}
