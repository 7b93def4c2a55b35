package lead_test

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/lead"
)

// bookingField reaches one text field of a BookingInput and of the Booking made from it.
type bookingField struct {
	name  string
	limit int
	set   func(*lead.BookingInput, string)
	get   func(lead.Booking) string
}

var bookingFields = []bookingField{
	{"first_name", 100, func(in *lead.BookingInput, v string) { in.FirstName = v }, func(b lead.Booking) string { return b.FirstName }},
	{"last_name", 100, func(in *lead.BookingInput, v string) { in.LastName = v }, func(b lead.Booking) string { return b.LastName }},
	{"email", 254, func(in *lead.BookingInput, v string) { in.Email = v }, func(b lead.Booking) string { return b.Email }},
	{"phone", 40, func(in *lead.BookingInput, v string) { in.Phone = v }, func(b lead.Booking) string { return b.Phone }},
	{"organization_name", 200, func(in *lead.BookingInput, v string) { in.OrganizationName = v }, func(b lead.Booking) string { return b.OrganizationName }},
	{"organization_type", 100, func(in *lead.BookingInput, v string) { in.OrganizationType = v }, func(b lead.Booking) string { return b.OrganizationType }},
	{"organization_size", 50, func(in *lead.BookingInput, v string) { in.OrganizationSize = v }, func(b lead.Booking) string { return b.OrganizationSize }},
	{"role_title", 100, func(in *lead.BookingInput, v string) { in.RoleTitle = v }, func(b lead.Booking) string { return b.RoleTitle }},
	{"message", 5000, func(in *lead.BookingInput, v string) { in.Message = v }, func(b lead.Booking) string { return b.Message }},
	{"utm_source", 200, func(in *lead.BookingInput, v string) { in.UTMSource = v }, func(b lead.Booking) string { return b.UTMSource }},
	{"utm_medium", 200, func(in *lead.BookingInput, v string) { in.UTMMedium = v }, func(b lead.Booking) string { return b.UTMMedium }},
	{"utm_campaign", 200, func(in *lead.BookingInput, v string) { in.UTMCampaign = v }, func(b lead.Booking) string { return b.UTMCampaign }},
}

func bookingFieldNamed(name string) bookingField {
	for _, f := range bookingFields {
		if f.name == name {
			return f
		}
	}
	panic("no field " + name)
}

// rules lists the rule of every issue, "field:rule", errors first, then warnings as "~field:rule".
func rules(r lead.Result) []string {
	var out []string
	for _, is := range r.Errors {
		out = append(out, is.Field+":"+is.Rule)
	}
	for _, is := range r.Warnings {
		out = append(out, "~"+is.Field+":"+is.Rule)
	}
	return out
}

// checkMessages: every issue has a message, and no message repeats the submitted value.
func checkMessages(t *testing.T, r lead.Result, value string) {
	t.Helper()
	for _, is := range append(slices.Clone(r.Errors), r.Warnings...) {
		if is.Message == "" {
			t.Errorf("%s/%s: empty message", is.Field, is.Rule)
		}
		if v := strings.TrimSpace(value); len(v) >= 4 && strings.Contains(is.Message, v) {
			t.Errorf("%s/%s: message %q echoes the submitted value", is.Field, is.Rule, is.Message)
		}
	}
}

func TestValidateBookingValid(t *testing.T) {
	in := validBooking()
	in.FirstName = "  Kari Anne\t"
	in.Email = " Kari.Nordmann@Example.NO "
	in.OrganizationType = "non-profit"
	in.OrganizationSize = "10-50"
	in.RoleTitle = "Volunteer coordinator"
	in.Message = "Hello,\r\nwe have <50 volunteers & R&D.\rThanks!\n"
	in.UTMSource, in.UTMMedium, in.UTMCampaign = "newsletter", "email", "spring_2026"
	b, r := lead.ValidateBooking(in)
	if !r.OK() || len(r.Warnings) != 0 {
		t.Fatalf("valid booking refused: %v", rules(r))
	}
	want := lead.Booking{
		FirstName:        "  Kari Anne\t", // text is kept as sent; only email and phone are trimmed
		LastName:         "Nordmann",
		Email:            "Kari.Nordmann@Example.NO",
		EmailNormalized:  "kari.nordmann@example.no",
		Phone:            "+4722334455",
		OrganizationName: "Frivillig Norge",
		OrganizationType: "non-profit",
		OrganizationSize: "10-50",
		RoleTitle:        "Volunteer coordinator",
		Message:          "Hello,\nwe have <50 volunteers & R&D.\nThanks!\n",
		UTMSource:        "newsletter",
		UTMMedium:        "email",
		UTMCampaign:      "spring_2026",
	}
	if !reflect.DeepEqual(b, want) {
		t.Errorf("got  %+v\nwant %+v", b, want)
	}
}

// TestValidateBookingRules covers every rule a booking can fail, each with the field's
// passing neighbour where there is one.
func TestValidateBookingRules(t *testing.T) {
	tests := []struct {
		name  string
		field string
		value string
		want  []string // "field:rule"; warnings as "~field:rule"; nil = clean
	}{
		// required_fields_present
		{"first name missing", "first_name", "", []string{"first_name:required_fields_present"}},
		{"first name blank", "first_name", " \t\u00a0", []string{"first_name:required_fields_present"}},
		{"last name missing", "last_name", "", []string{"last_name:required_fields_present"}},
		{"email missing", "email", "  ", []string{"email:required_fields_present"}},
		{"organization missing", "organization_name", "", []string{"organization_name:required_fields_present"}},
		{"optional empty", "role_title", "  ", nil},

		// email_format_validation
		{"email ok", "email", "post@bücher.de", nil},
		{"email no domain", "email", "kari@", []string{"email:email_format_validation"}},
		{"email dotless", "email", "test@io", []string{"email:email_format_validation"}},
		{"email display name", "email", "Kari <kari@example.no>", []string{"email:email_format_validation"}},
		{"email inner space", "email", "kari @example.no", []string{"email:email_format_validation"}},
		{"email nbsp", "email", "\u00a0kari@example.no", []string{"email:email_format_validation"}},
		{"email on= local part", "email", "onboarding=team@example.no", nil},

		// phone_format_validation (warning)
		{"phone +47", "phone", "+47 22 33 44 55", nil},
		{"phone national", "phone", "22334455", nil},
		{"phone US", "phone", "+1 415 555 2671", nil},
		{"phone letters", "phone", "abc", []string{"~phone:phone_format_validation"}},
		{"phone short", "phone", "123", []string{"~phone:phone_format_validation"}},
		{"phone absent", "phone", "", nil},

		// message_length_limit
		{"message at limit", "message", strings.Repeat("ø", 5000), nil},
		{"message over limit", "message", strings.Repeat("ø", 5001), []string{"message:message_length_limit"}},
		{"message CRLF counted once", "message", strings.Repeat("a\r\n", 2500), nil},

		// xss_sanitization
		{"message tag", "message", "Hi <script>alert(1)</script>", []string{"message:xss_sanitization"}},
		{"message plain lt", "message", "We have <50 volunteers, a > b, R&D", nil},
		{"message data colon", "message", "our data: 40 mentors", nil},
		{"organization tag", "organization_name", "<b>ACME</b>", []string{"organization_name:xss_sanitization"}},
		{"role javascript url", "role_title", "javascript:alert(1)", []string{"role_title:xss_sanitization"}},
		{"utm event handler", "utm_campaign", `x" onmouseover="alert(1)`, []string{"utm_campaign:xss_sanitization"}},
		{"last name comment", "last_name", "Nord<!-- -->mann", []string{"last_name:xss_sanitization"}},
		{"phone markup", "phone", "<b>22334455</b>", []string{"phone:xss_sanitization"}},

		// field_length_limit
		{"first name at limit", "first_name", strings.Repeat("å", 100), nil},
		{"first name over", "first_name", strings.Repeat("å", 101), []string{"first_name:field_length_limit"}},
		{"phone over", "phone", strings.Repeat("1", 41), []string{"phone:field_length_limit"}},
		{"organization size over", "organization_size", strings.Repeat("9", 51), []string{"organization_size:field_length_limit"}},
		{"email over", "email", strings.Repeat("a", 250) + "@x.no", []string{"email:field_length_limit"}},
		{"limit counts the value as sent", "last_name", "  " + strings.Repeat("N", 100) + "  ", []string{"last_name:field_length_limit"}},
		{"value at the limit", "last_name", strings.Repeat("N", 100), nil},

		// invalid_characters
		{"NUL", "first_name", "Ka\x00ri", []string{"first_name:invalid_characters"}},
		{"bell", "organization_name", "ACME\a", []string{"organization_name:invalid_characters"}},
		{"DEL", "role_title", "boss\x7f", []string{"role_title:invalid_characters"}},
		{"C1 control", "last_name", "Nord\u0085mann", []string{"last_name:invalid_characters"}},
		{"invalid UTF-8", "first_name", "Ka\xffri", []string{"first_name:invalid_characters"}},
		{"newline in name", "first_name", "Kari\nBcc: x@example.org", []string{"first_name:invalid_characters"}},
		{"trailing newline in name", "first_name", "Kari\n", []string{"first_name:invalid_characters"}},
		{"CR in email", "email", "kari@example.no\r", []string{"email:invalid_characters"}},
		{"newline in utm", "utm_source", "a\nb", []string{"utm_source:invalid_characters"}},
		{"tab allowed", "organization_name", "ACME\tAS", nil},
		{"newline in message", "message", "line 1\nline 2\r\nline 3", nil},
		{"NUL in message", "message", "a\x00b", []string{"message:invalid_characters"}},
		{"blank name with newline", "first_name", " \n ", []string{"first_name:required_fields_present"}},
		{"blank email with CRLF", "email", "\r\n\t", []string{"email:required_fields_present"}},
		{"blank organization with vertical tab", "organization_name", "\v\f ", []string{"organization_name:required_fields_present"}},
		{"blank optional with newline", "role_title", " \n", nil},
		{"emoji and RTL", "first_name", "Åse 👩🏽‍💻 \u202eמרים", nil},

		// name_format_validation
		{"name with URL", "first_name", "Kari http://spam.example", []string{"first_name:name_format_validation"}},
		{"name with www", "last_name", "Visit www.spam.example", []string{"last_name:name_format_validation"}},
		{"name with WWW", "last_name", "WWW.SPAM.EXAMPLE", []string{"last_name:name_format_validation"}},
		{"name with email", "first_name", "Kari kari@spam.example", []string{"first_name:name_format_validation"}},
		{"name with scheme", "first_name", "ftp://x", []string{"first_name:name_format_validation"}},
		{"name with short link", "first_name", "bit.ly/3xYz", []string{"first_name:name_format_validation"}},
		{"name with bare domain", "last_name", "Win at evil-prize.example now", []string{"last_name:name_format_validation"}},
		{"name with upper-case domain", "last_name", "EVIL-PRIZE.EXAMPLE", []string{"last_name:name_format_validation"}},
		{"name with domain and port", "first_name", "evil.example:8080", []string{"first_name:name_format_validation"}},
		{"name with IDN domain", "first_name", "shop.xn--p1ai", []string{"first_name:name_format_validation"}},
		{"name with initials", "last_name", "J.R.R. Tolkien", nil},
		{"name with degree", "last_name", "Nordmann Ph.D", nil},
		{"name hyphen apostrophe", "last_name", "O'Neil-Nordmann", nil},
		{"name with dots", "first_name", "Dr. J. R. R.", nil},
		{"name with @ but no domain", "first_name", "J@ne", nil},
		{"organization may hold a URL", "organization_name", "www.example.no AS", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validBooking()
			bookingFieldNamed(tt.field).set(&in, tt.value)
			_, r := lead.ValidateBooking(in)
			if got := rules(r); !slices.Equal(got, tt.want) {
				t.Errorf("issues = %v, want %v", got, tt.want)
			}
			checkMessages(t, r, tt.value)
		})
	}
}

func TestValidateBookingPhoneKeptAsGiven(t *testing.T) {
	in := validBooking()
	in.Phone = "  12 3 "
	b, r := lead.ValidateBooking(in)
	if !r.OK() || b.Phone != "12 3" {
		t.Errorf("phone = %q, %v; want kept as given, trimmed", b.Phone, rules(r))
	}
	in.Phone = "0047 22 33 44 55"
	if b, _ = lead.ValidateBooking(in); b.Phone != "+4722334455" {
		t.Errorf("phone = %q, want E.164", b.Phone)
	}
}

func TestValidateBookingConsent(t *testing.T) {
	for _, consent := range []*bool{nil, ptr(false)} {
		in := validBooking()
		in.ConsentGiven = consent
		_, r := lead.ValidateBooking(in)
		if got, want := rules(r), []string{"consent_given:gdpr_consent_required"}; !slices.Equal(got, want) {
			t.Errorf("consent %v: issues = %v, want %v", consent, got, want)
		}
	}
}

// TestValidateBookingAllAtOnce: one request lists the failures of every field.
func TestValidateBookingAllAtOnce(t *testing.T) {
	in := lead.BookingInput{
		FirstName: "www.spam.example",
		Email:     "nope",
		Phone:     "abc",
		Message:   "<b>hi</b>",
		RoleTitle: strings.Repeat("x", 101),
	}
	_, r := lead.ValidateBooking(in)
	want := []string{
		"first_name:name_format_validation",
		"last_name:required_fields_present",
		"email:email_format_validation",
		"organization_name:required_fields_present",
		"role_title:field_length_limit",
		"message:xss_sanitization",
		"consent_given:gdpr_consent_required",
		"~phone:phone_format_validation",
	}
	if got := rules(r); !slices.Equal(got, want) {
		t.Errorf("issues = %v\nwant %v", got, want)
	}
	for _, is := range r.Errors {
		if is.Severity != lead.SeverityError {
			t.Errorf("%s in Errors has severity %v", is.Rule, is.Severity)
		}
	}
	for _, is := range r.Warnings {
		if is.Severity != lead.SeverityWarning {
			t.Errorf("%s in Warnings has severity %v", is.Rule, is.Severity)
		}
	}
}

var now = time.Date(2026, 3, 14, 9, 26, 53, 589793238, time.UTC)

func validInput() lead.Input {
	return lead.Input{
		FirstName:        lead.Val("Ola"),
		LastName:         lead.Val("Nordmann"),
		Email:            lead.Val("Ola@Example.no"),
		OrganizationName: lead.Val("Røde Kors"),
		Source:           lead.Val("event"),
		ConsentGiven:     ptr(true),
		ConsentTimestamp: ptr(now.Add(-time.Hour)),
	}
}

func TestValidateCreateValid(t *testing.T) {
	in := validInput()
	in.Phone = lead.Val("22 33 44 55")
	in.RoleTitle = lead.Val("  ")
	in.OrganizationType = lead.Null()
	in.Message = lead.Val("Met at the fair.\r\nCall back.")
	in.Status = lead.Val("qualified")
	oslo := time.FixedZone("CET", 3600)
	in.ConsentTimestamp = ptr(now.In(oslo))
	l, r := lead.ValidateCreate(in, now)
	if !r.OK() || len(r.Warnings) != 0 {
		t.Fatalf("valid create refused: %v", rules(r))
	}
	ts := now.Truncate(time.Microsecond)
	want := lead.Lead{
		FirstName:        "Ola",
		LastName:         "Nordmann",
		Email:            "Ola@Example.no",
		Phone:            ptr("+4722334455"),
		OrganizationName: "Røde Kors",
		Message:          ptr("Met at the fair.\nCall back."),
		Source:           lead.SourceEvent,
		Status:           lead.StatusQualified,
		ConsentGiven:     true,
		ConsentTimestamp: &ts,
		Language:         lead.LanguageNB,
	}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("got  %+v\nwant %+v", l, want)
	}
	if l.ConsentTimestamp.Location() != time.UTC {
		t.Errorf("consent timestamp not in UTC")
	}
}

func TestValidateCreateRules(t *testing.T) {
	tests := []struct {
		name   string
		change func(*lead.Input)
		want   []string
	}{
		{"valid", func(in *lead.Input) {}, nil},
		{"status defaults to new", func(in *lead.Input) { in.Status = lead.Val(" ") }, nil},
		{"source missing", func(in *lead.Input) { in.Source = lead.Opt{} }, []string{"source:required_fields_present"}},
		{"source null", func(in *lead.Input) { in.Source = lead.Null() }, []string{"source:required_fields_present"}},
		{"source unknown", func(in *lead.Input) { in.Source = lead.Val("website") }, []string{"source:source_enum_validation"}},
		{"source wrong case", func(in *lead.Input) { in.Source = lead.Val("Event") }, []string{"source:source_enum_validation"}},
		{"status unknown", func(in *lead.Input) { in.Status = lead.Val("open") }, []string{"status:status_enum_validation"}},
		{"status any valid", func(in *lead.Input) { in.Status = lead.Val("won") }, nil},
		{"language en", func(in *lead.Input) { in.Language = lead.Val("en") }, nil},
		{"language blank is nb", func(in *lead.Input) { in.Language = lead.Val(" ") }, nil},
		{"language unknown", func(in *lead.Input) { in.Language = lead.Val("de") }, []string{"language:language_enum_validation"}},
		{"first name null", func(in *lead.Input) { in.FirstName = lead.Null() }, []string{"first_name:required_fields_present"}},
		{"email invalid", func(in *lead.Input) { in.Email = lead.Val("a@b") }, []string{"email:email_format_validation"}},
		{"phone warned", func(in *lead.Input) { in.Phone = lead.Val("123") }, []string{"~phone:phone_format_validation"}},
		{"utm over", func(in *lead.Input) { in.UTMMedium = lead.Val(strings.Repeat("m", 201)) }, []string{"utm_medium:field_length_limit"}},
		{"message over", func(in *lead.Input) { in.Message = lead.Val(strings.Repeat("m", 5001)) }, []string{"message:message_length_limit"}},
		{"xss", func(in *lead.Input) { in.OrganizationType = lead.Val("<i>x</i>") }, []string{"organization_type:xss_sanitization"}},
		{"consent missing", func(in *lead.Input) { in.ConsentGiven, in.ConsentTimestamp = nil, nil }, []string{"consent_given:gdpr_consent_required"}},
		{"consent false", func(in *lead.Input) { in.ConsentGiven, in.ConsentTimestamp = ptr(false), nil }, []string{"consent_given:gdpr_consent_required"}},
		{"consent without timestamp", func(in *lead.Input) { in.ConsentTimestamp = nil }, []string{"consent_timestamp:consent_timestamp_consistency"}},
		{"timestamp without consent", func(in *lead.Input) { in.ConsentGiven = ptr(false) }, []string{"consent_given:gdpr_consent_required", "consent_timestamp:consent_timestamp_consistency"}},
		{"timestamp 5 min ahead", func(in *lead.Input) { in.ConsentTimestamp = ptr(now.Add(5 * time.Minute)) }, nil},
		{"timestamp over 5 min ahead", func(in *lead.Input) { in.ConsentTimestamp = ptr(now.Add(5*time.Minute + time.Second)) }, []string{"consent_timestamp:consent_timestamp_consistency"}},
		{"timestamp long ago", func(in *lead.Input) { in.ConsentTimestamp = ptr(now.AddDate(-3, 0, 0)) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validInput()
			tt.change(&in)
			l, r := lead.ValidateCreate(in, now)
			if got := rules(r); !slices.Equal(got, tt.want) {
				t.Errorf("issues = %v, want %v", got, tt.want)
			}
			checkMessages(t, r, "")
			if r.OK() && l.Status == "" {
				t.Errorf("accepted lead without status")
			}
		})
	}
}

func storedLead() lead.Lead {
	return lead.Lead{
		ID:               "0195b7e2-0000-7000-8000-000000000001",
		FirstName:        "Ola",
		LastName:         "Nordmann",
		Email:            "ola@example.no",
		Phone:            ptr("+4722334455"),
		OrganizationName: "Røde Kors",
		RoleTitle:        ptr("Leder"),
		Source:           lead.SourceDemoBooking,
		Status:           lead.StatusContacted,
		ConsentGiven:     true,
		ConsentTimestamp: ptr(now),
		CreatedAt:        now,
		UpdatedAt:        now,
	}
}

func TestValidatePatch(t *testing.T) {
	tests := []struct {
		name   string
		in     lead.Input
		want   []string
		change func(*lead.Lead) // expected change to storedLead when accepted
	}{
		{"empty patch", lead.Input{}, nil, func(*lead.Lead) {}},
		{"set a name, kept as sent", lead.Input{FirstName: lead.Val(" Kari ")}, nil, func(l *lead.Lead) { l.FirstName = " Kari " }},
		{"clear optional with null", lead.Input{Phone: lead.Null()}, nil, func(l *lead.Lead) { l.Phone = nil }},
		{"clear optional with blank", lead.Input{RoleTitle: lead.Val(" ")}, nil, func(l *lead.Lead) { l.RoleTitle = nil }},
		{"set optional", lead.Input{UTMCampaign: lead.Val("fair")}, nil, func(l *lead.Lead) { l.UTMCampaign = ptr("fair") }},
		{"phone normalized", lead.Input{Phone: lead.Val("+1 415 555 2671")}, nil, func(l *lead.Lead) { l.Phone = ptr("+14155552671") }},
		{"clear required with null", lead.Input{LastName: lead.Null()}, []string{"last_name:required_fields_present"}, nil},
		{"clear required with blank", lead.Input{Email: lead.Val("")}, []string{"email:required_fields_present"}, nil},
		{"bad email", lead.Input{Email: lead.Val("x@y")}, []string{"email:email_format_validation"}, nil},
		{"markup", lead.Input{Message: lead.Val("<img src=x onerror=alert(1)>")}, []string{"message:xss_sanitization"}, nil},
		{"status one step", lead.Input{Status: lead.Val("qualified")}, nil, func(l *lead.Lead) { l.Status = lead.StatusQualified }},
		{"language set", lead.Input{Language: lead.Val("EN")}, nil, func(l *lead.Lead) { l.Language = lead.LanguageEN }},
		{"language unknown", lead.Input{Language: lead.Val("sv")}, []string{"language:language_enum_validation"}, nil},
		{"language cleared", lead.Input{Language: lead.Null()}, []string{"language:required_fields_present"}, nil},
		{"status same is a no-op", lead.Input{Status: lead.Val("contacted")}, nil, func(*lead.Lead) {}},
		{"status lost", lead.Input{Status: lead.Val("lost")}, nil, func(l *lead.Lead) { l.Status = lead.StatusLost }},
		{"status skip", lead.Input{Status: lead.Val("won")}, []string{"status:status_transition_enforcement"}, nil},
		{"status back", lead.Input{Status: lead.Val("new")}, []string{"status:status_transition_enforcement"}, nil},
		{"status unknown", lead.Input{Status: lead.Val("closed")}, []string{"status:status_enum_validation"}, nil},
		{"status null", lead.Input{Status: lead.Null()}, []string{"status:required_fields_present"}, nil},
		{"several at once", lead.Input{FirstName: lead.Null(), Email: lead.Val("no"), Phone: lead.Val("abc"), Status: lead.Val("won")},
			[]string{"first_name:required_fields_present", "email:email_format_validation", "status:status_transition_enforcement", "~phone:phone_format_validation"}, nil},
		{"read-only fields ignored", lead.Input{Source: lead.Val("other"), ConsentGiven: ptr(false)}, nil, func(*lead.Lead) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, r := lead.ValidatePatch(storedLead(), tt.in)
			if got := rules(r); !slices.Equal(got, tt.want) {
				t.Fatalf("issues = %v, want %v", got, tt.want)
			}
			checkMessages(t, r, "")
			if tt.change == nil {
				return
			}
			want := storedLead()
			tt.change(&want)
			if !reflect.DeepEqual(l, want) {
				t.Errorf("got  %+v\nwant %+v", l, want)
			}
		})
	}
}

func TestValidatePatchTransitionMessage(t *testing.T) {
	current := storedLead()
	current.Status = lead.StatusNew
	_, r := lead.ValidatePatch(current, lead.Input{Status: lead.Val("won")})
	if len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, "contacted, lost, disqualified") {
		t.Errorf("message does not list the allowed statuses: %+v", r.Errors)
	}
	current.Status = lead.StatusDisqualified
	_, r = lead.ValidatePatch(current, lead.Input{Status: lead.Val("lost")})
	if len(r.Errors) != 1 || r.Errors[0].Rule != lead.RuleStatusTransition {
		t.Errorf("disqualified → lost not refused: %+v", r.Errors)
	}
	for _, from := range lead.Statuses {
		current.Status = from
		if _, r := lead.ValidatePatch(current, lead.Input{Status: lead.Val(string(from))}); !r.OK() {
			t.Errorf("%s → %s (no-op) refused", from, from)
		}
	}
}

func TestValidateNote(t *testing.T) {
	tests := []struct {
		text string
		want []string
		norm string
	}{
		{"Called, will call back.\r\nTuesday.", nil, "Called, will call back.\nTuesday."},
		{"  \n ", []string{"text:required_fields_present"}, ""},
		{"a <b>bold</b> move", []string{"text:xss_sanitization"}, ""},
		{"budget < 50k & > 10k", nil, "budget < 50k & > 10k"},
		{"x\x00", []string{"text:invalid_characters"}, ""},
		{strings.Repeat("n", 100000), nil, strings.Repeat("n", 100000)},
		{strings.Repeat("n", 100001), []string{"text:field_length_limit"}, ""},
	}
	for _, tt := range tests {
		got, r := lead.ValidateNote(tt.text)
		if rules := rules(r); !slices.Equal(rules, tt.want) {
			t.Errorf("ValidateNote(%.20q): issues = %v, want %v", tt.text, rules, tt.want)
		}
		if r.OK() && got != tt.norm {
			t.Errorf("ValidateNote(%.20q) = %.20q, want %.20q", tt.text, got, tt.norm)
		}
	}
}

func TestOptJSON(t *testing.T) {
	var in lead.Input
	body := `{"first_name":"Kari","phone":null,"status":"won","consent_given":true}`
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		t.Fatal(err)
	}
	if in.FirstName != lead.Val("Kari") || in.Phone != lead.Null() || in.Status != lead.Val("won") {
		t.Errorf("decoded %+v", in)
	}
	if in.LastName.Set || in.ConsentGiven == nil || !*in.ConsentGiven {
		t.Errorf("absent/consent fields wrong: %+v", in)
	}
	for _, bad := range []string{`{"first_name":1}`, `{"first_name":["x"]}`, `{"first_name":{}}`, `{"first_name":true}`} {
		if err := json.Unmarshal([]byte(bad), &in); err == nil {
			t.Errorf("%s decoded without error", bad)
		}
	}
}

func readBLNS(t testing.TB, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var list []string
	if err := json.Unmarshal(data, &list); err != nil {
		t.Fatal(err)
	}
	return list
}

// TestBLNSCorpus sends every naughty string in every text field of a booking (SPEC §9):
// never a panic, and a value the field accepts comes back as sent, up to the documented
// normalization (email and phone trimming; line breaks in the message; E.164 phones).
func TestBLNSCorpus(t *testing.T) {
	list := readBLNS(t, corpusFile(t, "blns.json"))
	accepted := map[string]int{}
	for _, s := range list {
		for _, f := range bookingFields {
			in := validBooking()
			f.set(&in, s)
			b, r := lead.ValidateBooking(in)
			for _, is := range r.Errors {
				if is.Field != f.name {
					t.Errorf("%s=%q: error on unrelated field %s (%s)", f.name, s, is.Field, is.Rule)
				}
			}
			checkMessages(t, r, s)
			if issuesOn(r.Errors, f.name) != nil {
				continue
			}
			accepted[f.name]++
			want := s // stored exactly as sent (SPEC §9)
			switch f.name {
			case "email":
				want = strings.Trim(s, " \t")
			case "message":
				want = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
			case "phone":
				if len(r.Warnings) == 0 {
					continue // plausible: stored in E.164
				}
				want = strings.TrimSpace(s)
			}
			if strings.TrimSpace(want) == "" {
				want = "" // a blank optional field is absent
			}
			if got := f.get(b); got != want {
				t.Errorf("%s=%q accepted as %q, want %q", f.name, s, got, want)
			}
		}
	}
	t.Logf("%d strings; accepted per field: %v", len(list), accepted)
}

func FuzzValidateBooking(f *testing.F) {
	f.Add("Kari", "kari@example.no", "+47 22 33 44 55", "Hello <50 volunteers")
	f.Add("<b>x</b>", "a@b", "abc", "java&#x09;script:alert(1)")
	if p := optionalCorpusFile("blns.json"); p != "" {
		for _, s := range readBLNS(f, p) {
			f.Add(s, s, s, s)
		}
	}
	if p := optionalCorpusFile("xss-payloads.txt"); p != "" {
		for i, s := range readLines(f, p) {
			if i%20 == 0 { // a sample keeps the seed corpus quick
				f.Add("Kari", "kari@example.no", "", s)
			}
		}
	}
	f.Fuzz(func(t *testing.T, name, email, phone, message string) {
		in := validBooking()
		in.FirstName, in.Email, in.Phone, in.Message = name, email, phone, message
		b, r := lead.ValidateBooking(in)
		if !r.OK() {
			return
		}
		if !lead.ValidEmail(b.Email) || b.EmailNormalized != lead.NormalizeEmail(b.Email) {
			t.Fatalf("accepted email %q", email)
		}
		for _, v := range []string{b.FirstName, b.Message, b.Phone} {
			if lead.ContainsMarkup(v) {
				t.Fatalf("accepted markup %q", v)
			}
		}
		if strings.ContainsAny(b.FirstName+b.Email+b.Phone, "\r\n\x00") || strings.ContainsAny(b.Message, "\r\x00") {
			t.Fatalf("accepted line break or NUL: %q %q %q %q", b.FirstName, b.Email, b.Phone, b.Message)
		}
		if b.FirstName != strings.TrimSpace(name) {
			t.Fatalf("first name %q stored as %q", name, b.FirstName)
		}
	})
}
