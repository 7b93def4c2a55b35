package store_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/norsedigital/leads/internal/calendar"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/lead/query"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// Monday 2026-12-07 07:00 in Oslo: the first offered day is Tuesday the 8th, 09:00 Oslo = 08:00Z.
var (
	demoNow  = time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	tue0900  = time.Date(2026, 12, 8, 8, 0, 0, 0, time.UTC)
	oslo     = mustLoc("Europe/Oslo")
	demoRule = store.DemoRules{Calendar: calendar.New(oslo), Hours: calendar.Hours{Start: 9 * time.Hour, End: 15 * time.Hour},
		Length: 30 * time.Minute}
)

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// qualifiedLead creates a lead in status qualified, owned by owner when it is not "".
func qualifiedLead(t *testing.T, s *store.Store, email, owner string) lead.Lead {
	t.Helper()
	consent := s.Now().Add(-time.Hour)
	l, err := s.CreateLead(t.Context(), lead.Lead{FirstName: "Kari", LastName: "Nordmann", Email: email, OrganizationName: "Frivillig Norge",
		Source: lead.SourcePhone, Status: lead.StatusQualified, ConsentGiven: true, ConsentTimestamp: &consent, Language: "en"}, lead.Actor{Name: "seed"})
	if err != nil {
		t.Fatal(err)
	}
	// the owner the test names, or none (lead_owner_assignment may have given it one)
	if _, err := s.DB().Exec(`UPDATE leads SET owner_id = $1 WHERE id = $2`, nullable(owner), l.ID); err != nil {
		t.Fatal(err)
	}
	return l
}

func demoJobs(t *testing.T, s *store.Store, demoID, kind, status string) int {
	t.Helper()
	return count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE demo_id = $1 AND kind = $2 AND status = $3`, demoID, kind, status)
}

func wantRule(t *testing.T, err error, code lead.Code, rule string) {
	t.Helper()
	var le *lead.Error
	if !errors.As(err, &le) || le.Code != code {
		t.Fatalf("got %v, want %s %s", err, code, rule)
	}
	if le.Rule == rule {
		return
	}
	for _, is := range le.Issues {
		if is.Rule == rule {
			return
		}
	}
	t.Fatalf("got %v (%+v), want rule %s", err, le.Issues, rule)
}

func TestDemoSlotsOffered(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		clock := storetest.NewClock(demoNow)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		slots, err := s.OfferedSlots(ctx, demoRule)
		if err != nil {
			t.Fatal(err)
		}
		// no sales member at all: the calendar's slots, 12 a day for 10 working days
		if len(slots) != 120 || !slots[0].Equal(tue0900) {
			t.Fatalf("%d slots from %v, want 120 from %v", len(slots), slots[0], tue0900)
		}
		ada := mustMember(t, s, "Ada Selger", "ada@norse.example", lead.RoleSales, 1)
		away := mustMember(t, s, "Bo Borte", "bo@norse.example", lead.RoleSales, 1)
		if _, err := s.UpdateMember(ctx, away.ID, lead.MemberInput{AwayUntil: ptr(demoNow.Add(30 * 24 * time.Hour))}, lead.Actor{}); err != nil {
			t.Fatal(err)
		}
		mustMember(t, s, "Admin", "admin@norse.example", lead.RoleAdmin, 1) // admins are not counted
		l := qualifiedLead(t, s, "slot@example.no", ada.ID)
		if _, err := s.ScheduleDemo(ctx, l.ID, store.DemoSchedule{StartsAt: tue0900.Add(15 * time.Minute)}, demoRule, lead.Actor{Name: "t"}); err != nil {
			t.Fatal(err)
		}
		slots, err = s.OfferedSlots(ctx, demoRule)
		if err != nil {
			t.Fatal(err)
		}
		// Ada's 09:15-09:45 demo takes 09:00 and 09:30; Bo is away, the admin does not count
		if len(slots) != 118 || !slots[0].Equal(tue0900.Add(time.Hour)) {
			t.Fatalf("%d slots from %v, want 118 from 10:00", len(slots), slots[0])
		}
		if err := s.CheckPreferredTimes(ctx, demoRule, []time.Time{tue0900}); lead.ErrorCode(err) != lead.CodeInvalid {
			t.Fatalf("a taken slot as preferred time: %v", err)
		}
		if err := s.CheckPreferredTimes(ctx, demoRule, []time.Time{tue0900.Add(time.Hour)}); err != nil {
			t.Fatalf("an offered slot: %v", err)
		}
		// a second free member offers the slot again
		mustMember(t, s, "Cato Selger", "cato@norse.example", lead.RoleSales, 1)
		if slots, _ = s.OfferedSlots(ctx, demoRule); len(slots) != 120 {
			t.Fatalf("%d slots with a free member, want 120", len(slots))
		}
	})
}

func TestScheduleDemo(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		clock := storetest.NewClock(demoNow)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		ada := mustMember(t, s, "Ada Selger", "ada@norse.example", lead.RoleSales, 1)
		caller := mustMember(t, s, "Cato Caller", "cato@norse.example", lead.RoleSales, 1)
		l := qualifiedLead(t, s, "demo@example.no", ada.ID)
		actor := lead.Actor{Name: "Cato Caller", StaffID: caller.ID}

		t.Run("refusals", func(t *testing.T) {
			for name, at := range map[string]time.Time{
				"past":          demoNow.Add(-time.Hour),
				"saturday":      time.Date(2026, 12, 12, 9, 0, 0, 0, time.UTC),
				"ends too late": tue0900.Add(6 * time.Hour),
				"before hours":  tue0900.Add(-time.Minute),
				"holiday":       time.Date(2026, 12, 25, 9, 0, 0, 0, time.UTC),
			} {
				_, err := s.ScheduleDemo(ctx, l.ID, store.DemoSchedule{StartsAt: at}, demoRule, actor)
				if lead.ErrorCode(err) != lead.CodeInvalid {
					t.Fatalf("%s: %v", name, err)
				}
				wantRule(t, err, lead.CodeInvalid, lead.RuleDemoTimeNotAvailable)
			}
			fresh := qualifiedLead(t, s, "new@example.no", "")
			if _, err := s.PatchLead(ctx, fresh.ID, lead.Input{Status: lead.Val("lost")}, nil, actor); err != nil {
				t.Fatal(err)
			}
			_, err := s.ScheduleDemo(ctx, fresh.ID, store.DemoSchedule{StartsAt: tue0900}, demoRule, actor)
			wantRule(t, err, lead.CodeInvalid, lead.RuleStatusTransition)
			// a service token (no member) on a lead without owner must name the host
			orphan := qualifiedLead(t, s, "orphan@example.no", "")
			_, err = s.ScheduleDemo(ctx, orphan.ID, store.DemoSchedule{StartsAt: tue0900}, demoRule, lead.Actor{Name: "service"})
			wantRule(t, err, lead.CodeInvalid, lead.RuleDemoHost)
			_, err = s.ScheduleDemo(ctx, orphan.ID, store.DemoSchedule{StartsAt: tue0900, HostID: store.NewID()}, demoRule, lead.Actor{Name: "service"})
			wantRule(t, err, lead.CodeInvalid, lead.RuleDemoHost)
			// the caller hosts a lead without owner
			d, err := s.ScheduleDemo(ctx, orphan.ID, store.DemoSchedule{StartsAt: tue0900.Add(5 * time.Hour)}, demoRule, actor)
			if err != nil || d.HostID != caller.ID {
				t.Fatalf("caller as host: %+v %v", d, err)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM demos`); n != 1 {
				t.Fatalf("%d demos after the refusals, want 1", n)
			}
		})

		d, err := s.ScheduleDemo(ctx, l.ID, store.DemoSchedule{StartsAt: tue0900}, demoRule, actor)
		if err != nil {
			t.Fatal(err)
		}
		if d.HostID != ada.ID || d.Sequence != 0 || d.Status != lead.DemoScheduled || !d.EndsAt.Equal(tue0900.Add(30*time.Minute)) {
			t.Fatalf("scheduled %+v", d)
		}
		got, err := s.GetLead(ctx, l.ID)
		if err != nil || got.Status != lead.StatusDemoScheduled {
			t.Fatalf("lead %v %v", got.Status, err)
		}
		if cur, err := s.LeadDemo(ctx, l.ID); err != nil || cur == nil || cur.ID != d.ID {
			t.Fatalf("LeadDemo %+v %v", cur, err)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM lead_events WHERE lead_id = $1 AND type IN ('status_changed', 'demo_scheduled')`, l.ID); n != 2 {
			t.Fatalf("%d events, want status_changed and demo_scheduled", n)
		}
		// invitations to the lead and the host, and four reminders at 24 h and 1 h before
		if n := demoJobs(t, s, d.ID, store.EmailDemoInvitation, "pending"); n != 2 {
			t.Fatalf("%d invitations", n)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE demo_id = $1 AND kind = 'demo_reminder' AND status = 'pending'
			AND run_at IN ($2, $3)`, d.ID, "2026-12-07T08:00:00.000000Z", "2026-12-08T07:00:00.000000Z"); n != 4 {
			t.Fatalf("%d reminders at 24 h and 1 h", n)
		}
		if n := demoJobs(t, s, d.ID, store.EmailDemoReminder, "pending"); n != 4 {
			t.Fatalf("%d reminders", n)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE demo_id = $1 AND kind = 'demo_reminder' AND staff_id = $2`, d.ID, ada.ID); n != 2 {
			t.Fatalf("%d reminders to the host", n)
		}

		// reschedule: same demo, sequence 1, the old reminders die and new ones are queued
		moved, err := s.ScheduleDemo(ctx, l.ID, store.DemoSchedule{StartsAt: tue0900.Add(24 * time.Hour)}, demoRule, actor)
		if err != nil {
			t.Fatal(err)
		}
		if moved.ID != d.ID || moved.Sequence != 1 || !moved.StartsAt.Equal(tue0900.Add(24*time.Hour)) {
			t.Fatalf("moved %+v", moved)
		}
		if c, p := demoJobs(t, s, d.ID, store.EmailDemoReminder, "cancelled"), demoJobs(t, s, d.ID, store.EmailDemoReminder, "pending"); c != 4 || p != 4 {
			t.Fatalf("reminders: %d cancelled, %d pending; want 4 and 4", c, p)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM lead_events WHERE lead_id = $1 AND type = 'demo_rescheduled'`, l.ID); n != 1 {
			t.Fatalf("%d demo_rescheduled events", n)
		}
		// cancel: sequence 2, cancellations to both, the lead stays demo_scheduled
		cancelled, err := s.CancelDemo(ctx, l.ID, actor)
		if err != nil || cancelled.Sequence != 2 || cancelled.Status != lead.DemoCancelled {
			t.Fatalf("cancel %+v %v", cancelled, err)
		}
		if n := demoJobs(t, s, d.ID, store.EmailDemoReminder, "pending"); n != 0 {
			t.Fatalf("%d reminders left after cancel", n)
		}
		if n := demoJobs(t, s, d.ID, store.EmailDemoCancellation, "pending"); n != 2 {
			t.Fatalf("%d cancellations", n)
		}
		if got, _ := s.GetLead(ctx, l.ID); got.Status != lead.StatusDemoScheduled {
			t.Fatalf("status after cancel %s", got.Status)
		}
		if cur, err := s.LeadDemo(ctx, l.ID); cur != nil || err != nil {
			t.Fatalf("a cancelled demo is still current: %+v %v", cur, err)
		}
		if _, err := s.CancelDemo(ctx, l.ID, actor); lead.ErrorCode(err) != lead.CodeNotFound {
			t.Fatalf("cancel without demo: %v", err)
		}
		// scheduling again makes a new demo
		again, err := s.ScheduleDemo(ctx, l.ID, store.DemoSchedule{StartsAt: tue0900}, demoRule, actor)
		if err != nil || again.ID == d.ID || again.Sequence != 0 {
			t.Fatalf("again %+v %v", again, err)
		}
		// a lead that is lost has no demo to go to: it is cancelled with the move
		if _, err := s.PatchLead(ctx, l.ID, lead.Input{Status: lead.Val("lost")}, nil, actor); err != nil {
			t.Fatal(err)
		}
		if cur, _ := s.LeadDemo(ctx, l.ID); cur != nil {
			t.Fatalf("a lost lead keeps its demo %+v", cur)
		}
		if c, r := demoJobs(t, s, again.ID, store.EmailDemoCancellation, "pending"), demoJobs(t, s, again.ID, store.EmailDemoReminder, "pending"); c != 2 || r != 0 {
			t.Fatalf("after lost: %d cancellations, %d reminders", c, r)
		}
	})
}

// TestDemoSlotTakenConcurrently: many simultaneous requests for one host and time give one
// demo and demo_slot_taken for the rest; overlapping times are refused, back-to-back ones not.
func TestDemoSlotTakenConcurrently(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: storetest.NewClock(demoNow).Now})
		ada := mustMember(t, s, "Ada Selger", "ada@norse.example", lead.RoleSales, 1)
		const n = 8
		leads := make([]lead.Lead, n)
		for i := range leads {
			leads[i] = qualifiedLead(t, s, "race"+string(rune('a'+i))+"@example.no", ada.ID)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, n)
		for i := range leads {
			wg.Go(func() {
				<-start
				_, errs[i] = s.ScheduleDemo(ctx, leads[i].ID, store.DemoSchedule{StartsAt: tue0900}, demoRule, lead.Actor{Name: "t"})
			})
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			default:
				wantRule(t, err, lead.CodeConflict, lead.RuleDemoSlotTaken)
			}
		}
		if ok != 1 {
			t.Fatalf("%d demos scheduled at once for one host, want 1", ok)
		}
		if c := count(t, s, `SELECT COUNT(*) FROM demos WHERE status = 'scheduled'`); c != 1 {
			t.Fatalf("%d scheduled demos stored", c)
		}
		if c := count(t, s, `SELECT COUNT(*) FROM leads WHERE status = 'demo_scheduled'`); c != 1 {
			t.Fatalf("%d leads moved to demo_scheduled, want 1: the refused ones roll back", c)
		}
		var free []lead.Lead
		for i, err := range errs {
			if err != nil {
				free = append(free, leads[i])
			}
		}
		_, err := s.ScheduleDemo(ctx, free[0].ID, store.DemoSchedule{StartsAt: tue0900.Add(15 * time.Minute)}, demoRule, lead.Actor{Name: "t"})
		wantRule(t, err, lead.CodeConflict, lead.RuleDemoSlotTaken)
		if _, err := s.ScheduleDemo(ctx, free[0].ID, store.DemoSchedule{StartsAt: tue0900.Add(30 * time.Minute)}, demoRule, lead.Actor{Name: "t"}); err != nil {
			t.Fatalf("back to back: %v", err)
		}
		if e.Name == "postgres" {
			// the database itself refuses an overlap written past the store's check
			_, err := s.DB().Exec(`INSERT INTO demos (id, lead_id, host_id, starts_at, ends_at, sequence, status, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, 0, 'scheduled', $6, $6)`, store.NewID(), free[1].ID, ada.ID,
				tue0900.Add(10*time.Minute), tue0900.Add(40*time.Minute), demoNow)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "23P01" {
				t.Fatalf("overlapping insert: %v, want exclusion_violation", err)
			}
		}
	})
}

func TestDemoOutcomeAndErasure(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		clock := storetest.NewClock(demoNow)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		ada := mustMember(t, s, "Ada Selger", "ada@norse.example", lead.RoleSales, 1)
		actor := lead.Actor{Name: "Ada", StaffID: ada.ID}
		done := qualifiedLead(t, s, "done@example.no", ada.ID)
		gone := qualifiedLead(t, s, "noshow@example.no", ada.ID)
		erased := qualifiedLead(t, s, "erase@example.no", ada.ID)
		for i, l := range []lead.Lead{done, gone, erased} {
			if _, err := s.ScheduleDemo(ctx, l.ID, store.DemoSchedule{StartsAt: tue0900.Add(time.Duration(i) * time.Hour)}, demoRule, actor); err != nil {
				t.Fatal(err)
			}
		}
		_, err := s.RecordDemoOutcome(ctx, done.ID, lead.OutcomeCompleted, actor)
		wantRule(t, err, lead.CodeConflict, lead.RuleDemoNotEnded)
		_, err = s.RecordDemoOutcome(ctx, done.ID, "maybe", actor)
		wantRule(t, err, lead.CodeInvalid, lead.RuleDemoOutcomeEnum)
		if list, err := s.DemosToClose(ctx, 50); err != nil || len(list) != 0 {
			t.Fatalf("to close before the end: %v %v", list, err)
		}

		// the erasure cancels the demo, every email about the lead, and tells the host
		if _, err := s.AnonymizeLead(ctx, erased.ID, actor); err != nil {
			t.Fatal(err)
		}
		var status string
		var seq int
		var demoID string
		if err := s.DB().QueryRow(`SELECT id, status, sequence FROM demos WHERE lead_id = $1`, erased.ID).Scan(&demoID, &status, &seq); err != nil {
			t.Fatal(err)
		}
		if status != "cancelled" || seq != 1 {
			t.Fatalf("erased lead's demo %s seq %d", status, seq)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE demo_id = $1 AND status = 'pending'`, demoID); n != 1 {
			t.Fatalf("%d pending jobs of the erased lead's demo, want the host's cancellation", n)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE demo_id = $1 AND kind = 'demo_reminder' AND staff_id = $2 AND status = 'cancelled'`, demoID, ada.ID); n != 2 {
			t.Fatalf("%d host reminders cancelled, want 2", n)
		}
		// the host's cancellation is claimed (it names no lead) and readable for its composer
		clock.Advance(time.Minute)
		var hostJob store.EmailJob
		for {
			jobs, err := s.ClaimEmailJobs(ctx, 50, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if len(jobs) == 0 {
				break
			}
			for _, j := range jobs {
				if j.Kind == store.EmailDemoCancellation {
					hostJob = j
				}
				s.CompleteEmailJob(ctx, j.ID)
			}
		}
		if hostJob.To != "ada@norse.example" || hostJob.LeadID != "" {
			t.Fatalf("host cancellation %+v", hostJob)
		}
		m, err := s.DemoEmail(ctx, hostJob.ID)
		if err != nil || !m.LeadErased || m.LeadFirstName != store.ErasedName || m.Demo.Sequence != 1 || m.HostEmail != "ada@norse.example" {
			t.Fatalf("demo email %+v %v", m, err)
		}

		clock.Advance(2*24*time.Hour + 7*time.Hour) // Wednesday: every demo has ended
		list, err := s.DemosToClose(ctx, 50)
		if err != nil || len(list) != 2 || list[0].Demo.LeadID != done.ID || list[0].HostName != "Ada Selger" || list[0].OrganizationName != "Frivillig Norge" {
			t.Fatalf("to close %+v %v", list, err)
		}
		if d, err := s.RecordDemoOutcome(ctx, done.ID, lead.OutcomeCompleted, actor); err != nil || d.Status != lead.DemoCompleted {
			t.Fatalf("completed %+v %v", d, err)
		}
		if got, _ := s.GetLead(ctx, done.ID); got.Status != lead.StatusDemoCompleted {
			t.Fatalf("completed lead is %s", got.Status)
		}
		if _, err := s.RecordDemoOutcome(ctx, gone.ID, lead.OutcomeNoShow, actor); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.GetLead(ctx, gone.ID); got.Status != lead.StatusDemoScheduled {
			t.Fatalf("no-show lead is %s", got.Status)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM lead_events WHERE lead_id = $1 AND type = 'demo_no_show'`, gone.ID); n != 1 {
			t.Fatalf("%d demo_no_show events", n)
		}
		if list, _ := s.DemosToClose(ctx, 50); len(list) != 0 {
			t.Fatalf("still to close: %+v", list)
		}
		st, err := s.Stats(ctx, query.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(st.DemoNoShows) != 1 || st.DemoNoShows[0].OwnerID == nil || *st.DemoNoShows[0].OwnerID != ada.ID || st.DemoNoShows[0].NoShows != 1 {
			t.Fatalf("no-shows %+v", st.DemoNoShows)
		}
	})
}

func TestBookingPreferredTimes(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: storetest.NewClock(demoNow).Now})
		b := booking("prefers@example.no")
		b.PreferredTimes = []time.Time{tue0900, tue0900.Add(time.Hour)}
		res, err := s.Book(ctx, params(b, "192.0.2.9"))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := s.Book(ctx, params(booking("plain@example.no"), "192.0.2.9"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.ListBookings(ctx, res.LeadID)
		if err != nil || len(got) != 1 || len(got[0].PreferredTimes) != 2 || !got[0].PreferredTimes[1].Equal(tue0900.Add(time.Hour)) {
			t.Fatalf("bookings %+v %v", got, err)
		}
		none, err := s.ListBookings(ctx, plain.LeadID)
		if err != nil || none[0].PreferredTimes == nil || len(none[0].PreferredTimes) != 0 {
			t.Fatalf("no preferred times: %#v %v", none, err)
		}
	})
}
