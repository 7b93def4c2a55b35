package mail

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/norsedigital/leads/internal/i18n"
)

func TestSignInLinkEmail(t *testing.T) {
	cat := i18n.MustNewCatalog()
	files, _ := fs.Glob(signinFS, "templates/signin/*")
	if len(files) != 2 {
		t.Fatalf("templates %v", files)
	}
	for _, f := range files {
		b, _ := fs.ReadFile(signinFS, f)
		problems, err := cat.TemplateProblems(f, string(b))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Error(p)
		}
	}
	link := "https://leads.example/console/sign-in/link?lang=en&token=lsl_abc"
	for _, l := range i18n.Langs {
		m, err := RenderSignInLink(cat, l, SignInLink{To: "kari@norse.example", Name: "Kari <b>", URL: link, Minutes: 15})
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != cat.T(l, "mail.signin.subject") || m.To != "kari@norse.example" {
			t.Errorf("%s: %+v", l, m)
		}
		if !strings.Contains(m.Text, link) || !strings.Contains(m.Text, cat.T(l, "mail.signin.validity", 15)) {
			t.Errorf("%s text:\n%s", l, m.Text)
		}
		if !strings.Contains(m.HTML, `href="https://leads.example/console/sign-in/link?lang=en&amp;token=lsl_abc"`) ||
			!strings.Contains(m.HTML, "Kari &lt;b&gt;") || !strings.Contains(m.HTML, `lang="`+string(l)+`"`) {
			t.Errorf("%s html:\n%s", l, m.HTML)
		}
	}
	for _, bad := range []SignInLink{{To: "", URL: link}, {To: "a@b.example\r\nBcc: x@y.example", URL: link}, {To: "a@b.example", URL: "javascript:alert(1)"}} {
		if _, err := RenderSignInLink(cat, i18n.EN, bad); err == nil {
			t.Errorf("rendered %+v", bad)
		}
	}
}
