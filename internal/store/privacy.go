package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/webhook"
)

// ErasedName replaces the first and last name of an anonymized lead and its bookings.
const ErasedName = "[erased]"

// ErasedEmail is the address an anonymized lead and its bookings get: unique per lead and in
// the reserved .invalid domain, so it can neither receive mail nor match a later booking.
func ErasedEmail(leadID string) string { return "erased+" + leadID + "@invalid" }

// AnonymizeLead erases the personal data of a lead (SPEC §3.8) in one transaction: its
// personal fields, the same data in its bookings, the personal values in its event details
// and in its stored webhook payloads; its queued emails are cancelled. Organization, source,
// status, utm_*, consent_* and created_at stay, so statistics still add up. It sets
// anonymized_at, writes an `anonymized` event with actor and queues the lead.anonymized
// webhook.
//
// Idempotent: a lead that is already anonymized is returned as it is, with no second event.
func (s *Store) AnonymizeLead(ctx context.Context, id string, actor lead.Actor) (lead.Lead, error) {
	if !validID(id) {
		return lead.Lead{}, lead.ErrNotFound
	}
	var l lead.Lead
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		l, _, err = s.anonymize(ctx, tx, id, actor)
		return err
	})
	if err != nil {
		return l, err
	}
	return l, s.afterErasure(ctx)
}

// afterErasure makes a committed erasure reach every file of the database (see
// engine.afterErasure). The erasure itself stands either way; an error here is an
// internal one for the caller to report.
func (s *Store) afterErasure(ctx context.Context) error {
	return s.mapErr(s.e.afterErasure(ctx, s.write))
}

// AnonymizeByEmail anonymizes the live lead whose normalized email matches, and reports
// how many it anonymized: 0 or 1. An invalid address is a validation error.
func (s *Store) AnonymizeByEmail(ctx context.Context, email string, actor lead.Actor) (int, error) {
	switch {
	case strings.Trim(email, " \t") == "":
		return 0, lead.Invalid(lead.Result{Errors: []lead.Issue{{Field: "email", Rule: lead.RuleRequiredFields,
			Message: "Email is required."}}})
	case !lead.ValidEmail(email):
		return 0, lead.Invalid(lead.Result{Errors: []lead.Issue{{Field: "email", Rule: lead.RuleEmailFormat,
			Message: "Email is not a valid address."}}})
	}
	n := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		n = 0
		var id string
		err := tx.QueryRowContext(ctx, `SELECT id FROM leads WHERE email_normalized = $1 AND anonymized_at IS NULL`,
			lead.NormalizeEmail(email)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		_, done, err := s.anonymize(ctx, tx, id, actor)
		if done {
			n = 1
		}
		return err
	})
	if err != nil || n == 0 {
		return n, err
	}
	return n, s.afterErasure(ctx)
}

// anonymize does the work of AnonymizeLead inside tx; done is false when the lead was
// already anonymized (by an earlier call, or a concurrent one that committed first).
func (s *Store) anonymize(ctx context.Context, tx *sql.Tx, id string, actor lead.Actor) (l lead.Lead, done bool, err error) {
	return s.anonymizeFor(ctx, tx, id, actor, "")
}

// anonymizeFor is anonymize with a reason recorded in the event's details ("" for none).
func (s *Store) anonymizeFor(ctx context.Context, tx *sql.Tx, id string, actor lead.Actor, reason string) (l lead.Lead, done bool, err error) {
	t := s.now().UTC()
	now := ts(t)
	// the row lock makes a concurrent erasure wait here and then find anonymized_at set
	var anonymized nullTime
	err = tx.QueryRowContext(ctx, `SELECT anonymized_at FROM leads WHERE id = $1 `+s.e.forUpdate(), id).Scan(&anonymized)
	if errors.Is(err, sql.ErrNoRows) {
		return l, false, lead.ErrNotFound
	}
	if err != nil {
		return l, false, err
	}
	if anonymized.Valid {
		l, err = s.getLead(ctx, tx, id)
		return l, false, err
	}

	erased := ErasedEmail(id)
	if _, err := tx.ExecContext(ctx, `
UPDATE leads SET first_name = $2, last_name = $2, email = $3, email_normalized = $3, phone = NULL,
	role_title = NULL, notes = NULL, message = NULL, ip_address = NULL, anonymized_at = $4, updated_at = $4
WHERE id = $1`, id, ErasedName, erased, now); err != nil {
		return l, false, err
	}
	res, err := tx.ExecContext(ctx, `
UPDATE bookings SET first_name = $2, last_name = $2, email = $3, phone = NULL, role_title = NULL,
	message = NULL, ip_address = NULL, rate_key = NULL, user_agent = NULL
WHERE lead_id = $1`, id, ErasedName, erased)
	if err != nil {
		return l, false, err
	}
	bookings, _ := res.RowsAffected()
	// Jobs carry ids only (the address is read from the lead when sending) and last_error is
	// sanitized by the mail package, so cancelling what is still due is all they need. A job
	// running right now finishes with the address it already read.
	res, err = tx.ExecContext(ctx, `
UPDATE email_jobs SET status = 'cancelled', locked_until = NULL, updated_at = $2
WHERE lead_id = $1 AND status IN ('pending', 'running')`, id, now)
	if err != nil {
		return l, false, err
	}
	cancelled, _ := res.RowsAffected()
	// the host's emails about the demo had lead_id set, so they died above; the demo goes too
	if err := s.demoErased(ctx, tx, id, actor, t); err != nil {
		return l, false, err
	}
	if err := scrubEvents(ctx, tx, id); err != nil {
		return l, false, err
	}
	// the personal links stop working with the data they showed (SPEC §14)
	if _, err := tx.ExecContext(ctx, `UPDATE personal_links SET revoked_at = $2 WHERE lead_id = $1 AND revoked_at IS NULL`, id, now); err != nil {
		return l, false, err
	}
	details := map[string]any{"bookings": bookings, "emails_cancelled": cancelled}
	if reason != "" {
		details["reason"] = reason
	}
	if err := insertEvent(ctx, tx, id, lead.EventAnonymized, actor, details, t); err != nil {
		return l, false, err
	}
	if l, err = s.getLead(ctx, tx, id); err != nil {
		return l, false, err
	}
	// webhook payloads already stored (pending, failed or delivered) are rewritten with the
	// anonymized lead, so no retry or redelivery carries the erased data; subscribers are
	// told about the erasure itself
	if err := s.scrubWebhookPayloads(ctx, tx, id, l); err != nil {
		return l, false, err
	}
	return l, true, s.enqueueWebhooks(ctx, tx, webhook.EventLeadAnonymized, l, nil)
}

// scrubEvents rewrites the details of a lead's events to the keys that can never carry a
// person's data. Events are meant to hold no values, but this does not rely on every
// writer of events having kept to that.
func scrubEvents(ctx context.Context, tx *sql.Tx, leadID string) error {
	return rewriteText(ctx, tx, `SELECT id, details FROM lead_events WHERE lead_id = $1`, leadID,
		`UPDATE lead_events SET details = $2 WHERE id = $1`,
		func(row []string) (string, bool, error) {
			clean, changed := scrubDetails(row[0])
			return clean, changed, nil
		})
}

// rewriteText reads rows of (id, text columns…) with query (one argument, arg) and, for
// each row that fix changes, writes the new text with update ($1 the id, $2 the text).
// The rows are read whole before the first write: one statement at a time on a connection.
func rewriteText(ctx context.Context, tx *sql.Tx, query string, arg any, update string,
	fix func(row []string) (text string, changed bool, err error)) error {
	rows, err := tx.QueryContext(ctx, query, arg)
	if err != nil {
		return err
	}
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		return err
	}
	type change struct{ id, text string }
	var changes []change
	for rows.Next() {
		row := make([]string, len(cols))
		dest := make([]any, len(row))
		for i := range row {
			dest[i] = &row[i]
		}
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return err
		}
		text, changed, err := fix(row[1:])
		if err != nil {
			rows.Close()
			return err
		}
		if changed {
			changes = append(changes, change{row[0], text})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range changes {
		if _, err := tx.ExecContext(ctx, update, c.id, c.text); err != nil {
			return err
		}
	}
	return nil
}

// leadFields are the column names an `updated` event may list.
var leadFields = func() []string {
	var f []string
	for c := range strings.SplitSeq(leadColumns, ",") {
		f = append(f, strings.TrimSpace(c))
	}
	return f
}()

// scrubDetails keeps only allow-listed keys whose values have their expected, non-personal
// shape: ids, enum values, field names. Anything else (a note's text, an old value) goes.
// changed is false when nothing had to go.
func scrubDetails(details string) (clean string, changed bool) {
	var m map[string]any
	if json.Unmarshal([]byte(details), &m) != nil {
		return "{}", true
	}
	str := func(v any) string { s, _ := v.(string); return s }
	out := map[string]any{}
	for k, v := range m {
		keep := false
		switch k {
		case "booking_id", "demo_id", "host_id":
			keep = validID(str(v))
		case "starts_at":
			_, err := time.Parse(time.RFC3339, str(v))
			keep = err == nil
		case "sequence":
			_, keep = v.(float64)
		case "source":
			keep = slices.Contains(lead.Sources, lead.Source(str(v)))
		case "from", "to":
			keep = slices.Contains(lead.Statuses, lead.Status(str(v)))
		case "fields":
			list, ok := v.([]any)
			keep = ok && !slices.ContainsFunc(list, func(f any) bool { return !slices.Contains(leadFields, str(f)) })
		}
		if keep {
			out[k] = v
		}
	}
	if len(out) == len(m) {
		return details, false
	}
	b, _ := json.Marshal(out)
	return string(b), true
}

// LeadExport is everything stored about one lead (GDPR access and portability).
type LeadExport struct {
	ExportedAt time.Time            `json:"exported_at"`
	Lead       lead.Lead            `json:"lead"`
	Consent    ExportConsent        `json:"consent"`
	Bookings   []lead.BookingRecord `json:"bookings"` // oldest first
	Events     []lead.Event         `json:"events"`   // oldest first
	Emails     []ExportEmail        `json:"emails"`
}

// ExportConsent is the consent proof: what the lead row says, and per booking which consent
// text was shown, when the server recorded the consent, and from where.
type ExportConsent struct {
	ConsentGiven     bool                   `json:"consent_given"`
	ConsentTimestamp *time.Time             `json:"consent_timestamp"`
	Bookings         []ExportBookingConsent `json:"bookings"`
}

// ExportBookingConsent is one booking's consent record.
type ExportBookingConsent struct {
	BookingID        string    `json:"booking_id"`
	ConsentVersion   string    `json:"consent_version"`
	ConsentTimestamp time.Time `json:"consent_timestamp"`
	IPAddress        *string   `json:"ip_address"`
	UserAgent        *string   `json:"user_agent"`
}

// ExportEmail is one confirmation email job: its state, never an address.
type ExportEmail struct {
	ID        string    `json:"id"`
	BookingID string    `json:"booking_id"`
	Status    string    `json:"status"`
	Attempts  int       `json:"attempts"`
	LastError *string   `json:"last_error"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ExportLead collects everything stored about a lead and records an `exported` event with
// actor in the same transaction; the document includes that event.
func (s *Store) ExportLead(ctx context.Context, id string, actor lead.Actor) (LeadExport, error) {
	if !validID(id) {
		return LeadExport{}, lead.ErrNotFound
	}
	var x LeadExport
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.now().UTC().Truncate(time.Microsecond)
		x = LeadExport{ExportedAt: now, Bookings: []lead.BookingRecord{}, Events: []lead.Event{}, Emails: []ExportEmail{}}
		var err error
		if x.Lead, err = s.getLead(ctx, tx, id); err != nil {
			return err
		}
		if err := insertEvent(ctx, tx, id, lead.EventExported, actor, map[string]any{}, now); err != nil {
			return err
		}
		if x.Bookings, err = exportBookings(ctx, tx, id); err != nil {
			return err
		}
		if x.Events, err = queryEvents(ctx, tx, id); err != nil {
			return err
		}
		if x.Emails, err = exportEmails(ctx, tx, id); err != nil {
			return err
		}
		x.Consent = ExportConsent{ConsentGiven: x.Lead.ConsentGiven, ConsentTimestamp: x.Lead.ConsentTimestamp,
			Bookings: make([]ExportBookingConsent, 0, len(x.Bookings))}
		for _, b := range x.Bookings {
			x.Consent.Bookings = append(x.Consent.Bookings, ExportBookingConsent{BookingID: b.ID, ConsentVersion: b.ConsentVersion,
				ConsentTimestamp: b.ConsentTimestamp, IPAddress: b.IPAddress, UserAgent: b.UserAgent})
		}
		return nil
	})
	return x, err
}

func exportBookings(ctx context.Context, tx *sql.Tx, leadID string) ([]lead.BookingRecord, error) {
	rows, err := tx.QueryContext(ctx, `
SELECT id, lead_id, first_name, last_name, email, phone, organization_name, organization_type, organization_size,
	role_title, message, utm_source, utm_medium, utm_campaign, ip_address, user_agent, consent_version,
	consent_timestamp, created_at, language, preferred_times
FROM bookings WHERE lead_id = $1 ORDER BY created_at, id`, leadID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []lead.BookingRecord{}
	for rows.Next() {
		var b lead.BookingRecord
		var phone, oType, oSize, role, msg, us, um, uc, ip, ua, preferred sql.NullString
		if err := rows.Scan(&b.ID, &b.LeadID, &b.FirstName, &b.LastName, &b.Email, &phone, &b.OrganizationName, &oType, &oSize,
			&role, &msg, &us, &um, &uc, &ip, &ua, &b.ConsentVersion,
			(*dbTime)(&b.ConsentTimestamp), (*dbTime)(&b.CreatedAt), &b.Language, &preferred); err != nil {
			return nil, err
		}
		b.PreferredTimes = parsePreferredTimes(preferred)
		b.Phone, b.OrganizationType, b.OrganizationSize, b.RoleTitle = strPtr(phone), strPtr(oType), strPtr(oSize), strPtr(role)
		b.Message, b.UTMSource, b.UTMMedium, b.UTMCampaign = strPtr(msg), strPtr(us), strPtr(um), strPtr(uc)
		b.IPAddress, b.UserAgent = strPtr(ip), strPtr(ua)
		out = append(out, b)
	}
	return out, rows.Err()
}

func exportEmails(ctx context.Context, tx *sql.Tx, leadID string) ([]ExportEmail, error) {
	rows, err := tx.QueryContext(ctx, `
SELECT id, booking_id, status, attempts, last_error, created_at, updated_at
FROM email_jobs WHERE lead_id = $1 ORDER BY created_at, id`, leadID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []ExportEmail{}
	for rows.Next() {
		var e ExportEmail
		var lastErr, bookingID sql.NullString // an email about no booking (a personal link) has none
		if err := rows.Scan(&e.ID, &bookingID, &e.Status, &e.Attempts, &lastErr,
			(*dbTime)(&e.CreatedAt), (*dbTime)(&e.UpdatedAt)); err != nil {
			return nil, err
		}
		e.LastError, e.BookingID = strPtr(lastErr), bookingID.String
		out = append(out, e)
	}
	return out, rows.Err()
}
