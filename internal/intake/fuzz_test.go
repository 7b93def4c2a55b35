package intake_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/norsedigital/leads/internal/corpora"
	"github.com/norsedigital/leads/internal/intake"
	"github.com/norsedigital/leads/internal/lead"
)

// Run one for longer with: go test ./internal/intake -run '^$' -fuzz FuzzDecodeJSON -fuzztime 30s

var fieldNames = []string{"first_name", "last_name", "email", "phone", "organization_name", "organization_type",
	"organization_size", "role_title", "message", "utm_source", "utm_medium", "utm_campaign"}

// seedFields take the corpus strings in turn (one field per string keeps the seed run short).
var seedFields = []string{"first_name", "email", "message", "phone", "organization_name", "utm_source"}

func seedBooking() map[string]any {
	return map[string]any{"first_name": "Kari", "last_name": "Nordmann", "email": "kari@example.no",
		"phone": "+47 22 33 44 55", "organization_name": "Frivillig Norge", "message": "Hei!\r\nVi er 40.", "consent_given": true}
}

// seedStrings are the corpora's strings (a sample of the XSS list keeps the seed run quick).
func seedStrings(f *testing.F) []string {
	out := []string{"", " ", "Kari", "kari@example.no", "<script>alert(1)</script>", "\x00", "\xff\xfe", "null"}
	if p := corpora.Optional("blns.json"); p != "" {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		var list []string
		if err := json.Unmarshal(data, &list); err != nil {
			f.Fatal(err)
		}
		out = append(out, list...)
	}
	if p := corpora.Optional("xss-payloads.txt"); p != "" {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			if i%25 == 0 {
				out = append(out, line)
			}
		}
	}
	return out
}

// encodeJSON writes a decoded booking back as the JSON the decoder reads.
func encodeJSON(in lead.BookingInput, honeypot string) []byte {
	m := map[string]any{}
	for i, v := range bookingValues(in) {
		m[fieldNames[i]] = v
	}
	if in.ConsentGiven != nil {
		m["consent_given"] = *in.ConsentGiven
	}
	m[intake.HoneypotField] = honeypot
	b, _ := json.Marshal(m)
	return b
}

func bookingValues(in lead.BookingInput) []string {
	return []string{in.FirstName, in.LastName, in.Email, in.Phone, in.OrganizationName, in.OrganizationType,
		in.OrganizationSize, in.RoleTitle, in.Message, in.UTMSource, in.UTMMedium, in.UTMCampaign}
}

func bookingInput(b lead.Booking, consent *bool) lead.BookingInput {
	return lead.BookingInput{FirstName: b.FirstName, LastName: b.LastName, Email: b.Email, Phone: b.Phone,
		OrganizationName: b.OrganizationName, OrganizationType: b.OrganizationType, OrganizationSize: b.OrganizationSize,
		RoleTitle: b.RoleTitle, Message: b.Message, UTMSource: b.UTMSource, UTMMedium: b.UTMMedium,
		UTMCampaign: b.UTMCampaign, ConsentGiven: consent}
}

// checkValidation holds for any decoded booking: validation never panics, and a booking it
// accepts comes out normalized for good — validating the result again accepts it unchanged,
// so what is stored is what a later check (an edit, an import) would accept.
func checkValidation(t *testing.T, in lead.BookingInput) {
	b, res := lead.ValidateBooking(in)
	if !res.OK() {
		if len(res.Errors) == 0 {
			t.Fatalf("refused without an error")
		}
		for _, is := range res.Errors {
			if is.Field == "" || is.Rule == "" || is.Message == "" {
				t.Fatalf("incomplete issue %+v", is)
			}
		}
		return
	}
	if in.ConsentGiven == nil || !*in.ConsentGiven {
		t.Fatalf("accepted without consent")
	}
	if b.FirstName == "" || b.LastName == "" || b.Email == "" || b.OrganizationName == "" {
		t.Fatalf("accepted with a required field empty: %+v", b)
	}
	if !lead.ValidEmail(b.Email) || b.EmailNormalized != lead.NormalizeEmail(b.Email) {
		t.Fatalf("accepted email %q (normalized %q)", b.Email, b.EmailNormalized)
	}
	again, res2 := lead.ValidateBooking(bookingInput(b, in.ConsentGiven))
	if !res2.OK() {
		t.Fatalf("normalized booking refused: %+v\n%+v", res2.Errors, b)
	}
	if !reflect.DeepEqual(again, b) {
		t.Fatalf("normalizing twice changed the booking:\n%+v\n%+v", b, again)
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, body := range []string{``, `{`, `}`, `[]`, `null`, `"x"`, `{}`, `{} {}`, `{}x`, `{"email": 5}`,
		`{"consent_given": "yes"}`, `{"consent_given": "off"}`, `{"consent_given": [true]}`, `{"first_name": null}`,
		`{"website": "http://spam"}`, `{"first_name": "a", "first_name": 1}`, `{"FIRST_NAME": "case"}`,
		`{"message": "\u0000"}`, `{"email": "\ud800@example.org"}`, "{\"first_name\": \"\xff\"}"} {
		f.Add([]byte(body))
	}
	for i, s := range seedStrings(f) {
		m := seedBooking()
		m[seedFields[i%len(seedFields)]] = s
		b, _ := json.Marshal(m)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, honeypot, err := intake.DecodeJSON(body)
		var de *lead.Error
		if errors.As(err, &de) {
			// invalid UTF-8 (a lone surrogate escape included): refused on its field, and
			// only when the body really holds some
			if de.Code != lead.CodeInvalid || len(de.Issues) != 1 || de.Issues[0].Rule != lead.RuleInvalidCharacters {
				t.Fatalf("unexpected validation error %+v", de)
			}
			if utf8.Valid(body) && !bytes.Contains(body, []byte(`\u`)) {
				t.Fatalf("invalid_characters for a body of valid UTF-8 without escapes: %q", body)
			}
			return
		}
		if err != nil {
			if !errors.Is(err, intake.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			// the message names a field at most, never echoes the value
			if msg := err.Error(); len(msg) > 120 {
				t.Fatalf("long error message %q", msg)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		in2, honeypot2, err := intake.DecodeJSON(encodeJSON(in, honeypot))
		if err != nil || honeypot2 != honeypot || !reflect.DeepEqual(in2, in) {
			t.Fatalf("round trip changed the booking: %v\n%+v %q\n%+v %q", err, in, honeypot, in2, honeypot2)
		}
		checkValidation(t, in)
	})
}

func FuzzDecodeForm(f *testing.F) {
	for _, body := range []string{``, `=`, `&&`, `%`, `%zz`, `a=%ff`, `consent_given`, `consent_given=`,
		`consent_given=on&consent_given=off`, `consent_given=TRUE`, `website=x`, `first_name=a&first_name=b`, `;`} {
		f.Add(body)
	}
	for i, s := range seedStrings(f) {
		v := url.Values{}
		for k, x := range seedBooking() {
			if str, ok := x.(string); ok {
				v.Set(k, str)
			}
		}
		v.Set("consent_given", "on")
		v.Set(seedFields[i%len(seedFields)], s)
		f.Add(v.Encode())
	}
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body) // as the handler does: an error is a 400
		if err != nil {
			return
		}
		in, honeypot := intake.DecodeForm(form)
		if honeypot != form.Get(intake.HoneypotField) {
			t.Fatalf("honeypot %q, form has %q", honeypot, form.Get(intake.HoneypotField))
		}
		back := url.Values{}
		for i, v := range bookingValues(in) {
			if v != form.Get(fieldNames[i]) {
				t.Fatalf("field %s = %q, form has %q", fieldNames[i], v, form.Get(fieldNames[i]))
			}
			back.Set(fieldNames[i], v)
		}
		if _, sent := form["consent_given"]; sent != (in.ConsentGiven != nil) {
			t.Fatalf("consent_given sent=%v, decoded %v", sent, in.ConsentGiven)
		}
		if in.ConsentGiven != nil {
			back.Set("consent_given", map[bool]string{true: "on", false: "off"}[*in.ConsentGiven])
		}
		if in2, _ := intake.DecodeForm(back); !reflect.DeepEqual(in2, in) {
			t.Fatalf("round trip changed the booking:\n%+v\n%+v", in, in2)
		}
		checkValidation(t, in)
	})
}
