package mail

import (
	"io/fs"
	"testing"

	"github.com/norsedigital/leads/internal/i18n"
)

// Writing the argless translations into the templates changes no byte of any email: every
// email kind rendered from templates parsed both ways, in both languages, with names that
// need escaping, is the same.
func TestPretranslatedEmailsAreTheSame(t *testing.T) {
	cat, err := i18n.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	both := func(fsys fs.FS, text, html string) (pre, plain parts) {
		t.Helper()
		var err error
		if pre, err = parsePartsAs(cat, fsys, text, html, true); err != nil {
			t.Fatal(err)
		}
		if plain, err = parsePartsAs(cat, fsys, text, html, false); err != nil {
			t.Fatal(err)
		}
		src, _ := fs.ReadFile(fsys, html)
		if out, _ := pretranslate(string(src), cat.For(i18n.EN), true); out == string(src) {
			t.Fatalf("%s: nothing was pretranslated", html)
		}
		return pre, plain
	}
	same := func(name string, a, b Message, errA, errB error) {
		t.Helper()
		if errA != nil || errB != nil {
			t.Fatalf("%s: %v / %v", name, errA, errB)
		}
		if a.Text != b.Text || a.HTML != b.HTML || a.Subject != b.Subject {
			t.Fatalf("%s differs:\n%s\n---\n%s\n===\n%s\n---\n%s", name, a.Text, b.Text, a.HTML, b.HTML)
		}
	}
	names := []string{"", "Åse <b>&amp;\"'+ {{x}}"}

	pre, plain := both(templateFS, "templates/confirmation.txt", "templates/confirmation.html")
	conf, confPlain := &Renderer{cat: cat, parts: pre}, &Renderer{cat: cat, parts: plain}
	ownerPre, ownerPlain := both(ownerFS, "templates/owner.txt", "templates/owner.html")
	owner, ownerP := &OwnerRenderer{cat: cat, parts: ownerPre}, &OwnerRenderer{cat: cat, parts: ownerPlain}
	linkPre, linkPlain := both(personalLinkFS, "templates/personal_link.txt", "templates/personal_link.html")
	link, linkP := &PersonalLinkRenderer{cat: cat, parts: linkPre}, &PersonalLinkRenderer{cat: cat, parts: linkPlain}
	signPre, signPlain := both(signinFS, "templates/signin/link.txt", "templates/signin/link.html")

	for _, l := range i18n.Langs {
		for _, name := range names {
			for _, self := range []string{"", "https://leads.example/my/abc+d"} {
				c := Confirmation{To: "a@example.org", FirstName: name, BookingRef: "ref-1", PrivacyURL: "https://leads.example/privacy", SelfServiceURL: self}
				a, errA := conf.Render(l, c)
				b, errB := confPlain.Render(l, c)
				same("confirmation", a, b, errA, errB)
			}
			for _, kind := range []string{NoticeNewLead, NoticeBookedAgain, NoticeOverdue} {
				n := OwnerNotice{Kind: kind, To: "kari@norse.example", MemberName: name, FirstName: name, LastName: "Ø'<", Organization: "Frivillig & Co",
					Role: name, Source: "demo_booking", LeadURL: "https://leads.example/console/leads/1", Due: "3. des.", PreferredTimes: []string{"man. 7. des. kl. 09.00"}}
				a, errA := owner.Render(l, n)
				b, errB := ownerP.Render(l, n)
				same("owner "+kind, a, b, errA, errB)
			}
			p := PersonalLink{To: "a@example.org", FirstName: name, URL: "https://leads.example/my/abc", PrivacyURL: "https://leads.example/privacy"}
			a, errA := link.Render(l, p)
			b, errB := linkP.Render(l, p)
			same("personal link", a, b, errA, errB)
			data := struct {
				SignInLink
				Lang string
			}{SignInLink{Name: name, URL: "https://leads.example/console/sign-in/x", Minutes: 15}, string(l)}
			at, ah, errA := signPre.execute(l, data)
			bt, bh, errB := signPlain.execute(l, data)
			same("sign-in", Message{Text: at, HTML: ah}, Message{Text: bt, HTML: bh}, errA, errB)
		}
	}
}
