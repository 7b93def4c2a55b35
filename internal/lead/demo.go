package lead

import (
	"slices"
	"strings"
	"time"
)

// Demo is a demo of the product for a lead, hosted by a member (SPEC §13). Sequence is the
// calendar invitation's SEQUENCE: 0 when scheduled, one more on every reschedule or cancel.
type Demo struct {
	ID       string     `json:"id"`
	LeadID   string     `json:"lead_id"`
	HostID   string     `json:"host_id"`
	StartsAt time.Time  `json:"starts_at"`
	EndsAt   time.Time  `json:"ends_at"`
	Sequence int        `json:"sequence"`
	Status   DemoStatus `json:"status"`
}

// DemoStatus is where a demo stands: scheduled until it is cancelled or its outcome is recorded.
type DemoStatus string

const (
	DemoScheduled DemoStatus = "scheduled"
	DemoCancelled DemoStatus = "cancelled"
	DemoCompleted DemoStatus = "completed"
	DemoNoShow    DemoStatus = "no_show"
)

// Demo outcomes (POST /api/v1/leads/{id}/demo/outcome).
const (
	OutcomeCompleted = "completed"
	OutcomeNoShow    = "no_show"
)

// Rules of demo scheduling (SPEC §13).
const (
	RulePreferredTimeNotOffered = "preferred_time_not_offered"
	RuleDemoTimeNotAvailable    = "demo_time_not_available"
	RuleDemoSlotTaken           = "demo_slot_taken"
	// RuleDemoHost: the host must be an active member, and a caller who is no member must name one.
	RuleDemoHost = "demo_host_not_available"
	// RuleDemoNotEnded: an outcome is recorded only once the demo has ended.
	RuleDemoNotEnded = "demo_not_ended"
	// RuleDemoOutcomeEnum: outcome is completed or no_show.
	RuleDemoOutcomeEnum = "demo_outcome_enum_validation"
)

// Audit events of demos; their details hold ids and times only.
const (
	EventDemoScheduled   = "demo_scheduled"
	EventDemoRescheduled = "demo_rescheduled"
	EventDemoCancelled   = "demo_cancelled"
	EventDemoNoShow      = "demo_no_show"
)

// MaxPreferredTimes is how many preferred times a booking may name.
const MaxPreferredTimes = 3

// FieldPreferredTimes is the booking member (JSON array, or repeated form field) of the
// prospect's preferred demo times: not a lead column, so not in the field table.
const FieldPreferredTimes = "preferred_times"

// parsePreferredTimes reads the prospect's preferred times: RFC 3339, at most
// MaxPreferredTimes distinct ones, in UTC and ascending. Whether each is offered is the
// caller's check (it needs the hosts' demos).
func parsePreferredTimes(raw []string, c *checker) []time.Time {
	var out []time.Time
	for _, s := range raw {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			c.fail(FieldPreferredTimes, RulePreferredTimeNotOffered, "Each preferred time must be one of the offered demo slots (GET /api/v1/demo-slots).")
			return nil
		}
		t = t.UTC()
		if !slices.ContainsFunc(out, t.Equal) {
			out = append(out, t)
		}
	}
	if len(out) > MaxPreferredTimes {
		c.fail(FieldPreferredTimes, RulePreferredTimeNotOffered, "Choose at most 3 preferred times.")
		return nil
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}
