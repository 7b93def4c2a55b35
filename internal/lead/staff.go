package lead

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Member is a person of the sales team (SPEC §11). Tokens and console sessions may act as a
// member; leads are owned by members.
type Member struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Email     string     `json:"email"`
	Role      Role       `json:"role"`
	Language  string     `json:"language"` // "nb" or "en": the language of the member's emails and console
	Weight    int        `json:"weight"`   // 1–10: their share of new leads (lead_owner_assignment)
	Active    bool       `json:"active"`
	AwayUntil *time.Time `json:"away_until"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// Away reports whether m is away at now: no new leads go to them meanwhile.
func (m *Member) Away(now time.Time) bool { return m.AwayUntil != nil && m.AwayUntil.After(now) }

// Actor is who does something to a lead: a member (StaffID set), a service token (Name
// only), the public booking flow, or the data subject. Events record both.
type Actor struct {
	Name    string
	StaffID string // "" when the actor is not a member
}

// Actors that are not staff.
var (
	PublicActor      = Actor{Name: ActorPublic}
	DataSubjectActor = Actor{Name: ActorDataSubject}
)

// ActorDataSubject is the prospect acting on their own data through their personal link
// (SPEC §14).
const ActorDataSubject = "data_subject"

// Rules of the team (SPEC §11).
const (
	RuleOwnerAssignment    = "lead_owner_assignment"
	RuleOwnerNotAssignable = "owner_not_assignable"
	RuleStaffWeight        = "staff_weight_range"
)

// Member limits (SPEC §11).
const (
	MaxMemberName = 100
	MinWeight     = 1
	MaxWeight     = 10
)

// MemberInput is a new member or a change to one: nil fields are left as they are (a new
// member takes the defaults: language nb, weight 1, active, not away). ClearAway removes
// away_until.
type MemberInput struct {
	Name      *string
	Email     *string
	Role      *string
	Language  *string
	Weight    *int
	Active    *bool
	AwayUntil *time.Time
	ClearAway bool
}

// ValidateMember checks in, all fields at once; create requires name, email and role.
// It returns the issues as an Invalid error, or nil.
func ValidateMember(in MemberInput, create bool) error {
	var r Result
	add := func(field, rule, msg string) {
		r.Errors = append(r.Errors, Issue{Field: field, Rule: rule, Message: msg, Severity: SeverityError})
	}
	if in.Name != nil || create {
		switch name := strings.TrimSpace(deref(in.Name)); {
		case name == "":
			add("name", RuleRequiredFields, "name is required")
		case utf8.RuneCountInString(name) > MaxMemberName:
			add("name", RuleFieldLength, "name takes at most 100 characters")
		case !utf8.ValidString(name) || strings.ContainsFunc(name, isControl):
			add("name", RuleInvalidCharacters, "name contains characters that are not allowed")
		}
	}
	if in.Email != nil || create {
		switch email := strings.TrimSpace(deref(in.Email)); {
		case email == "":
			add("email", RuleRequiredFields, "email is required")
		case !ValidEmail(email):
			add("email", RuleEmailFormat, "email is not a valid address")
		}
	}
	if in.Role != nil || create {
		if _, ok := ParseRole(deref(in.Role)); !ok {
			add("role", RuleRequiredFields, "role must be sales or admin")
		}
	}
	if in.Language != nil && *in.Language != "nb" && *in.Language != "en" {
		add("language", RuleLanguageEnum, "language must be nb or en")
	}
	if in.Weight != nil && (*in.Weight < MinWeight || *in.Weight > MaxWeight) {
		add("weight", RuleStaffWeight, "weight must be between 1 and 10")
	}
	if len(r.Errors) > 0 {
		return Invalid(r)
	}
	return nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// EventOwnerAssigned records every change of a lead's owner (SPEC §11), with details
// {"owner_id", "reason"}: one of the Reason* values.
const EventOwnerAssigned = "owner_assigned"

// Why a lead got its owner.
const (
	ReasonRoundRobin        = "round_robin"        // lead_owner_assignment chose them
	ReasonDefault           = "default"            // nobody was eligible: the --default-owner member
	ReasonManual            = "manual"             // someone named them (API owner_id, the console)
	ReasonMemberDeactivated = "member_deactivated" // the former owner was deactivated
)

// ErrOwnerNotAssignable is the refusal of an owner who is not an active member.
func ErrOwnerNotAssignable(field string) *Error {
	return Invalid(Result{Errors: []Issue{{Field: field, Rule: RuleOwnerNotAssignable,
		Message: "The owner must be an active member of the team.", Severity: SeverityError}}})
}
