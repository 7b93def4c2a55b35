package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/norsedigital/leads/internal/calendar"
	"github.com/norsedigital/leads/internal/lead"
)

// The prospect moves or cancels their own demo from their page (SPEC §14 "Move or cancel my
// demo"): ScheduleDemo with DemoSchedule.ByLead and CancelDemo do the writing, by
// lead.DataSubjectActor; HostSlots are the times the page offers.

// HostSlots are the slots of the offered grid (the calendar's, as OfferedSlots) at which the
// host is not away and has no scheduled demo but leadID's own: where that lead may move its
// demo. The demo's own start is left out (moving there changes nothing).
func (s *Store) HostSlots(ctx context.Context, r DemoRules, hostID, leadID string) ([]time.Time, error) {
	if !validID(hostID) || !validID(leadID) {
		return nil, lead.ErrNotFound
	}
	slots := r.Calendar.Slots(s.now(), r.Hours, r.Length, r.days())
	out := []time.Time{}
	if len(slots) == 0 {
		return out, nil
	}
	var away nullTime
	err := s.read.QueryRowContext(ctx, `SELECT away_until FROM staff WHERE id = $1`, hostID).Scan(&away)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, lead.ErrNotFound
	}
	if err != nil {
		return nil, s.mapErr(err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT lead_id, starts_at, ends_at FROM demos
WHERE host_id = $1 AND status = 'scheduled' AND ends_at > $2 AND starts_at < $3`,
		hostID, ts(slots[0]), ts(slots[len(slots)-1].Add(r.Length)))
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	type span struct{ from, to time.Time }
	var busy []span
	var own time.Time
	for rows.Next() {
		var id string
		var sp span
		if err := rows.Scan(&id, (*dbTime)(&sp.from), (*dbTime)(&sp.to)); err != nil {
			return nil, s.mapErr(err)
		}
		if id == leadID {
			own = sp.from
			continue
		}
		busy = append(busy, sp)
	}
	if err := rows.Err(); err != nil {
		return nil, s.mapErr(err)
	}
next:
	for _, slot := range slots {
		if slot.Equal(own) || away.Valid && away.Time.After(slot) {
			continue
		}
		for _, b := range busy {
			if calendar.Overlaps(slot, slot.Add(r.Length), b.from, b.to) {
				continue next
			}
		}
		out = append(out, slot)
	}
	return out, nil
}
