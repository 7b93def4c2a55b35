package store_test

import (
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// TestDemoMovedByLead: the prospect's own move (DemoSchedule.ByLead) moves only a scheduled
// demo, keeps its host whatever is asked, and only to a slot of the offered grid; HostSlots
// are the host's free slots but the demo's own, none while the host is away (SPEC §14).
func TestDemoMovedByLead(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		clock := storetest.NewClock(demoNow)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		host := mustMember(t, s, "Hedda Vert", "hedda@norse.example", lead.RoleSales, 1)
		other := mustMember(t, s, "Ola Annen", "ola@norse.example", lead.RoleSales, 1)
		mine := qualifiedLead(t, s, "mine@example.org", "")
		theirs := qualifiedLead(t, s, "theirs@example.org", "")
		slot := func(i int) time.Time { return tue0900.Add(time.Duration(i) * 30 * time.Minute) }
		byLead := func(at time.Time, hostID string) error {
			_, err := s.ScheduleDemo(ctx, mine.ID, store.DemoSchedule{StartsAt: at, HostID: hostID, ByLead: true}, demoRule, lead.DataSubjectActor)
			return err
		}

		// no demo yet: the lead cannot make one (that is for sales), even on a free slot
		if err := byLead(slot(1), ""); lead.ErrorCode(err) != lead.CodeNotFound {
			t.Fatalf("a move without a demo: %v", err)
		}
		if d, _ := s.LeadDemo(ctx, mine.ID); d != nil {
			t.Fatalf("a demo was made: %+v", d)
		}
		sched := func(id string, at time.Time) lead.Demo {
			d, err := s.ScheduleDemo(ctx, id, store.DemoSchedule{StartsAt: at, HostID: host.ID}, demoRule, lead.Actor{Name: "sally"})
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		d := sched(mine.ID, slot(0))
		sched(theirs.ID, slot(2))

		free, err := s.HostSlots(ctx, demoRule, host.ID, mine.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(free) == 0 || !free[0].Equal(slot(1)) || !free[1].Equal(slot(3)) {
			t.Fatalf("host slots start %v, want %v then %v (not the own slot 0, not the taken slot 2)", free[:2], slot(1), slot(3))
		}
		all := demoRule.Calendar.Slots(demoNow, demoRule.Hours, demoRule.Length, store.DefaultDemoDays)
		if len(free) != len(all)-2 {
			t.Errorf("%d host slots, want every slot but 2 (%d)", len(free), len(all)-2)
		}

		// refusals: off the grid (10:15), past the offered days, taken by the host's other demo
		wantRule(t, byLead(slot(1).Add(15*time.Minute), ""), lead.CodeInvalid, lead.RuleDemoTimeNotAvailable)
		wantRule(t, byLead(all[len(all)-1].Add(7*24*time.Hour), ""), lead.CodeInvalid, lead.RuleDemoTimeNotAvailable)
		wantRule(t, byLead(slot(2), ""), lead.CodeConflict, lead.RuleDemoSlotTaken)
		if cur, _ := s.LeadDemo(ctx, mine.ID); cur == nil || !cur.StartsAt.Equal(slot(0)) || cur.Sequence != 0 {
			t.Fatalf("a refused move changed the demo: %+v", cur)
		}

		// the move keeps the host even when another is asked for
		if err := byLead(slot(2).Add(time.Hour), other.ID); err != nil {
			t.Fatal(err)
		}
		cur, _ := s.LeadDemo(ctx, mine.ID)
		if cur == nil || cur.ID != d.ID || cur.HostID != host.ID || !cur.StartsAt.Equal(slot(2).Add(time.Hour)) || cur.Sequence != 1 {
			t.Fatalf("moved demo %+v", cur)
		}
		evs, _ := s.ListEvents(ctx, mine.ID)
		moved := 0
		for _, e := range evs {
			if e.Type == lead.EventDemoRescheduled && e.Actor == lead.DataSubjectActor.Name {
				moved++
			}
		}
		if moved != 1 {
			t.Errorf("%d demo_rescheduled events by data_subject, want 1", moved)
		}
		if n := demoJobs(t, s, d.ID, store.EmailDemoInvitation, "pending"); n != 2 {
			t.Errorf("%d invitations pending after the move, want the lead's and the host's", n)
		}

		// a host away has no free slots until they are back
		if _, err := s.DB().Exec(`UPDATE staff SET away_until = $1 WHERE id = $2`, slot(4).Format("2006-01-02T15:04:05.000000Z"), host.ID); err != nil {
			t.Fatal(err)
		}
		if free, err = s.HostSlots(ctx, demoRule, host.ID, mine.ID); err != nil || len(free) == 0 || free[0].Before(slot(4)) {
			t.Errorf("host slots while away: %v %v", free, err)
		}
		if _, err := s.HostSlots(ctx, demoRule, theirs.ID, mine.ID); lead.ErrorCode(err) != lead.CodeNotFound {
			t.Errorf("slots of no member: %v", err)
		}
	})
}
