package intake

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/strictjson"
)

// HoneypotField is the hidden form field that only bots fill in.
const HoneypotField = "website"

// AltchaField is the form field and JSON member of the proof-of-work solution, and
// FormStampField the booking form's signed time stamp (SPEC §15).
const (
	AltchaField    = "altcha"
	FormStampField = "form_stamp"
)

// ErrMalformed is wrapped by decode errors: the body could not be read as a booking at all
// (400), as opposed to a readable booking that breaks a rule (422).
var ErrMalformed = errors.New("malformed booking")

// DecodeJSON reads a JSON booking object. Unknown keys are ignored, null means absent;
// a wrong type or a member named twice is ErrMalformed naming the field (never the
// value); invalid UTF-8 (a lone surrogate escape included) is a *lead.Error with
// invalid_characters on that field, as in a form, never silently replaced.
func DecodeJSON(body []byte) (in lead.BookingInput, honeypot string, err error) {
	in, honeypot, _, err = DecodeJSONSpam(body)
	return in, honeypot, err
}

// DecodeJSONSpam is DecodeJSON that also returns the proof-of-work solution, the string
// member AltchaField ("" when absent or null).
func DecodeJSONSpam(body []byte) (in lead.BookingInput, honeypot, altcha string, err error) {
	in, honeypot, err = decodeJSON(body, &altcha)
	return in, honeypot, altcha, err
}

func decodeJSON(body []byte, altcha *string) (in lead.BookingInput, honeypot string, err error) {
	if err := CheckJSON(body); err != nil {
		return in, "", err
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raw); err != nil {
		return in, "", fmt.Errorf("%w: the body is not a JSON object", ErrMalformed)
	}
	if raw == nil {
		return in, "", fmt.Errorf("%w: the body is not a JSON object", ErrMalformed)
	}
	if _, err := dec.Token(); err != io.EOF {
		return in, "", fmt.Errorf("%w: unexpected data after the JSON object", ErrMalformed)
	}
	if err := decodeString(raw, HoneypotField, &honeypot); err != nil {
		return in, "", err
	}
	if err := decodeString(raw, AltchaField, altcha); err != nil {
		return in, "", err
	}
	if v, ok := raw[lead.FieldPreferredTimes]; ok && string(v) != "null" {
		// not a lead column (the field table has no entry): an array of RFC 3339 strings
		if err := json.Unmarshal(v, &in.PreferredTimes); err != nil {
			return in, "", fmt.Errorf("%w: field %s must be an array of strings", ErrMalformed, lead.FieldPreferredTimes)
		}
	}
	fields := lead.Fields()
	for i := range fields {
		f := &fields[i]
		if !f.Writable(lead.WriteBooking) {
			continue
		}
		v, ok := raw[f.Name]
		if !ok || string(v) == "null" {
			continue
		}
		if dst := f.BookingText(&in); dst != nil {
			if plain, ok := plainJSONString(v); ok {
				*dst = plain
				continue
			}
			if err := json.Unmarshal(v, dst); err != nil {
				return in, "", fmt.Errorf("%w: field %s must be a string", ErrMalformed, f.Name)
			}
		} else if dst := f.BookingBool(&in); dst != nil {
			var b bool
			var s string
			switch {
			case json.Unmarshal(v, &b) == nil:
			case json.Unmarshal(v, &s) == nil:
				b = truthy(s)
			default:
				return in, "", fmt.Errorf("%w: field %s must be a boolean", ErrMalformed, f.Name)
			}
			*dst = &b
		}
	}
	return in, honeypot, nil
}

// CheckJSON is strictjson.Check with its errors as this package answers them: invalid
// text is a validation error on the member that holds it, anything else ErrMalformed.
func CheckJSON(body []byte) error {
	err := strictjson.Check(body)
	var it *strictjson.InvalidTextError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &it):
		return lead.Invalid(lead.Result{Errors: []lead.Issue{{Field: it.Field, Rule: lead.RuleInvalidCharacters,
			Message: "This field contains invalid UTF-8.", Severity: lead.SeverityError}}})
	default:
		return fmt.Errorf("%w: %s", ErrMalformed, strictjson.Message(err))
	}
}

// plainJSONString is the value of a JSON string that has nothing to decode — printable
// ASCII, no escape — as nearly every field of a booking is; the decoder has already checked
// the syntax. Anything else (escapes, non-ASCII, invalid UTF-8, not a string) is left to
// json.Unmarshal. A json.Unmarshal per field was most of a booking's decoding.
func plainJSONString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	for _, c := range v[1 : len(v)-1] {
		if c < 0x20 || c >= 0x7f || c == '\\' || c == '"' {
			return "", false
		}
	}
	return string(v[1 : len(v)-1]), true
}

// decodeString reads the string member name (the honeypot, altcha) like the text fields.
func decodeString(raw map[string]json.RawMessage, name string, dst *string) error {
	v, ok := raw[name]
	if !ok || string(v) == "null" {
		return nil
	}
	if plain, ok := plainJSONString(v); ok {
		*dst = plain
		return nil
	}
	if err := json.Unmarshal(v, dst); err != nil {
		return fmt.Errorf("%w: field %s must be a string", ErrMalformed, name)
	}
	return nil
}

// DecodeForm reads a form-encoded booking (the HTML form posts this). A checked checkbox
// sends "on"; an unchecked one sends nothing, which is a missing consent.
func DecodeForm(form url.Values) (in lead.BookingInput, honeypot string) {
	fields := lead.Fields()
	for i := range fields {
		f := &fields[i]
		if !f.Writable(lead.WriteBooking) {
			continue
		}
		if dst := f.BookingText(&in); dst != nil {
			*dst = form.Get(f.Name)
		} else if dst := f.BookingBool(&in); dst != nil {
			if v, ok := form[f.Name]; ok && len(v) > 0 {
				b := truthy(v[0])
				*dst = &b
			}
		}
	}
	// the form's checkboxes: one value per ticked slot (not a lead column, see DecodeJSON)
	in.PreferredTimes = form[lead.FieldPreferredTimes]
	return in, form.Get(HoneypotField)
}

// JSONHash identifies a JSON body that passed CheckJSON by its canonical form (RFC 8785),
// so that member order and whitespace do not count.
func JSONHash(body []byte) string {
	h, err := strictjson.Hash(body)
	if err != nil {
		return ""
	}
	return "json:" + h
}

// FormHash identifies a form body by its values sorted by name (url.Values.Encode).
func FormHash(form url.Values) string {
	sum := sha256.Sum256([]byte(form.Encode()))
	return "form:" + hex.EncodeToString(sum[:])
}

func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "on", "1", "yes":
		return true
	}
	return false
}
