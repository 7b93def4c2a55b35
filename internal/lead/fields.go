package lead

import (
	"strconv"
	"time"
)

// This file is the one place a lead field is described: its JSON (seed) name, its limit,
// whether a create needs it, who may write it, whether the CSV import reads it and the
// export writes it, its OpenAPI schema, and where it lives in Lead, BookingInput, Booking
// and Input. The decoders (public JSON and form, staff create and patch), validation, the
// CSV import, the CSV export and the OpenAPI agreement test read Fields instead of naming
// fields. Storage columns stay SQL (internal/store). Adding a column to the lead means an
// entry here, the struct fields it points at, a migration and the storage columns.

// Access says who may write a field; the zero value is read-only (only the service writes it).
type Access uint8

const (
	WriteBooking Access = 1 << iota // the public demo booking (JSON and form)
	WriteCreate                     // staff create (and the CSV import)
	WritePatch                      // staff merge patch
)

// Type is a field's value type, which selects its accessor and its decoding.
type Type uint8

const (
	TypeID   Type = iota // the lead's id, set by the store
	TypeText             // free text, validated by the text rules; Opt in an Input
	TypeEnum             // source or status: an Opt in an Input, parsed by its own rule
	TypeBool             // consent_given
	TypeTime             // a timestamp (RFC 3339 in JSON and CSV)
)

// Field is one column of a lead. Accessors are nil where the field does not exist in that
// struct; none reflect, as a booking's decoding and validation run through them.
type Field struct {
	Name     string // JSON key, form field, CSV column, seed column
	Label    string // for validation messages
	Type     Type
	Limit    int  // most code points a text field takes (SPEC §2); 0 for other types
	Required bool // a create (staff, import, public booking where writable) must give it
	Write    Access
	Import   bool // a CSV import column (SPEC §10)
	Export   bool // a column of GET /api/v1/leads.csv, in table order
	Nullable bool // null in a Lead's JSON when absent

	// OpenAPI: the property's type and format in the Lead schema, and the component a
	// request schema refers to for it ("" when it has none).
	OpenAPIType   string
	OpenAPIFormat string
	OpenAPIRef    string

	Booking     func(*BookingInput) *string // TypeText fields a booking takes
	BookingBool func(*BookingInput) **bool  // TypeBool fields a booking takes
	Input       func(*Input) *Opt           // TypeText and TypeEnum fields of an Input
	InputBool   func(*Input) **bool
	InputTime   func(*Input) **time.Time
	// Cell is the field of l as one CSV export cell: "" for null, times RFC 3339 UTC.
	Cell func(l *Lead) string

	kind       kind                   // text checks beyond the common ones
	lengthRule string                 // the rule a too long value fails; RuleFieldLength when ""
	booked     func(*Booking) *string // where ValidateBooking puts the normalized text
	text       func(*Lead) *string    // a required text column of Lead
	optText    func(*Lead) **string   // an optional (NULL when blank) text column of Lead
}

// Writable reports whether a may write f.
func (f *Field) Writable(a Access) bool { return f.Write&a != 0 }

// check is the validation view of a text field.
func (f *Field) check() field {
	rule := f.lengthRule
	if rule == "" {
		rule = RuleFieldLength
	}
	return field{name: f.Name, label: f.Label, limit: f.Limit, kind: f.kind, lengthRule: rule}
}

// Fields returns the field table in Lead order (the export's column order). It is shared:
// callers must not modify it.
func Fields() []Field { return fieldTable }

// LookupField returns the field named name.
func LookupField(name string) (*Field, bool) {
	for i := range fieldTable {
		if fieldTable[i].Name == name {
			return &fieldTable[i], true
		}
	}
	return nil, false
}

// FieldNames are the names of the fields for which keep is true, in table order.
func FieldNames(keep func(*Field) bool) []string {
	var names []string
	for i := range fieldTable {
		if keep(&fieldTable[i]) {
			names = append(names, fieldTable[i].Name)
		}
	}
	return names
}

// The names validation reports issues on for fields without text checks.
const (
	fieldSource           = "source"
	fieldStatus           = "status"
	fieldConsentGiven     = "consent_given"
	fieldConsentTimestamp = "consent_timestamp"
)

const (
	writeAll     = WriteBooking | WriteCreate | WritePatch
	writeStaff   = WriteCreate | WritePatch
	writeCreated = WriteCreate
)

func cellStr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func cellTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// required and optional text fields: the same shape, many times.
func reqText(name, label string, limit int, k kind, ref string,
	bi func(*BookingInput) *string, bk func(*Booking) *string, in func(*Input) *Opt, l func(*Lead) *string) Field {
	return Field{Name: name, Label: label, Type: TypeText, Limit: limit, Required: true, Write: writeAll,
		Import: true, Export: true, OpenAPIType: "string", OpenAPIRef: ref, kind: k,
		Booking: bi, booked: bk, Input: in, text: l, Cell: func(x *Lead) string { return *l(x) }}
}

func optText(name, label string, limit int, k kind, ref string,
	bi func(*BookingInput) *string, bk func(*Booking) *string, in func(*Input) *Opt, l func(*Lead) **string) Field {
	return Field{Name: name, Label: label, Type: TypeText, Limit: limit, Write: writeAll, Nullable: true,
		Import: true, Export: true, OpenAPIType: "string", OpenAPIRef: ref, kind: k,
		Booking: bi, booked: bk, Input: in, optText: l, Cell: func(x *Lead) string { return cellStr(*l(x)) }}
}

func readOnlyTime(name string, nullable bool, get func(*Lead) *time.Time) Field {
	return Field{Name: name, Type: TypeTime, Export: true, Nullable: nullable, OpenAPIType: "string",
		OpenAPIFormat: "date-time", Cell: func(l *Lead) string { return cellTime(get(l)) }}
}

var fieldTable = []Field{
	{Name: "id", Type: TypeID, Export: true, OpenAPIType: "string", OpenAPIFormat: "uuid",
		Cell: func(l *Lead) string { return l.ID }},
	reqText("first_name", "First name", 100, kindName, "FirstName",
		func(b *BookingInput) *string { return &b.FirstName }, func(b *Booking) *string { return &b.FirstName },
		func(i *Input) *Opt { return &i.FirstName }, func(l *Lead) *string { return &l.FirstName }),
	reqText("last_name", "Last name", 100, kindName, "LastName",
		func(b *BookingInput) *string { return &b.LastName }, func(b *Booking) *string { return &b.LastName },
		func(i *Input) *Opt { return &i.LastName }, func(l *Lead) *string { return &l.LastName }),
	reqText("email", "Email", maxEmailLength, kindEmail, "Email",
		func(b *BookingInput) *string { return &b.Email }, func(b *Booking) *string { return &b.Email },
		func(i *Input) *Opt { return &i.Email }, func(l *Lead) *string { return &l.Email }),
	optText("phone", "Phone", 40, kindPhone, "Phone",
		func(b *BookingInput) *string { return &b.Phone }, func(b *Booking) *string { return &b.Phone },
		func(i *Input) *Opt { return &i.Phone }, func(l *Lead) **string { return &l.Phone }),
	reqText("organization_name", "Organization name", 200, kindPlain, "OrganizationName",
		func(b *BookingInput) *string { return &b.OrganizationName }, func(b *Booking) *string { return &b.OrganizationName },
		func(i *Input) *Opt { return &i.OrganizationName }, func(l *Lead) *string { return &l.OrganizationName }),
	optText("organization_type", "Organization type", 100, kindPlain, "OrganizationType",
		func(b *BookingInput) *string { return &b.OrganizationType }, func(b *Booking) *string { return &b.OrganizationType },
		func(i *Input) *Opt { return &i.OrganizationType }, func(l *Lead) **string { return &l.OrganizationType }),
	optText("organization_size", "Organization size", 50, kindPlain, "OrganizationSize",
		func(b *BookingInput) *string { return &b.OrganizationSize }, func(b *Booking) *string { return &b.OrganizationSize },
		func(i *Input) *Opt { return &i.OrganizationSize }, func(l *Lead) **string { return &l.OrganizationSize }),
	optText("role_title", "Role title", 100, kindPlain, "RoleTitle",
		func(b *BookingInput) *string { return &b.RoleTitle }, func(b *Booking) *string { return &b.RoleTitle },
		func(i *Input) *Opt { return &i.RoleTitle }, func(l *Lead) **string { return &l.RoleTitle }),
	{Name: fieldSource, Label: "Source", Type: TypeEnum, Required: true, Write: writeCreated, Import: true, Export: true,
		OpenAPIType: "string", OpenAPIRef: "Source",
		Input: func(i *Input) *Opt { return &i.Source }, Cell: func(l *Lead) string { return string(l.Source) }},
	{Name: fieldStatus, Label: "Status", Type: TypeEnum, Write: writeStaff, Import: true, Export: true,
		OpenAPIType: "string", OpenAPIRef: "Status",
		Input: func(i *Input) *Opt { return &i.Status }, Cell: func(l *Lead) string { return string(l.Status) }},
	{Name: "notes", Type: TypeText, Export: true, Nullable: true, OpenAPIType: "string",
		Cell: func(l *Lead) string { return cellStr(l.Notes) }},
	func() Field {
		f := optText("message", "Message", 5000, kindMultiline, "Message",
			func(b *BookingInput) *string { return &b.Message }, func(b *Booking) *string { return &b.Message },
			func(i *Input) *Opt { return &i.Message }, func(l *Lead) **string { return &l.Message })
		f.lengthRule = RuleMessageLength
		return f
	}(),
	optText("utm_source", "UTM source", 200, kindPlain, "UTMSource",
		func(b *BookingInput) *string { return &b.UTMSource }, func(b *Booking) *string { return &b.UTMSource },
		func(i *Input) *Opt { return &i.UTMSource }, func(l *Lead) **string { return &l.UTMSource }),
	optText("utm_medium", "UTM medium", 200, kindPlain, "UTMMedium",
		func(b *BookingInput) *string { return &b.UTMMedium }, func(b *Booking) *string { return &b.UTMMedium },
		func(i *Input) *Opt { return &i.UTMMedium }, func(l *Lead) **string { return &l.UTMMedium }),
	optText("utm_campaign", "UTM campaign", 200, kindPlain, "UTMCampaign",
		func(b *BookingInput) *string { return &b.UTMCampaign }, func(b *Booking) *string { return &b.UTMCampaign },
		func(i *Input) *Opt { return &i.UTMCampaign }, func(l *Lead) **string { return &l.UTMCampaign }),
	{Name: "ip_address", Type: TypeText, Export: true, Nullable: true, OpenAPIType: "string",
		Cell: func(l *Lead) string { return cellStr(l.IPAddress) }},
	{Name: fieldConsentGiven, Label: "Consent", Type: TypeBool, Required: true, Write: WriteBooking | WriteCreate,
		Import: true, Export: true, OpenAPIType: "boolean",
		BookingBool: func(b *BookingInput) **bool { return &b.ConsentGiven },
		InputBool:   func(i *Input) **bool { return &i.ConsentGiven },
		Cell:        func(l *Lead) string { return strconv.FormatBool(l.ConsentGiven) }},
	{Name: fieldConsentTimestamp, Label: "Consent timestamp", Type: TypeTime, Required: true, Write: writeCreated,
		Import: true, Export: true, Nullable: true, OpenAPIType: "string", OpenAPIFormat: "date-time",
		InputTime: func(i *Input) **time.Time { return &i.ConsentTimestamp },
		Cell:      func(l *Lead) string { return cellTime(l.ConsentTimestamp) }},
	readOnlyTime("created_at", false, func(l *Lead) *time.Time { return &l.CreatedAt }),
	readOnlyTime("updated_at", false, func(l *Lead) *time.Time { return &l.UpdatedAt }),
	readOnlyTime("anonymized_at", true, func(l *Lead) *time.Time { return l.AnonymizedAt }),
}
