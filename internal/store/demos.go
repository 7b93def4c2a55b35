package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/norsedigital/leads/internal/calendar"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/webhook"
)

// Demo scheduling (SPEC §13). A lead has at most one scheduled demo (a partial unique
// index); rescheduling moves that row (same id, so the invitation keeps its UID, sequence
// + 1); a cancelled, completed or no-show demo stays as history and a new PUT makes a new
// one. A host never has two overlapping scheduled demos (demo_slot_taken): PostgreSQL's
// exclusion constraint demos_host_no_overlap decides between concurrent writers (classify
// maps its SQLSTATE 23P01 to errOverlap); on SQLite the check below runs inside the write
// transaction, which the one writer makes atomic with the write.

// Kinds of the demo emails (internal/mail/invitation.go composes them).
const (
	EmailDemoInvitation   = "demo_invitation"   // METHOD:REQUEST, the demo as it is at send time
	EmailDemoCancellation = "demo_cancellation" // METHOD:CANCEL
	EmailDemoReminder     = "demo_reminder"     // 24 h and 1 h before the start
)

// DemoRemindersBefore are how long before the start the reminders go out.
var DemoRemindersBefore = []time.Duration{24 * time.Hour, time.Hour}

// DemoRules are the service's demo settings: its working-day calendar (in --timezone), the
// daily window (--demo-hours), the length (--demo-length) and how many working days ahead
// slots are offered.
type DemoRules struct {
	Calendar *calendar.Calendar
	Hours    calendar.Hours
	Length   time.Duration
	Days     int
}

// DefaultDemoDays is how many working days ahead slots are offered (§13).
const DefaultDemoDays = 10

func (r DemoRules) days() int {
	if r.Days <= 0 {
		return DefaultDemoDays
	}
	return r.Days
}

// DemoSchedule is a PUT /api/v1/leads/{id}/demo.
type DemoSchedule struct {
	StartsAt time.Time
	// HostID is the member who gives the demo; "" keeps the host of a demo being moved, else
	// means the lead's owner, else the caller (actor.StaffID).
	HostID string
	// ByLead is the prospect moving their own demo from their page (§14): only a scheduled
	// demo moves (none is CodeNotFound; a new one is for sales to make), it keeps its host, and
	// only to a slot of the offered grid (else demo_time_not_available).
	ByLead bool
}

const demoColumns = `id, lead_id, host_id, starts_at, ends_at, sequence, status`

func scanDemo(r rowScanner) (lead.Demo, error) {
	var d lead.Demo
	var status string
	err := r.Scan(&d.ID, &d.LeadID, &d.HostID, (*dbTime)(&d.StartsAt), (*dbTime)(&d.EndsAt), &d.Sequence, &status)
	d.Status = lead.DemoStatus(status)
	return d, err
}

// OfferedSlots are the demo starts offered now (GET /api/v1/demo-slots): the calendar's
// slots at which at least one active sales member who is not away has no scheduled demo.
// With no active sales member at all the calendar's slots are offered as they are: any
// staff caller may host a demo, so the form still lets prospects say what suits them.
func (s *Store) OfferedSlots(ctx context.Context, r DemoRules) ([]time.Time, error) {
	now := s.now()
	slots := r.Calendar.Slots(now, r.Hours, r.Length, r.days())
	if len(slots) == 0 {
		return []time.Time{}, nil
	}
	type host struct {
		awayUntil *time.Time
		busy      [][2]time.Time
	}
	hosts := map[string]*host{}
	rows, err := s.read.QueryContext(ctx, `SELECT id, away_until FROM staff WHERE active AND role = 'sales'`)
	if err != nil {
		return nil, s.mapErr(err)
	}
	for rows.Next() {
		var id string
		var away nullTime
		if err := rows.Scan(&id, &away); err != nil {
			rows.Close()
			return nil, s.mapErr(err)
		}
		hosts[id] = &host{awayUntil: timePtr(away)}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.mapErr(err)
	}
	if len(hosts) == 0 {
		return slots, nil
	}
	last := slots[len(slots)-1].Add(r.Length)
	rows, err = s.read.QueryContext(ctx, `SELECT host_id, starts_at, ends_at FROM demos
WHERE status = 'scheduled' AND ends_at > $1 AND starts_at < $2`, ts(slots[0]), ts(last))
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var from, to time.Time
		if err := rows.Scan(&id, (*dbTime)(&from), (*dbTime)(&to)); err != nil {
			return nil, s.mapErr(err)
		}
		if h := hosts[id]; h != nil {
			h.busy = append(h.busy, [2]time.Time{from, to})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.mapErr(err)
	}
	out := make([]time.Time, 0, len(slots))
	for _, slot := range slots {
		end := slot.Add(r.Length)
		for _, h := range hosts {
			if h.awayUntil != nil && h.awayUntil.After(slot) {
				continue
			}
			if !slices.ContainsFunc(h.busy, func(b [2]time.Time) bool { return calendar.Overlaps(slot, end, b[0], b[1]) }) {
				out = append(out, slot)
				break
			}
		}
	}
	return out, nil
}

// CheckPreferredTimes refuses (preferred_time_not_offered) preferred times that are not
// offered now. It reads the database only when there are any.
func (s *Store) CheckPreferredTimes(ctx context.Context, r DemoRules, times []time.Time) error {
	if len(times) == 0 {
		return nil
	}
	offered, err := s.OfferedSlots(ctx, r)
	if err != nil {
		return err
	}
	for _, t := range times {
		if !slices.ContainsFunc(offered, t.Equal) {
			return lead.Invalid(lead.Result{Errors: []lead.Issue{{Field: lead.FieldPreferredTimes, Rule: lead.RulePreferredTimeNotOffered,
				Message: "Each preferred time must be one of the offered demo slots (GET /api/v1/demo-slots)."}}})
		}
	}
	return nil
}

// LeadDemo is the lead's scheduled demo, or nil when it has none.
func (s *Store) LeadDemo(ctx context.Context, leadID string) (*lead.Demo, error) {
	if !validID(leadID) {
		return nil, lead.ErrNotFound
	}
	d, err := scanDemo(s.read.QueryRowContext(ctx, `SELECT `+demoColumns+` FROM demos WHERE lead_id = $1 AND status = 'scheduled'`, leadID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, s.mapErr(err)
	}
	return &d, nil
}

func demoTimeNotAvailable(msg string) error {
	return lead.Invalid(lead.Result{Errors: []lead.Issue{{Field: "starts_at", Rule: lead.RuleDemoTimeNotAvailable, Message: msg}}})
}

func demoHostError(msg string) error {
	return lead.Invalid(lead.Result{Errors: []lead.Issue{{Field: "host_id", Rule: lead.RuleDemoHost, Message: msg}}})
}

func errDemoSlotTaken() error {
	return &lead.Error{Code: lead.CodeConflict, Rule: lead.RuleDemoSlotTaken, Message: "the host already has a demo at that time"}
}

// ScheduleDemo schedules the lead's demo, or moves the one it has (SPEC §13), in one
// transaction: from qualified the lead moves to demo_scheduled (status_changed event and
// webhook, as PatchLead writes them); on a demo_scheduled lead the scheduled demo moves
// (sequence + 1, its pending reminders cancelled) or, when it has none, a new one is made;
// any other status is status_transition_enforcement. The start must be on a working day
// within the demo hours, the whole demo inside them, and not in the past (any minute, not
// only the offered grid: staff may agree on 10:15 on the phone); else
// demo_time_not_available. The host's overlapping demo is demo_slot_taken (409). The
// invitations to the lead and the host and the 24 h and 1 h reminders are queued with it.
func (s *Store) ScheduleDemo(ctx context.Context, leadID string, in DemoSchedule, r DemoRules, actor lead.Actor) (lead.Demo, error) {
	if !validID(leadID) {
		return lead.Demo{}, lead.ErrNotFound
	}
	start := in.StartsAt.UTC().Truncate(time.Second)
	if start.Before(s.now()) {
		return lead.Demo{}, demoTimeNotAvailable("The demo cannot start in the past.")
	}
	if !r.Calendar.InHours(start, r.Hours, r.Length) {
		return lead.Demo{}, demoTimeNotAvailable("The demo must be on a working day within the demo hours (" + r.Hours.String() + ").")
	}
	if in.ByLead {
		if !r.Calendar.IsOffered(start, s.now(), r.Hours, r.Length, r.days()) {
			return lead.Demo{}, demoTimeNotAvailable("Choose one of the offered times.")
		}
		in.HostID = ""
	}
	end := start.Add(r.Length)
	if in.HostID != "" && !validID(in.HostID) {
		return lead.Demo{}, demoHostError("The host must be an active member of the team.")
	}
	var out lead.Demo
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := s.lockLead(ctx, tx, leadID)
		if err != nil {
			return err
		}
		if cur.AnonymizedAt != nil {
			return errErased()
		}
		if cur.Status != lead.StatusQualified && cur.Status != lead.StatusDemoScheduled {
			return &lead.Error{Code: lead.CodeInvalid, Message: "a demo is scheduled for a qualified lead, or moved on one with a demo scheduled",
				Issues: []lead.Issue{{Field: "status", Rule: lead.RuleStatusTransition,
					Message: "A demo can be scheduled only when the lead is qualified or demo_scheduled."}},
				Allowed: append([]lead.Status{}, lead.NextStatuses(cur.Status)...)}
		}
		prev, err := scanDemo(tx.QueryRowContext(ctx, `SELECT `+demoColumns+` FROM demos WHERE lead_id = $1 AND status = 'scheduled'`, leadID))
		moving := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if in.ByLead && !moving {
			return lead.Errorf(lead.CodeNotFound, "the lead has no scheduled demo")
		}
		// the host: as asked; a moved demo keeps its host; else the owner, else the caller
		host := in.HostID
		if host == "" && moving {
			host = prev.HostID
		}
		if host == "" && cur.OwnerID != nil {
			host = *cur.OwnerID
		}
		if host == "" {
			host = actor.StaffID
		}
		if host == "" {
			return demoHostError("Name the host (host_id): the lead has no owner and the caller is not a member.")
		}
		var active bool
		err = tx.QueryRowContext(ctx, `SELECT active FROM staff WHERE id = $1`, host).Scan(&active)
		if errors.Is(err, sql.ErrNoRows) || err == nil && !active {
			return demoHostError("The host must be an active member of the team.")
		}
		if err != nil {
			return err
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		// the one writer (SQLite) makes this check exact; on PostgreSQL the exclusion
		// constraint decides between concurrent writers, and this gives the answer early
		var taken int
		err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM demos WHERE host_id = $1 AND status = 'scheduled'
	AND starts_at < $2 AND ends_at > $3 AND lead_id <> $4`, host, ts(end), ts(start), leadID).Scan(&taken)
		if err != nil {
			return err
		}
		if taken > 0 {
			return errDemoSlotTaken()
		}
		event := lead.EventDemoScheduled
		if moving {
			event = lead.EventDemoRescheduled
			out = prev
			out.HostID, out.StartsAt, out.EndsAt, out.Sequence = host, start, end, prev.Sequence+1
			if _, err := tx.ExecContext(ctx, `UPDATE demos SET host_id = $2, starts_at = $3, ends_at = $4, sequence = $5, updated_at = $6 WHERE id = $1`,
				out.ID, host, ts(start), ts(end), out.Sequence, ts(now)); err != nil {
				return err
			}
			// the old time's reminders die with it; an invitation not yet sent would be
			// sent for the new time anyway, and the new one supersedes it
			if err := cancelDemoJobs(ctx, tx, out.ID, now, EmailDemoReminder, EmailDemoInvitation); err != nil {
				return err
			}
			if prev.HostID != host {
				// the previous host is off the demo: their calendar entry goes
				if err := s.enqueueDemoEmail(ctx, tx, EmailDemoCancellation, out.ID, leadID, prev.HostID, now, now); err != nil {
					return err
				}
			}
		} else {
			out = lead.Demo{ID: newID(), LeadID: leadID, HostID: host, StartsAt: start, EndsAt: end, Status: lead.DemoScheduled}
			if _, err := tx.ExecContext(ctx, `INSERT INTO demos (id, lead_id, host_id, starts_at, ends_at, sequence, status, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, 0, 'scheduled', $6, $6)`, out.ID, leadID, host, ts(start), ts(end), ts(now)); err != nil {
				return err
			}
		}
		if err := s.queueDemoInvitations(ctx, tx, out, now); err != nil {
			return err
		}
		if err := insertEvent(ctx, tx, leadID, event, actor, demoDetails(out), now); err != nil {
			return err
		}
		return s.demoTouchLead(ctx, tx, cur, lead.StatusDemoScheduled, actor)
	})
	if err != nil {
		if s.e.classify(err) == errOverlap {
			return lead.Demo{}, errDemoSlotTaken()
		}
		return lead.Demo{}, err
	}
	s.notifyJobs()
	return out, nil
}

// queueDemoInvitations queues the invitation to the lead and to the host, and the
// reminders still ahead.
func (s *Store) queueDemoInvitations(ctx context.Context, tx *sql.Tx, d lead.Demo, now time.Time) error {
	for _, staff := range []string{"", d.HostID} {
		if err := s.enqueueDemoEmail(ctx, tx, EmailDemoInvitation, d.ID, d.LeadID, staff, now, now); err != nil {
			return err
		}
		for _, before := range DemoRemindersBefore {
			if at := d.StartsAt.Add(-before); at.After(now) {
				if err := s.enqueueDemoEmail(ctx, tx, EmailDemoReminder, d.ID, d.LeadID, staff, at, now); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// enqueueDemoEmail queues one email about demo demoID to the member staffID, or to the lead
// when staffID is "". leadID "" makes a job that outlives the lead's erasure (the host's
// cancellation of an erased lead's demo): jobs about a lead die with it.
func (s *Store) enqueueDemoEmail(ctx context.Context, tx *sql.Tx, kind, demoID, leadID, staffID string, runAt, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO email_jobs (id, kind, lead_id, staff_id, demo_id, status, attempts, run_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7, $7)`, newID(), kind, nullStr(leadID), nullStr(staffID), demoID, ts(runAt), ts(now))
	return err
}

// cancelDemoJobs cancels the demo's emails of the given kinds that are still waiting.
func cancelDemoJobs(ctx context.Context, tx *sql.Tx, demoID string, now time.Time, kinds ...string) error {
	for _, k := range kinds {
		if _, err := tx.ExecContext(ctx, `UPDATE email_jobs SET status = 'cancelled', locked_until = NULL, updated_at = $3
WHERE demo_id = $1 AND kind = $2 AND status = 'pending'`, demoID, k, ts(now)); err != nil {
			return err
		}
	}
	return nil
}

// demoDetails are a demo event's details: ids, the time and the sequence, nothing personal.
func demoDetails(d lead.Demo) map[string]any {
	return map[string]any{"demo_id": d.ID, "host_id": d.HostID, "starts_at": d.StartsAt.UTC().Format(time.RFC3339), "sequence": d.Sequence}
}

// demoTouchLead moves the lead to status to when the pipeline allows that one step (with its
// status_changed event and webhook), and in any case advances updated_at: the lead's
// representation (its demo) changed, so its ETag must too.
func (s *Store) demoTouchLead(ctx context.Context, tx *sql.Tx, cur lead.Lead, to lead.Status, actor lead.Actor) error {
	now := nextUpdatedAt(s.now(), cur)
	status := cur.Status
	if status != to && slices.Contains(lead.NextStatuses(cur.Status), to) {
		status = to
	}
	l, err := scanLead(tx.QueryRowContext(ctx, `UPDATE leads SET status = $2, updated_at = $3 WHERE id = $1 RETURNING `+leadColumns,
		cur.ID, string(status), ts(now)))
	if err != nil || status == cur.Status {
		return err
	}
	change := map[string]any{"from": cur.Status, "to": status}
	if err := insertEvent(ctx, tx, cur.ID, lead.EventStatusChanged, actor, change, now); err != nil {
		return err
	}
	return s.enqueueWebhooks(ctx, tx, webhook.EventLeadStatusChanged, l, change)
}

// lockedDemo locks the lead and reads its scheduled demo; no demo is 404.
func (s *Store) lockedDemo(ctx context.Context, tx *sql.Tx, leadID string) (lead.Lead, lead.Demo, error) {
	cur, err := s.lockLead(ctx, tx, leadID)
	if err != nil {
		return cur, lead.Demo{}, err
	}
	if cur.AnonymizedAt != nil {
		return cur, lead.Demo{}, errErased()
	}
	d, err := scanDemo(tx.QueryRowContext(ctx, `SELECT `+demoColumns+` FROM demos WHERE lead_id = $1 AND status = 'scheduled'`, leadID))
	if errors.Is(err, sql.ErrNoRows) {
		return cur, d, lead.Errorf(lead.CodeNotFound, "the lead has no scheduled demo")
	}
	return cur, d, err
}

// CancelDemo cancels the lead's scheduled demo (DELETE /api/v1/leads/{id}/demo): sequence
// + 1, its waiting reminders and invitations cancelled, a cancellation to the lead and the
// host. The lead's status stays. No scheduled demo is 404.
func (s *Store) CancelDemo(ctx context.Context, leadID string, actor lead.Actor) (lead.Demo, error) {
	if !validID(leadID) {
		return lead.Demo{}, lead.ErrNotFound
	}
	var out lead.Demo
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, d, err := s.lockedDemo(ctx, tx, leadID)
		if err != nil {
			return err
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		out, err = cancelDemo(ctx, tx, d, now)
		if err != nil {
			return err
		}
		for _, staff := range []string{"", d.HostID} {
			if err := s.enqueueDemoEmail(ctx, tx, EmailDemoCancellation, d.ID, leadID, staff, now, now); err != nil {
				return err
			}
		}
		if err := insertEvent(ctx, tx, leadID, lead.EventDemoCancelled, actor, demoDetails(out), now); err != nil {
			return err
		}
		return s.demoTouchLead(ctx, tx, cur, cur.Status, actor)
	})
	if err != nil {
		return lead.Demo{}, err
	}
	s.notifyJobs()
	return out, nil
}

// cancelDemo marks d cancelled (sequence + 1) and cancels its waiting emails.
func cancelDemo(ctx context.Context, tx *sql.Tx, d lead.Demo, now time.Time) (lead.Demo, error) {
	d.Status, d.Sequence = lead.DemoCancelled, d.Sequence+1
	if _, err := tx.ExecContext(ctx, `UPDATE demos SET status = 'cancelled', sequence = $2, updated_at = $3 WHERE id = $1`,
		d.ID, d.Sequence, ts(now)); err != nil {
		return d, err
	}
	return d, cancelDemoJobs(ctx, tx, d.ID, now, EmailDemoReminder, EmailDemoInvitation)
}

// demoErased runs in the erasure's transaction (anonymize), after the lead's own email jobs
// were cancelled: the lead's scheduled demo is cancelled and its host told, by an email
// that names no lead (so it survives the erasure).
func (s *Store) demoErased(ctx context.Context, tx *sql.Tx, leadID string, actor lead.Actor, now time.Time) error {
	return s.cancelScheduled(ctx, tx, leadID, false, actor, now)
}

// demoLeadClosed runs in the transaction that moves a lead to status: a lead that is lost or
// disqualified has no demo to go to, so its scheduled demo is cancelled as by CancelDemo.
func (s *Store) demoLeadClosed(ctx context.Context, tx *sql.Tx, leadID string, status lead.Status, actor lead.Actor, now time.Time) error {
	if status != lead.StatusLost && status != lead.StatusDisqualified {
		return nil
	}
	return s.cancelScheduled(ctx, tx, leadID, true, actor, now)
}

// cancelScheduled cancels the lead's scheduled demo, if any, in tx, and tells the host, and
// the lead when tellLead.
func (s *Store) cancelScheduled(ctx context.Context, tx *sql.Tx, leadID string, tellLead bool, actor lead.Actor, now time.Time) error {
	d, err := scanDemo(tx.QueryRowContext(ctx, `SELECT `+demoColumns+` FROM demos WHERE lead_id = $1 AND status = 'scheduled'`, leadID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if d, err = cancelDemo(ctx, tx, d, now); err != nil {
		return err
	}
	about := "" // the host's email about an erased lead names no lead: jobs about a lead die with it
	if tellLead {
		about = leadID
		if err := s.enqueueDemoEmail(ctx, tx, EmailDemoCancellation, d.ID, leadID, "", now, now); err != nil {
			return err
		}
	}
	if err := s.enqueueDemoEmail(ctx, tx, EmailDemoCancellation, d.ID, about, d.HostID, now, now); err != nil {
		return err
	}
	return insertEvent(ctx, tx, leadID, lead.EventDemoCancelled, actor, demoDetails(d), now)
}

// RecordDemoOutcome closes the lead's scheduled demo once it has ended (else 409
// demo_not_ended): completed moves a demo_scheduled lead to demo_completed (status_changed);
// no_show writes a demo_no_show event and leaves the lead demo_scheduled.
func (s *Store) RecordDemoOutcome(ctx context.Context, leadID, outcome string, actor lead.Actor) (lead.Demo, error) {
	if outcome != lead.OutcomeCompleted && outcome != lead.OutcomeNoShow {
		return lead.Demo{}, lead.Invalid(lead.Result{Errors: []lead.Issue{{Field: "outcome", Rule: lead.RuleDemoOutcomeEnum,
			Message: "outcome must be completed or no_show."}}})
	}
	if !validID(leadID) {
		return lead.Demo{}, lead.ErrNotFound
	}
	var out lead.Demo
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, d, err := s.lockedDemo(ctx, tx, leadID)
		if err != nil {
			return err
		}
		if d.EndsAt.After(s.now()) {
			return &lead.Error{Code: lead.CodeConflict, Rule: lead.RuleDemoNotEnded, Message: "the demo has not ended yet"}
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		out = d
		out.Status = lead.DemoStatus(outcome)
		if _, err := tx.ExecContext(ctx, `UPDATE demos SET status = $2, updated_at = $3 WHERE id = $1`, d.ID, outcome, ts(now)); err != nil {
			return err
		}
		if err := cancelDemoJobs(ctx, tx, d.ID, now, EmailDemoReminder); err != nil {
			return err
		}
		if outcome == lead.OutcomeNoShow {
			if err := insertEvent(ctx, tx, leadID, lead.EventDemoNoShow, actor, demoDetails(out), now); err != nil {
				return err
			}
			return s.demoTouchLead(ctx, tx, cur, cur.Status, actor)
		}
		return s.demoTouchLead(ctx, tx, cur, lead.StatusDemoCompleted, actor)
	})
	return out, err
}

// DemoToClose is a scheduled demo that has ended, waiting for its outcome.
type DemoToClose struct {
	Demo             lead.Demo
	OrganizationName string
	HostName         string
}

// DemosToClose lists the scheduled demos that have ended, oldest first (the console's
// "Demos to close").
func (s *Store) DemosToClose(ctx context.Context, limit int) ([]DemoToClose, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT d.id, d.lead_id, d.host_id, d.starts_at, d.ends_at, d.sequence, d.status,
	l.organization_name, st.name
FROM demos d JOIN leads l ON l.id = d.lead_id JOIN staff st ON st.id = d.host_id
WHERE d.status = 'scheduled' AND d.ends_at <= $1 ORDER BY d.ends_at, d.id LIMIT $2`, ts(s.now()), limit)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	out := []DemoToClose{}
	for rows.Next() {
		var c DemoToClose
		var status string
		if err := rows.Scan(&c.Demo.ID, &c.Demo.LeadID, &c.Demo.HostID, (*dbTime)(&c.Demo.StartsAt), (*dbTime)(&c.Demo.EndsAt),
			&c.Demo.Sequence, &status, &c.OrganizationName, &c.HostName); err != nil {
			return nil, s.mapErr(err)
		}
		c.Demo.Status = lead.DemoStatus(status)
		out = append(out, c)
	}
	return out, s.mapErr(rows.Err())
}

// DemoMail is what a demo email is written from, read when it is sent.
type DemoMail struct {
	Demo lead.Demo
	// The lead: its name and address (the attendee), organization and language. Erased
	// leads read as ErasedName and their erased address.
	LeadID, LeadFirstName, LeadLastName, LeadEmail, OrganizationName, LeadLanguage string
	LeadErased                                                                     bool
	// The host (the organizer).
	HostName, HostEmail, HostLanguage string
}

// DemoEmail reads the demo of an email job with its lead and host; lead.ErrNotFound when
// the job names no demo.
func (s *Store) DemoEmail(ctx context.Context, jobID string) (DemoMail, error) {
	var m DemoMail
	var status string
	var erased nullTime
	err := s.read.QueryRowContext(ctx, `SELECT d.id, d.lead_id, d.host_id, d.starts_at, d.ends_at, d.sequence, d.status,
	l.first_name, l.last_name, l.email, l.organization_name, l.language, l.anonymized_at, st.name, st.email, st.language
FROM email_jobs j JOIN demos d ON d.id = j.demo_id JOIN leads l ON l.id = d.lead_id JOIN staff st ON st.id = d.host_id
WHERE j.id = $1`, jobID).Scan(&m.Demo.ID, &m.Demo.LeadID, &m.Demo.HostID, (*dbTime)(&m.Demo.StartsAt), (*dbTime)(&m.Demo.EndsAt),
		&m.Demo.Sequence, &status, &m.LeadFirstName, &m.LeadLastName, &m.LeadEmail, &m.OrganizationName, &m.LeadLanguage, &erased,
		&m.HostName, &m.HostEmail, &m.HostLanguage)
	if errors.Is(err, sql.ErrNoRows) {
		return m, lead.ErrNotFound
	}
	m.Demo.Status, m.LeadID, m.LeadErased = lead.DemoStatus(status), m.Demo.LeadID, erased.Valid
	return m, s.mapErr(err)
}

// OwnerNoShows is one owner's number of no-show demos (nil owner: leads without one).
type OwnerNoShows struct {
	OwnerID *string `json:"owner_id"`
	NoShows int     `json:"no_shows"`
}

// demoNoShows counts the no-show demos of the leads created in [from, to) (zero bounds are
// open) per owner of the lead, most first.
func (s *Store) demoNoShows(ctx context.Context, from, to time.Time) ([]OwnerNoShows, error) {
	q := `SELECT l.owner_id, COUNT(*) FROM demos d JOIN leads l ON l.id = d.lead_id WHERE d.status = 'no_show'`
	var args []any
	if !from.IsZero() {
		args = append(args, ts(from))
		q += ` AND l.created_at >= $1`
	}
	if !to.IsZero() {
		args = append(args, ts(to))
		q += ` AND l.created_at < $` + strconv.Itoa(len(args))
	}
	rows, err := s.read.QueryContext(ctx, q+` GROUP BY l.owner_id`, args...)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	out := []OwnerNoShows{}
	for rows.Next() {
		var o OwnerNoShows
		var id sql.NullString
		if err := rows.Scan(&id, &o.NoShows); err != nil {
			return nil, s.mapErr(err)
		}
		o.OwnerID = strPtr(id)
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b OwnerNoShows) int {
		if a.NoShows != b.NoShows {
			return b.NoShows - a.NoShows
		}
		return strings.Compare(ptrOr(a.OwnerID), ptrOr(b.OwnerID))
	})
	return out, s.mapErr(rows.Err())
}

func ptrOr(p *string) string {
	if p == nil {
		return "~" // after every id
	}
	return *p
}

// preferredTimesArg stores a booking's preferred times as a JSON array, NULL when none.
func preferredTimesArg(times []time.Time) any {
	if len(times) == 0 {
		return nil
	}
	b, _ := json.Marshal(times)
	return string(b)
}

// parsePreferredTimes reads what preferredTimesArg stored; [] when none.
func parsePreferredTimes(ns sql.NullString) []time.Time {
	out := []time.Time{}
	if ns.Valid {
		_ = json.Unmarshal([]byte(ns.String), &out) // written by preferredTimesArg
	}
	for i := range out {
		out[i] = out[i].UTC()
	}
	return out
}
