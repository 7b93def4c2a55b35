package lead

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// jsonNames are the JSON names of T's fields, in order, with their Go names.
func jsonNames[T any]() (names []string, goName map[string]string) {
	goName = map[string]string{}
	typ := reflect.TypeFor[T]()
	for i := range typ.NumField() {
		n, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		names = append(names, n)
		goName[n] = typ.Field(i).Name
	}
	return names, goName
}

// addr is the address of the field of *p with Go name name.
func addr[T any](p *T, name string) uintptr {
	f := reflect.ValueOf(p).Elem().FieldByName(name)
	if !f.IsValid() {
		return 0
	}
	return f.Addr().Pointer()
}

func ptr[T any](p *T) uintptr { return uintptr(unsafe.Pointer(p)) }

// TestFieldTableMatchesTheStructs: the table has one entry per column of Lead, in Lead's
// order, and every accessor of an entry points at the struct field of the same name.
func TestFieldTableMatchesTheStructs(t *testing.T) {
	leadNames, leadGo := jsonNames[Lead]()
	inputNames, inputGo := jsonNames[Input]()
	if got := FieldNames(func(*Field) bool { return true }); !slices.Equal(got, leadNames) {
		t.Fatalf("table %v, Lead %v", got, leadNames)
	}
	var l Lead
	var in Input
	var bi BookingInput
	var b Booking
	bookingTexts := 0
	for i := range fieldTable {
		f := &fieldTable[i]
		goName := leadGo[f.Name]
		check := func(what string, got, want uintptr) {
			t.Helper()
			if got != want || want == 0 {
				t.Errorf("%s: %s points elsewhere than %s", f.Name, what, goName)
			}
		}
		if f.Input(&Input{}) != nil {
			check("Input", ptr(f.Input(&in)), addr(&in, inputGo[f.Name]))
		}
		if f.InputBool(&Input{}) != nil {
			check("InputBool", ptr(f.InputBool(&in)), addr(&in, inputGo[f.Name]))
		}
		if f.InputTime(&Input{}) != nil {
			check("InputTime", ptr(f.InputTime(&in)), addr(&in, inputGo[f.Name]))
		}
		if f.BookingText(&BookingInput{}) != nil {
			bookingTexts++
			check("Booking", ptr(f.BookingText(&bi)), addr(&bi, goName))
			check("booked", ptr(f.booked(&b)), addr(&b, goName))
		}
		if f.BookingBool(&BookingInput{}) != nil {
			check("BookingBool", ptr(f.BookingBool(&bi)), addr(&bi, goName))
		}
		if f.text(&Lead{}) != nil {
			check("text", ptr(f.text(&l)), addr(&l, goName))
		}
		if f.optText(&Lead{}) != nil {
			check("optText", ptr(f.optText(&l)), addr(&l, goName))
		}
		// who may write it agrees with the accessors
		hasInput := f.Input(&Input{}) != nil || f.InputBool(&Input{}) != nil || f.InputTime(&Input{}) != nil
		if f.Writable(WriteCreate) != hasInput || f.Writable(WritePatch) && !hasInput {
			t.Errorf("%s: staff-writable %b without (or with) an Input field", f.Name, f.Write)
		}
		if f.Writable(WriteBooking) != (f.BookingText(&BookingInput{}) != nil || f.BookingBool(&BookingInput{}) != nil) {
			t.Errorf("%s: booking-writable %b without (or with) a BookingInput field", f.Name, f.Write)
		}
		if f.Import != f.Writable(WriteCreate) && f.Name != FieldOwnerID { // the import names the owner by OwnerEmailColumn
			t.Errorf("%s: imported %v, staff-creatable %v", f.Name, f.Import, f.Writable(WriteCreate))
		}
		if !f.Export {
			t.Errorf("%s: not exported", f.Name)
		}
		if f.Type == TypeText && (f.text(&Lead{}) != nil || f.optText(&Lead{}) != nil) {
			if f.Limit <= 0 || f.Label == "" || f.Input(&Input{}) == nil {
				t.Errorf("%s: a writable text field needs a limit, a label and an Input field", f.Name)
			}
			if f.Required != (f.text(&Lead{}) != nil) || f.Nullable != (f.optText(&Lead{}) != nil) {
				t.Errorf("%s: required %v, nullable %v, but its Lead field is %T", f.Name, f.Required, f.Nullable,
					reflect.ValueOf(l).FieldByName(goName).Interface())
			}
		}
	}
	if want := reflect.TypeFor[Booking]().NumField() - 2; bookingTexts != want { // less EmailNormalized, PreferredTimes
		t.Errorf("%d booking text fields in the table, Booking has %d", bookingTexts, want)
	}
	if want := reflect.TypeFor[BookingInput]().NumField() - 1; bookingTexts+1 != want { // less PreferredTimes, not a lead field
		t.Errorf("%d booking fields in the table, BookingInput has %d", bookingTexts+1, want)
	}
	if len(inputNames) != len(FieldNames(func(f *Field) bool { return f.Writable(WriteCreate) })) {
		t.Errorf("Input has %v, the table's staff-creatable fields are %v", inputNames,
			FieldNames(func(f *Field) bool { return f.Writable(WriteCreate) }))
	}
}

// TestFieldCells: each entry's export cell is its Lead field as text.
func TestFieldCells(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 600, time.FixedZone("CET", 3600))
	s := func(v string) *string { return &v }
	l := Lead{ID: "id-1", FirstName: "Kari", LastName: "Nordmann", Email: "kari@example.no", Phone: s("+47"),
		OrganizationName: "Org", OrganizationType: s("ngo"), OrganizationSize: s("10-49"), RoleTitle: s("lead"),
		Source: SourceEvent, Status: StatusWon, Notes: s("n"), Message: s("m"), UTMSource: s("us"), UTMMedium: s("um"),
		UTMCampaign: s("uc"), IPAddress: s("192.0.2.1"), ConsentGiven: true, ConsentTimestamp: &ts,
		CreatedAt: ts, UpdatedAt: ts.Add(time.Second), Language: LanguageEN}
	want := []string{"id-1", "Kari", "Nordmann", "kari@example.no", "+47", "Org", "ngo", "10-49", "lead", "event", "won",
		"n", "m", "us", "um", "uc", "192.0.2.1", "true", "2026-01-02T02:04:05.0000006Z", "2026-01-02T02:04:05.0000006Z",
		"2026-01-02T02:04:06.0000006Z", "", "en", "", "", ""}
	var got []string
	for _, f := range Fields() {
		got = append(got, f.Cell(&l))
	}
	if !slices.Equal(got, want) {
		t.Errorf("cells\n%q\nwant\n%q", got, want)
	}
	if got := fieldTable[4].Cell(&Lead{}); got != "" {
		t.Errorf("a null phone is %q", got)
	}
}

// TestFieldLimitsAreValidated: every text field of the table is validated with its limit, by
// the create, the patch and, where the public may write it, the booking.
func TestFieldLimitsAreValidated(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tooLong := func(r Result, f *Field) bool {
		return slices.ContainsFunc(r.Errors, func(i Issue) bool {
			return i.Field == f.Name && (i.Rule == RuleFieldLength || i.Rule == RuleMessageLength)
		})
	}
	n := 0
	for i := range fieldTable {
		f := &fieldTable[i]
		if f.Type != TypeText || f.Input(&Input{}) == nil {
			continue
		}
		n++
		for _, length := range []int{f.Limit, f.Limit + 1} {
			v := strings.Repeat("a", length)
			var in Input
			*f.Input(&in) = Val(v)
			_, rc := ValidateCreate(in, now)
			_, rp := ValidatePatch(Lead{Status: StatusNew}, in)
			var bi BookingInput
			*f.BookingText(&bi) = v
			_, rb := ValidateBooking(bi)
			for what, r := range map[string]Result{"create": rc, "patch": rp, "booking": rb} {
				if got := tooLong(r, f); got != (length > f.Limit) {
					t.Errorf("%s %s of %d characters (limit %d): length rule failed = %v", what, f.Name, length, f.Limit, got)
				}
			}
		}
	}
	if n != 12 {
		t.Errorf("%d writable text fields", n)
	}
}

// consumers are the files that decode, validate, import, export or describe a lead's fields:
// they spell no field name at all as a string literal, but for the exceptions listed, each
// for something that is not the field's schema.
var consumers = map[string][]string{
	"lead/validate.go":       nil,
	"intake/decode.go":       nil,
	"httpapi/leads.go":       {"id", "notes"}, // the {id} path value; the read-only answer for notes names the notes route
	"httpapi/export.go":      nil,
	"httpapi/openapi.go":     nil,
	"csvimport/csvimport.go": {"notes"}, // the import's own warning about a note it left out
	// the form's layout (label, widget, hint) of each field it shows, and the thank-you
	// page's note on a phone number it could not read
	"web/booking.go": {"first_name", "last_name", "email", "phone", "organization_name", "organization_type",
		"organization_size", "role_title", "message"},
}

// shared are field names that are not particular to a lead: every record has them.
var shared = []string{"id", "created_at", "updated_at"}

// TestConsumersUseTheFieldTable: outside the table (fields.go), no non-test file of
// internal/ spells a lead field's name with an underscore (first_name, utm_source,
// consent_given, …) as a string literal, and the consumers (above) spell none at all: they
// read lead.Fields(). Short names (email, status, source, …) are also other things' names
// (log keys, metric labels, list filters), so they are checked in the consumers only. Struct
// tags are not literals; internal/store is left out: its SQL names the columns, and storage
// columns stay SQL.
func TestConsumersUseTheFieldTable(t *testing.T) {
	names := FieldNames(func(*Field) bool { return true })
	unseen := map[string]bool{}
	for f := range consumers {
		unseen[f] = true
	}
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(path, ".."+string(filepath.Separator)))
		if d.IsDir() && (rel == "store" || strings.HasPrefix(rel, "store/")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		if rel == "lead/fields.go" {
			return nil
		}
		allowed, consumer := consumers[rel]
		if consumer {
			delete(unseen, rel)
		}
		src, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(src, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			v, err := strconv.Unquote(lit.Value)
			particular := strings.Contains(v, "_") && !slices.Contains(shared, v)
			if err == nil && slices.Contains(names, v) && (consumer || particular) && !slices.Contains(allowed, v) {
				t.Errorf("%s: the field name %q is spelled here; read it from lead.Fields()", fset.Position(lit.Pos()), v)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for f := range unseen {
		t.Errorf("the consumer %s is gone: update the list", f)
	}
}
