package intake

import (
	"errors"
	"testing"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/lead"
)

func TestJSONLanguage(t *testing.T) {
	tests := []struct {
		body, accept string
		want         i18n.Lang
		err          string // "malformed", "invalid" or ""
	}{
		{`{}`, "", i18n.NB, ""},
		{`{}`, "en-US,en;q=0.9", i18n.EN, ""},
		{`{}`, "de", i18n.NB, ""},
		{`{"language": null}`, "en", i18n.EN, ""},
		{`{"language": "en"}`, "nb", i18n.EN, ""},
		{`{"language": "nb"}`, "en", i18n.NB, ""},
		{`{"language": "no"}`, "en", i18n.NB, ""},
		{`{"language": " EN "}`, "", i18n.EN, ""},
		{`{"language": "de"}`, "en", "", "invalid"},
		{`{"language": ""}`, "en", "", "invalid"},
		{`{"language": 1}`, "", "", "malformed"},
		{`{"language": ["en"]}`, "", "", "malformed"},
	}
	for _, tt := range tests {
		got, err := JSONLanguage([]byte(tt.body), tt.accept)
		switch tt.err {
		case "":
			if err != nil || got != tt.want {
				t.Errorf("%s (%q): %s %v, want %s", tt.body, tt.accept, got, err, tt.want)
			}
		case "malformed":
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%s: %v, want ErrMalformed", tt.body, err)
			}
		case "invalid":
			var de *lead.Error
			if !errors.As(err, &de) || de.Code != lead.CodeInvalid || len(de.Issues) != 1 ||
				de.Issues[0].Field != "language" || de.Issues[0].Rule != RuleLanguageEnum {
				t.Errorf("%s: %v, want language_enum_validation", tt.body, err)
			}
		}
	}
	if l, err := FormLanguage("", false, "en"); err != nil || l != i18n.EN {
		t.Errorf("absent form language: %s %v", l, err)
	}
	if _, err := FormLanguage("xx", true, "en"); lead.ErrorCode(err) != lead.CodeInvalid {
		t.Errorf("bad form language: %v", err)
	}
}
