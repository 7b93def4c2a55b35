package store

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"strings"

	"github.com/norsedigital/leads/internal/lead"
)

// BulkRecord is one lead of a bulk load, with its booking and its audit event when it has
// them. Their LeadID is Lead.ID; the caller names every row (ids, emails, timestamps).
type BulkRecord struct {
	Lead    lead.Lead
	Booking *lead.BookingRecord
	Event   *lead.Event
}

// bulkRowsPerStatement is how many rows one multi-row INSERT of a bulk load adds: 22
// parameters a lead row, far below both engines' limits.
const bulkRowsPerStatement = 500

// BulkLoad adds the leads that batches yields (with their bookings and events) to the end of
// the tables, fast: for loading test, benchmark and demo data (internal/generate), not for
// traffic. n is how many leads batches yields; when that at least doubles the tables, their
// secondary indexes are dropped and built afresh after the rows. The search index is
// brought up to date once. A lead whose id or email is taken fails the whole load with a
// lead.CodeConflict error.
//
// Rows go in as prepared multi-row INSERTs in one transaction, which holds the tables (the
// database, on SQLite) until it commits: a load of a million rows is for a quiet database.
// batches is ranged over on the calling goroutine: a caller that makes its rows on another
// goroutine a batch ahead overlaps that work with the engine's.
func (s *Store) BulkLoad(ctx context.Context, n int, batches iter.Seq[[]BulkRecord]) error {
	finish, err := s.e.bulkBegin(ctx, s.write)
	if err != nil {
		return fmt.Errorf("bulk load: %w", err)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var existing int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM leads`).Scan(&existing); err != nil {
			return err
		}
		return s.bulkInsert(ctx, tx, n >= existing, func() error {
			return s.bulkRows(ctx, tx, batches)
		})
	})
	if err != nil {
		finish(context.WithoutCancel(ctx))
		if s.isUnique(err) {
			return &lead.Error{Code: lead.CodeConflict, Message: "a lead of the bulk load has the id or email of a lead already stored"}
		}
		return fmt.Errorf("bulk load: %w", err)
	}
	if err := finish(ctx); err != nil {
		return fmt.Errorf("bulk load: %w", err)
	}
	return nil
}

// schemaObject is an index or trigger a bulk load drops and creates again.
type schemaObject struct{ drop, create string }

func querySchemaObjects(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]schemaObject, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []schemaObject
	for rows.Next() {
		var o schemaObject
		if err := rows.Scan(&o.drop, &o.create); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// bulkInsert runs insert, which adds leads (with their bookings and events) to the end of
// the tables in tx, with what slows row-by-row inserts dropped (engine.bulkSchema), then
// builds that again and brings the search index up to date.
func (s *Store) bulkInsert(ctx context.Context, tx *sql.Tx, rebuild bool, insert func() error) error {
	objects, indexSearch, err := s.e.bulkSchema(ctx, tx, rebuild)
	if err != nil {
		return err
	}
	for _, o := range objects {
		if _, err := tx.ExecContext(ctx, o.drop); err != nil {
			return err
		}
	}
	if err := insert(); err != nil {
		return err
	}
	for _, o := range objects {
		if _, err := tx.ExecContext(ctx, o.create); err != nil {
			return err
		}
	}
	return indexSearch()
}

// bulkRows inserts the records of batches in tx, with statements of bulkRowsPerStatement
// rows, each prepared once.
func (s *Store) bulkRows(ctx context.Context, tx *sql.Tx, batches iter.Seq[[]BulkRecord]) error {
	tables := [3]*bulkTable{{head: bulkLeadSQL, width: 22}, {head: bulkBookingSQL, width: 19}, {head: bulkEventSQL, width: 6}}
	defer func() {
		for _, t := range tables {
			if t.full != nil {
				t.full.Close()
			}
		}
	}()
	for batch := range batches {
		for i := range batch {
			tables[0].args, tables[1].args, tables[2].args = bulkArgs(&batch[i], tables[0].args, tables[1].args, tables[2].args)
		}
		// bookings and events go in after the leads they reference
		if tables[0].ready() {
			for _, t := range tables {
				for t.ready() {
					if err := s.insertFull(ctx, tx, t); err != nil {
						return err
					}
				}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, t := range tables {
		if err := s.flushRows(ctx, tx, t); err != nil { // in order: leads first
			return err
		}
	}
	return nil
}

const (
	bulkLeadSQL = `INSERT INTO leads (id, first_name, last_name, email, email_normalized, phone, organization_name,
	organization_type, organization_size, role_title, source, status, notes, message, utm_source, utm_medium,
	utm_campaign, ip_address, consent_given, consent_timestamp, created_at, updated_at) VALUES `
	bulkBookingSQL = `INSERT INTO bookings (id, lead_id, first_name, last_name, email, phone, organization_name,
	organization_type, organization_size, role_title, message, utm_source, utm_medium, utm_campaign, ip_address,
	user_agent, consent_version, consent_timestamp, created_at) VALUES `
	bulkEventSQL = `INSERT INTO lead_events (id, lead_id, type, actor, details, created_at) VALUES `
)

// bulkArgs appends the values of r's rows to those of each table.
func bulkArgs(r *BulkRecord, leads, bookings, events []any) ([]any, []any, []any) {
	l := &r.Lead
	leads = append(leads, l.ID, l.FirstName, l.LastName, l.Email, lead.NormalizeEmail(l.Email), ptrArg(l.Phone),
		l.OrganizationName, ptrArg(l.OrganizationType), ptrArg(l.OrganizationSize), ptrArg(l.RoleTitle),
		string(l.Source), string(l.Status), ptrArg(l.Notes), ptrArg(l.Message), ptrArg(l.UTMSource), ptrArg(l.UTMMedium),
		ptrArg(l.UTMCampaign), ptrArg(l.IPAddress), l.ConsentGiven, tsPtr(l.ConsentTimestamp), ts(l.CreatedAt), ts(l.UpdatedAt))
	if b := r.Booking; b != nil {
		bookings = append(bookings, b.ID, l.ID, b.FirstName, b.LastName, b.Email, ptrArg(b.Phone), b.OrganizationName,
			ptrArg(b.OrganizationType), ptrArg(b.OrganizationSize), ptrArg(b.RoleTitle), ptrArg(b.Message),
			ptrArg(b.UTMSource), ptrArg(b.UTMMedium), ptrArg(b.UTMCampaign), ptrArg(b.IPAddress), ptrArg(b.UserAgent),
			b.ConsentVersion, ts(b.ConsentTimestamp), ts(b.CreatedAt))
	}
	if e := r.Event; e != nil {
		events = append(events, e.ID, l.ID, e.Type, e.Actor, string(e.Details), ts(e.CreatedAt))
	}
	return leads, bookings, events
}

// bulkTable gathers the rows of one table into multi-row INSERTs.
type bulkTable struct {
	head  string
	width int
	args  []any
	full  *sql.Stmt // the INSERT of bulkRowsPerStatement rows, prepared on first use
}

// ready reports whether a full statement's rows are waiting.
func (t *bulkTable) ready() bool {
	return len(t.args) >= bulkRowsPerStatement*t.width
}

// insertFull inserts the first bulkRowsPerStatement waiting rows.
func (s *Store) insertFull(ctx context.Context, tx *sql.Tx, t *bulkTable) error {
	if t.full == nil {
		st, err := tx.PrepareContext(ctx, s.multiRowInsert(t.head, t.width, bulkRowsPerStatement))
		if err != nil {
			return err
		}
		t.full = st
	}
	n := bulkRowsPerStatement * t.width
	if _, err := t.full.ExecContext(ctx, t.args[:n]...); err != nil {
		return err
	}
	t.args = append(t.args[:0], t.args[n:]...)
	return nil
}

// flushRows inserts the rows left over, fewer than a full statement.
func (s *Store) flushRows(ctx context.Context, tx *sql.Tx, t *bulkTable) error {
	for t.ready() {
		if err := s.insertFull(ctx, tx, t); err != nil {
			return err
		}
	}
	if len(t.args) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, s.multiRowInsert(t.head, t.width, len(t.args)/t.width), s.e.unpreparedArgs(t.args)...)
	t.args = t.args[:0]
	return err
}

// multiRowInsert is head followed by rows groups of width placeholders, numbered in order.
func (s *Store) multiRowInsert(head string, width, rows int) string {
	var b strings.Builder
	b.WriteString(head)
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + s.paramList(i*width+1, width) + ")")
	}
	return b.String()
}
