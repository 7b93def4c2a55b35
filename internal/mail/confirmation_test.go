package mail

import (
	"strings"
	"testing"

	"github.com/norsedigital/leads/internal/i18n"
)

const (
	testRef     = "0b9f6a3e-5c1d-4e2f-9a7b-123456789abc"
	testPrivacy = "https://meander.example/privacy"
)

// langCase is what the confirmation says in one language: the greeting around the name
// (%s), without a name, the subject and a sentence of the body.
type langCase struct {
	lang                        i18n.Lang
	hello, helloNoName, subject string
	nextStep, privacyQuery      string
}

var langCases = []langCase{
	{i18n.NB, "Hei, %s!", "Hei!", "Demobestillingen din hos Meander (ref. 0b9f6a3e)", "innen én virkedag", "?lang=nb"},
	{i18n.EN, "Hello %s,", "Hello,", "Your Meander demo booking (ref 0b9f6a3e)", "within one working day", "?lang=en"},
}

func TestRender(t *testing.T) {
	for _, lc := range langCases {
		t.Run(string(lc.lang), func(t *testing.T) { testRender(t, lc) })
	}
}

func testRender(t *testing.T, lc langCase) {
	hello := func(s string) string { return strings.Replace(lc.hello, "%s", s, 1) }
	tests := []struct {
		name      string
		firstName string
		wantText  string // greeting line in the text part
		wantHTML  string // greeting as it must appear in the HTML part
		forbidden string // must not appear in the HTML part
	}{
		{"plain", "Jane", hello("Jane"), hello("Jane"), ""},
		{"script", "<script>alert(1)</script>", hello("<script>alert(1)</script>"),
			hello("&lt;script&gt;alert(1)&lt;/script&gt;"), "<script>"},
		{"ampersand and quotes", `Ann & "Bo"`, hello(`Ann & "Bo"`), hello("Ann &amp; &#34;Bo&#34;"), `"Bo"`},
		{"unicode", "Zoë 😀", hello("Zoë 😀"), hello("Zoë 😀"), ""},
		{"empty", "", lc.helloNoName, lc.helloNoName, hello("")},
		{"spaces trimmed", "  Jane \t", hello("Jane"), hello("Jane"), ""},
	}
	r, err := NewRenderer(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := r.Render(lc.lang, Confirmation{To: "jane@example.com", FirstName: tt.firstName, BookingRef: testRef, PrivacyURL: testPrivacy})
			if err != nil {
				t.Fatal(err)
			}
			if m.To != "jane@example.com" {
				t.Errorf("To = %q", m.To)
			}
			if want := lc.subject; m.Subject != want {
				t.Errorf("Subject = %q, want %q", m.Subject, want)
			}
			if !strings.HasPrefix(m.Text, tt.wantText+"\n") {
				t.Errorf("text does not start with %q:\n%s", tt.wantText, m.Text)
			}
			if !strings.Contains(m.HTML, tt.wantHTML) {
				t.Errorf("html lacks %q:\n%s", tt.wantHTML, m.HTML)
			}
			if tt.forbidden != "" && strings.Contains(m.HTML, tt.forbidden) {
				t.Errorf("html contains %q:\n%s", tt.forbidden, m.HTML)
			}
			for _, part := range []string{m.Text, m.HTML} {
				for _, want := range []string{testRef, testPrivacy + lc.privacyQuery, "Meander", lc.nextStep, "Norse Digital Products"} {
					if !strings.Contains(part, want) {
						t.Errorf("part lacks %q:\n%s", want, part)
					}
				}
			}
			if !strings.Contains(m.HTML, `href="`+testPrivacy+lc.privacyQuery+`"`) || !strings.Contains(m.HTML, `<html lang="`+string(lc.lang)+`">`) {
				t.Errorf("html lacks the privacy link:\n%s", m.HTML)
			}
		})
	}
}

func TestRenderPackageFunc(t *testing.T) {
	m, err := Render(i18n.EN, Confirmation{To: "a@b.example", FirstName: "Al", BookingRef: testRef, PrivacyURL: testPrivacy})
	if err != nil || !strings.Contains(m.Text, "Hello Al,") {
		t.Fatalf("Render = %+v, %v", m, err)
	}
}

func TestRenderUnsafeInputs(t *testing.T) {
	r, err := NewRenderer(nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Render(i18n.NB, Confirmation{To: "a@b.example", BookingRef: "ab\r\nBcc: victim@example.com", PrivacyURL: "javascript:alert(1)"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		t.Errorf("Subject contains a line break: %q", m.Subject)
	}
	if strings.Contains(m.HTML, "javascript:") {
		t.Errorf("html keeps an unsafe URL:\n%s", m.HTML)
	}
}

func TestRenderRejects(t *testing.T) {
	ok := Confirmation{To: "a@b.example", FirstName: "Al", BookingRef: testRef, PrivacyURL: testPrivacy}
	tests := []struct {
		name   string
		modify func(*Confirmation)
	}{
		{"no recipient", func(c *Confirmation) { c.To = " " }},
		{"recipient with line break", func(c *Confirmation) { c.To = "a@b.example\r\nBcc: c@d.example" }},
		{"no booking ref", func(c *Confirmation) { c.BookingRef = "" }},
		{"no privacy url", func(c *Confirmation) { c.PrivacyURL = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.modify(&c)
			_, err := Render(i18n.NB, c)
			if err == nil {
				t.Fatal("no error")
			}
			if c.To != "" && strings.Contains(err.Error(), "a@b.example") {
				t.Errorf("error contains the address: %v", err)
			}
		})
	}
}
