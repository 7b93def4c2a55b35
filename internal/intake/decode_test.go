package intake_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"testing"

	"github.com/norsedigital/leads/internal/intake"
	"github.com/norsedigital/leads/internal/lead"
)

// SPEC §3.1: invalid UTF-8 in a JSON string is invalid_characters on its field, never
// U+FFFD; a member named twice is malformed (400), whatever the two values.
func TestDecodeJSONStrict(t *testing.T) {
	tests := []struct {
		name, body string
		field      string // invalid_characters expected on this field
		malformed  bool
	}{
		{"lone high surrogate", `{"first_name": "Ada\ud800", "consent_given": true}`, "first_name", false},
		{"lone low surrogate", `{"message": "hi \udfff"}`, "message", false},
		{"raw invalid byte", "{\"organization_name\": \"AC\xffME\"}", "organization_name", false},
		{"surrogate pair is fine", `{"first_name": "Ada \ud83d\ude00"}`, "", false},
		{"duplicate consent", `{"consent_given": false, "consent_given": true}`, "", true},
		{"duplicate via escape", `{"email": "a@x.org", "em\u0061il": "b@x.org"}`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, _, err := intake.DecodeJSON([]byte(tt.body))
			var de *lead.Error
			switch {
			case tt.field != "":
				if !errors.As(err, &de) || len(de.Issues) != 1 || de.Issues[0].Field != tt.field ||
					de.Issues[0].Rule != lead.RuleInvalidCharacters {
					t.Fatalf("DecodeJSON = %+v, %v; want invalid_characters on %s", in, err, tt.field)
				}
			case tt.malformed:
				if !errors.Is(err, intake.ErrMalformed) {
					t.Fatalf("DecodeJSON = %+v, %v; want ErrMalformed", in, err)
				}
			case err != nil:
				t.Fatalf("DecodeJSON: %v", err)
			}
		})
	}
}

// SPEC §3.2: the body hash ignores member order and whitespace, and sees every value.
func TestBodyHashes(t *testing.T) {
	a := intake.JSONHash([]byte(`{"email": "a@x.org", "consent_given": true}`))
	b := intake.JSONHash([]byte("{\"consent_given\":true,\n  \"email\":\"a@x.org\"}"))
	c := intake.JSONHash([]byte(`{"email": "a@x.org", "consent_given": true, "x": 1}`))
	if a == "" || a != b {
		t.Errorf("reordered body hashes differ: %q %q", a, b)
	}
	if a == c {
		t.Error("a body with one more member hashes the same")
	}
	f1 := intake.FormHash(url.Values{"email": {"a@x.org"}, "first_name": {"Ada"}})
	f2, _ := url.ParseQuery("first_name=Ada&email=a%40x.org")
	f3, _ := url.ParseQuery("first_name=Grace&email=a%40x.org")
	if f1 != intake.FormHash(f2) || f1 == intake.FormHash(f3) {
		t.Errorf("form hashes: %q %q %q", f1, intake.FormHash(f2), intake.FormHash(f3))
	}
}

// Every kind of JSON string decodes as encoding/json decodes it: the plain ones through
// the fast path, escapes, non-ASCII, invalid UTF-8 and control characters through json.
func TestDecodeJSONStrings(t *testing.T) {
	for _, raw := range []string{`"Ada"`, `""`, `"a b ~ { } [ ] : , ! ' < > &"`, `"R\u0026D"`, `"line\nbreak"`, `"tab\t"`,
		`"Ærøskøbing"`, `"\u00c6"`, `"quote \" inside"`, `"back\\slash"`, `"\ud83d\ude00"`,
		`"<script>alert(1)</script>"`, `"` + "\x7f" + `"`} {
		body := []byte(`{"first_name":` + raw + `,"message": ` + raw + ` }`)
		var want string
		if err := json.Unmarshal([]byte(raw), &want); err != nil {
			if _, _, err := intake.DecodeJSON(body); err == nil {
				t.Errorf("%s: DecodeJSON accepted what json refuses", raw)
			}
			continue
		}
		in, _, err := intake.DecodeJSON(body)
		if err != nil {
			t.Errorf("%s: %v", raw, err)
			continue
		}
		if in.FirstName != want || in.Message != want {
			t.Errorf("%s: decoded %q and %q, json says %q", raw, in.FirstName, in.Message, want)
		}
	}
	// what encoding/json would silently turn into U+FFFD is refused instead (SPEC §3.1)
	for _, raw := range []string{"\"\xff\xfe\"", `"\ud800"`} {
		body := []byte(`{"first_name":` + raw + `,"message": ` + raw + ` }`)
		if _, _, err := intake.DecodeJSON(body); lead.ErrorCode(err) != lead.CodeInvalid {
			t.Errorf("%s: DecodeJSON answered %v, want invalid_characters", raw, err)
		}
	}
}

func BenchmarkDecodeJSON(b *testing.B) {
	body := []byte(`{"first_name":"Ada","last_name":"Lovelace","email":"bench1@example.org","organization_name":"Analytical Mentors",` +
		`"organization_type":"non-profit","message":"We run 40 mentors.","consent_given":true}`)
	for b.Loop() {
		if _, _, err := intake.DecodeJSON(body); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDecodersTakeTheBookingFields: the JSON and the form decoder take exactly the fields
// of the table a public booking may write (lead.WriteBooking), each into its own place, and
// ignore the others.
func TestDecodersTakeTheBookingFields(t *testing.T) {
	body := map[string]any{}
	form := url.Values{}
	for _, f := range lead.Fields() {
		switch f.Type {
		case lead.TypeBool:
			body[f.Name], form[f.Name] = true, []string{"on"}
		default:
			body[f.Name], form[f.Name] = "v-"+f.Name, []string{"v-" + f.Name}
		}
	}
	b, _ := json.Marshal(body)
	fromJSON, _, err := intake.DecodeJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	fromForm, _ := intake.DecodeForm(form)
	for what, in := range map[string]lead.BookingInput{"json": fromJSON, "form": fromForm} {
		n := 0
		for _, f := range lead.Fields() {
			switch {
			case f.BookingText(&lead.BookingInput{}) != nil:
				n++
				if got := *f.BookingText(&in); got != "v-"+f.Name {
					t.Errorf("%s: %s is %q", what, f.Name, got)
				}
			case f.BookingBool(&lead.BookingInput{}) != nil:
				n++
				if got := *f.BookingBool(&in); got == nil || !*got {
					t.Errorf("%s: %s is %v", what, f.Name, got)
				}
			}
		}
		var want lead.BookingInput // what the booking fields of the table make: nothing else is set
		for _, f := range lead.Fields() {
			if f.BookingText(&lead.BookingInput{}) != nil {
				*f.BookingText(&want) = *f.BookingText(&in)
			}
			if f.BookingBool(&lead.BookingInput{}) != nil {
				*f.BookingBool(&want) = *f.BookingBool(&in)
			}
		}
		if !reflect.DeepEqual(in, want) || n != len(lead.FieldNames(func(f *lead.Field) bool { return f.Writable(lead.WriteBooking) })) {
			t.Errorf("%s: decoded %+v, the table's booking fields give %+v (%d fields)", what, in, want, n)
		}
	}
}
