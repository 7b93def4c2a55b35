package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/norsedigital/leads/internal/calendar"
	"github.com/norsedigital/leads/internal/lead"
)

// Owners and speed to lead (SPEC §11): who works a new lead (lead_owner_assignment), the
// emails that tell them, and when the lead must have been contacted.

// Kinds of the team's email jobs; each goes to a member (EmailJob.StaffID).
const (
	EmailOwnerNewLead     = "owner_new_lead"     // a member was given a lead
	EmailOwnerBookedAgain = "owner_booked_again" // their lead booked again (at most once a day)
	EmailOwnerOverdue     = "owner_overdue"      // their lead became overdue (once; cancelled once contacted)
)

// bookedAgainInterval: at most one "booked again" email per lead per interval.
const bookedAgainInterval = 24 * time.Hour

// assignLockKey names the transaction lock that serializes every choice of the rule across
// instances (PostgreSQL): without it two choices could read the same counts and pick alike.
const assignLockKey int64 = 0x6c65_6164_735f_6f77 // "leads_ow"

type teamOptions struct {
	cal          *calendar.Calendar
	sla          int
	defaultOwner string // normalized email, "" for none
}

func newTeamOptions(o Options) teamOptions {
	t := teamOptions{cal: o.Calendar, sla: max(o.ContactSLA, 0), defaultOwner: lead.NormalizeEmail(o.DefaultOwner)}
	if t.cal == nil {
		loc, err := time.LoadLocation("Europe/Oslo")
		if err != nil {
			loc = time.UTC
		}
		t.cal = calendar.New(loc)
	}
	return t
}

// contactDue is when a lead created at created must have been contacted.
func (s *Store) contactDue(created time.Time) time.Time {
	return s.team.cal.ContactDue(created, s.team.sla).UTC().Truncate(time.Microsecond)
}

// eligibleSQL is the condition of a member the rule may choose at $1 (now).
const eligibleSQL = `active AND role = 'sales' AND (away_until IS NULL OR away_until <= $1)`

// sqlAnyEligible asks whether the rule has anyone to choose from at $1.
const sqlAnyEligible = `SELECT EXISTS (SELECT 1 FROM staff WHERE ` + eligibleSQL + `)`

// sqlPickOwner chooses by lead_owner_assignment and counts the choice: the lowest
// assignments ÷ weight (equal fractions divide to equal doubles, so ties are ties), then the
// least recently assigned (never first), then the earliest created. The caller holds the
// engine's assignment lock, so the counts it reads are the last committed ones.
const sqlPickOwner = `UPDATE staff SET assignments = assignments + 1, last_assigned_at = $1
WHERE id = (SELECT id FROM staff WHERE ` + eligibleSQL + `
	ORDER BY CAST(assignments AS DOUBLE PRECISION) / weight, last_assigned_at IS NOT NULL, last_assigned_at, created_at, id
	LIMIT 1)
RETURNING id`

// eligibility is what a caller of pickOwner already knows of the rule's members.
type eligibility int

const (
	eligibilityUnknown eligibility = iota // ask, and take the rule's lock when someone is
	eligibleLocked                        // someone is eligible and the caller holds the lock
	eligibleUnlocked                      // someone was eligible at the caller's statement; no lock yet
	noneEligible                          // nobody was eligible at the caller's statement
)

// pickOwner chooses a new lead's owner in tx: by the rule, else the default owner, else
// nobody (""). known is what the caller already knows of the eligible members, and
// whether it holds the assignment lock.
func (s *Store) pickOwner(ctx context.Context, tx *sql.Tx, now time.Time, known eligibility) (owner, reason string, err error) {
	eligible := known == eligibleLocked
	switch known {
	case eligibilityUnknown:
		if eligible, err = s.e.lockIfEligible(ctx, s, tx, now); err != nil {
			return "", "", err
		}
	case eligibleUnlocked:
		if err = s.e.lockAssignment(ctx, tx); err != nil {
			return "", "", err
		}
		eligible = true
	}
	if eligible {
		err := s.txQueryRow(ctx, tx, sqlPickOwner, ts(now)).Scan(&owner)
		if err == nil {
			return owner, lead.ReasonRoundRobin, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", "", err
		}
	}
	if s.team.defaultOwner == "" {
		return "", "", nil
	}
	err = s.txQueryRow(ctx, tx, `SELECT id FROM staff WHERE email_normalized = $1 AND active`, s.team.defaultOwner).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	return owner, lead.ReasonDefault, err
}

// checkAssignable refuses an owner who is not an active member (owner_not_assignable).
// The member's row keeps a key-share lock until commit (engine.forShare): a deactivation
// (SELECT … FOR UPDATE) waits for this transaction and then hands the lead on with the
// member's others, while the rule's count (a plain UPDATE of the row) does not wait.
func (s *Store) checkAssignable(ctx context.Context, tx *sql.Tx, id string) error {
	if !validID(id) {
		return lead.ErrOwnerNotAssignable("owner_id")
	}
	var active bool
	err := tx.QueryRowContext(ctx, `SELECT active FROM staff WHERE id = $1 `+s.e.forShare(), id).Scan(&active)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !active {
		return lead.ErrOwnerNotAssignable("owner_id")
	}
	return err
}

// setOwner makes owner ("" for none) the owner of leadID in tx and writes what follows:
// the owner_assigned event, the new owner's email unless they took the lead themselves,
// and the overdue reminder handed to the new owner. existing is false for a lead created
// in tx: its updated_at is the creation's, and it has no reminder to hand on yet.
func (s *Store) setOwner(ctx context.Context, tx *sql.Tx, leadID, owner, reason string, actor lead.Actor, now time.Time, existing bool) error {
	q := `UPDATE leads SET owner_id = $2 WHERE id = $1`
	args := []any{leadID, nullStr(owner)}
	if existing {
		q = `UPDATE leads SET owner_id = $2, updated_at = CASE WHEN updated_at < $3 THEN $3 ELSE updated_at END WHERE id = $1`
		args = append(args, ts(now))
	}
	if _, err := s.txExec(ctx, tx, q, args...); err != nil {
		return err
	}
	var ownerArg any
	if owner != "" {
		ownerArg = owner
	}
	if err := insertEvent(ctx, tx, leadID, lead.EventOwnerAssigned, actor,
		map[string]any{"owner_id": ownerArg, "reason": reason}, now); err != nil {
		return err
	}
	if owner == "" {
		// nobody to remind: the reminder waits for the next owner
		_, err := s.txExec(ctx, tx, `UPDATE email_jobs SET status = 'cancelled', updated_at = $2
WHERE lead_id = $1 AND kind = '`+EmailOwnerOverdue+`' AND status = 'pending'`, leadID, ts(now))
		return err
	}
	if actor.StaffID != owner {
		if err := s.enqueueEmail(ctx, tx, EmailJobSpec{Kind: EmailOwnerNewLead, LeadID: leadID, StaffID: owner}, now); err != nil {
			return err
		}
	}
	// the pending reminder follows the lead to its new owner; a lead still waiting for its
	// first contact that never had one gets it, due when the lead is
	if existing {
		if _, err := s.txExec(ctx, tx, `UPDATE email_jobs SET staff_id = $2, updated_at = $3
WHERE lead_id = $1 AND kind = '`+EmailOwnerOverdue+`' AND status = 'pending'`, leadID, owner, ts(now)); err != nil {
			return err
		}
	}
	_, err := s.txExec(ctx, tx, `INSERT INTO email_jobs (id, kind, lead_id, staff_id, status, attempts, run_at, created_at, updated_at)
SELECT $1, '`+EmailOwnerOverdue+`', id, $3, 'pending', 0, contact_due_at, $4, $4 FROM leads
WHERE id = $2 AND status = 'new' AND first_contacted_at IS NULL AND contact_due_at IS NOT NULL AND anonymized_at IS NULL
	AND NOT EXISTS (SELECT 1 FROM email_jobs WHERE lead_id = $2 AND kind = '`+EmailOwnerOverdue+`' AND status <> 'cancelled')`,
		newID(), leadID, owner, ts(now))
	return err
}

// assignNew gives a lead created in tx its owner by the rule (nobody eligible: the default
// owner, else none) and reports whether an email was queued.
func (s *Store) assignNew(ctx context.Context, tx *sql.Tx, leadID string, actor lead.Actor, now time.Time, known eligibility) (queued bool, err error) {
	owner, reason, err := s.pickOwner(ctx, tx, now, known)
	if err != nil || owner == "" {
		return false, err
	}
	return true, s.setOwner(ctx, tx, leadID, owner, reason, actor, now, false)
}

// bookedAgain runs for a booking linked to the known lead leadID whose owner is owner
// ("" for none): an active owner keeps the lead and is told, at most once per lead per
// bookedAgainInterval; an inactive owner, or none, is replaced by the rule (nobody
// eligible: the lead keeps what it has). It reports whether an email was queued.
func (s *Store) bookedAgain(ctx context.Context, tx *sql.Tx, leadID, bookingID, owner string, now time.Time) (bool, error) {
	if owner != "" {
		var active bool
		if err := s.txQueryRow(ctx, tx, `SELECT active FROM staff WHERE id = $1`, owner).Scan(&active); err != nil {
			return false, err
		}
		if active {
			r, err := s.txExec(ctx, tx, `INSERT INTO email_jobs (id, kind, lead_id, booking_id, staff_id, status, attempts, run_at, created_at, updated_at)
SELECT $1, '`+EmailOwnerBookedAgain+`', $2, $3, $4, 'pending', 0, $5, $5, $5
WHERE NOT EXISTS (SELECT 1 FROM email_jobs WHERE lead_id = $2 AND kind = '`+EmailOwnerBookedAgain+`' AND created_at > $6)`,
				newID(), leadID, bookingID, owner, ts(now), ts(now.Add(-bookedAgainInterval)))
			if err != nil {
				return false, err
			}
			n, err := r.RowsAffected()
			return n == 1, err
		}
	}
	next, reason, err := s.pickOwner(ctx, tx, now, eligibilityUnknown)
	if err != nil || next == "" {
		return false, err
	}
	return true, s.setOwner(ctx, tx, leadID, next, reason, lead.PublicActor, now, true)
}

// memberDeactivated runs in the transaction that deactivates the member id: their open leads
// go to others by lead_owner_assignment (SPEC §11), oldest first; their closed leads keep them.
// The caller took the assignment lock before the member's row (UpdateMember), so no choice
// of the rule can wait for that row while this waits for the lock.
func (s *Store) memberDeactivated(ctx context.Context, tx *sql.Tx, id string, actor lead.Actor, now time.Time) error {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM leads
WHERE owner_id = $1 AND status NOT IN ('won', 'lost', 'disqualified') AND anonymized_at IS NULL
ORDER BY created_at, id`, id)
	if err != nil {
		return err
	}
	var ids []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, l := range ids {
		owner, reason, err := s.pickOwner(ctx, tx, now, eligibleLocked)
		if err != nil {
			return err
		}
		if reason != lead.ReasonDefault {
			reason = lead.ReasonMemberDeactivated
		}
		if err := s.setOwner(ctx, tx, l, owner, reason, actor, now, true); err != nil {
			return err
		}
	}
	return nil
}

// contacted records the lead's first contact by staff in tx, once, and cancels its overdue
// reminder: it is no longer due.
func (s *Store) contacted(ctx context.Context, tx *sql.Tx, leadID string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE leads SET first_contacted_at = $2 WHERE id = $1 AND first_contacted_at IS NULL`,
		leadID, ts(now)); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE email_jobs SET status = 'cancelled', updated_at = $2
WHERE lead_id = $1 AND kind = '`+EmailOwnerOverdue+`' AND status = 'pending'`, leadID, ts(now))
	return err
}

// isStaff says whether actor is a member or a service token (whose acts count as contact).
func isStaff(actor lead.Actor) bool {
	return actor.Name != lead.ActorPublic && actor.Name != lead.ActorDataSubject && actor.Name != ""
}
