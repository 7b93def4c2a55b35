package intake_test

import (
	"encoding/json"
	"testing"

	"github.com/norsedigital/leads/internal/intake"
)

// Every kind of JSON string decodes as encoding/json decodes it: the plain ones through
// the fast path, escapes, non-ASCII, invalid UTF-8 and control characters through json.
func TestDecodeJSONStrings(t *testing.T) {
	for _, raw := range []string{`"Ada"`, `""`, `"a b ~ { } [ ] : , ! ' < > &"`, `"R\u0026D"`, `"line\nbreak"`, `"tab\t"`,
		`"Ærøskøbing"`, `"\u00c6"`, "\"\xff\xfe\"", `"quote \" inside"`, `"back\\slash"`, `"\ud83d\ude00"`, `"\ud800"`,
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
