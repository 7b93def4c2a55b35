package strictjson

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name, body string
		field      string // InvalidTextError field, "" for none
		malformed  bool
	}{
		{"valid", `{"a": "x", "b": {"c": [1, "é"]}}`, "", false},
		{"lone surrogate", `{"first_name": "Ada\ud800", "b": 1}`, "first_name", false},
		{"low surrogate alone", `{"x": 1, "message": "\udc00"}`, "message", false},
		{"paired surrogates", `{"message": "\ud83d\ude00"}`, "", false},
		{"raw invalid byte", "{\"last_name\": \"Love\xfflace\"}", "last_name", false},
		{"invalid in nested value", "{\"extra\": [\"\xc3\"]}", "extra", false},
		{"invalid in a name", "{\"na\xffme\": \"x\"}", "na\uFFFDme", false},
		{"duplicate member", `{"consent_given": false, "consent_given": true}`, "", true},
		{"duplicate nested", `{"a": {"b": 1, "b": 2}}`, "", true},
		{"escaped duplicate", `{"consent_given": 1, "consent_\u0067iven": 2}`, "", true},
		{"not an object", `[1]`, "", true},
		{"trailing data", `{} {}`, "", true},
		{"truncated", `{"a": `, "", true},
		{"empty", ``, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check([]byte(tt.body))
			var it *InvalidTextError
			switch {
			case tt.field != "":
				if !errors.As(err, &it) || it.Field != tt.field {
					t.Fatalf("Check = %v, want invalid text in %q", err, tt.field)
				}
			case tt.malformed:
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("Check = %v, want ErrMalformed", err)
				}
			default:
				if err != nil {
					t.Fatalf("Check = %v", err)
				}
			}
		})
	}
}

func TestHashIgnoresOrderAndSpace(t *testing.T) {
	a, err := Hash([]byte(`{"b": 1, "a": "x"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Hash([]byte("{\n\"a\":\"x\",\"b\":1.0}"))
	c, _ := Hash([]byte(`{"a": "y", "b": 1}`))
	if a != b {
		t.Errorf("same value, different hashes %s %s", a, b)
	}
	if a == c {
		t.Error("different values, same hash")
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":"\ud800"}`, `{"a":1,"a":2}`, "{\"a\":\"\xff\"}", `{"a":{"b":[{"c":"\udc00"}]}}`, `[]`, `{"a":"\ud83d\ude00"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		err := Check(body)
		var it *InvalidTextError
		switch {
		case err == nil:
			if !json.Valid(body) || !jsontext.Value(body).IsValid() {
				t.Fatalf("accepted %q", body)
			}
			if _, err := Hash(body); err != nil {
				t.Fatalf("Hash of an accepted body: %v", err)
			}
		case errors.As(err, &it):
			if jsontext.Value(body).IsValid() {
				t.Fatalf("invalid text reported in a strictly valid body %q", body)
			}
		case !errors.Is(err, ErrMalformed):
			t.Fatalf("error %v is neither", err)
		}
	})
}
