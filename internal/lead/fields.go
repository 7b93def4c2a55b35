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

// Field is one column of a lead. Its accessor methods (BookingText, Input, Cell, …) return
// nil where the field does not exist in that struct; none reflect, as a booking's decoding
// and validation run through them.
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

	id         fieldID // selects the accessors
	kind       kind    // text checks beyond the common ones
	lengthRule string  // the rule a too long value fails; RuleFieldLength when ""
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
	fieldLanguage         = "language"
	// FieldOwnerID is the lead's owner: staff write it, the import names it by OwnerEmailColumn.
	FieldOwnerID = "owner_id"
	// OwnerEmailColumn is the CSV import's column naming a row's owner by email (SPEC §11).
	OwnerEmailColumn = "owner_email"
)

const (
	writeAll     = WriteBooking | WriteCreate | WritePatch
	writeStaff   = WriteCreate | WritePatch
	writeCreated = WriteCreate
)

// fieldID names a table entry for the accessors below: switches rather than func values in
// the entries, because a pointer handed to a func value escapes to the heap, and a booking's
// decoding and validation go through these for every field.
type fieldID uint8

const (
	idID fieldID = iota
	idFirstName
	idLastName
	idEmail
	idPhone
	idOrganizationName
	idOrganizationType
	idOrganizationSize
	idRoleTitle
	idSource
	idStatus
	idNotes
	idMessage
	idUTMSource
	idUTMMedium
	idUTMCampaign
	idIPAddress
	idConsentGiven
	idConsentTimestamp
	idCreatedAt
	idUpdatedAt
	idAnonymizedAt
	idLanguage
	idOwnerID
	idFirstContactedAt
	idContactDueAt
)

var fieldTable = []Field{
	{id: idID, Name: "id", Type: TypeID, Export: true, OpenAPIType: "string", OpenAPIFormat: "uuid"},
	reqText(idFirstName, "first_name", "First name", 100, kindName, "FirstName"),
	reqText(idLastName, "last_name", "Last name", 100, kindName, "LastName"),
	reqText(idEmail, "email", "Email", maxEmailLength, kindEmail, "Email"),
	optText(idPhone, "phone", "Phone", 40, kindPhone, "Phone"),
	reqText(idOrganizationName, "organization_name", "Organization name", 200, kindPlain, "OrganizationName"),
	optText(idOrganizationType, "organization_type", "Organization type", 100, kindPlain, "OrganizationType"),
	optText(idOrganizationSize, "organization_size", "Organization size", 50, kindPlain, "OrganizationSize"),
	optText(idRoleTitle, "role_title", "Role title", 100, kindPlain, "RoleTitle"),
	{id: idSource, Name: fieldSource, Label: "Source", Type: TypeEnum, Required: true, Write: writeCreated, Import: true,
		Export: true, OpenAPIType: "string", OpenAPIRef: "Source"},
	{id: idStatus, Name: fieldStatus, Label: "Status", Type: TypeEnum, Write: writeStaff, Import: true, Export: true,
		OpenAPIType: "string", OpenAPIRef: "Status"},
	{id: idNotes, Name: "notes", Type: TypeText, Export: true, Nullable: true, OpenAPIType: "string"},
	func() Field {
		f := optText(idMessage, "message", "Message", 5000, kindMultiline, "Message")
		f.lengthRule = RuleMessageLength
		return f
	}(),
	optText(idUTMSource, "utm_source", "UTM source", 200, kindPlain, "UTMSource"),
	optText(idUTMMedium, "utm_medium", "UTM medium", 200, kindPlain, "UTMMedium"),
	optText(idUTMCampaign, "utm_campaign", "UTM campaign", 200, kindPlain, "UTMCampaign"),
	{id: idIPAddress, Name: "ip_address", Type: TypeText, Export: true, Nullable: true, OpenAPIType: "string"},
	{id: idConsentGiven, Name: fieldConsentGiven, Label: "Consent", Type: TypeBool, Required: true,
		Write: WriteBooking | WriteCreate, Import: true, Export: true, OpenAPIType: "boolean"},
	{id: idConsentTimestamp, Name: fieldConsentTimestamp, Label: "Consent timestamp", Type: TypeTime, Required: true,
		Write: writeCreated, Import: true, Export: true, Nullable: true, OpenAPIType: "string", OpenAPIFormat: "date-time"},
	readOnlyTime(idCreatedAt, "created_at", false),
	readOnlyTime(idUpdatedAt, "updated_at", false),
	readOnlyTime(idAnonymizedAt, "anonymized_at", true),
	// The prospect's language (SPEC §12): staff may set it; a public booking's comes from
	// its negotiation (intake.Meta.Language), not from this table's booking decoder.
	{id: idLanguage, Name: fieldLanguage, Label: "Language", Type: TypeEnum, Write: writeStaff, Import: true,
		Export: true, OpenAPIType: "string", OpenAPIRef: "Language"},
	// The team (SPEC §11): the owner (an active member, or null; the CSV import names it by
	// owner_email instead), and speed to lead, which only the service writes.
	{id: idOwnerID, Name: FieldOwnerID, Type: TypeID, Write: writeStaff, Export: true, Nullable: true, OpenAPIType: "string", OpenAPIFormat: "uuid"},
	readOnlyTime(idFirstContactedAt, "first_contacted_at", true),
	readOnlyTime(idContactDueAt, "contact_due_at", true),
}

// reqText is a required text field that everyone may write.
func reqText(id fieldID, name, label string, limit int, k kind, ref string) Field {
	f := optText(id, name, label, limit, k, ref)
	f.Required, f.Nullable = true, false
	return f
}

// optText is an optional text field (NULL when blank) that everyone may write.
func optText(id fieldID, name, label string, limit int, k kind, ref string) Field {
	return Field{id: id, Name: name, Label: label, Type: TypeText, Limit: limit, Write: writeAll, Nullable: true,
		Import: true, Export: true, OpenAPIType: "string", OpenAPIRef: ref, kind: k}
}

func readOnlyTime(id fieldID, name string, nullable bool) Field {
	return Field{id: id, Name: name, Type: TypeTime, Export: true, Nullable: nullable, OpenAPIType: "string",
		OpenAPIFormat: "date-time"}
}

// BookingText is where a booking keeps the text field f; nil when a booking does not take it.
func (f *Field) BookingText(in *BookingInput) *string {
	switch f.id {
	case idFirstName:
		return &in.FirstName
	case idLastName:
		return &in.LastName
	case idEmail:
		return &in.Email
	case idPhone:
		return &in.Phone
	case idOrganizationName:
		return &in.OrganizationName
	case idOrganizationType:
		return &in.OrganizationType
	case idOrganizationSize:
		return &in.OrganizationSize
	case idRoleTitle:
		return &in.RoleTitle
	case idMessage:
		return &in.Message
	case idUTMSource:
		return &in.UTMSource
	case idUTMMedium:
		return &in.UTMMedium
	case idUTMCampaign:
		return &in.UTMCampaign
	}
	return nil
}

// BookingBool is where a booking keeps the boolean field f; nil when it has none.
func (f *Field) BookingBool(in *BookingInput) **bool {
	if f.id == idConsentGiven {
		return &in.ConsentGiven
	}
	return nil
}

// booked is where ValidateBooking puts the normalized text field f.
func (f *Field) booked(b *Booking) *string {
	switch f.id {
	case idFirstName:
		return &b.FirstName
	case idLastName:
		return &b.LastName
	case idEmail:
		return &b.Email
	case idPhone:
		return &b.Phone
	case idOrganizationName:
		return &b.OrganizationName
	case idOrganizationType:
		return &b.OrganizationType
	case idOrganizationSize:
		return &b.OrganizationSize
	case idRoleTitle:
		return &b.RoleTitle
	case idMessage:
		return &b.Message
	case idUTMSource:
		return &b.UTMSource
	case idUTMMedium:
		return &b.UTMMedium
	case idUTMCampaign:
		return &b.UTMCampaign
	}
	return nil
}

// Input is where an Input keeps the text or enum field f; nil when it is not an Opt.
func (f *Field) Input(in *Input) *Opt {
	switch f.id {
	case idFirstName:
		return &in.FirstName
	case idLastName:
		return &in.LastName
	case idEmail:
		return &in.Email
	case idPhone:
		return &in.Phone
	case idOrganizationName:
		return &in.OrganizationName
	case idOrganizationType:
		return &in.OrganizationType
	case idOrganizationSize:
		return &in.OrganizationSize
	case idRoleTitle:
		return &in.RoleTitle
	case idSource:
		return &in.Source
	case idStatus:
		return &in.Status
	case idMessage:
		return &in.Message
	case idUTMSource:
		return &in.UTMSource
	case idUTMMedium:
		return &in.UTMMedium
	case idUTMCampaign:
		return &in.UTMCampaign
	case idLanguage:
		return &in.Language
	case idOwnerID:
		return &in.OwnerID
	}
	return nil
}

// InputBool is where an Input keeps the boolean field f; nil when it has none.
func (f *Field) InputBool(in *Input) **bool {
	if f.id == idConsentGiven {
		return &in.ConsentGiven
	}
	return nil
}

// InputTime is where an Input keeps the timestamp field f; nil when it has none.
func (f *Field) InputTime(in *Input) **time.Time {
	if f.id == idConsentTimestamp {
		return &in.ConsentTimestamp
	}
	return nil
}

// text is the Lead column of a required text field; nil for any other field.
func (f *Field) text(l *Lead) *string {
	switch f.id {
	case idFirstName:
		return &l.FirstName
	case idLastName:
		return &l.LastName
	case idEmail:
		return &l.Email
	case idOrganizationName:
		return &l.OrganizationName
	}
	return nil
}

// optText is the Lead column of an optional text field; nil for any other field.
func (f *Field) optText(l *Lead) **string {
	switch f.id {
	case idPhone:
		return &l.Phone
	case idOrganizationType:
		return &l.OrganizationType
	case idOrganizationSize:
		return &l.OrganizationSize
	case idRoleTitle:
		return &l.RoleTitle
	case idMessage:
		return &l.Message
	case idUTMSource:
		return &l.UTMSource
	case idUTMMedium:
		return &l.UTMMedium
	case idUTMCampaign:
		return &l.UTMCampaign
	}
	return nil
}

// Cell is the field f of l as one CSV export cell: "" for null, times RFC 3339 UTC.
func (f *Field) Cell(l *Lead) string {
	if p := f.text(l); p != nil {
		return *p
	}
	if p := f.optText(l); p != nil {
		return cellStr(*p)
	}
	switch f.id {
	case idID:
		return l.ID
	case idSource:
		return string(l.Source)
	case idStatus:
		return string(l.Status)
	case idNotes:
		return cellStr(l.Notes)
	case idIPAddress:
		return cellStr(l.IPAddress)
	case idConsentGiven:
		return strconv.FormatBool(l.ConsentGiven)
	case idConsentTimestamp:
		return cellTime(l.ConsentTimestamp)
	case idCreatedAt:
		return cellTime(&l.CreatedAt)
	case idUpdatedAt:
		return cellTime(&l.UpdatedAt)
	case idAnonymizedAt:
		return cellTime(l.AnonymizedAt)
	case idLanguage:
		return l.Language
	case idOwnerID:
		return cellStr(l.OwnerID)
	case idFirstContactedAt:
		return cellTime(l.FirstContactedAt)
	case idContactDueAt:
		return cellTime(l.ContactDueAt)
	}
	return ""
}

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
