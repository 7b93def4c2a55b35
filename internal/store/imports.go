package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/webhook"
)

// MaxImportBytes is the largest CSV file an import accepts (SPEC §10).
const MaxImportBytes = 50 << 20

// importBatch is how many rows one transaction stores. Larger batches cost less per row
// (commits, and SQLite's full-text index flushes a segment per transaction: 250-row batches
// took twice the CPU of 1000-row ones); bookings on SQLite's single writer wait for at most
// one batch, some tens of milliseconds.
const importBatch = 1000

// EventImportLinked is the audit event of an import row that matched an existing lead
// (the import's booking_linked).
const EventImportLinked = "import_linked"

// Rules of the CSV import itself (the rows get the lead rules).
const (
	RuleCSVColumnCount     = "csv_column_count"
	RuleCSVDuplicateColumn = "csv_duplicate_column"
)

// ImportIssue is one refused field (or warning) of one row. Rows are numbered from 1 after
// the header; Field is "row" when the row as a whole is unreadable.
type ImportIssue struct {
	Row     int    `json:"row"`
	Field   string `json:"field"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// ImportReport is the outcome of a CSV import.
type ImportReport struct {
	Created        int           `json:"created"`
	Linked         int           `json:"linked"`
	Refused        []ImportIssue `json:"refused"`
	Warnings       []ImportIssue `json:"warnings"`
	IgnoredColumns []string      `json:"ignored_columns"`
}

// ImportFormatError says the body is not CSV that an import can read (no header row,
// broken quoting); nothing was stored. Its message holds no cell values.
type ImportFormatError struct {
	Line   int
	Reason string
}

func (e *ImportFormatError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("the file is not valid CSV (line %d: %s)", e.Line, e.Reason)
	}
	return "the file is not valid CSV (" + e.Reason + ")"
}

// importColumns are the columns an import reads: the seed's, less those only the service
// writes (id, notes, ip_address, created_at, updated_at, anonymized_at), which are ignored.
var importColumns = []string{"first_name", "last_name", "email", "phone", "organization_name", "organization_type",
	"organization_size", "role_title", "message", "utm_source", "utm_medium", "utm_campaign", "source", "status",
	"consent_given", "consent_timestamp"}

// importRow is a validated row waiting for its batch.
type importRow struct {
	row  int
	l    lead.Lead
	norm string
}

// ImportCSV imports leads from a CSV file (SPEC §10), at most MaxImportBytes: a header row
// of column names, then one lead per row. Every row is validated like a staff create
// (lead.ValidateCreate) with source defaulting to import and status to new; refused rows
// are reported, the others stored in batched transactions. A row whose normalized email
// belongs to a live lead, or to an earlier row, is linked to that lead like a booking: a
// note is appended, empty fields are filled, nothing is overwritten. No email is sent;
// lead.created webhooks are queued for new leads.
//
// consent_given true without a consent_timestamp is refused (consent_timestamp_consistency):
// the time of the import proves nothing about when the person consented.
//
// A file that cannot be read as CSV is an *ImportFormatError and nothing is stored. On a
// database failure the batches committed before it stay, and the report so far is returned
// with the error.
func (s *Store) ImportCSV(ctx context.Context, data []byte, actor string) (ImportReport, error) {
	rep := ImportReport{Refused: []ImportIssue{}, Warnings: []ImportIssue{}, IgnoredColumns: []string{}}
	if len(data) > MaxImportBytes {
		return rep, &ImportFormatError{Reason: fmt.Sprintf("larger than %d bytes", MaxImportBytes)}
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff")) // spreadsheets write a byte order mark
	comma := sniffDelimiter(data)
	// A first pass checks the whole file, so that broken quoting halfway through stores
	// nothing instead of half the file.
	if err := checkCSV(data, comma); err != nil {
		return rep, err
	}
	r := newCSVReader(data, comma)
	header, err := r.Read()
	if err != nil {
		return rep, &ImportFormatError{Reason: "a header row of column names is required"}
	}
	header = slices.Clone(header)
	cols := map[string]int{}
	var dup []lead.Issue
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		switch {
		case !slices.Contains(importColumns, name):
			if strings.TrimSpace(h) != "" {
				rep.IgnoredColumns = append(rep.IgnoredColumns, strings.TrimSpace(h))
			}
		case hasKey(cols, name):
			dup = append(dup, lead.Issue{Field: name, Rule: RuleCSVDuplicateColumn, Message: "The column " + name + " appears more than once."})
		default:
			cols[name] = i
		}
	}
	if len(dup) > 0 {
		return rep, lead.Invalid(lead.Result{Errors: dup})
	}

	// Reading and validating (CPU) overlap with storing (mostly the database's time): one
	// goroutine produces batches in file order, this one stores them in that order.
	now := s.now().UTC()
	batches := make(chan []importRow, 2)
	stop := make(chan struct{})
	var refused, warnings []ImportIssue
	go func() {
		defer close(batches)
		var batch []importRow
		send := func() bool {
			select {
			case batches <- batch:
				batch = make([]importRow, 0, importBatch)
				return true
			case <-stop:
				return false
			}
		}
		for row := 1; ; row++ {
			rec, err := r.Read()
			if err != nil { // io.EOF: checkCSV read the same bytes without an error
				break
			}
			if blankRecord(rec) {
				continue
			}
			if len(rec) > len(header) && !blankRecord(rec[len(header):]) {
				refused = append(refused, ImportIssue{Row: row, Field: "row", Rule: RuleCSVColumnCount,
					Message: fmt.Sprintf("The row has %d values but the header names %d columns.", len(rec), len(header))})
				continue
			}
			l, errs, warns := importLead(rec, cols, now)
			for _, w := range warns {
				warnings = append(warnings, ImportIssue{Row: row, Field: w.Field, Rule: w.Rule, Message: w.Message})
			}
			if len(errs) > 0 {
				for _, e := range errs {
					refused = append(refused, ImportIssue{Row: row, Field: e.Field, Rule: e.Rule, Message: e.Message})
				}
				continue
			}
			batch = append(batch, importRow{row: row, l: l, norm: lead.NormalizeEmail(l.Email)})
			if len(batch) == importBatch && !send() {
				return
			}
		}
		if len(batch) > 0 {
			send()
		}
	}()
	var storeErr error
	var notesFull []ImportIssue
	for batch := range batches {
		created, linked, full, err := s.importBatch(ctx, batch, actor)
		if err != nil {
			storeErr = err
			close(stop)
			for range batches { // let the producer finish
			}
			break
		}
		rep.Created += created
		rep.Linked += linked
		for _, row := range full {
			notesFull = append(notesFull, ImportIssue{Row: row, Field: "notes", Rule: lead.RuleFieldLength,
				Message: fmt.Sprintf("The row was linked to its lead, but its note would take the lead's notes past %d characters and was left out.", MaxNotesLength)})
		}
	}
	// the channel is closed: the producer is done with refused and warnings
	rep.Refused = append(rep.Refused, refused...)
	rep.Warnings = append(rep.Warnings, warnings...)
	rep.Warnings = append(rep.Warnings, notesFull...)
	slices.SortStableFunc(rep.Warnings, func(a, b ImportIssue) int { return a.Row - b.Row })
	return rep, storeErr
}

func hasKey(m map[string]int, k string) bool { _, ok := m[k]; return ok }

func newCSVReader(data []byte, comma rune) *csv.Reader {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = comma
	r.FieldsPerRecord = -1 // ragged rows are judged per row
	r.ReuseRecord = true
	return r
}

// checkCSV reads the whole file once and reports the first syntax error.
func checkCSV(data []byte, comma rune) error {
	r := newCSVReader(data, comma)
	for {
		_, err := r.Read()
		if err == io.EOF {
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return &ImportFormatError{Line: pe.Line, Reason: pe.Err.Error()}
		}
		if err != nil {
			return &ImportFormatError{Reason: "unreadable"}
		}
	}
}

// sniffDelimiter picks ';' when the header line has more of them than commas: spreadsheets
// in locales with a decimal comma write semicolon-separated files.
func sniffDelimiter(data []byte) rune {
	line := data
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	if bytes.Count(line, []byte(";")) > bytes.Count(line, []byte(",")) {
		return ';'
	}
	return ','
}

func blankRecord(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// importLead turns one record into a validated lead; errs has at most one issue per field.
func importLead(rec []string, cols map[string]int, now time.Time) (lead.Lead, []lead.Issue, []lead.Issue) {
	cell := func(name string) (string, bool) {
		i, ok := cols[name]
		if !ok {
			return "", false
		}
		if i >= len(rec) {
			return "", true // a short row: trailing cells left out are empty
		}
		return rec[i], true
	}
	opt := func(name string) lead.Opt {
		if v, ok := cell(name); ok {
			return lead.Val(v)
		}
		return lead.Opt{}
	}
	in := lead.Input{
		FirstName: opt("first_name"), LastName: opt("last_name"), Email: opt("email"), Phone: opt("phone"),
		OrganizationName: opt("organization_name"), OrganizationType: opt("organization_type"),
		OrganizationSize: opt("organization_size"), RoleTitle: opt("role_title"), Message: opt("message"),
		UTMSource: opt("utm_source"), UTMMedium: opt("utm_medium"), UTMCampaign: opt("utm_campaign"),
		Source: lead.Val(string(lead.SourceImport)), Status: opt("status"),
	}
	if v, _ := cell("source"); strings.TrimSpace(v) != "" {
		in.Source = lead.Val(v)
	}
	var errs []lead.Issue
	if v, _ := cell("consent_given"); strings.TrimSpace(v) != "" {
		// a value that is not one of the accepted spellings is no consent
		if b, ok := parseConsent(v); ok {
			in.ConsentGiven = &b
		}
	}
	if v, _ := cell("consent_timestamp"); strings.TrimSpace(v) != "" {
		if t, ok := parseImportTime(v); ok {
			in.ConsentTimestamp = &t
		} else {
			errs = append(errs, lead.Issue{Field: "consent_timestamp", Rule: lead.RuleConsentTimestamp,
				Message: "The consent timestamp is not a date and time (use RFC 3339, like 2026-01-31T14:05:00Z)."})
		}
	}
	l, res := lead.ValidateCreate(in, now)
	for _, e := range res.Errors {
		if !slices.ContainsFunc(errs, func(x lead.Issue) bool { return x.Field == e.Field }) {
			errs = append(errs, e)
		}
	}
	return l, errs, res.Warnings
}

// parseConsent reads consent_given: true/false, 1/0, yes/no in any case.
func parseConsent(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes":
		return true, true
	case "false", "0", "no":
		return false, true
	}
	return false, false
}

// parseImportTime reads a consent timestamp: RFC 3339, or a date and time without a zone
// (taken as UTC), as spreadsheets write them.
func parseImportTime(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02 15:04:05",
		"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// importLeadCols are the columns a batch inserts, in the order of importLeadArgs.
const importLeadCols = `id, first_name, last_name, email, email_normalized, phone, organization_name, organization_type,
	organization_size, role_title, source, status, message, utm_source, utm_medium, utm_campaign, consent_timestamp`

func importLeadArgs(id string, r importRow) []any {
	l := r.l
	return []any{id, l.FirstName, l.LastName, l.Email, r.norm, ptrArg(l.Phone), l.OrganizationName, ptrArg(l.OrganizationType),
		ptrArg(l.OrganizationSize), ptrArg(l.RoleTitle), string(l.Source), string(l.Status), ptrArg(l.Message),
		ptrArg(l.UTMSource), ptrArg(l.UTMMedium), ptrArg(l.UTMCampaign), ts(*l.ConsentTimestamp)}
}

// importBatch stores one batch of validated rows in one transaction and says how many
// created a lead, how many were linked to one, and which linked rows' notes did not fit.
// The first row of each address goes into one multi-row INSERT … ON CONFLICT DO NOTHING;
// the rows it did not insert (the address belongs to a lead already, or appeared earlier
// in the batch) are linked one by one with the booking's upsert, so the unique index
// decides every case, also under concurrency.
func (s *Store) importBatch(ctx context.Context, rows []importRow, actor string) (created, linked int, notesFull []int, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		created, linked = 0, 0
		now := s.now().UTC().Truncate(time.Microsecond)
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
		per := maxStmtParams / (len(importLeadArgs("", rows[0])) + 2)
		for start := 0; start < len(firsts); start += per {
			if err := s.insertImported(ctx, tx, rows, ids, firsts[start:min(start+per, len(firsts))], now, inserted); err != nil {
				return err
			}
		}
		events := make([][]any, 0, len(rows))
		var newLeads []lead.Lead
		for i, r := range rows {
			if l, ok := inserted[ids[i]]; ok {
				created++
				newLeads = append(newLeads, l)
				events = append(events, []any{newID(), l.ID, EventCreated, actor, eventDetails(r.l.Source), ts(now)})
				continue
			}
			l, fitted, err := s.linkImported(ctx, tx, ids[i], r, actor, now)
			if err != nil {
				return err
			}
			if l.ID == ids[i] { // its lead was erased after the INSERT above: a new lead after all
				created++
				newLeads = append(newLeads, l)
				events = append(events, []any{newID(), l.ID, EventCreated, actor, eventDetails(r.l.Source), ts(now)})
				continue
			}
			linked++
			if !fitted {
				notesFull = append(notesFull, r.row)
			}
			events = append(events, []any{newID(), l.ID, EventImportLinked, actor, eventDetails(r.l.Source), ts(now)})
		}
		if err := s.insertMany(ctx, tx, `INSERT INTO lead_events (id, lead_id, type, actor, details, created_at) VALUES `, 6, events); err != nil {
			return err
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
func (s *Store) insertImported(ctx context.Context, tx *sql.Tx, rows []importRow, ids []string, idx []int, now time.Time, inserted map[string]lead.Lead) error {
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
		row := append(importLeadArgs(ids[i], rows[i]), ts(now), ts(now))
		q.WriteString("(" + s.paramList(len(args)+1, len(row)) + ", TRUE)")
		args = append(args, row...)
	}
	q.WriteString(` ON CONFLICT (email_normalized) WHERE anonymized_at IS NULL DO NOTHING RETURNING ` + leadColumns)
	res, err := tx.QueryContext(ctx, q.String(), s.d.unpreparedArgs(args)...)
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
// overwritten) or, if there is none any more, inserts it as id. fitted is false when the
// note was left out.
func (s *Store) linkImported(ctx context.Context, tx *sql.Tx, id string, r importRow, actor string, now time.Time) (l lead.Lead, fitted bool, err error) {
	note := fmt.Sprintf("[%s] Import by %s via %s (row %d)", now.Format(time.RFC3339), actor, r.l.Source, r.row)
	if r.l.Message != nil {
		note += ": " + *r.l.Message
	}
	args := append(importLeadArgs(id, r), ts(now), note, "\n")
	l, err = scanLead(s.txQueryRow(ctx, tx, `
INSERT INTO leads (`+importLeadCols+`, consent_given, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, TRUE, $18, $18)
`+linkOnConflict("$19", "$20")+`
RETURNING `+leadColumns, args...))
	return l, err == nil && l.Notes != nil && strings.HasSuffix(*l.Notes, note), err
}

// maxStmtParams bounds the placeholders of one multi-row statement (SQLite allows 32766,
// PostgreSQL 65535).
const maxStmtParams = 30000

// insertMany runs prefix followed by one "($1, …)" group per row (dialect.bulkParam), in
// statements of at most maxStmtParams arguments.
func (s *Store) insertMany(ctx context.Context, tx *sql.Tx, prefix string, width int, rows [][]any) error {
	per := max(1, maxStmtParams/width)
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		args := make([]any, 0, len(chunk)*width)
		for _, row := range chunk {
			args = append(args, row...)
		}
		if _, err := tx.ExecContext(ctx, s.multiRowInsert(prefix, width, len(chunk)), s.d.unpreparedArgs(args)...); err != nil {
			return err
		}
	}
	return nil
}
