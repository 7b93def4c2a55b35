package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// myLink seeds a lead and mints its personal link; it returns the lead id and the link's path.
func (s *site) myLink(in lead.BookingInput) (string, string) {
	s.t.Helper()
	id := s.seed(in)
	raw, err := s.Store.NewPersonalLink(s.t.Context(), id)
	if err != nil {
		s.t.Fatal(err)
	}
	return id, "/my/" + raw
}

// events lists "type by actor" of a lead's trail.
func (s *site) events(id string) []string {
	s.t.Helper()
	evs, err := s.Store.ListEvents(s.t.Context(), id)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Type+" by "+e.Actor)
	}
	return out
}

func hasEvent(events []string, want string) bool {
	for _, e := range events {
		if e == want {
			return true
		}
	}
	return false
}

var crossSite = []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}

func TestSelfServicePage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		s := newSite(t, e.URL(t), siteOpts{})
		c := s.client()
		in := person("Kari", "Nordmann", "kari@my.example", "R&D <50 mentors")
		in.Message = "Show me matching"
		id, link := s.myLink(in)
		if _, err := s.Store.PatchLead(t.Context(), id, lead.Input{Language: lead.Val("en")}, nil, lead.Actor{Name: "sally"}); err != nil {
			t.Fatal(err)
		}

		// the page: in the lead's language, every field, escaped, not cached or framed
		p := s.get(c, link)
		if p.StatusCode != http.StatusOK {
			t.Fatalf("page: %d %s", p.StatusCode, p.Body)
		}
		for _, want := range []string{`<html lang="en">`, tx(i18n.EN, "my.heading"), "Kari", "Nordmann", "kari@my.example",
			"R&amp;D &lt;50 mentors", "Show me matching", "test-1", tx(i18n.EN, "my.download_button"), "192.0.2.10"} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		h := p.Header
		if h.Get("Cache-Control") != "no-store" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
			h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("headers: %v", h)
		}
		if nb := s.get(c, link+"?lang=nb"); !strings.Contains(nb.Body, `<html lang="nb">`) || !strings.Contains(nb.Body, tx(i18n.NB, "my.heading")) {
			t.Errorf("?lang=nb does not switch the page")
		}

		// forged, malformed and expired links: the same 404 page; an unknown path too
		forged := s.get(c, "/my/"+strings.Repeat("A", 43))
		if forged.StatusCode != http.StatusNotFound || !strings.Contains(forged.Body, tx(i18n.NB, "my.invalid")) {
			t.Fatalf("forged link: %d", forged.StatusCode)
		}
		for _, path := range []string{"/my/", "/my/a/b", link + "/nope"} {
			if r := s.get(c, path); r.StatusCode != http.StatusNotFound || !strings.Contains(r.Body, tx(i18n.NB, "my.invalid")) {
				t.Errorf("%s: %d", path, r.StatusCode)
			}
		}
		if bad := s.get(c, "/my/%3Cscript%3E"); bad.StatusCode != http.StatusNotFound || strings.Contains(bad.Body, "<script>") {
			t.Errorf("malformed link: %d", bad.StatusCode)
		}
		_, expired := s.myLink(person("Old", "Link", "old@my.example", "Org"))
		if _, err := s.Store.DB().Exec(`UPDATE personal_links SET expires_at = created_at WHERE token_hash = $1`,
			store.HashToken(strings.TrimPrefix(expired, "/my/"))); err != nil {
			t.Fatal(err)
		}
		ex := s.get(c, expired)
		// the same page but for the path in the language switch
		if ex.StatusCode != http.StatusNotFound || strings.ReplaceAll(ex.Body, expired, "/my/X") != strings.ReplaceAll(forged.Body, "/my/"+strings.Repeat("A", 43), "/my/X") {
			t.Errorf("an expired link must look like a forged one: %d", ex.StatusCode)
		}
		if en := s.get(c, "/my/"+strings.Repeat("B", 43)+"?lang=en"); en.StatusCode != http.StatusNotFound || !strings.Contains(en.Body, tx(i18n.EN, "my.invalid")) {
			t.Errorf("the 404 page in English: %d", en.StatusCode)
		}

		// cross-site posts: 403, nothing done
		before := len(s.events(id))
		for _, action := range []string{"/export", "/details", "/erase"} {
			r := s.do(c, http.MethodPost, link+action, url.Values{"first_name": {"Evil"}}, crossSite...)
			if r.StatusCode != http.StatusForbidden {
				t.Errorf("cross-site POST %s: %d", action, r.StatusCode)
			}
		}
		if r := s.do(c, http.MethodPost, "/my", url.Values{"email": {"kari@my.example"}}, crossSite...); r.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST /my: %d", r.StatusCode)
		}
		if after := s.events(id); len(after) != before {
			t.Errorf("a cross-site post changed something: %v", after)
		}
		if l, _ := s.Store.GetLead(t.Context(), id); l.FirstName != "Kari" || l.AnonymizedAt != nil {
			t.Errorf("a cross-site post changed the lead: %+v", l)
		}

		// download: the admin export's document, as an attachment, by data_subject
		dl := s.do(c, http.MethodPost, link+"/export", nil, "Sec-Fetch-Site", "same-origin")
		if dl.StatusCode != http.StatusOK || !strings.HasPrefix(dl.Header.Get("Content-Disposition"), "attachment;") ||
			dl.Header.Get("Content-Type") != "application/json" || dl.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("download: %d %v", dl.StatusCode, dl.Header)
		}
		var mine, admin store.LeadExport
		if err := json.Unmarshal([]byte(dl.Body), &mine); err != nil {
			t.Fatal(err)
		}
		adm := s.do(c, http.MethodGet, "/api/v1/leads/"+id+"/export", nil, "Authorization", "Bearer "+s.Admin)
		if err := json.Unmarshal([]byte(adm.Body), &admin); err != nil || adm.StatusCode != http.StatusOK {
			t.Fatalf("admin export: %d %v", adm.StatusCode, err)
		}
		if mine.Lead.ID != id || mine.Lead.Email != "kari@my.example" || len(mine.Bookings) != 1 || len(mine.Consent.Bookings) != 1 ||
			mine.Consent.Bookings[0].ConsentVersion != "test-1" {
			t.Errorf("the download: %+v", mine)
		}
		var mk, ak map[string]json.RawMessage
		json.Unmarshal([]byte(dl.Body), &mk)
		json.Unmarshal([]byte(adm.Body), &ak)
		if len(mk) != len(ak) || string(mk["lead"]) != string(ak["lead"]) || string(mk["bookings"]) != string(ak["bookings"]) {
			t.Errorf("the download is not the admin export's document:\n%s\n%s", dl.Body, adm.Body)
		}
		if !hasEvent(s.events(id), "exported by data_subject") {
			t.Errorf("no exported event by data_subject: %v", s.events(id))
		}

		// a correction that fails validation: the page again, errors beside the fields, nothing stored
		cur, _ := s.Store.GetLead(t.Context(), id)
		bad := url.Values{"first_name": {"   "}, "last_name": {"Nordmann"}, "phone": {"+47 22 33 44 55"}, "role_title": {`<img src=x onerror=alert(1)>`},
			"organization_name": {"New Org"}, "organization_type": {""}, "organization_size": {"10-49"}}
		r := s.do(c, http.MethodPost, link+"/details", bad)
		if r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("invalid correction: %d", r.StatusCode)
		}
		for _, want := range []string{`id="first_name-error"`, `id="role_title-error"`, `aria-invalid="true"`, "New Org",
			"&lt;img src=x onerror=alert(1)&gt;", tx(i18n.EN, "my.not_saved"), `href="#first_name"`} {
			if !strings.Contains(r.Body, want) {
				t.Errorf("the refused correction lacks %q", want)
			}
		}
		if strings.Contains(r.Body, "<img src=x") {
			t.Error("typed markup is echoed unescaped")
		}
		if after, _ := s.Store.GetLead(t.Context(), id); !after.UpdatedAt.Equal(cur.UpdatedAt) || after.OrganizationName != cur.OrganizationName {
			t.Errorf("a refused correction stored something: %+v", after)
		}

		// a valid correction
		good := url.Values{"first_name": {"Kari Anne"}, "last_name": {"Nordmann"}, "phone": {"+47 22 33 44 55"}, "role_title": {"Daglig leder"},
			"organization_name": {"New Org"}, "organization_type": {""}, "organization_size": {"10-49"}}
		r = s.do(c, http.MethodPost, link+"/details?lang=en", good)
		if r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "done=corrected") {
			t.Fatalf("correction: %d %s", r.StatusCode, r.Header.Get("Location"))
		}
		l, _ := s.Store.GetLead(t.Context(), id)
		if l.FirstName != "Kari Anne" || l.OrganizationName != "New Org" || l.RoleTitle == nil || *l.RoleTitle != "Daglig leder" ||
			l.OrganizationSize == nil || *l.OrganizationSize != "10-49" || l.Phone == nil {
			t.Errorf("corrected lead %+v", l)
		}
		if !hasEvent(s.events(id), "updated by data_subject") {
			t.Errorf("no updated event by data_subject: %v", s.events(id))
		}
		if p := s.get(c, r.Header.Get("Location")); !strings.Contains(p.Body, tx(i18n.EN, "my.corrected")) || !strings.Contains(p.Body, "Kari Anne") {
			t.Errorf("the page after the correction")
		}
		// a post with one field corrects that one only
		r = s.do(c, http.MethodPost, link+"/details", url.Values{"last_name": {"Nordmann-Berg"}})
		if l, _ := s.Store.GetLead(t.Context(), id); r.StatusCode != http.StatusSeeOther || l.LastName != "Nordmann-Berg" || l.FirstName != "Kari Anne" || l.Phone == nil {
			t.Errorf("a one-field correction: %d %+v", r.StatusCode, l)
		}
		good.Set("last_name", "Nordmann-Berg")
		r = s.do(c, http.MethodPost, link+"/details", good)
		if !strings.Contains(r.Header.Get("Location"), "done=unchanged") {
			t.Errorf("the same correction again: %s", r.Header.Get("Location"))
		}

		// erase: a confirmation step, then anonymization by data_subject, then 410
		conf := s.get(c, link+"/erase")
		if conf.StatusCode != http.StatusOK || !strings.Contains(conf.Body, tx(i18n.EN, "my.erase_confirm")) {
			t.Fatalf("confirmation: %d", conf.StatusCode)
		}
		if l, _ := s.Store.GetLead(t.Context(), id); l.AnonymizedAt != nil {
			t.Fatal("the confirmation page erased already")
		}
		r = s.do(c, http.MethodPost, link+"/erase", nil, "Origin", s.URL)
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("erase: %d", r.StatusCode)
		}
		if l, _ := s.Store.GetLead(t.Context(), id); l.AnonymizedAt == nil || l.FirstName != store.ErasedName {
			t.Errorf("not erased: %+v", l)
		}
		if !hasEvent(s.events(id), "anonymized by data_subject") {
			t.Errorf("no anonymized event by data_subject: %v", s.events(id))
		}
		gone := s.get(c, r.Header.Get("Location"))
		if gone.StatusCode != http.StatusGone || !strings.Contains(gone.Body, tx(i18n.EN, "my.gone")) || strings.Contains(gone.Body, "Kari") {
			t.Errorf("after erasure: %d", gone.StatusCode)
		}
		for _, action := range []string{"/export", "/details", "/erase"} {
			if r := s.do(c, http.MethodPost, link+action, good); r.StatusCode != http.StatusGone {
				t.Errorf("POST %s after erasure: %d", action, r.StatusCode)
			}
		}
		if nb := s.get(c, link+"?lang=nb"); nb.StatusCode != http.StatusGone || !strings.Contains(nb.Body, tx(i18n.NB, "my.gone")) {
			t.Errorf("the 410 page in Norwegian: %d", nb.StatusCode)
		}
	})
}

// POST /my answers the same for every address, emails only live leads (3 a day), and
// counts every request against the client's rate limit.
func TestSelfServiceLinkRequest(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		s := newSite(t, e.URL(t), siteOpts{rateLimit: 6})
		c := s.client()
		id := s.seed(person("Kari", "Nordmann", "kari@ask.example", "Org"))
		gone := s.seed(person("Gone", "Person", "gone@ask.example", "Org"))
		if _, err := s.Store.AnonymizeLead(t.Context(), gone, lead.Actor{Name: "admin"}); err != nil {
			t.Fatal(err)
		}
		if p := s.get(c, "/my"); p.StatusCode != http.StatusOK || !strings.Contains(p.Body, `name="email"`) || p.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("GET /my: %d", p.StatusCode)
		}
		ask := func(email, ip string) response {
			return s.do(c, http.MethodPost, "/my", url.Values{"email": {email}}, "X-Forwarded-For", ip)
		}
		var answers []string
		for _, addr := range []string{"kari@ask.example", "nobody@ask.example", "gone@ask.example"} {
			r := ask(addr, "198.51.100.1")
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s: %d", addr, r.StatusCode)
			}
			answers = append(answers, r.Header.Get("Location")+r.Body)
		}
		if answers[0] != answers[1] || answers[1] != answers[2] {
			t.Errorf("the answers differ: %q", answers)
		}
		sent := s.get(c, strings.Split(answers[0], "\n")[0])
		if !strings.Contains(sent.Body, tx(i18n.NB, "my.sent")) {
			t.Errorf("the answer page: %s", sent.Body)
		}
		links := func() int {
			return s.count(`SELECT COUNT(*) FROM email_jobs WHERE kind = 'personal_link' AND lead_id = $1`, id)
		}
		if links() != 1 || s.count(`SELECT COUNT(*) FROM email_jobs WHERE kind = 'personal_link'`) != 1 {
			t.Fatalf("link emails: %d for the lead", links())
		}
		for range 3 {
			ask("KARI@ask.example", "198.51.100.2")
		}
		if links() != 3 {
			t.Errorf("%d link emails to one address in a day, want 3", links())
		}

		// a bad address: the form again, with the error beside the field
		r := ask("not an address", "198.51.100.3")
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `aria-invalid="true"`) ||
			!strings.Contains(r.Body, tx(i18n.NB, "my.email_invalid")) || !strings.Contains(r.Body, `value="not an address"`) {
			t.Errorf("bad address: %d", r.StatusCode)
		}

		// the per-IP limit (6 an hour here): 198.51.100.2 made 3; 3 more pass, the next is 429
		for i := range 3 {
			if r := ask("x"+string(rune('a'+i))+"@ask.example", "198.51.100.2"); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("request %d: %d", i, r.StatusCode)
			}
		}
		r = ask("kari@ask.example", "198.51.100.2")
		if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || !strings.Contains(r.Body, `value="kari@ask.example"`) {
			t.Errorf("over the limit: %d %q", r.StatusCode, r.Header.Get("Retry-After"))
		}
	})
}
