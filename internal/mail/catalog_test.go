package mail

import (
	"io/fs"
	"testing"

	"github.com/norsedigital/leads/internal/i18n"
)

// Every word of the email comes from the catalog (see web's TestTemplatesUseTheCatalog).
func TestTemplatesUseTheCatalog(t *testing.T) {
	cat := i18n.MustNewCatalog()
	files, _ := fs.Glob(templateFS, "templates/*")
	if len(files) != 2 {
		t.Fatalf("templates %v", files)
	}
	for _, f := range files {
		b, err := fs.ReadFile(templateFS, f)
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
}
