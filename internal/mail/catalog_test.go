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
	owner, _ := fs.Glob(ownerFS, "templates/*")
	if len(files) != 2 || len(owner) != 2 {
		t.Fatalf("templates %v %v", files, owner)
	}
	read := func(f string) ([]byte, error) {
		if b, err := fs.ReadFile(templateFS, f); err == nil {
			return b, nil
		}
		return fs.ReadFile(ownerFS, f)
	}
	for _, f := range append(files, owner...) {
		b, err := read(f)
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
