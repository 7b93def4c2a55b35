package store

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/webhook"
)

// importBatch is how many rows one transaction stores. Larger batches cost less per row
// (commits, and SQLite's full-text index flushes a segment per transaction: 250-row batches
// took twice the CPU of 1000-row ones); bookings on SQLite's single writer wait for at most
// one batch, some tens of milliseconds.
const importBatch = 1000

// ImportResult is what Import stored.
type ImportResult struct {
	Created int // rows that created a lead
	Linked  int // rows linked to a lead
	// NotesLeftOut are the linked rows whose note would have taken the lead's notes past
	// MaxNotesLength and was left out, in row order.
	NotesLeftOut []int
}

// importRow is a validated row waiting for its batch.
type importRow struct {
	row  int
	l    lead.Lead
	norm string
}

// Import stores the validated rows of an import file (SPEC §10; csvimport.File.Rows: row
// number and lead) in batched transactions, in order. A row whose normalized email belongs
// to a live lead, or to an earlier row, is linked to that lead like a booking: a note is
// appended, empty fields are filled, nothing is overwritten. No email is sent; lead.created
// webhooks are queued for new leads.
//
// On a database failure the batches committed before it stay, and the result so far is
// returned with the error.
func (s *Store) Import(ctx context.Context, rows iter.Seq2[int, lead.Lead], actor lead.Actor) (ImportResult, error) {
	var res ImportResult
	store := func(batch []importRow) error {
		created, linked, full, err := s.importBatch(ctx, batch, actor)
		if err != nil {
			return err
		}
		res.Created += created
		res.Linked += linked
		res.NotesLeftOut = append(res.NotesLeftOut, full...)
		return nil
	}
	batch := make([]importRow, 0, importBatch)
	for n, l := range rows {
		batch = append(batch, importRow{row: n, l: l, norm: lead.NormalizeEmail(l.Email)})
		if len(batch) == importBatch {
			if err := store(batch); err != nil {
				return res, err
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		if err := store(batch); err != nil {
			return res, err
		}
	}
	return res, nil
}

// importLeadCols are the columns a batch inserts, in the order of importLeadArgs.
const importLeadCols = `id, first_name, last_name, email, email_normalized, phone, organization_name, organization_type,
	organization_size, role_title, source, status, message, utm_source, utm_medium, utm_campaign, consent_timestamp, language,
	contact_due_at`

// importLeadArgs are a row's values; due is a new lead's contact_due_at.
func importLeadArgs(id string, r importRow, due string) []any {
	l := r.l
	return []any{id, l.FirstName, l.LastName, l.Email, r.norm, ptrArg(l.Phone), l.OrganizationName, ptrArg(l.OrganizationType),
		ptrArg(l.OrganizationSize), ptrArg(l.RoleTitle), string(l.Source), string(l.Status), ptrArg(l.Message),
		ptrArg(l.UTMSource), ptrArg(l.UTMMedium), ptrArg(l.UTMCampaign), ts(*l.ConsentTimestamp), storedLanguage(l.Language), due}
}

// importBatch stores one batch of validated rows in one transaction and says how many
// created a lead, how many were linked to one, and which linked rows' notes did not fit.
// The first row of each address goes into one multi-row INSERT … ON CONFLICT DO NOTHING;
// the rows it did not insert (the address belongs to a lead already, or appeared earlier
// in the batch) are linked one by one with the booking's upsert, so the unique index
// decides every case, also under concurrency.
func (s *Store) importBatch(ctx context.Context, rows []importRow, actor lead.Actor) (created, linked int, notesFull []int, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		created, linked = 0, 0
		now := s.now().UTC().Truncate(time.Microsecond)
		due := ts(s.contactDue(now))
		// the rule's lock, then the owners the rows name, then the leads' rows: the order a
		// deactivation takes them (assign.go), so the two cannot wait for each other; an
		// owner no longer assignable leaves their rows to the rule
		locked, err := s.e.lockIfEligible(ctx, s, tx, now)
		if err != nil {
			return err
		}
		known := noneEligible
		if locked {
			known = eligibleLocked
		}
		assignable := map[string]bool{}
		for _, r := range rows {
			if o := r.l.OwnerID; o != nil {
				if _, seen := assignable[*o]; !seen {
					err := s.checkAssignable(ctx, tx, *o)
					if err != nil && lead.ErrorCode(err) != lead.CodeInvalid {
						return err
					}
					assignable[*o] = err == nil
				}
			}
		}
		ids := make([]string, len(rows))
		for i := range ids {
			ids[i] = newID()
		}
		// first row of each address, in address order: concurrent imports then take the
		// unique index's locks in one order and cannot deadlock on them
		var firsts []int
		seen := map[string]bool{}
		for i, r := range rows {
			if !seen[r.norm] {
				seen[r.norm] = true
				firsts = append(firsts, i)
			}
		}
		slices.SortFunc(firsts, func(a, b int) int { return strings.Compare(rows[a].norm, rows[b].norm) })

		inserted := map[string]lead.Lead{} // by id
		per := maxStmtParams / (len(importLeadArgs("", rows[0], due)) + 2)
		for start := 0; start < len(firsts); start += per {
			if err := s.insertImported(ctx, tx, rows, ids, firsts[start:min(start+per, len(firsts))], now, due, inserted); err != nil {
				return err
			}
		}
		events := make([][]any, 0, len(rows))
		var newLeads []lead.Lead
		var newRows []importRow
		for i, r := range rows {
			if l, ok := inserted[ids[i]]; ok {
				created++
				newLeads, newRows = append(newLeads, l), append(newRows, r)
				events = append(events, []any{newID(), l.ID, lead.EventCreated, actor.Name, eventDetails(r.l.Source), ts(now), nullStr(actor.StaffID)})
				continue
			}
			l, fitted, err := s.linkImported(ctx, tx, ids[i], r, actor, now, due)
			if err != nil {
				return err
			}
			if l.ID == ids[i] { // its lead was erased after the INSERT above: a new lead after all
				created++
				newLeads, newRows = append(newLeads, l), append(newRows, r)
				events = append(events, []any{newID(), l.ID, lead.EventCreated, actor.Name, eventDetails(r.l.Source), ts(now), nullStr(actor.StaffID)})
				continue
			}
			linked++
			if !fitted {
				notesFull = append(notesFull, r.row)
			}
			events = append(events, []any{newID(), l.ID, lead.EventImportLinked, actor.Name, eventDetails(r.l.Source), ts(now), nullStr(actor.StaffID)})
		}
		if err := s.insertMany(ctx, tx, `INSERT INTO lead_events (id, lead_id, type, actor, details, created_at, actor_id) VALUES `, 7, events); err != nil {
			return err
		}
		// each new lead's owner: the one its row names, else the rule's (SPEC §11)
		for i, l := range newLeads {
			if o := newRows[i].l.OwnerID; o != nil && assignable[*o] {
				if err := s.setOwner(ctx, tx, l.ID, *o, lead.ReasonManual, actor, now, false); err != nil {
					return err
				}
			} else if _, err := s.assignNew(ctx, tx, l.ID, actor, now, known); err != nil {
				return err
			}
		}
		subs, err := s.liveSubscriptions(ctx, tx)
		if err != nil {
			return err
		}
		if len(subscribers(subs, webhook.EventLeadCreated)) > 0 {
			for _, l := range newLeads {
				if err := s.insertDeliveries(ctx, tx, subs, l, now, webhookEvent{webhook.EventLeadCreated, nil}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return created, linked, notesFull, err
}

func eventDetails(src lead.Source) string { return `{"source":"` + string(src) + `"}` }

// insertImported inserts the rows at idx (ids[i] for rows[i]) and records the leads it
// created in inserted.
func (s *Store) insertImported(ctx context.Context, tx *sql.Tx, rows []importRow, ids []string, idx []int, now time.Time, due string, inserted map[string]lead.Lead) error {
	if len(idx) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO leads (` + importLeadCols + `, created_at, updated_at, consent_given) VALUES `)
	var args []any
	for n, i := range idx {
		if n > 0 {
			q.WriteString(", ")
		}
		row := append(importLeadArgs(ids[i], rows[i], due), ts(now), ts(now))
		q.WriteString("(" + s.paramList(len(args)+1, len(row)) + ", TRUE)")
		args = append(args, row...)
	}
	q.WriteString(` ON CONFLICT (email_normalized) WHERE anonymized_at IS NULL DO NOTHING RETURNING ` + leadColumns)
	res, err := tx.QueryContext(ctx, q.String(), s.e.unpreparedArgs(args)...)
	if err != nil {
		return err
	}
	defer res.Close()
	for res.Next() {
		l, err := scanLead(res)
		if err != nil {
			return err
		}
		inserted[l.ID] = l
	}
	return res.Err()
}

// linkImported is the booking's upsert for one import row: it links the row to the live
// lead with its address (note appended if it fits, empty fields filled, nothing
// overwritten, its language kept) or, if there is none any more, inserts it as id. fitted is false when the
// note was left out.
func (s *Store) linkImported(ctx context.Context, tx *sql.Tx, id string, r importRow, actor lead.Actor, now time.Time, due string) (l lead.Lead, fitted bool, err error) {
	note := fmt.Sprintf("[%s] Import by %s via %s (row %d)", now.Format(time.RFC3339), actor.Name, r.l.Source, r.row)
	if r.l.Message != nil {
		note += ": " + *r.l.Message
	}
	args := append(importLeadArgs(id, r, due), ts(now), note, "\n")
	l, err = scanLead(s.txQueryRow(ctx, tx, `
INSERT INTO leads (`+importLeadCols+`, consent_given, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, TRUE, $20, $20)
`+linkOnConflict("$21", "$22")+`
RETURNING `+leadColumns, args...))
	return l, err == nil && l.Notes != nil && strings.HasSuffix(*l.Notes, note), err
}

// maxStmtParams bounds the placeholders of one multi-row statement (SQLite allows 32766,
// PostgreSQL 65535).
const maxStmtParams = 30000

// insertMany runs prefix followed by one "($1, …)" group per row (engine.bulkParam), in
// statements of at most maxStmtParams arguments.
func (s *Store) insertMany(ctx context.Context, tx *sql.Tx, prefix string, width int, rows [][]any) error {
	per := max(1, maxStmtParams/width)
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		args := make([]any, 0, len(chunk)*width)
		for _, row := range chunk {
			args = append(args, row...)
		}
		if _, err := tx.ExecContext(ctx, s.multiRowInsert(prefix, width, len(chunk)), s.e.unpreparedArgs(args)...); err != nil {
			return err
		}
	}
	return nil
}
