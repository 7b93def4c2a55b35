package web

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/lead"
)

// Every word a page prints comes from the catalog, and every key it names is there: a
// template with English typed into it, or a key with a typo, fails here.
func TestTemplatesUseTheCatalog(t *testing.T) {
	cat := i18n.MustNewCatalog()
	files, err := fs.Glob(assets, "templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("templates: %v %v", files, err)
	}
	for _, f := range files {
		b, err := fs.ReadFile(assets, f)
		if err != nil {
			t.Fatal(err)
		}
		problems, err := cat.TemplateProblems(f, string(b))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Error(p)
		}
	}
	problems, err := cat.SourceProblems(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	for _, s := range lead.Statuses {
		if !cat.Has("status." + string(s)) {
			t.Errorf("status %s has no label", s)
		}
	}
	for _, s := range lead.Sources {
		if !cat.Has("source." + string(s)) {
			t.Errorf("source %s has no label", s)
		}
	}
	for _, f := range bookingFields {
		if !cat.Has(f.Label) || (f.Hint != "" && !cat.Has(f.Hint)) {
			t.Errorf("booking field %s: label or hint key missing", f.Name)
		}
	}
}

// The checker itself catches untranslated text and unknown keys.
func TestTemplateCheckerFails(t *testing.T) {
	cat := i18n.MustNewCatalog()
	for src, want := range map[string]string{
		`<p class="x">Hello there</p>`:                    `"Hello"`,
		`<a href="{{.URL}}" title="{{t "skip"}}">Go</a>`:  `"Go"`,
		`<p>{{t "no.such.key"}}</p>`:                      `"no.such.key"`,
		`{{if .X}}<b>{{t "skip"}}</b>{{else}}Oops{{end}}`: `"Oops"`,
	} {
		problems, err := cat.TemplateProblems("probe", src)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(problems, "\n"), want) {
			t.Errorf("%s: problems %q, want one naming %s", src, problems, want)
		}
	}
	ok := `<p class="x">{{t "skip"}} · <code>leads token</code> Meander</p>`
	if problems, _ := cat.TemplateProblems("ok", ok); len(problems) != 0 {
		t.Errorf("clean template: %q", problems)
	}
}
