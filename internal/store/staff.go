package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/webhook"
)

// MaxNotesLength is the most code points a lead's notes may hold in total (SPEC §2).
const MaxNotesLength = 100_000

// emailTaken is raised inside a transaction when the unique index refuses an email; the
// holder is looked up after the rollback (PostgreSQL cannot query an aborted transaction).
type emailTaken struct{ normalized string }

func (e emailTaken) Error() string { return "email already belongs to a live lead" }

// errRowMoved reports that the row changed between the read and the conditional write.
var errRowMoved = errors.New("lead changed during update")

// maxAttempts bounds the retries of a write that lost a race it can safely redo.
const maxAttempts = 3

// CreateLead stores a lead that staff or an import validated (lead.ValidateCreate) and
// writes its created event. ID, timestamps and anonymized_at are the store's; no email is
// enqueued. An address that a live lead already has is refused with a CodeConflict error
// carrying ExistingLeadID; the unique index decides, so concurrent creates cannot both win.
func (s *Store) CreateLead(ctx context.Context, l lead.Lead, actor lead.Actor) (lead.Lead, error) {
	if !l.ConsentGiven || l.ConsentTimestamp == nil {
		return lead.Lead{}, lead.Invalid(lead.Result{Errors: []lead.Issue{{Field: "consent_given", Rule: lead.RuleGDPRConsent,
			Message: "Consent and its timestamp are required."}}})
	}
	normalized := lead.NormalizeEmail(l.Email)
	for attempt := 1; ; attempt++ {
		var out lead.Lead
		queued := false
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			now := s.now().UTC().Truncate(time.Microsecond)
			if l.OwnerID != nil {
				if err := s.checkAssignable(ctx, tx, *l.OwnerID); err != nil {
					return err
				}
			}
			row := tx.QueryRowContext(ctx, `
INSERT INTO leads (id, first_name, last_name, email, email_normalized, phone, organization_name, organization_type,
	organization_size, role_title, source, status, notes, message, utm_source, utm_medium, utm_campaign, ip_address,
	consent_given, consent_timestamp, created_at, updated_at, language, contact_due_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, TRUE, $19, $20, $20, $21, $22)
RETURNING `+leadColumns,
				newID(), l.FirstName, l.LastName, l.Email, normalized, ptrArg(l.Phone), l.OrganizationName,
				ptrArg(l.OrganizationType), ptrArg(l.OrganizationSize), ptrArg(l.RoleTitle), string(l.Source), string(l.Status),
				ptrArg(l.Notes), ptrArg(l.Message), ptrArg(l.UTMSource), ptrArg(l.UTMMedium), ptrArg(l.UTMCampaign),
				ptrArg(l.IPAddress), ts(*l.ConsentTimestamp), ts(now), storedLanguage(l.Language), ts(s.contactDue(now)))
			var err error
			if out, err = scanLead(row); err != nil {
				if s.isUnique(err) {
					return emailTaken{normalized}
				}
				return err
			}
			if err := insertEvent(ctx, tx, out.ID, lead.EventCreated, actor, map[string]any{"source": out.Source}, now); err != nil {
				return err
			}
			// the owner named, else the rule's (SPEC §11)
			if l.OwnerID != nil {
				queued = actor.StaffID != *l.OwnerID
				err = s.setOwner(ctx, tx, out.ID, *l.OwnerID, lead.ReasonManual, actor, now, false)
			} else {
				queued, err = s.assignNew(ctx, tx, out.ID, actor, now, eligibilityUnknown)
			}
			if err != nil {
				return err
			}
			if out, err = s.getLead(ctx, tx, out.ID); err != nil {
				return err
			}
			return s.enqueueWebhooks(ctx, tx, webhook.EventLeadCreated, out, nil)
		})
		var taken emailTaken
		if errors.As(err, &taken) {
			if retry, err := s.emailConflict(ctx, taken, attempt); !retry {
				return lead.Lead{}, err
			}
			continue
		}
		if err == nil && queued {
			s.notifyJobs()
		}
		return out, err
	}
}

// emailConflict is the dedup conflict naming the live lead that holds the address. When
// that lead was erased after the unique index refused, the caller may retry instead.
func (s *Store) emailConflict(ctx context.Context, taken emailTaken, attempt int) (retry bool, err error) {
	conflict := &lead.Error{Code: lead.CodeConflict, Rule: lead.RuleDeduplication,
		Message: "a lead with this email address already exists"}
	err = s.read.QueryRowContext(ctx, `SELECT id FROM leads WHERE email_normalized = $1 AND anonymized_at IS NULL`,
		taken.normalized).Scan(&conflict.ExistingLeadID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return attempt < maxAttempts, conflict
	case err != nil:
		return false, s.mapErr(err)
	}
	return false, conflict
}

// PatchLead applies a JSON merge patch of contact fields and status (lead.ValidatePatch)
// in one transaction: read the row locked, check precondition on it (the caller's
// If-Match, httpapi.IfMatch; nil means none), refuse erased leads, validate, write, and record an
// updated event (field names only) and a status_changed event. A patch that changes
// nothing writes nothing. The write is also conditional on the updated_at that was read,
// so two writers passing the same precondition can never both succeed.
func (s *Store) PatchLead(ctx context.Context, id string, patch lead.Input, precondition func(current lead.Lead) error, actor lead.Actor) (lead.Lead, error) {
	if !validID(id) {
		return lead.Lead{}, lead.ErrNotFound
	}
	for attempt := 1; ; attempt++ {
		var out lead.Lead
		queued := false
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			queued = false
			// the member's row before the lead's, in the order a deactivation takes them
			var ownerErr error
			if patch.OwnerID.Set && !patch.OwnerID.Null {
				if ownerErr = s.checkAssignable(ctx, tx, patch.OwnerID.Value); ownerErr != nil && lead.ErrorCode(ownerErr) != lead.CodeInvalid {
					return ownerErr
				}
			}
			cur, err := s.lockLead(ctx, tx, id)
			if err != nil {
				return err
			}
			if precondition != nil {
				if err := precondition(cur); err != nil {
					return err
				}
			}
			if cur.AnonymizedAt != nil {
				return errErased()
			}
			next, res := lead.ValidatePatch(cur, patch)
			if ownerErr != nil {
				var le *lead.Error
				errors.As(ownerErr, &le)
				res.Errors = append(res.Errors, le.Issues...)
			}
			if !res.OK() {
				e := lead.Invalid(res)
				if slices.ContainsFunc(res.Errors, func(i lead.Issue) bool { return i.Rule == lead.RuleStatusTransition }) {
					e.Allowed = append([]lead.Status{}, lead.NextStatuses(cur.Status)...) // [] out of disqualified, never null
				}
				return e
			}
			fields := changedFields(cur, next)
			ownerChanged := !samePtr(cur.OwnerID, next.OwnerID)
			if len(fields) == 0 && next.Status == cur.Status && !ownerChanged {
				out = cur
				return nil
			}
			now := nextUpdatedAt(s.now(), cur)
			row := tx.QueryRowContext(ctx, `
UPDATE leads SET first_name = $2, last_name = $3, email = $4, email_normalized = $5, phone = $6,
	organization_name = $7, organization_type = $8, organization_size = $9, role_title = $10, message = $11,
	utm_source = $12, utm_medium = $13, utm_campaign = $14, status = $15, updated_at = $16, language = $18
WHERE id = $1 AND updated_at = $17 AND anonymized_at IS NULL
RETURNING `+leadColumns,
				id, next.FirstName, next.LastName, next.Email, lead.NormalizeEmail(next.Email), ptrArg(next.Phone),
				next.OrganizationName, ptrArg(next.OrganizationType), ptrArg(next.OrganizationSize), ptrArg(next.RoleTitle),
				ptrArg(next.Message), ptrArg(next.UTMSource), ptrArg(next.UTMMedium), ptrArg(next.UTMCampaign),
				string(next.Status), ts(now), ts(cur.UpdatedAt), storedLanguage(next.Language))
			if out, err = scanLead(row); err != nil {
				switch {
				case errors.Is(err, sql.ErrNoRows):
					return errRowMoved
				case s.isUnique(err):
					return emailTaken{lead.NormalizeEmail(next.Email)}
				}
				return err
			}
			// first contact: staff moved it out of new (SPEC §11, speed to lead)
			contact := cur.Status == lead.StatusNew && next.Status != cur.Status && isStaff(actor) && cur.FirstContactedAt == nil
			if contact {
				if err := s.contacted(ctx, tx, id, now); err != nil {
					return err
				}
			}
			if ownerChanged {
				owner := ""
				if next.OwnerID != nil {
					owner = *next.OwnerID
				}
				if err := s.setOwner(ctx, tx, id, owner, lead.ReasonManual, actor, now, true); err != nil {
					return err
				}
				queued = owner != "" && owner != actor.StaffID
			}
			if contact || ownerChanged {
				if out, err = s.getLead(ctx, tx, id); err != nil {
					return err
				}
			}
			if len(fields) > 0 {
				if err := insertEvent(ctx, tx, id, lead.EventUpdated, actor, map[string]any{"fields": fields}, now); err != nil {
					return err
				}
				if err := s.enqueueWebhooks(ctx, tx, webhook.EventLeadUpdated, out, map[string]any{"fields": fields}); err != nil {
					return err
				}
			}
			if next.Status != cur.Status {
				change := map[string]any{"from": cur.Status, "to": next.Status}
				if err := insertEvent(ctx, tx, id, lead.EventStatusChanged, actor, change, now); err != nil {
					return err
				}
				if err := s.demoLeadClosed(ctx, tx, id, next.Status, actor, now); err != nil {
					return err
				}
				return s.enqueueWebhooks(ctx, tx, webhook.EventLeadStatusChanged, out, change)
			}
			return nil
		})
		if errors.Is(err, errRowMoved) && attempt < maxAttempts {
			continue // the retry reads the new row and re-checks If-Match against it
		}
		if err == nil && queued {
			s.notifyJobs()
		}
		var taken emailTaken
		if errors.As(err, &taken) {
			if retry, err := s.emailConflict(ctx, taken, attempt); !retry {
				return lead.Lead{}, err
			}
			continue
		}
		return out, err
	}
}

// AppendNote appends one sales note (lead.ValidateNote) to a lead's notes as a line
// stamped with the time and the actor, and writes a note_added event without the text.
// Notes are never rewritten, and their total stays within MaxNotesLength.
func (s *Store) AppendNote(ctx context.Context, id, text string, actor lead.Actor) (lead.Lead, error) {
	text, res := lead.ValidateNote(text)
	if !res.OK() {
		return lead.Lead{}, lead.Invalid(res)
	}
	if !validID(id) {
		return lead.Lead{}, lead.ErrNotFound
	}
	var out lead.Lead
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := s.lockLead(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur.AnonymizedAt != nil {
			return errErased()
		}
		now := nextUpdatedAt(s.now(), cur)
		notes := fmt.Sprintf("[%s] %s: %s", now.Format(time.RFC3339), actor.Name, text)
		if cur.Notes != nil && *cur.Notes != "" {
			notes = *cur.Notes + "\n" + notes
		}
		if utf8.RuneCountInString(notes) > MaxNotesLength {
			return lead.Invalid(lead.Result{Errors: []lead.Issue{{Field: "text", Rule: lead.RuleFieldLength,
				Message: fmt.Sprintf("Notes may hold at most %d characters in total; this note does not fit.", MaxNotesLength)}}})
		}
		// a staff note is a contact (SPEC §11, speed to lead): first_contacted_at is set once
		contact := isStaff(actor) && cur.FirstContactedAt == nil
		if contact {
			if err := s.contacted(ctx, tx, id, now); err != nil {
				return err
			}
		}
		out, err = scanLead(tx.QueryRowContext(ctx,
			`UPDATE leads SET notes = $2, updated_at = $3 WHERE id = $1 RETURNING `+leadColumns, id, notes, ts(now)))
		if err != nil {
			return err
		}
		return insertEvent(ctx, tx, id, lead.EventNoteAdded, actor, map[string]any{}, now)
	})
	return out, err
}

// ListEvents returns a lead's audit trail, oldest first, or lead.ErrNotFound.
func (s *Store) ListEvents(ctx context.Context, leadID string) ([]lead.Event, error) {
	if err := s.leadExists(ctx, leadID); err != nil {
		return nil, err
	}
	out, err := queryEvents(ctx, s.read, leadID)
	return out, s.mapErr(err)
}

type rowsQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryEvents reads a lead's audit trail, oldest first.
func queryEvents(ctx context.Context, q rowsQuerier, leadID string) ([]lead.Event, error) {
	rows, err := q.QueryContext(ctx,
		`SELECT id, type, actor, actor_id, details, created_at FROM lead_events WHERE lead_id = $1 ORDER BY created_at, id`, leadID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []lead.Event{}
	for rows.Next() {
		var e lead.Event
		var details string
		var actorID sql.NullString
		if err := rows.Scan(&e.ID, &e.Type, &e.Actor, &actorID, &details, (*dbTime)(&e.CreatedAt)); err != nil {
			return nil, err
		}
		if !json.Valid([]byte(details)) {
			details = "{}" // never let one bad row break the whole answer
		}
		e.ActorID, e.Details = strPtr(actorID), json.RawMessage(details)
		out = append(out, e)
	}
	return out, rows.Err()
}

// ListBookings returns a lead's bookings, newest first, or lead.ErrNotFound.
func (s *Store) ListBookings(ctx context.Context, leadID string) ([]lead.BookingRecord, error) {
	if err := s.leadExists(ctx, leadID); err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, `
SELECT id, lead_id, first_name, last_name, email, phone, organization_name, organization_type, organization_size,
	role_title, message, utm_source, utm_medium, utm_campaign, ip_address, user_agent, consent_version,
	consent_timestamp, created_at, language, preferred_times
FROM bookings WHERE lead_id = $1 ORDER BY created_at DESC, id DESC`, leadID)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	out := []lead.BookingRecord{}
	for rows.Next() {
		var b lead.BookingRecord
		var phone, oType, oSize, role, msg, us, um, uc, ip, ua, preferred sql.NullString
		if err := rows.Scan(&b.ID, &b.LeadID, &b.FirstName, &b.LastName, &b.Email, &phone, &b.OrganizationName,
			&oType, &oSize, &role, &msg, &us, &um, &uc, &ip, &ua, &b.ConsentVersion,
			(*dbTime)(&b.ConsentTimestamp), (*dbTime)(&b.CreatedAt), &b.Language, &preferred); err != nil {
			return nil, s.mapErr(err)
		}
		b.PreferredTimes = parsePreferredTimes(preferred)
		b.Phone, b.OrganizationType, b.OrganizationSize, b.RoleTitle = strPtr(phone), strPtr(oType), strPtr(oSize), strPtr(role)
		b.Message, b.UTMSource, b.UTMMedium, b.UTMCampaign = strPtr(msg), strPtr(us), strPtr(um), strPtr(uc)
		b.IPAddress, b.UserAgent = strPtr(ip), strPtr(ua)
		out = append(out, b)
	}
	return out, s.mapErr(rows.Err())
}

// lockLead reads a lead inside tx, locked until commit, or returns lead.ErrNotFound.
func (s *Store) lockLead(ctx context.Context, tx *sql.Tx, id string) (lead.Lead, error) {
	l, err := scanLead(tx.QueryRowContext(ctx, `SELECT `+leadColumns+` FROM leads WHERE id = $1 `+s.e.forUpdate(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return l, lead.ErrNotFound
	}
	return l, err
}

func (s *Store) leadExists(ctx context.Context, id string) error {
	if !validID(id) {
		return lead.ErrNotFound
	}
	var one int
	err := s.read.QueryRowContext(ctx, `SELECT 1 FROM leads WHERE id = $1`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return lead.ErrNotFound
	}
	return s.mapErr(err)
}

func errErased() error {
	return &lead.Error{Code: lead.CodeConflict, Message: "the lead has been erased (anonymized) and can no longer be changed"}
}

// nextUpdatedAt is the clock's time, but always after the row's current updated_at, so
// that updated_at changes on every write and the conditional UPDATE above is a true
// version check even when two writes share a clock tick.
func nextUpdatedAt(now time.Time, cur lead.Lead) time.Time {
	now = now.UTC().Truncate(time.Microsecond)
	if !now.After(cur.UpdatedAt) {
		now = cur.UpdatedAt.Add(time.Microsecond)
	}
	return now
}

// changedFields names the patchable contact fields whose values differ, in column order.
// storedLanguage is a validated lead's language as stored: nb unless en (SPEC §12).
func storedLanguage(l string) string {
	if l == lead.LanguageEN {
		return lead.LanguageEN
	}
	return lead.LanguageNB
}

func changedFields(a, b lead.Lead) []string {
	var out []string
	eq := func(x, y *string) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	for _, f := range []struct {
		name string
		same bool
	}{
		{"first_name", a.FirstName == b.FirstName},
		{"last_name", a.LastName == b.LastName},
		{"email", a.Email == b.Email},
		{"phone", eq(a.Phone, b.Phone)},
		{"organization_name", a.OrganizationName == b.OrganizationName},
		{"organization_type", eq(a.OrganizationType, b.OrganizationType)},
		{"organization_size", eq(a.OrganizationSize, b.OrganizationSize)},
		{"role_title", eq(a.RoleTitle, b.RoleTitle)},
		{"message", eq(a.Message, b.Message)},
		{"utm_source", eq(a.UTMSource, b.UTMSource)},
		{"utm_medium", eq(a.UTMMedium, b.UTMMedium)},
		{"utm_campaign", eq(a.UTMCampaign, b.UTMCampaign)},
		{"language", a.Language == b.Language},
	} {
		if !f.same {
			out = append(out, f.name)
		}
	}
	return out
}

func samePtr(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// ptrArg passes an optional column: NULL when absent.
func ptrArg(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}
