package mail

import (
	"testing"

	"github.com/norsedigital/leads/internal/i18n"
)

// BenchmarkRenderConfirmation is the worker's render of one confirmation, with templates
// parsed as the service parses them and without the argless translations written in.
func BenchmarkRenderConfirmation(b *testing.B) {
	cat, err := i18n.NewCatalog()
	if err != nil {
		b.Fatal(err)
	}
	for _, pre := range []bool{false, true} {
		p, err := parsePartsAs(cat, templateFS, "templates/confirmation.txt", "templates/confirmation.html", pre)
		if err != nil {
			b.Fatal(err)
		}
		r := &Renderer{cat: cat, parts: p}
		name := map[bool]string{false: "translated-per-email", true: "pretranslated"}[pre]
		b.Run(name, func(b *testing.B) {
			c := Confirmation{To: "ada@example.org", FirstName: "Ada", BookingRef: "0b9f6a3e-5c1d-4e2f-9a7b-123456789abc",
				PrivacyURL: "https://leads.example/privacy", SelfServiceURL: "https://leads.example/my/abc"}
			for b.Loop() {
				if _, err := r.Render(i18n.NB, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
