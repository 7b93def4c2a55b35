package i18n

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/norsedigital/leads/internal/lead"
)

// ruleArgs says what fills a rule message's verbs: the field's label, its limit, or the
// list of allowed values. Rules not listed take no arguments.
var ruleArgs = map[string]string{
	lead.RuleRequiredFields:      "label",
	lead.RuleInvalidCharacters:   "label",
	lead.RuleXSS:                 "label",
	lead.RuleNameFormat:          "label",
	"read_only_field":            "label",
	"unknown_field":              "name",
	"csv_duplicate_column":       "name",
	"query_parameter_validation": "name",
	"event_enum_validation":      "name",
	lead.RuleFieldLength:         "limit",
	lead.RuleMessageLength:       "limit",
	lead.RuleSourceEnum:          "sources",
	lead.RuleStatusEnum:          "statuses",
	lead.RuleEmailFormat:         "",
	lead.RulePhoneFormat:         "",
	lead.RuleGDPRConsent:         "",
	lead.RuleConsentTimestamp:    "",
	lead.RuleStatusTransition:    "",
	"webhook_url_not_allowed":    "",
	"csv_column_count":           "",
	"language_enum_validation":   "",
	// spam defence (SPEC §15)
	lead.RuleEmailDomainNotAccepted: "",
	lead.RuleSpamCheckFailed:        "",
	"blocklist_kind_validation":     "",
	"blocklist_value_validation":    "",
	// demos (SPEC §13)
	lead.RulePreferredTimeNotOffered: "",
	lead.RuleDemoTimeNotAvailable:    "",
	lead.RuleDemoSlotTaken:           "",
	lead.RuleDemoHost:                "",
	lead.RuleDemoNotEnded:            "",
	lead.RuleDemoOutcomeEnum:         "",
	lead.RuleOwnerNotAssignable:      "",
}

var digits = regexp.MustCompile(`\d+`)

// Issue is the message of a validation issue in l. Rule and field never change; only the
// text does. English keeps the issue's own message, which the validators write (and which
// may be more specific than the catalog's); Norwegian is built from the rule and field,
// the limit of a length rule taken from the English message.
func (c *Catalog) Issue(l Lang, is lead.Issue) string {
	if l == EN && is.Message != "" {
		return is.Message
	}
	label := c.FieldLabel(l, is.Field)
	kind, known := ruleArgs[is.Rule]
	if !known {
		return c.T(l, "rule.other", label, is.Rule)
	}
	key := "rule." + is.Rule
	switch kind {
	case "label":
		return c.T(l, key, label)
	case "name":
		return c.T(l, key, is.Field)
	case "limit":
		n, _ := strconv.Atoi(digits.FindString(is.Message))
		return c.T(l, key, label, n)
	case "sources":
		names := make([]string, len(lead.Sources))
		for i, s := range lead.Sources {
			names[i] = string(s)
		}
		return c.T(l, key, strings.Join(names, ", "))
	case "statuses":
		names := make([]string, len(lead.Statuses))
		for i, s := range lead.Statuses {
			names[i] = string(s)
		}
		return c.T(l, key, strings.Join(names, ", "))
	}
	return c.T(l, key)
}

// Issues translates every message of list in place and returns it (nil stays nil).
func (c *Catalog) Issues(l Lang, list []lead.Issue) []lead.Issue {
	if list == nil {
		return nil
	}
	out := make([]lead.Issue, len(list))
	for i, is := range list {
		is.Message = c.Issue(l, is)
		out[i] = is
	}
	return out
}

// FieldLabel is a field's name as people read it in l; the API name when the catalog has
// no label for it.
func (c *Catalog) FieldLabel(l Lang, field string) string {
	if c.Has("field." + field) {
		return c.T(l, "field."+field)
	}
	return field
}
