// Package lead is the domain of the leads service: the lead, its statuses and
// sources, the status transition rules and every validation rule of the spec,
// each with its seed name. It is pure: no I/O, no clock reads (time is passed in).
package lead

import "time"

// Status is a lead's stage in the sales pipeline.
type Status string

const (
	StatusNew           Status = "new"
	StatusContacted     Status = "contacted"
	StatusQualified     Status = "qualified"
	StatusDemoScheduled Status = "demo_scheduled"
	StatusDemoCompleted Status = "demo_completed"
	StatusProposalSent  Status = "proposal_sent"
	StatusNegotiation   Status = "negotiation"
	StatusWon           Status = "won"
	StatusLost          Status = "lost"
	StatusDisqualified  Status = "disqualified"
)

// Statuses lists every status, pipeline order first.
var Statuses = []Status{
	StatusNew, StatusContacted, StatusQualified, StatusDemoScheduled, StatusDemoCompleted,
	StatusProposalSent, StatusNegotiation, StatusWon, StatusLost, StatusDisqualified,
}

// Source is the channel a lead arrived through.
type Source string

const (
	SourceDemoBooking Source = "demo_booking"
	SourceContactForm Source = "contact_form"
	SourceEmail       Source = "email"
	SourcePhone       Source = "phone"
	SourceEvent       Source = "event"
	SourceReferral    Source = "referral"
	SourcePartner     Source = "partner"
	SourceSocialMedia Source = "social_media"
	SourceImport      Source = "import"
	SourceOther       Source = "other"
)

// Sources lists every source.
var Sources = []Source{
	SourceDemoBooking, SourceContactForm, SourceEmail, SourcePhone, SourceEvent,
	SourceReferral, SourcePartner, SourceSocialMedia, SourceImport, SourceOther,
}

// Lead is one prospective customer contact. JSON names are the seed's column names.
// Optional strings are pointers so that absent values are null, not "".
type Lead struct {
	ID               string     `json:"id"`
	FirstName        string     `json:"first_name"`
	LastName         string     `json:"last_name"`
	Email            string     `json:"email"`
	Phone            *string    `json:"phone"`
	OrganizationName string     `json:"organization_name"`
	OrganizationType *string    `json:"organization_type"`
	OrganizationSize *string    `json:"organization_size"`
	RoleTitle        *string    `json:"role_title"`
	Source           Source     `json:"source"`
	Status           Status     `json:"status"`
	Notes            *string    `json:"notes"`
	Message          *string    `json:"message"`
	UTMSource        *string    `json:"utm_source"`
	UTMMedium        *string    `json:"utm_medium"`
	UTMCampaign      *string    `json:"utm_campaign"`
	IPAddress        *string    `json:"ip_address"`
	ConsentGiven     bool       `json:"consent_given"`
	ConsentTimestamp *time.Time `json:"consent_timestamp"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	AnonymizedAt     *time.Time `json:"anonymized_at"`
	// Language is the prospect's language (SPEC §12), "nb" or "en": the latest booking's,
	// or what staff set; the confirmation email is written in it.
	Language string `json:"language"`
	// OwnerID is the member who works the lead (SPEC §11, lead_owner_assignment), or nil.
	OwnerID *string `json:"owner_id"`
	// FirstContactedAt is set once, when staff first move the lead out of new or add a note.
	FirstContactedAt *time.Time `json:"first_contacted_at"`
	// ContactDueAt is when the promise "contact within one working day" runs out.
	ContactDueAt *time.Time `json:"contact_due_at"`
}

// BookingInput is what a prospect submits on the public demo booking flow,
// decoded from JSON or a form, before validation. Empty strings mean absent.
type BookingInput struct {
	FirstName        string
	LastName         string
	Email            string
	Phone            string
	OrganizationName string
	OrganizationType string
	OrganizationSize string
	RoleTitle        string
	Message          string
	UTMSource        string
	UTMMedium        string
	UTMCampaign      string
	// ConsentGiven is nil when the field was missing.
	ConsentGiven *bool
	// PreferredTimes are the demo slots the prospect ticked (SPEC §13), as sent: not a lead
	// column, so not in the field table; the decoders read FieldPreferredTimes for it.
	PreferredTimes []string
}

// Severity says whether a failed rule rejects the input or only warns.
type Severity int

const (
	SeverityError Severity = iota
	SeverityWarning
)

// Rule names: the seed's, plus the spec's decisions. They appear verbatim in API problems.
const (
	RuleRequiredFields    = "required_fields_present"
	RuleEmailFormat       = "email_format_validation"
	RulePhoneFormat       = "phone_format_validation"
	RuleMessageLength     = "message_length_limit"
	RuleXSS               = "xss_sanitization"
	RuleStatusEnum        = "status_enum_validation"
	RuleConsentTimestamp  = "consent_timestamp_consistency"
	RuleFieldLength       = "field_length_limit"
	RuleSourceEnum        = "source_enum_validation"
	RuleLanguageEnum      = "language_enum_validation"
	RuleInvalidCharacters = "invalid_characters"
	RuleNameFormat        = "name_format_validation"
	RuleGDPRConsent       = "gdpr_consent_required"
	RuleStatusTransition  = "status_transition_enforcement"
	RuleRateLimit         = "rate_limit_per_ip"
	RuleSoftDeleteOnly    = "lead_soft_delete_only"
	RuleDeduplication     = "lead_deduplication_by_email"
	// RuleIdempotencyReused: an Idempotency-Key sent again with a different body (Stripe's rule).
	RuleIdempotencyReused = "idempotency_key_reused"
	// RuleEmailDomainNotAccepted: a throwaway-mail domain (SPEC §15), public bookings only.
	RuleEmailDomainNotAccepted = "email_domain_not_accepted"
	// RuleSpamCheckFailed: --spam-policy refuse, and the booking failed the spam check.
	RuleSpamCheckFailed = "spam_check_failed"
)

// Issue is one failed rule on one field.
type Issue struct {
	Field    string   `json:"field"`
	Rule     string   `json:"rule"`
	Message  string   `json:"message"`
	Severity Severity `json:"-"`
}

// Result collects every error and warning of a validation, all fields at once.
type Result struct {
	Errors   []Issue
	Warnings []Issue
}

// OK reports whether no error-severity rule failed.
func (r Result) OK() bool { return len(r.Errors) == 0 }
