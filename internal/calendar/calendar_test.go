package calendar

import (
	"testing"
	"time"
	_ "time/tzdata" // the zones below must load on a machine without /usr/share/zoneinfo too
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestIsWorkingDay(t *testing.T) {
	oslo := mustLoad(t, "Europe/Oslo")
	c := New(oslo)
	for _, tc := range []struct {
		day  string
		want bool
	}{
		{"2026-12-07", true},  // Monday
		{"2026-12-05", false}, // Saturday
		{"2026-12-06", false}, // Sunday
		{"2026-12-24", true},  // Christmas Eve is not a public holiday
		{"2026-12-25", false}, // Første juledag
		{"2026-12-31", true},  // New Year's Eve is not one either
		{"2027-01-01", false}, // Første nyttårsdag, a Friday
		{"2027-03-25", false}, // Skjærtorsdag
		{"2027-03-26", false}, // Langfredag
		{"2027-03-29", false}, // Andre påskedag
		{"2027-03-30", true},
		{"2026-05-01", false}, // Arbeidernes dag, a Friday
		{"2026-05-14", false}, // Kristi himmelfartsdag
		{"2026-05-15", true},
		{"2026-05-25", false}, // Andre pinsedag
		{"2027-05-17", false}, // Grunnlovsdag, a Monday
		{"2027-05-18", true},
	} {
		day, err := time.ParseInLocation(time.DateOnly, tc.day, oslo)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.IsWorkingDay(day.Add(10 * time.Hour)); got != tc.want {
			t.Errorf("IsWorkingDay(%s) = %v, want %v", tc.day, got, tc.want)
		}
	}

	// The day is the one in the calendar's zone, not the instant's own: 23:30Z on the 24th is Christmas Day in Oslo.
	late := time.Date(2026, 12, 24, 23, 30, 0, 0, time.UTC)
	if c.IsWorkingDay(late) {
		t.Errorf("%s is Christmas Day in Oslo, not a working day", late)
	}
	if !New(time.UTC).IsWorkingDay(late) {
		t.Errorf("%s is Christmas Eve in UTC, a working day", late)
	}
}

func TestContactDue(t *testing.T) {
	oslo := mustLoad(t, "Europe/Oslo")
	c := New(oslo)
	at := func(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, oslo) }
	for _, tc := range []struct {
		name    string
		created time.Time
		sla     int
		want    time.Time
	}{
		// SPEC §11's examples.
		{"Tue to Wed", at(2026, 12, 1, 10, 0), 1, at(2026, 12, 2, 10, 0)},
		{"Fri to Mon", at(2026, 12, 4, 16, 30), 1, at(2026, 12, 7, 16, 30)},
		{"Sat counts from Mon 08:00", at(2026, 12, 5, 11, 0), 1, at(2026, 12, 8, 8, 0)},
		{"Christmas", at(2026, 12, 24, 10, 0), 1, at(2026, 12, 28, 10, 0)},
		{"Easter and the clock change", at(2027, 3, 24, 12, 0), 1, at(2027, 3, 30, 12, 0)},
		// N = 0.
		{"0 on a working day is at once", at(2026, 12, 1, 10, 0), 0, at(2026, 12, 1, 10, 0)},
		{"0 on Saturday is Monday 08:00", at(2026, 12, 5, 11, 0), 0, at(2026, 12, 7, 8, 0)},
		{"negative is 0", at(2026, 12, 1, 10, 0), -3, at(2026, 12, 1, 10, 0)},
		// More.
		{"2 days over a weekend", at(2026, 12, 4, 16, 30), 2, at(2026, 12, 8, 16, 30)},
		{"Sunday", at(2026, 12, 6, 23, 59), 1, at(2026, 12, 8, 8, 0)},
		{"on a holiday", at(2027, 3, 26, 10, 0), 1, at(2027, 3, 31, 8, 0)},
		{"over Grunnlovsdag", at(2027, 5, 14, 10, 0), 1, at(2027, 5, 18, 10, 0)},
		{"over New Year", at(2026, 12, 31, 15, 0), 1, at(2027, 1, 4, 15, 0)},
		{"before 08:00 on a working day keeps its clock", at(2026, 12, 1, 6, 15), 1, at(2026, 12, 2, 6, 15)},
		// 23:30Z on Friday is 00:30 on Saturday in Oslo: the local date decides.
		{"UTC instant on Oslo's Saturday", time.Date(2026, 12, 4, 23, 30, 0, 0, time.UTC), 1, at(2026, 12, 8, 8, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := c.ContactDue(tc.created, tc.sla)
			if !got.Equal(tc.want) {
				t.Errorf("ContactDue(%s, %d) = %s, want %s", tc.created.In(oslo), tc.sla, got.In(oslo), tc.want)
			}
			if got.Location() != time.UTC {
				t.Errorf("ContactDue gave %s, not in UTC", got)
			}
		})
	}

	// The Easter example's offset really changes: 12:00 CET is 11:00Z, 12:00 CEST is 10:00Z.
	due := c.ContactDue(at(2027, 3, 24, 12, 0), 1)
	if want := time.Date(2027, 3, 30, 10, 0, 0, 0, time.UTC); !due.Equal(want) {
		t.Errorf("due %s, want %s", due.UTC(), want)
	}
	if _, off := due.In(oslo).Zone(); off != 2*3600 {
		t.Errorf("due %s is not CEST", due.In(oslo))
	}
}

// Europe/Oslo changes its clock on Sundays, never a working day; Cairo changes it at midnight before a Friday and
// at midnight ending a Thursday, so there a due time can land on a clock time that does not exist or happens twice.
func TestContactDueAcrossClockJumps(t *testing.T) {
	cairo := mustLoad(t, "Africa/Cairo")
	c := New(cairo)
	for _, tc := range []struct {
		name    string
		created time.Time
		sla     int
		want    time.Time
	}{
		// Fri 2027-04-30 00:00 EET jumps to 01:00 EEST: 00:30 does not exist; the clock reads 01:30 then.
		{"missing", time.Date(2027, 4, 29, 0, 30, 0, 0, cairo), 1, time.Date(2027, 4, 29, 22, 30, 0, 0, time.UTC)},
		// Thu 2027-10-28 24:00 EEST goes back to 23:00 EET: 23:30 happens twice; the first is 20:30Z.
		{"twice", time.Date(2027, 10, 27, 23, 30, 0, 0, cairo), 1, time.Date(2027, 10, 28, 20, 30, 0, 0, time.UTC)},
		// Created at the second 23:30, due at once: not at the first, which came before it.
		{"twice, at once", time.Date(2027, 10, 28, 21, 30, 0, 0, time.UTC), 0, time.Date(2027, 10, 28, 21, 30, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := c.ContactDue(tc.created, tc.sla)
			if !got.Equal(tc.want) {
				t.Errorf("ContactDue(%s, %d) = %s (%s), want %s", tc.created.In(cairo), tc.sla, got.UTC(), got.In(cairo), tc.want)
			}
		})
	}
}

func TestAtAcrossOsloClockChanges(t *testing.T) {
	oslo := mustLoad(t, "Europe/Oslo")
	c := New(oslo)
	for _, tc := range []struct {
		name  string
		day   time.Time
		clock time.Duration
		want  time.Time
	}{
		{"02:30 missing in spring", time.Date(2027, 3, 28, 12, 0, 0, 0, oslo), 150 * time.Minute, time.Date(2027, 3, 28, 1, 30, 0, 0, time.UTC)},
		{"02:30 twice in autumn, first", time.Date(2026, 10, 25, 12, 0, 0, 0, oslo), 150 * time.Minute, time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC)},
		{"ordinary", time.Date(2026, 10, 26, 12, 0, 0, 0, oslo), 9 * time.Hour, time.Date(2026, 10, 26, 8, 0, 0, 0, time.UTC)},
		{"24:00 is the next midnight", time.Date(2026, 12, 7, 12, 0, 0, 0, oslo), 24 * time.Hour, time.Date(2026, 12, 7, 23, 0, 0, 0, time.UTC)},
	} {
		if got := c.at(tc.day, tc.clock); !got.Equal(tc.want) {
			t.Errorf("%s: at = %s, want %s", tc.name, got.UTC(), tc.want)
		}
	}
}
