package lead

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// Booking is a demo booking after validation: every field normalized, "" when absent.
// It is meaningful only when the Result returned with it is OK.
type Booking struct {
	FirstName        string
	LastName         string
	Email            string // trimmed of spaces and tabs, case kept
	EmailNormalized  string // NormalizeEmail(Email): the deduplication key
	Phone            string // E.164 when plausible, else as given (trimmed)
	OrganizationName string
	OrganizationType string
	OrganizationSize string
	RoleTitle        string
	Message          string // line breaks normalized to LF
	UTMSource        string
	UTMMedium        string
	UTMCampaign      string
	// PreferredTimes are the prospect's preferred demo starts, UTC, ascending, at most
	// MaxPreferredTimes; nil when none. Whether each is offered is checked by the caller.
	PreferredTimes []time.Time
}

// Opt is one string field of an Input. The zero value is "absent". A JSON merge patch has
// three states per field, so an Opt tells apart absent (Set false), null, which clears the
// field (Set and Null), and a value (Set, Value). Opt decodes itself from JSON: a missing
// key leaves it absent, null sets Null, a string sets Value, anything else is an error.
type Opt struct {
	Set   bool
	Null  bool
	Value string
}

// Val is a present Opt holding v.
func Val(v string) Opt { return Opt{Set: true, Value: v} }

// Null is a present Opt holding null.
func Null() Opt { return Opt{Set: true, Null: true} }

// value is the Opt's string; absent and null both read as "", which the validators treat
// as "not given".
func (o Opt) value() string {
	if o.Set && !o.Null {
		return o.Value
	}
	return ""
}

// UnmarshalJSON implements json.Unmarshaler; encoding/json calls it for null too, which is
// what lets null be told apart from a missing key.
func (o *Opt) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*o = Null()
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("must be a string or null")
	}
	*o = Val(s)
	return nil
}

// Input is a lead as staff create or patch it, or as one import row gives it. The JSON
// names are the column names, so an API body decodes straight into it.
type Input struct {
	FirstName        Opt        `json:"first_name"`
	LastName         Opt        `json:"last_name"`
	Email            Opt        `json:"email"`
	Phone            Opt        `json:"phone"`
	OrganizationName Opt        `json:"organization_name"`
	OrganizationType Opt        `json:"organization_type"`
	OrganizationSize Opt        `json:"organization_size"`
	RoleTitle        Opt        `json:"role_title"`
	Message          Opt        `json:"message"`
	UTMSource        Opt        `json:"utm_source"`
	UTMMedium        Opt        `json:"utm_medium"`
	UTMCampaign      Opt        `json:"utm_campaign"`
	Source           Opt        `json:"source"`
	Status           Opt        `json:"status"`
	ConsentGiven     *bool      `json:"consent_given"`     // nil: absent
	ConsentTimestamp *time.Time `json:"consent_timestamp"` // nil: absent
	Language         Opt        `json:"language"`          // nb | en; absent or blank: nb on a create
	// OwnerID names the owner, an active member (the store checks, owner_not_assignable);
	// null clears it; absent on a create, lead_owner_assignment chooses.
	OwnerID Opt `json:"owner_id"`
}

// MaxConsentClockSkew is how far ahead of the server clock a consent_timestamp may be.
const MaxConsentClockSkew = 5 * time.Minute

// ValidateBooking checks a public demo booking against every rule at once and returns it
// normalized. Source, status and consent_timestamp are the server's business, not the
// prospect's, so they are not part of a booking.
func ValidateBooking(in BookingInput) (Booking, Result) {
	var c checker
	var b Booking
	for i := range fieldTable {
		f := &fieldTable[i]
		if p := f.BookingText(&in); p != nil {
			*f.booked(&b) = c.text(f.check(), *p, f.Required)
		}
	}
	b.EmailNormalized = NormalizeEmail(b.Email)
	if len(in.PreferredTimes) > 0 {
		b.PreferredTimes = parsePreferredTimes(in.PreferredTimes, &c)
	}
	if in.ConsentGiven == nil || !*in.ConsentGiven {
		c.fail(fieldConsentGiven, RuleGDPRConsent, "Consent is required to book a demo.")
	}
	return b, c.r
}

// ValidateCreate checks a lead created by staff or imported, against every rule at once, and
// returns it normalized (ID, CreatedAt and UpdatedAt are left for the store). Source is
// required; status defaults to new when absent or blank; consent_given must be true with a
// consent_timestamp no later than now plus MaxConsentClockSkew. Null counts as absent.
func ValidateCreate(in Input, now time.Time) (Lead, Result) {
	var c checker
	var l Lead
	for i := range fieldTable {
		f := &fieldTable[i]
		if p := f.text(&l); p != nil {
			*p = c.text(f.check(), f.Input(&in).value(), true)
		} else if p := f.optText(&l); p != nil {
			*p = c.optional(f.check(), f.Input(&in).value())
		}
	}
	l.Source = c.source(in.Source.value())
	l.Status = StatusNew
	if s := strings.TrimSpace(in.Status.value()); s != "" {
		l.Status = c.status(s)
	}
	l.ConsentGiven, l.ConsentTimestamp = c.consent(in.ConsentGiven, in.ConsentTimestamp, now)
	l.Language = LanguageNB
	if s := strings.TrimSpace(in.Language.value()); s != "" {
		l.Language = c.language(s)
	}
	if in.OwnerID.Set && !in.OwnerID.Null {
		v := in.OwnerID.Value
		l.OwnerID = &v
	}
	return l, c.r
}

// ValidatePatch applies the present fields of a merge patch onto current and checks them
// against every rule at once. Null or blank clears an optional field; a required field
// cannot be cleared. A status change must be allowed by CanTransition. Absent fields are
// left alone and not re-validated. Source, consent_* and the other read-only columns are
// not applied even when present: the caller refuses a patch carrying them before this.
func ValidatePatch(current Lead, in Input) (Lead, Result) {
	var c checker
	l := current
	for i := range fieldTable {
		f := &fieldTable[i]
		if p := f.text(&l); p != nil {
			c.patchRequired(p, f.check(), *f.Input(&in))
		} else if p := f.optText(&l); p != nil {
			c.patchOptional(p, f.check(), *f.Input(&in))
		}
	}
	if in.Status.Set {
		s := strings.TrimSpace(in.Status.value())
		if s == "" {
			c.fail(fieldStatus, RuleRequiredFields, "Status is required and cannot be cleared.")
		} else if to := c.status(s); to != "" {
			if CanTransition(current.Status, to) {
				l.Status = to
			} else {
				c.fail(fieldStatus, RuleStatusTransition, transitionMessage(current.Status))
			}
		}
	}
	if in.OwnerID.Set {
		l.OwnerID = nil
		if !in.OwnerID.Null {
			v := in.OwnerID.Value
			l.OwnerID = &v
		}
	}
	if in.Language.Set {
		if s := strings.TrimSpace(in.Language.value()); s == "" {
			c.fail(fieldLanguage, RuleRequiredFields, "Language is required and cannot be cleared.")
		} else if lang := c.language(s); lang != "" {
			l.Language = lang
		}
	}
	return l, c.r
}

// ValidateNote checks the text of one sales note and returns it normalized.
// The limit applies to the note; keeping the lead's whole notes column within it is the
// caller's job, as only the caller knows what is already there.
func ValidateNote(text string) (string, Result) {
	var c checker
	return c.text(fieldNote, text, true), c.r
}

func transitionMessage(from Status) string {
	next := NextStatuses(from)
	if len(next) == 0 {
		return fmt.Sprintf("A lead in status %s cannot be moved to another status.", from)
	}
	names := make([]string, len(next))
	for i, s := range next {
		names[i] = string(s)
	}
	return fmt.Sprintf("A lead in status %s can only be moved to: %s.", from, strings.Join(names, ", "))
}

// kind selects the checks a text field gets beyond the common ones.
type kind int

const (
	kindPlain     kind = iota
	kindName           // name_format_validation
	kindEmail          // email_format_validation instead of xss_sanitization
	kindPhone          // phone_format_validation
	kindMultiline      // line breaks allowed (after CRLF/CR → LF)
)

// field is one validated column: its API name, a label for messages, its limit in code
// points (SPEC §2) and the rule a longer value fails.
type field struct {
	name       string
	label      string
	limit      int
	kind       kind
	lengthRule string
}

// fieldNote is the text of a sales note; the lead's own fields are in the field table (fields.go).
var fieldNote = field{"text", "Note", 100000, kindMultiline, RuleFieldLength}

// checker collects the issues of one validation. Messages name the field but never repeat
// the submitted value: they end up in logs and in pages.
type checker struct{ r Result }

func (c *checker) fail(field, rule, msg string) {
	c.r.Errors = append(c.r.Errors, Issue{Field: field, Rule: rule, Message: msg, Severity: SeverityError})
}

func (c *checker) warn(field, rule, msg string) {
	c.r.Warnings = append(c.r.Warnings, Issue{Field: field, Rule: rule, Message: msg, Severity: SeverityWarning})
}

// text validates one text field and returns its normalized value ("" when blank). The
// checks run from the most basic up and stop at a field's first error, so one mistake
// gives one issue: characters, presence, length, markup, then the field's own format.
func (c *checker) text(f field, raw string, required bool) string {
	v := raw
	if f.kind == kindMultiline {
		v = strings.ReplaceAll(v, "\r\n", "\n")
		v = strings.ReplaceAll(v, "\r", "\n")
	}
	// A field of nothing but whitespace (newlines included, which a one-line field would
	// refuse as control characters) is missing, not invalid.
	if strings.TrimSpace(v) == "" {
		if required {
			c.fail(f.name, RuleRequiredFields, f.label+" is required.")
		}
		return ""
	}
	if !validChars(v, f.kind == kindMultiline) {
		c.fail(f.name, RuleInvalidCharacters, f.label+" contains invalid or control characters.")
		return v
	}
	// Text is stored exactly as sent (SPEC §9: read back byte for byte); only the email
	// (SPEC §4) and the phone (SPEC §2) are trimmed. Blankness is judged on the trimmed text.
	switch f.kind {
	case kindEmail:
		v = trimSpaceTab(v) // any other whitespace makes the address invalid
	case kindPhone:
		v = strings.TrimSpace(v)
	}
	if strings.TrimSpace(v) == "" {
		if required {
			c.fail(f.name, RuleRequiredFields, f.label+" is required.")
		}
		return ""
	}
	if utf8.RuneCountInString(v) > f.limit {
		c.fail(f.name, f.lengthRule, fmt.Sprintf("%s must be at most %d characters.", f.label, f.limit))
		return v
	}
	if f.kind == kindEmail {
		// No markup check: a valid address cannot hold a tag or a script URL, and an
		// "on…=" local part is a mailbox, not an attribute.
		if !ValidEmail(v) {
			c.fail(f.name, RuleEmailFormat, "Email must be a valid email address, like name@example.org.")
		}
		return v
	}
	if ContainsMarkup(v) {
		c.fail(f.name, RuleXSS, f.label+" must not contain HTML markup or script URLs.")
		return v
	}
	switch f.kind {
	case kindName:
		if nameSpam.MatchString(v) {
			c.fail(f.name, RuleNameFormat, f.label+" must not contain a web address or an email address.")
		}
	case kindPhone:
		if e164, ok := plausiblePhone(v); ok {
			return e164
		}
		c.warn(f.name, RulePhoneFormat, "Phone does not look like a valid phone number; it is kept as given.")
	}
	return v
}

// optional is text for a column that is NULL when blank.
func (c *checker) optional(f field, raw string) *string {
	if v := c.text(f, raw, false); v != "" {
		return &v
	}
	return nil
}

func (c *checker) patchRequired(dst *string, f field, o Opt) {
	if !o.Set {
		return
	}
	if o.Null {
		c.fail(f.name, RuleRequiredFields, f.label+" is required and cannot be cleared.")
		return
	}
	*dst = c.text(f, o.Value, true)
}

func (c *checker) patchOptional(dst **string, f field, o Opt) {
	if o.Set {
		*dst = c.optional(f, o.value())
	}
}

// The prospect's languages (SPEC §12).
const (
	LanguageNB = "nb"
	LanguageEN = "en"
)

// language is raw (trimmed, not blank) as a language, or "" after failing language_enum_validation.
func (c *checker) language(raw string) string {
	switch s := strings.ToLower(raw); s {
	case LanguageNB, LanguageEN:
		return s
	}
	c.fail(fieldLanguage, RuleLanguageEnum, "Language must be nb or en.")
	return ""
}

func (c *checker) source(raw string) Source {
	s := strings.TrimSpace(raw)
	if s == "" {
		c.fail(fieldSource, RuleRequiredFields, "Source is required.")
		return ""
	}
	src, ok := ParseSource(s)
	if !ok {
		c.fail(fieldSource, RuleSourceEnum, "Source must be one of: "+joinSources()+".")
	}
	return src
}

// status parses a non-blank status, recording status_enum_validation when it is unknown.
func (c *checker) status(s string) Status {
	st, ok := ParseStatus(s)
	if !ok {
		c.fail(fieldStatus, RuleStatusEnum, "Status must be one of: "+joinStatuses()+".")
	}
	return st
}

// consent applies gdpr_consent_required and consent_timestamp_consistency. A missing
// consent_given counts as false. The timestamp is kept in UTC at microsecond precision,
// the precision the database stores, so a lead reads back exactly as validated.
func (c *checker) consent(given *bool, ts *time.Time, now time.Time) (bool, *time.Time) {
	ok := given != nil && *given
	if !ok {
		c.fail(fieldConsentGiven, RuleGDPRConsent, "Consent is required: consent_given must be true.")
	}
	switch {
	case ok && ts == nil:
		c.fail(fieldConsentTimestamp, RuleConsentTimestamp, "A consent timestamp is required when consent is given.")
	case !ok && ts != nil:
		c.fail(fieldConsentTimestamp, RuleConsentTimestamp, "A consent timestamp must not be set when consent is not given.")
	case ts != nil && ts.After(now.Add(MaxConsentClockSkew)):
		c.fail(fieldConsentTimestamp, RuleConsentTimestamp, "The consent timestamp must not be in the future.")
	}
	if ts == nil {
		return ok, nil
	}
	t := ts.UTC().Truncate(time.Microsecond)
	return ok, &t
}

// validChars is the invalid_characters rule: valid UTF-8 and no control characters (Cc:
// C0, DEL and C1, NUL included) except tab, and newline in multi-line fields. This is also
// what keeps CR and LF out of anything that may reach an email header.
func validChars(s string, multiline bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\t' && !(multiline && r == '\n') {
			return false
		}
	}
	return true
}

// nameSpam is name_format_validation: a URL (a scheme followed by "://", or a "www." host),
// something shaped like an email address (x@y.z), or a domain-like token (bit.ly/3xYz,
// evil-prize.example: labels joined by dots, the last of two or more letters, not
// followed by a letter or digit) anywhere in a name. Mail clients turn such tokens into
// links, and names are echoed in the confirmation email. Initials ("J. R. R.", "Ph.D")
// have one-letter labels and stay names.
var nameSpam = regexp.MustCompile(`(?i)[a-z][a-z0-9+.-]*://|(?:^|[^a-z0-9])www\.|[^\s@]@[^\s@]+\.[^\s@]|[\p{L}\p{N}-]\.(?:xn--[a-z0-9-]+|[a-z]{2,63})(?:[^\p{L}\p{N}]|$)`)

// phoneRegion is the default region for numbers without a country code.
const phoneRegion = "NO"

// plausiblePhone returns the number in E.164 when libphonenumber parses it and finds it
// valid for its region. Validity (not mere possibility) is the test, because the result
// is only a warning and "possible" lets numbers with no real prefix through.
func plausiblePhone(s string) (e164 string, ok bool) {
	n, err := phonenumbers.Parse(s, phoneRegion)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

func joinStatuses() string {
	names := make([]string, len(Statuses))
	for i, s := range Statuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

func joinSources() string {
	names := make([]string, len(Sources))
	for i, s := range Sources {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}
