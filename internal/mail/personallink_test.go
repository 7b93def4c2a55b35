package mail

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/norsedigital/leads/internal/i18n"
)

func TestPersonalLinkTemplatesUseTheCatalog(t *testing.T) {
	cat := i18n.MustNewCatalog()
	files, _ := fs.Glob(personalLinkFS, "templates/*")
	if len(files) != 2 {
		t.Fatalf("templates %v", files)
	}
	for _, f := range files {
		b, _ := fs.ReadFile(personalLinkFS, f)
		problems, err := cat.TemplateProblems(f, string(b))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Error(p)
		}
	}
}

func TestRenderPersonalLink(t *testing.T) {
	r, err := NewPersonalLinkRenderer(nil)
	if err != nil {
		t.Fatal(err)
	}
	const link = "https://meander.example/my/AbC-_0123456789012345678901234567890123456"
	for lang, want := range map[i18n.Lang]string{i18n.NB: "Lenken til din side hos Meander", i18n.EN: "Your link to your page at Meander"} {
		m, err := r.Render(lang, PersonalLink{To: "ada@example.org", FirstName: "<b>Ada</b>", URL: link, PrivacyURL: testPrivacy})
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != want || m.To != "ada@example.org" {
			t.Errorf("%s: subject %q to %q", lang, m.Subject, m.To)
		}
		if !strings.Contains(m.Text, link) || !strings.Contains(m.HTML, `href="`+link+`"`) {
			t.Errorf("%s: the link is missing:\n%s\n%s", lang, m.Text, m.HTML)
		}
		if strings.Contains(m.HTML, "<b>Ada") || !strings.Contains(m.HTML, "&lt;b&gt;Ada") {
			t.Errorf("%s: the name is not escaped in HTML", lang)
		}
		if !strings.Contains(m.HTML, `lang="`+string(lang)+`"`) || !strings.Contains(m.Text, "lang="+string(lang)) {
			t.Errorf("%s: the email or its privacy link is not in its language", lang)
		}
	}
	for _, bad := range []PersonalLink{{URL: link, PrivacyURL: testPrivacy}, {To: "a@b.example\r\nBcc: x@y.example", URL: link, PrivacyURL: testPrivacy},
		{To: "a@b.example", PrivacyURL: testPrivacy}, {To: "a@b.example", URL: link}} {
		if _, err := r.Render(i18n.NB, bad); err == nil || strings.Contains(err.Error(), link) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

// The confirmation carries the personal link when it has one, in both parts.
func TestConfirmationCarriesThePersonalLink(t *testing.T) {
	r, err := NewRenderer(nil)
	if err != nil {
		t.Fatal(err)
	}
	const link = "https://meander.example/my/token"
	for _, l := range i18n.Langs {
		m, err := r.Render(l, Confirmation{To: "a@b.example", BookingRef: testRef, PrivacyURL: testPrivacy, SelfServiceURL: link})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Text, link) || !strings.Contains(m.HTML, `href="`+link+`"`) {
			t.Errorf("%s: no personal link:\n%s", l, m.Text)
		}
		m, _ = r.Render(l, Confirmation{To: "a@b.example", BookingRef: testRef, PrivacyURL: testPrivacy})
		if strings.Contains(m.Text, "/my/") {
			t.Errorf("%s: a link without one", l)
		}
	}
}
