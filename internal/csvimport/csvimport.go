// Package csvimport reads the CSV files of a lead import (SPEC §10): bytes in; validated
// leads, refused rows and warnings out. It stores nothing: the caller hands File.Rows to
// store.Import and builds the answer with File.Report.
package csvimport

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/norsedigital/leads/internal/lead"
)

// MaxBytes is the largest CSV file an import accepts (SPEC §10).
const MaxBytes = 50 << 20

// Rules of the CSV import itself (the rows get the lead rules).
const (
	RuleColumnCount     = "csv_column_count"
	RuleDuplicateColumn = "csv_duplicate_column"
)

// Issue is one refused field (or warning) of one row. Rows are numbered from 1 after the
// header; Field is "row" when the row as a whole is unreadable.
type Issue struct {
	Row     int    `json:"row"`
	Field   string `json:"field"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// Report is the outcome of a CSV import.
type Report struct {
	Created        int      `json:"created"`
	Linked         int      `json:"linked"`
	Refused        []Issue  `json:"refused"`
	Warnings       []Issue  `json:"warnings"`
	IgnoredColumns []string `json:"ignored_columns"`
}

// FormatError says the body is not CSV that an import can read (no header row, broken
// quoting); nothing was stored. Its message holds no cell values.
type FormatError struct {
	Line   int
	Reason string
}

func (e *FormatError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("the file is not valid CSV (line %d: %s)", e.Line, e.Reason)
	}
	return "the file is not valid CSV (" + e.Reason + ")"
}

// isColumn reports whether an import reads the column name: the seed's columns less those
// only the service writes (id, notes, ip_address, created_at, updated_at, anonymized_at),
// which are ignored (lead.Field.Import).
func isColumn(name string) bool {
	if name == lead.OwnerEmailColumn {
		return true
	}
	f, ok := lead.LookupField(name)
	return ok && f.Import
}

// chunk is how many validated rows the reading goroutine hands over at a time.
const chunk = 1000

// File is an import file whose syntax and header have been checked. Build it with Read.
type File struct {
	data    []byte
	comma   rune
	width   int            // columns in the header
	cols    map[string]int // read column → index
	ignored []string
	now     time.Time

	refused, warnings []Issue // filled while Rows runs
	owners            map[string]string
}

// SetOwners names the members an owner_email cell may name (SPEC §11): the active members'
// ids by normalized email. Call it before Rows; a row naming anyone else is refused
// (owner_not_assignable), and a row without one gets its owner by lead_owner_assignment.
func (f *File) SetOwners(members []lead.Member) {
	f.owners = map[string]string{}
	for _, m := range members {
		if m.Active {
			f.owners[lead.NormalizeEmail(m.Email)] = m.ID
		}
	}
}

// owner resolves the row's owner_email into l; false (with the issue) when it names nobody assignable.
func (f *File) owner(rec []string, l *lead.Lead) (lead.Issue, bool) {
	i, ok := f.cols[lead.OwnerEmailColumn]
	if !ok || i >= len(rec) || strings.TrimSpace(rec[i]) == "" {
		return lead.Issue{}, true
	}
	id, ok := f.owners[lead.NormalizeEmail(rec[i])]
	if !ok {
		return lead.Issue{Field: lead.OwnerEmailColumn, Rule: lead.RuleOwnerNotAssignable,
			Message: "The owner must be an active member of the team."}, false
	}
	l.OwnerID = &id
	return lead.Issue{}, true
}

// Read checks an import file (at most MaxBytes): a header row of column names, then one
// lead per row, comma- or semicolon-separated, an optional byte order mark. A file that
// cannot be read as CSV, anywhere, is a *FormatError; a header that names a column twice is
// a lead.CodeInvalid error. now is the time the rows are validated against.
func Read(data []byte, now time.Time) (*File, error) {
	if len(data) > MaxBytes {
		return nil, &FormatError{Reason: fmt.Sprintf("larger than %d bytes", MaxBytes)}
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff")) // spreadsheets write a byte order mark
	f := &File{data: data, comma: sniffDelimiter(data), cols: map[string]int{}, ignored: []string{}, now: now}
	// A first pass checks the whole file, so that broken quoting halfway through stores
	// nothing instead of half the file.
	if err := checkCSV(data, f.comma); err != nil {
		return nil, err
	}
	header, err := newCSVReader(data, f.comma).Read()
	if err != nil {
		return nil, &FormatError{Reason: "a header row of column names is required"}
	}
	f.width = len(header)
	var dup []lead.Issue
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		switch {
		case !isColumn(name):
			if strings.TrimSpace(h) != "" {
				f.ignored = append(f.ignored, strings.TrimSpace(h))
			}
		case hasKey(f.cols, name):
			dup = append(dup, lead.Issue{Field: name, Rule: RuleDuplicateColumn, Message: "The column " + name + " appears more than once."})
		default:
			f.cols[name] = i
		}
	}
	if len(dup) > 0 {
		return nil, lead.Invalid(lead.Result{Errors: dup})
	}
	return f, nil
}

// Rows yields the valid rows of the file in order, as row number and lead. Every row is
// validated like a staff create (lead.ValidateCreate) with source defaulting to import and
// status to new; consent_given true without a consent_timestamp is refused
// (consent_timestamp_consistency): the time of the import proves nothing about when the
// person consented. Refused rows and warnings are kept for Report. Range over Rows once.
//
// Reading and validating (CPU) overlap with the caller's work on the rows (storing them,
// mostly the database's time): a goroutine reads ahead, at most a few thousand rows.
func (f *File) Rows() iter.Seq2[int, lead.Lead] {
	return func(yield func(int, lead.Lead) bool) {
		type row struct {
			n int
			l lead.Lead
		}
		chunks := make(chan []row, 2)
		stop := make(chan struct{})
		go func() {
			defer close(chunks)
			var c []row
			send := func() bool {
				select {
				case chunks <- c:
					c = make([]row, 0, chunk)
					return true
				case <-stop:
					return false
				}
			}
			r := newCSVReader(f.data, f.comma)
			r.Read() // the header, read by Read
			for n := 1; ; n++ {
				rec, err := r.Read()
				if err != nil { // io.EOF: checkCSV read the same bytes without an error
					break
				}
				if l, ok := f.row(n, rec); ok {
					c = append(c, row{n, l})
					if len(c) == chunk && !send() {
						return
					}
				}
			}
			if len(c) > 0 {
				send()
			}
		}()
		defer func() {
			close(stop)
			for range chunks { // let the reader finish: then refused and warnings are whole
			}
		}()
		for c := range chunks {
			for _, r := range c {
				if !yield(r.n, r.l) {
					return
				}
			}
		}
	}
}

// row validates record n; a refused row's issues go to f.refused.
func (f *File) row(n int, rec []string) (lead.Lead, bool) {
	if blankRecord(rec) {
		return lead.Lead{}, false
	}
	if len(rec) > f.width && !blankRecord(rec[f.width:]) {
		f.refused = append(f.refused, Issue{Row: n, Field: "row", Rule: RuleColumnCount,
			Message: fmt.Sprintf("The row has %d values but the header names %d columns.", len(rec), f.width)})
		return lead.Lead{}, false
	}
	l, errs, warns := importLead(rec, f.cols, f.now)
	if is, ok := f.owner(rec, &l); !ok {
		errs = append(errs, is)
	}
	for _, w := range warns {
		f.warnings = append(f.warnings, Issue{Row: n, Field: w.Field, Rule: w.Rule, Message: w.Message})
	}
	for _, e := range errs {
		f.refused = append(f.refused, Issue{Row: n, Field: e.Field, Rule: e.Rule, Message: e.Message})
	}
	return l, len(errs) == 0
}

// Report is the outcome of the import once Rows has run and its rows were stored: created
// and linked count the stored rows, notesLeftOut are the rows that were linked to their
// lead without their note because it would take the lead's notes past maxNotes characters.
func (f *File) Report(created, linked int, notesLeftOut []int, maxNotes int) Report {
	rep := Report{Created: created, Linked: linked, Refused: []Issue{}, Warnings: []Issue{}, IgnoredColumns: f.ignored}
	rep.Refused = append(rep.Refused, f.refused...)
	rep.Warnings = append(rep.Warnings, f.warnings...)
	for _, row := range notesLeftOut {
		rep.Warnings = append(rep.Warnings, Issue{Row: row, Field: "notes", Rule: lead.RuleFieldLength,
			Message: fmt.Sprintf("The row was linked to its lead, but its note would take the lead's notes past %d characters and was left out.", maxNotes)})
	}
	slices.SortStableFunc(rep.Warnings, func(a, b Issue) int { return a.Row - b.Row })
	return rep
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
			return &FormatError{Line: pe.Line, Reason: pe.Err.Error()}
		}
		if err != nil {
			return &FormatError{Reason: "unreadable"}
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
	var in lead.Input
	var errs []lead.Issue
	fields := lead.Fields()
	for i := range fields {
		f := &fields[i]
		if !f.Import {
			continue
		}
		o, bl, tm := f.Input(&in), f.InputBool(&in), f.InputTime(&in)
		switch {
		case o != nil:
			*o = opt(f.Name)
		case bl != nil:
			if v, _ := cell(f.Name); strings.TrimSpace(v) != "" {
				// a value that is not one of the accepted spellings is no consent
				if b, ok := parseConsent(v); ok {
					*bl = &b
				}
			}
		case tm != nil:
			if v, _ := cell(f.Name); strings.TrimSpace(v) != "" {
				if t, ok := parseTime(v); ok {
					*tm = &t
				} else {
					errs = append(errs, lead.Issue{Field: f.Name, Rule: lead.RuleConsentTimestamp,
						Message: "The consent timestamp is not a date and time (use RFC 3339, like 2026-01-31T14:05:00Z)."})
				}
			}
		}
	}
	// source defaults to import when the column is missing or the cell blank
	if strings.TrimSpace(in.Source.Value) == "" || in.Source.Null {
		in.Source = lead.Val(string(lead.SourceImport))
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

// parseTime reads a consent timestamp: RFC 3339, or a date and time without a zone
// (taken as UTC), as spreadsheets write them.
func parseTime(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02 15:04:05",
		"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
