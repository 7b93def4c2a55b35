package web

import (
	"testing"

	"github.com/norsedigital/leads/internal/i18n"
)

// TestEveryPageParses: pages are parsed when first shown (pageTemplate), so this parses
// every page in every language, as a start-up would have.
func TestEveryPageParses(t *testing.T) {
	cat, err := i18n.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	p := &Pages{pages: map[string]map[i18n.Lang]*pageTemplate{}, assetHash: map[string]string{}, cat: cat}
	if err := p.parseTemplates(); err != nil {
		t.Fatal(err)
	}
	if len(p.pages) < 20 {
		t.Fatalf("%d pages found", len(p.pages))
	}
	if err := p.parseAll(); err != nil {
		t.Fatal(err)
	}
	for name, langs := range p.pages {
		for l, pt := range langs {
			if pt.t == nil || pt.t.Lookup("layout") == nil {
				t.Errorf("%s (%s): no layout template", name, l)
			}
		}
	}
}
