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
	"github.com/norsedigital/leads/internal/lead/query"
	"github.com/norsedigital/leads/internal/webhook"
)

// Webhook is a subscription as the API shows it. The secret is not part of it: it is
// returned once, by CreateWebhook.
type Webhook struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// WebhookPatch changes a subscription; nil fields are left alone.
type WebhookPatch struct {
	URL    *string
	Events []string
	Active *bool
}

// WebhookDeliveryInfo is one row of a subscription's delivery log. A delivery being
// attempted right now shows as pending.
type WebhookDeliveryInfo struct {
	ID             string     `json:"id"`
	Event          string     `json:"event"`
	LeadID         string     `json:"lead_id"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	LastStatusCode *int       `json:"last_status_code"`
	LastError      *string    `json:"last_error"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// WebhookDelivery is a claimed delivery with what the worker needs to send it.
type WebhookDelivery struct {
	ID        string // the webhook-id header
	WebhookID string
	URL       string
	Secret    string
	Event     string
	Payload   []byte
	Attempts  int // including the current one
	QueuedAt  time.Time
}

// CreateWebhook stores a new active subscription and returns it with its secret, which is
// never shown again. The caller has checked url (webhook.Guard.CheckURL): the store does
// no DNS. Events must be known; duplicates are dropped.
func (s *Store) CreateWebhook(ctx context.Context, url string, events []string) (Webhook, string, error) {
	events, err := canonicalEvents(events)
	if err != nil {
		return Webhook{}, "", err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	w := Webhook{ID: newID(), URL: url, Events: events, Active: true, CreatedAt: now, UpdatedAt: now}
	secret := webhook.NewSecret()
	ev, _ := json.Marshal(events)
	_, err = s.write.ExecContext(ctx, `
INSERT INTO webhooks (id, url, events, secret, active, created_at, updated_at) VALUES ($1, $2, $3, $4, TRUE, $5, $5)`,
		w.ID, url, string(ev), secret, ts(now))
	if err != nil {
		return Webhook{}, "", s.mapErr(err)
	}
	return w, secret, nil
}

// canonicalEvents checks event names and returns them once each, in webhook.Events order.
func canonicalEvents(events []string) ([]string, error) {
	if len(events) == 0 {
		return nil, lead.Invalid(lead.Result{Errors: []lead.Issue{{Field: "events", Rule: lead.RuleRequiredFields,
			Message: "List at least one event: " + strings.Join(webhook.Events, ", ") + "."}}})
	}
	for _, e := range events {
		if !webhook.ValidEvent(e) {
			return nil, lead.Invalid(lead.Result{Errors: []lead.Issue{{Field: "events", Rule: webhook.RuleEventEnum,
				Message: "Events must be among: " + strings.Join(webhook.Events, ", ") + "."}}})
		}
	}
	var out []string
	for _, e := range webhook.Events {
		if slices.Contains(events, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

const webhookColumns = `id, url, events, active, created_at, updated_at`

func scanWebhook(r rowScanner) (Webhook, error) {
	var w Webhook
	var events string
	if err := r.Scan(&w.ID, &w.URL, &events, &w.Active, (*dbTime)(&w.CreatedAt), (*dbTime)(&w.UpdatedAt)); err != nil {
		return w, err
	}
	if json.Unmarshal([]byte(events), &w.Events) != nil || w.Events == nil {
		w.Events = []string{}
	}
	return w, nil
}

// ListWebhooks returns the subscriptions that are not deleted, oldest first.
func (s *Store) ListWebhooks(ctx context.Context) ([]Webhook, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE deleted_at IS NULL ORDER BY id`)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	out := []Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, s.mapErr(err)
		}
		out = append(out, w)
	}
	return out, s.mapErr(rows.Err())
}

// GetWebhook returns a subscription that is not deleted, or lead.ErrNotFound.
func (s *Store) GetWebhook(ctx context.Context, id string) (Webhook, error) {
	if !validID(id) {
		return Webhook{}, lead.ErrNotFound
	}
	w, err := scanWebhook(s.read.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = $1 AND deleted_at IS NULL`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return w, lead.ErrNotFound
	}
	return w, s.mapErr(err)
}

// UpdateWebhook applies p. Pending deliveries go to the new URL; a paused (inactive)
// subscription keeps its pending deliveries until it is active again.
func (s *Store) UpdateWebhook(ctx context.Context, id string, p WebhookPatch) (Webhook, error) {
	if !validID(id) {
		return Webhook{}, lead.ErrNotFound
	}
	var events any
	if p.Events != nil {
		ev, err := canonicalEvents(p.Events)
		if err != nil {
			return Webhook{}, err
		}
		b, _ := json.Marshal(ev)
		events = string(b)
	}
	var url, active any
	if p.URL != nil {
		url = *p.URL
	}
	if p.Active != nil {
		active = *p.Active
	}
	w, err := scanWebhook(s.write.QueryRowContext(ctx, `
UPDATE webhooks SET url = COALESCE($2, url), events = COALESCE($3, events), active = COALESCE($4, active), updated_at = $5
WHERE id = $1 AND deleted_at IS NULL
RETURNING `+webhookColumns, id, url, events, active, ts(s.now())))
	if errors.Is(err, sql.ErrNoRows) {
		return w, lead.ErrNotFound
	}
	return w, s.mapErr(err)
}

// DeleteWebhook removes a subscription: it disappears from the API, its secret is wiped,
// and its deliveries still queued are cancelled. The row stays (soft delete) so that the
// deliveries it sent keep a consistent history.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	if !validID(id) {
		return lead.ErrNotFound
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		now := ts(s.now())
		res, err := tx.ExecContext(ctx, `UPDATE webhooks SET deleted_at = $2, updated_at = $2, active = FALSE, secret = ''
WHERE id = $1 AND deleted_at IS NULL`, id, now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return lead.ErrNotFound
		}
		_, err = tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'cancelled', locked_until = NULL, updated_at = $2
WHERE webhook_id = $1 AND status IN ('pending', 'running')`, id, now)
		return err
	})
}

// ListWebhookDeliveries returns a page of a subscription's delivery log, newest first, and
// the cursor of the next page ("" at the end). cursor is "" or a previous page's.
func (s *Store) ListWebhookDeliveries(ctx context.Context, webhookID string, limit int, cursor string) ([]WebhookDeliveryInfo, string, error) {
	if _, err := s.GetWebhook(ctx, webhookID); err != nil {
		return nil, "", err
	}
	if cursor != "" && !validID(cursor) {
		return nil, "", lead.Invalid(lead.Result{Errors: []lead.Issue{{Field: "cursor", Rule: query.RuleQueryParameter,
			Message: "The cursor is not one this API returned."}}})
	}
	q := `SELECT id, event, lead_id, status, attempts, last_status_code, last_error, next_attempt_at, created_at, updated_at
FROM webhook_deliveries WHERE webhook_id = $1`
	args := []any{webhookID}
	if cursor != "" {
		q += ` AND id < $3`
		args = append(args, limit+1, cursor)
	} else {
		args = append(args, limit+1)
	}
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY id DESC LIMIT $2`, args...)
	if err != nil {
		return nil, "", s.mapErr(err)
	}
	defer rows.Close()
	out := []WebhookDeliveryInfo{}
	for rows.Next() {
		var d WebhookDeliveryInfo
		var code sql.NullInt64
		var lastErr sql.NullString
		var next nullTime
		if err := rows.Scan(&d.ID, &d.Event, &d.LeadID, &d.Status, &d.Attempts, &code, &lastErr, &next,
			(*dbTime)(&d.CreatedAt), (*dbTime)(&d.UpdatedAt)); err != nil {
			return nil, "", s.mapErr(err)
		}
		if code.Valid {
			c := int(code.Int64)
			d.LastStatusCode = &c
		}
		d.LastError = strPtr(lastErr)
		switch d.Status {
		case "running":
			d.Status = "pending"
		case "pending":
			d.NextAttemptAt = timePtr(next)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, "", s.mapErr(err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// RedeliverWebhook queues a delivery of the subscription again, due now: same id (the
// webhook-id), its attempts go on, and its 24 hours of retries start again.
func (s *Store) RedeliverWebhook(ctx context.Context, webhookID, deliveryID string) error {
	if !validID(webhookID) || !validID(deliveryID) {
		return lead.ErrNotFound
	}
	now := ts(s.now())
	res, err := s.write.ExecContext(ctx, `
UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $3, queued_at = $3, locked_until = NULL, updated_at = $3
WHERE id = $1 AND webhook_id = $2 AND webhook_id IN (SELECT id FROM webhooks WHERE deleted_at IS NULL)`,
		deliveryID, webhookID, now)
	if err != nil {
		return s.mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return lead.ErrNotFound
	}
	return nil
}

// ClaimWebhookDeliveries leases up to limit due deliveries of active subscriptions to the
// caller for lease. A delivery whose lease ran out (its worker crashed) is due again.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, limit int, lease time.Duration) ([]WebhookDelivery, error) {
	now := s.now().UTC()
	var out []WebhookDelivery
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if out, err = s.e.claimWebhookDeliveries(ctx, tx, now, lease, limit); err != nil {
			return err
		}
		type target struct{ url, secret string }
		targets := map[string]target{}
		for i, d := range out {
			t, ok := targets[d.WebhookID]
			if !ok {
				if err := tx.QueryRowContext(ctx, `SELECT url, secret FROM webhooks WHERE id = $1`, d.WebhookID).Scan(&t.url, &t.secret); err != nil {
					return err
				}
				targets[d.WebhookID] = t
			}
			out[i].URL, out[i].Secret = t.url, t.secret
		}
		return nil
	})
	return out, err
}

// scanClaimedDeliveries reads the rows of engine.claimWebhookDeliveries's claim and closes them.
func scanClaimedDeliveries(rows *sql.Rows) ([]WebhookDelivery, error) {
	defer rows.Close()
	var out []WebhookDelivery
	for rows.Next() {
		var d WebhookDelivery
		var payload string
		if err := rows.Scan(&d.ID, &d.WebhookID, &d.Event, &payload, &d.Attempts, (*dbTime)(&d.QueuedAt)); err != nil {
			return nil, err
		}
		d.Payload = []byte(payload)
		out = append(out, d)
	}
	return out, rows.Err()
}

// CompleteWebhookDelivery marks the claimed attempt (the delivery's attempts count when it
// was claimed) delivered. It changes nothing when the delivery was redelivered or its
// subscription deleted meanwhile.
func (s *Store) CompleteWebhookDelivery(ctx context.Context, id string, attempt, statusCode int) error {
	_, err := s.write.ExecContext(ctx, `
UPDATE webhook_deliveries SET status = 'delivered', locked_until = NULL, last_status_code = $3, last_error = NULL, updated_at = $4
WHERE id = $1 AND attempts = $2 AND status = 'running'`, id, attempt, statusCode, ts(s.now()))
	return s.mapErr(err)
}

// ReleaseWebhookDeliveries gives claimed deliveries back unattempted (a worker stopping
// before it began them): due again at once, the claim's attempt not counted. A delivery
// claimed again since (its lease ran out) is left alone.
func (s *Store) ReleaseWebhookDeliveries(ctx context.Context, ds []WebhookDelivery) error {
	if len(ds) == 0 {
		return nil
	}
	now := ts(s.now())
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, d := range ds {
			if _, err := tx.ExecContext(ctx, `
UPDATE webhook_deliveries SET status = 'pending', attempts = attempts - 1, locked_until = NULL, updated_at = $3
WHERE id = $1 AND attempts = $2 AND status = 'running'`, d.ID, d.Attempts, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// RetryWebhookDelivery records a failed attempt: due again at retryAt, or failed for good
// when retryAt is nil. statusCode is 0 when no HTTP answer came; reason must not contain
// the URL or personal data.
func (s *Store) RetryWebhookDelivery(ctx context.Context, id string, attempt int, retryAt *time.Time, statusCode int, reason string) error {
	status, next := "failed", s.now()
	if retryAt != nil {
		status, next = "pending", *retryAt
	}
	var code any
	if statusCode != 0 {
		code = statusCode
	}
	_, err := s.write.ExecContext(ctx, `
UPDATE webhook_deliveries SET status = $3, next_attempt_at = $4, locked_until = NULL, last_status_code = $5, last_error = $6, updated_at = $7
WHERE id = $1 AND attempts = $2 AND status = 'running'`, id, attempt, status, ts(next), code, reason, ts(s.now()))
	return s.mapErr(err)
}

// subscription is a live subscription and the events it wants.
type subscription struct {
	id     string
	events []string
}

const sqlLiveSubscriptions = `SELECT id, events FROM webhooks WHERE active AND deleted_at IS NULL`

// liveSubscriptions reads, inside tx, the active subscriptions.
// It runs on every booking, so it takes the prepared-statement path.
func (s *Store) liveSubscriptions(ctx context.Context, tx *sql.Tx) ([]subscription, error) {
	rows, err := s.txQuery(ctx, tx, sqlLiveSubscriptions)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []subscription
	for rows.Next() {
		var id, events string
		if err := rows.Scan(&id, &events); err != nil {
			return nil, err
		}
		if sub, ok := parseSubscription(id, events); ok {
			out = append(out, sub)
		}
	}
	return out, rows.Err()
}

// parseSubscription reads a webhooks row; ok false when its events are unreadable.
func parseSubscription(id, events string) (subscription, bool) {
	sub := subscription{id: id}
	return sub, json.Unmarshal([]byte(events), &sub.events) == nil
}

// subscribers are the ids of the subscriptions that want event.
func subscribers(subs []subscription, event string) []string {
	var ids []string
	for _, sub := range subs {
		if slices.Contains(sub.events, event) {
			ids = append(ids, sub.id)
		}
	}
	return ids
}

// webhookEvent is one event about a lead, with the data beside the lead ("booking",
// "from"/"to", "fields").
type webhookEvent struct {
	typ  string
	data map[string]any
}

// enqueueWebhooks queues event about lead l (its state after the change) for every active
// subscription that wants it, inside tx, so the event exists exactly when the change
// commits. data adds payload keys beside "lead": "booking" for booking.created, "from"
// and "to" for lead.status_changed, "fields" (changed field names) for lead.updated.
//
// Callers: CreateLead (lead.created), PatchLead (lead.updated, lead.status_changed),
// anonymize (lead.anonymized, with the anonymized lead, after scrubWebhookPayloads).
func (s *Store) enqueueWebhooks(ctx context.Context, tx *sql.Tx, event string, l lead.Lead, data map[string]any) error {
	subs, err := s.liveSubscriptions(ctx, tx)
	if err != nil || len(subs) == 0 {
		return err
	}
	return s.insertDeliveries(ctx, tx, subs, l, s.now().UTC(), webhookEvent{event, data})
}

// enqueueWebhooksTo queues the events for those of the live subscriptions subs that want them.
func (s *Store) enqueueWebhooksTo(ctx context.Context, tx *sql.Tx, subs []subscription, leadID string, now time.Time, events ...webhookEvent) error {
	if !slices.ContainsFunc(events, func(e webhookEvent) bool { return len(subscribers(subs, e.typ)) > 0 }) {
		return nil
	}
	l, err := s.getLead(ctx, tx, leadID)
	if err != nil {
		return err
	}
	return s.insertDeliveries(ctx, tx, subs, l, now, events...)
}

// insertDeliveries queues each event for the subscriptions among subs that want it.
func (s *Store) insertDeliveries(ctx context.Context, tx *sql.Tx, subs []subscription, l lead.Lead, now time.Time, events ...webhookEvent) error {
	for _, e := range events {
		ids := subscribers(subs, e.typ)
		if len(ids) == 0 {
			continue
		}
		payload, err := webhook.BuildPayload(e.typ, now, l, e.data)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `
INSERT INTO webhook_deliveries (id, webhook_id, lead_id, event, payload, status, attempts, next_attempt_at, queued_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6, $6, $6)`, newID(), id, l.ID, e.typ, string(payload), ts(now)); err != nil {
				return err
			}
		}
	}
	return nil
}

// bookingSnapshot is a booking as GET /api/v1/leads/{id}/bookings shows it, for the
// booking.created payload.
func bookingSnapshot(id, leadID string, p BookingParams, now time.Time) lead.BookingRecord {
	b := p.Booking
	opt := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	return lead.BookingRecord{ID: id, LeadID: leadID, FirstName: b.FirstName, LastName: b.LastName, Email: b.Email, Phone: opt(b.Phone),
		OrganizationName: b.OrganizationName, OrganizationType: opt(b.OrganizationType), OrganizationSize: opt(b.OrganizationSize),
		RoleTitle: opt(b.RoleTitle), Message: opt(b.Message), UTMSource: opt(b.UTMSource), UTMMedium: opt(b.UTMMedium),
		UTMCampaign: opt(b.UTMCampaign), IPAddress: opt(p.IP), UserAgent: opt(p.UserAgent), ConsentVersion: p.ConsentVersion,
		ConsentTimestamp: now.Truncate(time.Microsecond), CreatedAt: now.Truncate(time.Microsecond), Language: p.language(),
		PreferredTimes: append([]time.Time{}, b.PreferredTimes...)}
}

// bookingWebhooks queues the events of one booking: lead.created when it created the lead,
// and booking.created.
func (s *Store) bookingWebhooks(ctx context.Context, tx *sql.Tx, subs []subscription, res BookingResult, p BookingParams, now time.Time) error {
	events := []webhookEvent{{webhook.EventBookingCreated, map[string]any{"booking": bookingSnapshot(res.BookingID, res.LeadID, p, now)}}}
	if res.NewLead {
		events = append([]webhookEvent{{webhook.EventLeadCreated, nil}}, events...)
	}
	return s.enqueueWebhooksTo(ctx, tx, subs, res.LeadID, now, events...)
}

// scrubWebhookPayloads rewrites, inside the erasure's transaction, every stored payload of
// the lead (pending, failed or delivered) with the anonymized lead, so that neither a retry
// nor a redelivery can carry the erased data. Only keys known to be free of personal data
// survive; a booking keeps its ids and organization but loses what anonymize clears.
func (s *Store) scrubWebhookPayloads(ctx context.Context, tx *sql.Tx, leadID string, anonymized lead.Lead) error {
	return rewriteText(ctx, tx, `SELECT id, event, payload FROM webhook_deliveries WHERE lead_id = $1`, leadID,
		`UPDATE webhook_deliveries SET payload = $2 WHERE id = $1`,
		func(row []string) (string, bool, error) {
			clean, err := scrubPayload(row[0], row[1], anonymized)
			return clean, true, err
		})
}

// scrubPayload rebuilds one payload from its allow-listed parts and the anonymized lead.
func scrubPayload(event, payload string, anonymized lead.Lead) (string, error) {
	var p webhook.Payload
	if json.Unmarshal([]byte(payload), &p) != nil {
		p = webhook.Payload{Type: event}
	}
	extra := map[string]any{}
	for k, v := range p.Data {
		switch k {
		case "booking":
			var b lead.BookingRecord
			if json.Unmarshal(v, &b) == nil && validID(b.ID) {
				b.FirstName, b.LastName, b.Email = ErasedName, ErasedName, ErasedEmail(anonymized.ID)
				b.Phone, b.RoleTitle, b.Message, b.IPAddress, b.UserAgent = nil, nil, nil, nil, nil
				extra[k] = b
			}
		case "from", "to":
			var st lead.Status
			if json.Unmarshal(v, &st) == nil && slices.Contains(lead.Statuses, st) {
				extra[k] = st
			}
		case "fields":
			var fields []string
			if json.Unmarshal(v, &fields) == nil && !slices.ContainsFunc(fields, func(f string) bool { return !isLeadColumn(f) }) {
				extra[k] = fields
			}
		}
	}
	out, err := webhook.BuildPayload(event, p.Timestamp, anonymized, extra)
	return string(out), err
}

func isLeadColumn(name string) bool {
	for c := range strings.SplitSeq(leadColumns, ",") {
		if strings.TrimSpace(c) == name {
			return true
		}
	}
	return false
}

// ScrubWebhookPayloads rewrites the stored webhook payloads of an anonymized lead with its
// anonymized state, in its own transaction. Erasure already does this in its transaction;
// this is for repairs (and tests). A lead that is not anonymized is a conflict.
func (s *Store) ScrubWebhookPayloads(ctx context.Context, leadID string) error {
	if !validID(leadID) {
		return lead.ErrNotFound
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		l, err := s.getLead(ctx, tx, leadID)
		if err != nil {
			return err
		}
		if l.AnonymizedAt == nil {
			return lead.Errorf(lead.CodeConflict, "only an anonymized lead's webhook payloads are scrubbed")
		}
		return s.scrubWebhookPayloads(ctx, tx, leadID, l)
	})
}

// clearWebhookIPs is the IP retention (SPEC §3.8) of webhook payloads, for the retention
// job's transaction: it clears ip_address in the lead and the booking of at most limit
// payloads queued before cutoff, oldest first, and says how many it rewrote. A payload
// holds an address exactly when it contains the key with a string value: inside JSON
// strings a quote is always escaped, so the LIKE cannot match a value.
func (s *Store) clearWebhookIPs(ctx context.Context, tx *sql.Tx, cutoff time.Time, limit int) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, payload FROM webhook_deliveries
WHERE created_at < $1 AND payload LIKE '%"ip_address":"%' ORDER BY created_at LIMIT $2`, ts(cutoff), limit)
	if err != nil {
		return 0, err
	}
	type change struct{ id, payload string }
	var changes []change
	for rows.Next() {
		var c change
		if err := rows.Scan(&c.id, &c.payload); err != nil {
			rows.Close()
			return 0, err
		}
		clean, err := withoutIPs(c.payload)
		if err != nil {
			rows.Close()
			return 0, err
		}
		changes = append(changes, change{c.id, clean})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, c := range changes {
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET payload = $2 WHERE id = $1`, c.id, c.payload); err != nil {
			return 0, err
		}
	}
	return len(changes), nil
}

// withoutIPs returns payload with the lead's and the booking's ip_address cleared.
func withoutIPs(payload string) (string, error) {
	var p webhook.Payload
	if err := json.Unmarshal([]byte(payload), &p); err != nil {
		return `{}`, nil // unreadable: keep nothing rather than an address
	}
	var l lead.Lead
	if json.Unmarshal(p.Data["lead"], &l) == nil {
		l.IPAddress = nil
		p.Data["lead"], _ = json.Marshal(l)
	}
	if raw, ok := p.Data["booking"]; ok {
		var b lead.BookingRecord
		if json.Unmarshal(raw, &b) == nil {
			b.IPAddress = nil
			p.Data["booking"], _ = json.Marshal(b)
		}
	}
	out, err := json.Marshal(p)
	return string(out), err
}

// ClearExpiredWebhookIPs runs clearWebhookIPs in its own transaction: the IP retention job
// calls it beside ClearExpiredIPs, in batches, until it returns fewer than limit.
func (s *Store) ClearExpiredWebhookIPs(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = s.clearWebhookIPs(ctx, tx, cutoff, limit)
		return err
	})
	return n, err
}
