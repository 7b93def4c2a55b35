package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/lead"
)

// TestStaffDecoderUsesTheFieldTable: a create takes the table's staff-creatable fields and
// a patch its patchable ones, every other field of the table is refused as read-only, and
// the decoder puts each value where the table says.
func TestStaffDecoderUsesTheFieldTable(t *testing.T) {
	all := lead.FieldNames(func(*lead.Field) bool { return true })
	for _, c := range []struct {
		access       lead.Access
		wantReadOnly []string
	}{
		{lead.WriteCreate, []string{"id", "notes", "ip_address", "created_at", "updated_at", "anonymized_at",
			"first_contacted_at", "contact_due_at"}},
		{lead.WritePatch, []string{"id", "source", "notes", "ip_address", "consent_given", "consent_timestamp",
			"created_at", "updated_at", "anonymized_at", "first_contacted_at", "contact_due_at"}},
	} {
		known, readOnly := leadKeys(c.access)
		if !slices.Equal(readOnly, c.wantReadOnly) {
			t.Errorf("access %b: read-only %v, want %v", c.access, readOnly, c.wantReadOnly)
		}
		writable := lead.FieldNames(func(f *lead.Field) bool { return f.Writable(c.access) })
		if len(known) != len(writable) || len(writable)+len(readOnly) != len(all) {
			t.Errorf("access %b: known %v, the table's writable %v", c.access, known, writable)
		}
		for _, name := range writable {
			if !known[name] {
				t.Errorf("access %b: %s is writable but not known", c.access, name)
			}
		}
	}

	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	raw := map[string]json.RawMessage{}
	for _, name := range lead.FieldNames(func(f *lead.Field) bool { return f.Writable(lead.WriteCreate) }) {
		f, _ := lead.LookupField(name)
		switch f.Type {
		case lead.TypeBool:
			raw[name] = json.RawMessage(`true`)
		case lead.TypeTime:
			raw[name] = json.RawMessage(`"` + ts.Format(time.RFC3339) + `"`)
		default:
			raw[name] = json.RawMessage(`"v-` + name + `"`)
		}
	}
	s := &server{Deps: Deps{Logger: slog.New(slog.DiscardHandler)}}
	in, ok := s.decodeLeadInput(httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil), raw)
	if !ok {
		t.Fatal("refused")
	}
	for name := range raw {
		f, _ := lead.LookupField(name)
		switch {
		case f.Input(&lead.Input{}) != nil:
			if o := *f.Input(&in); o != lead.Val("v-"+name) {
				t.Errorf("%s: %+v", name, o)
			}
		case f.InputBool(&lead.Input{}) != nil:
			if b := *f.InputBool(&in); b == nil || !*b {
				t.Errorf("%s: %v", name, b)
			}
		case f.InputTime(&lead.Input{}) != nil:
			if v := *f.InputTime(&in); v == nil || !v.Equal(ts) {
				t.Errorf("%s: %v", name, v)
			}
		default:
			t.Errorf("%s: writable without an Input field", name)
		}
	}
}

// TestExportColumnsAreTheTable: the export's header is the table's exported fields, in
// its order (the seed's columns and anonymized_at), and each cell is its field's.
func TestExportColumnsAreTheTable(t *testing.T) {
	cols := csvFields()
	want := []string{"id", "first_name", "last_name", "email", "phone", "organization_name",
		"organization_type", "organization_size", "role_title", "source", "status", "notes", "message",
		"utm_source", "utm_medium", "utm_campaign", "ip_address", "consent_given", "consent_timestamp",
		"created_at", "updated_at", "anonymized_at", "language", "owner_id", "first_contacted_at", "contact_due_at"}
	if got := csvHeader(cols); !slices.Equal(got, want) || !slices.Equal(got, lead.FieldNames(func(f *lead.Field) bool { return f.Export })) {
		t.Errorf("header %v", got)
	}
	size := "=1+1"
	l := lead.Lead{ID: "x", OrganizationSize: &size}
	rec := make([]string, len(cols))
	csvRecord(rec, cols, &l)
	if i := slices.Index(want, "organization_size"); rec[i] != "'=1+1" || rec[0] != "x" {
		t.Errorf("record %q", rec)
	}
}
