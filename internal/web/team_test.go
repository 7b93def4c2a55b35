package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/store/storetest"
)

func TestTeamPage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		forEachLang(t, func(t *testing.T, l i18n.Lang) { testTeamPage(t, e, l) })
	})
}

func testTeamPage(t *testing.T, e storetest.Engine, lang i18n.Lang) {
	s := newSite(t, e.URL(t), siteOpts{lang: lang})
	admin := s.signIn(s.Admin)
	csrf := s.csrf(admin)
	members := func() int { return s.count(`SELECT COUNT(*) FROM staff`) }

	t.Run("admins only", func(t *testing.T) {
		sales := s.signIn(s.Sales)
		if p := s.get(sales, "/console/team"); p.StatusCode != http.StatusForbidden {
			t.Fatalf("sales: %d", p.StatusCode)
		}
		if p := s.get(sales, "/console/leads"); strings.Contains(p.Body, `href="/console/team"`) {
			t.Fatal("the navigation shows sales the Team page")
		}
		p := s.get(admin, "/console/team")
		if p.StatusCode != 200 || !strings.Contains(p.Body, tx(lang, "team.empty")) || !strings.Contains(p.Body, `href="/console/team" aria-current="page"`) {
			t.Fatalf("admin: %d\n%s", p.StatusCode, p.Body)
		}
	})

	t.Run("add: CSRF, errors beside the fields, conflicts, escaped output", func(t *testing.T) {
		form := url.Values{"name": {`Kari <b>&</b>`}, "email": {"kari@norse.example"}, "role": {"sales"}, "weight": {"2"}, "language": {"en"}}
		if p := s.do(admin, http.MethodPost, "/console/team", form); p.StatusCode != http.StatusForbidden || members() != 0 {
			t.Fatalf("without CSRF: %d", p.StatusCode)
		}
		bad := url.Values{"csrf": {csrf}, "name": {" "}, "email": {"not-an-address"}, "role": {"boss"}, "weight": {"11"}, "language": {"de"}}
		p := s.do(admin, http.MethodPost, "/console/team", bad)
		if p.StatusCode != http.StatusUnprocessableEntity || members() != 0 {
			t.Fatalf("bad input: %d, %d members", p.StatusCode, members())
		}
		for _, key := range []string{"team.name_invalid", "signin.email_invalid", "team.role_invalid", "team.weight_invalid", "team.language_invalid"} {
			if !strings.Contains(p.Body, tx(lang, key)) {
				t.Errorf("no %s on the page", key)
			}
		}
		if n := strings.Count(p.Body, `aria-invalid="true"`); n != 5 {
			t.Errorf("%d fields marked invalid, want 5", n)
		}
		if !strings.Contains(p.Body, `id="weight-error"`) || !strings.Contains(p.Body, `aria-describedby="weight-hint weight-error"`) || !strings.Contains(p.Body, `value="not-an-address"`) {
			t.Errorf("errors not tied to their fields, or input lost:\n%s", p.Body)
		}

		form.Set("csrf", csrf)
		p = s.do(admin, http.MethodPost, "/console/team", form)
		if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/console/team?done=added" {
			t.Fatalf("add: %d %s\n%s", p.StatusCode, p.Header.Get("Location"), p.Body)
		}
		list := s.get(admin, "/console/team?done=added")
		if !strings.Contains(list.Body, "Kari &lt;b&gt;&amp;&lt;/b&gt;") || strings.Contains(list.Body, "<b>&</b>") || !strings.Contains(list.Body, tx(lang, "team.added")) {
			t.Fatalf("list:\n%s", list.Body)
		}
		form.Set("email", " KARI@norse.example")
		p = s.do(admin, http.MethodPost, "/console/team", form)
		if p.StatusCode != http.StatusConflict || !strings.Contains(p.Body, tx(lang, "team.email_taken")) || members() != 1 {
			t.Fatalf("taken email: %d", p.StatusCode)
		}
	})

	m, err := s.Store.MemberByEmail(t.Context(), "kari@norse.example")
	if err != nil {
		t.Fatal(err)
	}
	page := "/console/team/" + m.ID

	t.Run("change role, weight, language and away-until", func(t *testing.T) {
		p := s.do(admin, http.MethodPost, page, url.Values{"csrf": {csrf}, "role": {"admin"}, "weight": {"4"}, "language": {"nb"}, "away_until": {"2027-01-15"}})
		if p.StatusCode != http.StatusSeeOther {
			t.Fatalf("save: %d\n%s", p.StatusCode, p.Body)
		}
		got, _ := s.Store.GetMember(t.Context(), m.ID)
		oslo, _ := time.LoadLocation("Europe/Oslo")
		if got.Role != "admin" || got.Weight != 4 || got.Language != "nb" || got.AwayUntil == nil || !got.AwayUntil.Equal(time.Date(2027, 1, 15, 0, 0, 0, 0, oslo)) {
			t.Fatalf("saved: %+v", got)
		}
		if p := s.get(admin, page+"?done=saved"); !strings.Contains(p.Body, `value="2027-01-15"`) || !strings.Contains(p.Body, tx(lang, "team.saved")) {
			t.Fatalf("member page:\n%s", p.Body)
		}
		p = s.do(admin, http.MethodPost, page, url.Values{"csrf": {csrf}, "role": {"admin"}, "weight": {"x"}, "language": {"nb"}, "away_until": {"soon"}})
		if p.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(p.Body, tx(lang, "team.weight_invalid")) || !strings.Contains(p.Body, tx(lang, "team.away_invalid")) {
			t.Fatalf("bad change: %d", p.StatusCode)
		}
		if got, _ := s.Store.GetMember(t.Context(), m.ID); got.Weight != 4 {
			t.Fatal("a refused change was stored")
		}
		s.do(admin, http.MethodPost, page, url.Values{"csrf": {csrf}, "role": {"sales"}, "weight": {"4"}, "language": {"en"}, "away_until": {""}})
		if got, _ := s.Store.GetMember(t.Context(), m.ID); got.AwayUntil != nil || got.Role != "sales" {
			t.Fatalf("cleared: %+v", got)
		}
	})

	t.Run("deactivate ends the member's sessions; reactivate", func(t *testing.T) {
		tok, _, err := s.Store.CreateMemberToken(t.Context(), "kari@norse.example")
		if err != nil {
			t.Fatal(err)
		}
		kari := s.signIn(tok)
		if p := s.do(admin, http.MethodPost, page+"/active", url.Values{"csrf": {csrf}, "active": {"false"}}); p.StatusCode != http.StatusSeeOther {
			t.Fatalf("deactivate: %d", p.StatusCode)
		}
		if got, _ := s.Store.GetMember(t.Context(), m.ID); got.Active {
			t.Fatal("still active")
		}
		if p := s.get(kari, "/console/leads"); p.StatusCode != http.StatusSeeOther {
			t.Fatalf("a deactivated member's session still works: %d", p.StatusCode)
		}
		if p := s.get(admin, page+"?done=deactivated"); !strings.Contains(p.Body, tx(lang, "team.reactivate", "Kari &lt;b&gt;&amp;&lt;/b&gt;")) {
			t.Fatalf("no reactivate button:\n%s", p.Body)
		}
		s.do(admin, http.MethodPost, page+"/active", url.Values{"csrf": {csrf}, "active": {"true"}})
		if got, _ := s.Store.GetMember(t.Context(), m.ID); !got.Active {
			t.Fatal("not reactivated")
		}
		if p := s.do(admin, http.MethodPost, page+"/active", url.Values{"csrf": {csrf}, "active": {"maybe"}}); p.StatusCode != http.StatusBadRequest {
			t.Fatalf("active=maybe: %d", p.StatusCode)
		}
	})

	t.Run("unknown member", func(t *testing.T) {
		for _, path := range []string{"/console/team/0190e0c0-0000-7000-8000-000000000000", "/console/team/nope"} {
			if p := s.get(admin, path); p.StatusCode != http.StatusNotFound {
				t.Fatalf("%s: %d", path, p.StatusCode)
			}
		}
	})
}
