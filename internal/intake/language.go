package intake

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/lead"
)

// RuleLanguageEnum refuses a booking whose language member is neither nb nor en.
const RuleLanguageEnum = lead.RuleLanguageEnum

// LanguageField is the booking member that names the prospect's language.
const LanguageField = "language"

// BookingLanguage is the language of a booking sent to the API (SPEC §12): the language
// member (nb | en; no and nn count as nb), else Accept-Language, else nb. A member that is
// not a string is ErrMalformed; an unsupported value a *lead.Error with
// language_enum_validation. raw is the member's value as sent (nil when absent; a form's
// value JSON-quoted by the caller through FormLanguage).
func BookingLanguage(raw json.RawMessage, acceptLanguage string) (i18n.Lang, error) {
	if raw != nil && string(raw) != "null" {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("%w: field %s must be a string", ErrMalformed, LanguageField)
		}
		l, ok := i18n.Parse(s)
		if !ok {
			return "", lead.Invalid(lead.Result{Errors: []lead.Issue{{Field: LanguageField, Rule: RuleLanguageEnum,
				Message: "Language must be nb or en.", Severity: lead.SeverityError}}})
		}
		return l, nil
	}
	if l, ok := i18n.FromAcceptLanguage(acceptLanguage); ok {
		return l, nil
	}
	return i18n.NB, nil
}

// JSONLanguage is BookingLanguage of a JSON booking body that passed CheckJSON.
func JSONLanguage(body []byte, acceptLanguage string) (i18n.Lang, error) {
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&raw); err != nil {
		return "", fmt.Errorf("%w: the body is not a JSON object", ErrMalformed)
	}
	return BookingLanguage(raw[LanguageField], acceptLanguage)
}

// FormLanguage is BookingLanguage of a form-encoded booking sent to the API.
func FormLanguage(value string, present bool, acceptLanguage string) (i18n.Lang, error) {
	if !present {
		return BookingLanguage(nil, acceptLanguage)
	}
	b, _ := json.Marshal(value)
	return BookingLanguage(b, acceptLanguage)
}
