package csvimport_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/csvimport"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

const consentAt = "2026-01-10T10:00:00Z"

// csvFile writes records as CSV the way encoding/csv quotes them.
func csvFile(t testing.TB, records [][]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.WriteAll(records); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func count(t *testing.T, s *store.Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// importCSV imports a file the way the API and the console do: csvimport reads it,
// store.Import stores its rows.
func importCSV(ctx context.Context, s *store.Store, data []byte, actor string) (csvimport.Report, error) {
	f, err := csvimport.Read(data, s.Now())
	if err != nil {
		return csvimport.Report{}, err
	}
	res, err := s.Import(ctx, f.Rows(), lead.Actor{Name: actor})
	return f.Report(res.Created, res.Linked, res.NotesLeftOut, store.MaxNotesLength), err
}

// Reading alone: which rows come out, which are refused, what the header says.
func TestRead(t *testing.T) {
	now := t0
	for _, c := range []struct {
		name    string
		data    string
		rows    []int    // row numbers yielded
		emails  []string // their leads' emails
		refused []string // "row field rule"
		ignored []string
	}{
		{name: "comma", data: "email,first_name,last_name,organization_name,consent_given,consent_timestamp\n" +
			"a@example.org,A,B,O,yes," + consentAt + "\n",
			rows: []int{1}, emails: []string{"a@example.org"}, refused: []string{}, ignored: []string{}},
		{name: "semicolons, BOM, CRLF, blank row, ignored column", data: "\ufeffemail;first_name;last_name;organization_name;consent_given;consent_timestamp;colour\r\n" +
			";;;;;;\r\n" + "b@example.org;A;B;O;1;2026-01-10 10:00;red\r\n",
			rows: []int{2}, emails: []string{"b@example.org"}, refused: []string{}, ignored: []string{"colour"}},
		{name: "too many values", data: "email,first_name,last_name,organization_name,consent_given,consent_timestamp\n" +
			"c@example.org,A,B,O,yes," + consentAt + ",spill\n" + "d@example.org,A,B,O,yes," + consentAt + ",  \n",
			rows: []int{2}, emails: []string{"d@example.org"}, refused: []string{"1 row " + csvimport.RuleColumnCount}, ignored: []string{}},
		{name: "short row, consent without a time", data: "email,first_name,last_name,organization_name,consent_given,consent_timestamp\n" +
			"e@example.org,A,B,O,yes\n",
			rows: []int{}, emails: []string{}, refused: []string{"1 consent_timestamp " + lead.RuleConsentTimestamp}, ignored: []string{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := csvimport.Read([]byte(c.data), now)
			if err != nil {
				t.Fatal(err)
			}
			rows, emails := []int{}, []string{}
			for n, l := range f.Rows() {
				rows, emails = append(rows, n), append(emails, l.Email)
				if l.Source != lead.SourceImport || l.Status != lead.StatusNew {
					t.Errorf("row %d: source %s status %s", n, l.Source, l.Status)
				}
			}
			rep := f.Report(0, 0, nil, store.MaxNotesLength)
			refused := []string{}
			for _, i := range rep.Refused {
				refused = append(refused, fmt.Sprintf("%d %s %s", i.Row, i.Field, i.Rule))
			}
			if !slices.Equal(rows, c.rows) || !slices.Equal(emails, c.emails) || !slices.Equal(refused, c.refused) ||
				!slices.Equal(rep.IgnoredColumns, c.ignored) {
				t.Errorf("rows %v %q refused %q ignored %q", rows, emails, refused, rep.IgnoredColumns)
			}
		})
	}
}

// Stopping early (a database failure) stops the reading goroutine: nothing blocks.
func TestRowsStopEarly(t *testing.T) {
	records := [][]string{{"email", "first_name", "last_name", "organization_name", "consent_given", "consent_timestamp"}}
	for i := range 5000 {
		records = append(records, []string{fmt.Sprintf("s%d@example.org", i), "S", "T", "Org", "yes", consentAt})
	}
	f, err := csvimport.Read(csvFile(t, records), t0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range f.Rows() {
		if n++; n == 1500 {
			break
		}
	}
	if n != 1500 {
		t.Fatalf("%d rows", n)
	}
}

func TestImportFileErrors(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: storetest.NewClock(t0).Now})
		good := "first_name,last_name,email,organization_name,consent_given,consent_timestamp\nA,B,good@example.org,O,yes," + consentAt + "\n"
		for name, c := range map[string]struct {
			data   string
			format bool // a FormatError, else a validation error
		}{
			"empty":            {"", true},
			"broken quoting":   {good + "A,\"B,bad@example.org,O,yes," + consentAt + "\n", true},
			"bare quote":       {good + "A,B\"x,bad@example.org,O,yes," + consentAt + "\n", true},
			"duplicate column": {"email,Email,first_name\nx@example.org,y@example.org,A\n", false},
		} {
			_, err := importCSV(ctx, s, []byte(c.data), "sally")
			var fe *csvimport.FormatError
			if c.format != errors.As(err, &fe) || (!c.format && lead.ErrorCode(err) != lead.CodeInvalid) {
				t.Errorf("%s: err %v", name, err)
			}
		}
		if n := count(t, s, `SELECT COUNT(*) FROM leads`); n != 0 {
			t.Fatalf("a refused file stored %d leads", n)
		}
		// a byte order mark, semicolons and CRLF line ends, as spreadsheets write them
		rep, err := importCSV(ctx, s, []byte("\ufeffemail;first_name;last_name;organization_name;consent_given;consent_timestamp\r\n"+
			"semi@example.org;Sam;Colon;Org;yes;"+consentAt+"\r\n"), "sally")
		if err != nil || rep.Created != 1 || len(rep.Refused) != 0 {
			t.Fatalf("spreadsheet file: %+v %v", rep, err)
		}
		// a database failure stops the import and says so (here: the request went away)
		big := [][]string{{"email", "first_name", "last_name", "organization_name", "consent_given", "consent_timestamp"}}
		for i := range 3000 {
			big = append(big, []string{fmt.Sprintf("c%d@example.org", i), "C", "D", "Org", "yes", consentAt})
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := importCSV(cancelled, s, csvFile(t, big), "sally"); err == nil {
			t.Fatal("an import whose transactions fail reports no error")
		}
		if n := count(t, s, `SELECT COUNT(*) FROM leads WHERE email LIKE 'c%'`); n != 0 {
			t.Fatalf("%d leads stored by a failed import", n)
		}
		// a header only is a valid, empty import
		rep, err = importCSV(ctx, s, []byte("email,first_name\n"), "sally")
		if err != nil || rep.Created != 0 || rep.Refused == nil || rep.IgnoredColumns == nil {
			t.Fatalf("header only: %+v %v", rep, err)
		}
	})
}

// TestColumnsAreTheTable: an import reads exactly the table's import columns (the other
// fields of a lead are ignored columns) and puts each cell where the table says.
func TestColumnsAreTheTable(t *testing.T) {
	var header, row []string
	for _, f := range lead.Fields() {
		header = append(header, f.Name)
		switch {
		case f.Type == lead.TypeBool:
			row = append(row, "yes")
		case f.Type == lead.TypeTime:
			row = append(row, consentAt)
		case f.Name == "email":
			row = append(row, "kari@example.no")
		case f.Name == "language":
			row = append(row, "en")
		case f.Type == lead.TypeEnum && f.Writable(lead.WritePatch):
			row = append(row, string(lead.StatusQualified))
		case f.Type == lead.TypeEnum:
			row = append(row, string(lead.SourceEvent))
		default:
			row = append(row, "v "+f.Name)
		}
	}
	file, err := csvimport.Read(csvFile(t, [][]string{header, row}), t0)
	if err != nil {
		t.Fatal(err)
	}
	var got []lead.Lead
	for _, l := range file.Rows() {
		got = append(got, l)
	}
	rep := file.Report(len(got), 0, nil, 0)
	notImported := lead.FieldNames(func(f *lead.Field) bool { return !f.Import })
	if !slices.Equal(rep.IgnoredColumns, notImported) || len(rep.Refused) != 0 || len(got) != 1 {
		t.Fatalf("ignored %v (want %v), refused %v, %d rows", rep.IgnoredColumns, notImported, rep.Refused, len(got))
	}
	l := got[0]
	for i, f := range lead.Fields() {
		want := row[i]
		switch {
		case !f.Import:
			want = ""
			if f.Type == lead.TypeBool {
				want = "false"
			}
		case f.Type == lead.TypeBool:
			want = "true"
		}
		if f.Type == lead.TypeID || f.Name == "created_at" || f.Name == "updated_at" {
			continue // the store sets these
		}
		if cell := f.Cell(&l); cell != want {
			t.Errorf("%s: %q, want %q", f.Name, cell, want)
		}
	}
}
