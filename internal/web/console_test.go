package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// The console without JavaScript, over plain HTTP: sessions, CSRF defences, roles and
// every form. Browser behaviour is in browser_test.go.
func TestConsole(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		forEachLang(t, func(t *testing.T, l i18n.Lang) { testConsole(t, e, l) })
	})
}

func testConsole(t *testing.T, e storetest.Engine, lang i18n.Lang) {
	{
		s := newSite(t, e.URL(t), siteOpts{lang: lang})
		ada := s.seed(person("Ada", "Lovelace", "ada@example.org", "Analytical Mentors"))
		status := func(id string) lead.Status {
			t.Helper()
			l, err := s.Store.GetLead(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			return l.Status
		}

		t.Run("signed out, pages send you to sign in", func(t *testing.T) {
			c := s.client()
			for _, path := range []string{"/console", "/console/leads", "/console/leads/" + ada, "/console/stats"} {
				if p := s.get(c, path); p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/console/sign-in" {
					t.Errorf("%s: %d %q", path, p.StatusCode, p.Header.Get("Location"))
				}
			}
			p := s.do(c, http.MethodPost, "/console/leads/"+ada+"/status", url.Values{"status": {"contacted"}})
			if p.StatusCode != http.StatusUnauthorized || status(ada) != lead.StatusNew {
				t.Fatalf("post without session: %d", p.StatusCode)
			}
		})

		t.Run("sign in with a bad token", func(t *testing.T) {
			c := s.client()
			for _, tok := range []string{"", "lds_wrong", s.Sales + "x"} {
				p := s.do(c, http.MethodPost, "/console/sign-in", url.Values{"token": {tok}})
				if p.StatusCode != http.StatusUnauthorized || p.Header.Get("Set-Cookie") != "" {
					t.Fatalf("%q: %d", tok, p.StatusCode)
				}
				if tag := inputTag(t, p.Body, "token"); !strings.Contains(tag, `aria-invalid="true"`) || !strings.Contains(describedBy(tag), "token-error") {
					t.Fatalf("error not beside the field: %s", tag)
				}
			}
		})

		t.Run("the session cookie", func(t *testing.T) {
			c := s.client()
			p := s.do(c, http.MethodPost, "/console/sign-in", url.Values{"token": {" " + s.Sales + " "}})
			cookies := p.Cookies()
			if p.StatusCode != http.StatusSeeOther || len(cookies) != 1 {
				t.Fatalf("%d %v", p.StatusCode, cookies)
			}
			ck := cookies[0]
			if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/console" || ck.Secure {
				t.Fatalf("cookie %+v (plain HTTP: not Secure)", ck)
			}
			if strings.Contains(ck.Value, s.Sales) || !strings.HasPrefix(ck.Value, "lcs_") {
				t.Fatal("the cookie carries the API token")
			}
			if n := s.count(`SELECT COUNT(*) FROM console_sessions WHERE session_hash = $1`, store.HashToken(ck.Value)); n != 1 {
				t.Fatal("session not stored by its hash")
			}
			if p := s.get(c, "/console/sign-in"); p.StatusCode != http.StatusSeeOther {
				t.Fatal("the sign-in page does not move a signed-in user on")
			}
			// signing in again, as anyone, ends the session the browser had
			s.do(c, http.MethodPost, "/console/sign-in", url.Values{"token": {s.Admin}})
			if _, err := s.Store.SessionFor(t.Context(), ck.Value); lead.ErrorCode(err) != lead.CodeUnauthorized {
				t.Fatalf("the previous session is still live: %v", err)
			}
		})

		sales := s.signIn(s.Sales)
		csrf := s.csrf(sales)

		t.Run("list, search, filters and paging", func(t *testing.T) {
			for i := range 26 {
				s.seed(person("Bulk", "Person", "bulk"+string(rune('a'+i))+"@example.org", "Bulk Org"))
			}
			p := s.get(sales, "/console/leads")
			if p.StatusCode != 200 || strings.Count(p.Body, `<tr>`) != 26 { // header + 25
				t.Fatalf("first page: %d rows", strings.Count(p.Body, `<tr>`)-1)
			}
			next := regexpFind(p.Body, `href="(/console/leads\?cursor=[^"]+)" rel="next"`)
			if next == "" {
				t.Fatal("no next page link")
			}
			p2 := s.get(sales, strings.ReplaceAll(next, "&amp;", "&"))
			if p2.StatusCode != 200 || strings.Count(p2.Body, `<tr>`) != 3 || !strings.Contains(p2.Body, tx(lang, "leads.first_page")) {
				t.Fatalf("second page: %d rows", strings.Count(p2.Body, `<tr>`)-1)
			}
			p = s.get(sales, "/console/leads?q=LOVELACE")
			if !strings.Contains(p.Body, "/console/leads/"+ada) || strings.Contains(p.Body, "Bulk") {
				t.Fatal("search did not find exactly Ada")
			}
			p = s.get(sales, "/console/leads?status=won")
			if !strings.Contains(p.Body, tx(lang, "leads.no_match")) {
				t.Fatal("status filter")
			}
			p = s.get(sales, "/console/leads?source=demo_booking&q=nobody-here")
			if !strings.Contains(p.Body, tx(lang, "leads.no_match")) {
				t.Fatal("source filter with search")
			}
			if p = s.get(sales, "/console/leads?status=nope"); p.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(p.Body, map[i18n.Lang]string{i18n.EN: "unknown status", i18n.NB: "Statusen må være en av disse"}[lang]) {
				t.Fatalf("bad filter: %d", p.StatusCode)
			}
		})

		t.Run("the lead page offers only allowed moves", func(t *testing.T) {
			p := s.get(sales, "/console/leads/"+ada)
			if got := statusButtons(p.Body); strings.Join(got, ",") != "contacted,lost,disqualified" {
				t.Fatalf("buttons %v", got)
			}
		})

		t.Run("move one status forward", func(t *testing.T) {
			p := s.do(sales, http.MethodPost, "/console/leads/"+ada+"/status", url.Values{"status": {"contacted"}, "csrf": {csrf}})
			if p.StatusCode != http.StatusSeeOther || status(ada) != lead.StatusContacted {
				t.Fatalf("%d, status %s", p.StatusCode, status(ada))
			}
			events, _ := s.Store.ListEvents(t.Context(), ada)
			last := events[len(events)-1]
			if last.Type != lead.EventStatusChanged || last.Actor != "sally-sales" {
				t.Fatalf("event %+v", last)
			}
			page := s.get(sales, p.Header.Get("Location"))
			if !strings.Contains(page.Body, tx(lang, "lead.flash_status", tx(lang, "status.contacted"))) || strings.Join(statusButtons(page.Body), ",") != "qualified,lost,disqualified" {
				t.Fatalf("after the move: %v", statusButtons(page.Body))
			}
		})

		t.Run("a move the rules forbid is refused", func(t *testing.T) {
			p := s.do(sales, http.MethodPost, "/console/leads/"+ada+"/status", url.Values{"status": {"won"}, "csrf": {csrf}})
			if p.StatusCode != http.StatusUnprocessableEntity || status(ada) != lead.StatusContacted ||
				!strings.Contains(p.Body, map[i18n.Lang]string{i18n.EN: "can only be moved to", i18n.NB: tx(lang, "rule.status_transition_enforcement")}[lang]) {
				t.Fatalf("%d, status %s", p.StatusCode, status(ada))
			}
		})

		t.Run("append a note", func(t *testing.T) {
			p := s.do(sales, http.MethodPost, "/console/leads/"+ada+"/notes", url.Values{"text": {"Called; wants a demo in May. R&D <50 people"}, "csrf": {csrf}})
			if p.StatusCode != http.StatusSeeOther {
				t.Fatalf("%d", p.StatusCode)
			}
			page := s.get(sales, "/console/leads/"+ada)
			if !strings.Contains(page.Body, "sally-sales: Called; wants a demo in May. R&amp;D &lt;50 people") || !strings.Contains(page.Body, tx(lang, "event.note_added")) {
				t.Fatal("note or its history entry missing")
			}
			// a refused note comes back beside the field, with the text kept
			p = s.do(sales, http.MethodPost, "/console/leads/"+ada+"/notes", url.Values{"text": {"<script>x</script>"}, "csrf": {csrf}})
			if p.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(inputTag(t, p.Body, "text"), `aria-invalid="true"`) ||
				!strings.Contains(p.Body, "&lt;script&gt;x&lt;/script&gt;</textarea>") {
				t.Fatalf("refused note: %d", p.StatusCode)
			}
		})

		t.Run("forms need the session's CSRF token", func(t *testing.T) {
			for _, tok := range []string{"", "forged", csrf + "x"} {
				p := s.do(sales, http.MethodPost, "/console/leads/"+ada+"/status", url.Values{"status": {"lost"}, "csrf": {tok}})
				if p.StatusCode != http.StatusForbidden || status(ada) != lead.StatusContacted {
					t.Fatalf("token %q: %d, status %s", tok, p.StatusCode, status(ada))
				}
			}
			// another session's token does not fit this one
			other := s.signIn(s.Sales)
			if s.csrf(other) == csrf {
				t.Fatal("two sessions share a CSRF token")
			}
		})

		t.Run("cross-site posts are refused even with cookie and token", func(t *testing.T) {
			before := s.count(`SELECT COUNT(*) FROM lead_events WHERE lead_id = $1`, ada)
			for _, tc := range []struct {
				path string
				form url.Values
			}{
				{"/console/leads/" + ada + "/status", url.Values{"status": {"lost"}}},
				{"/console/leads/" + ada + "/notes", url.Values{"text": {"forged"}}},
				{"/console/sign-out", url.Values{}},
			} {
				tc.form.Set("csrf", csrf)
				for _, hdr := range [][]string{
					{"Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"},
					{"Origin", "http://evil.example"}, // an older browser: no Sec-Fetch-Site
					{"Sec-Fetch-Site", "same-site"},   // a sibling subdomain is another origin
				} {
					p := s.do(sales, http.MethodPost, tc.path, tc.form, hdr...)
					if p.StatusCode != http.StatusForbidden {
						t.Fatalf("%s %v: %d", tc.path, hdr, p.StatusCode)
					}
				}
			}
			if after := s.count(`SELECT COUNT(*) FROM lead_events WHERE lead_id = $1`, ada); after != before || status(ada) != lead.StatusContacted {
				t.Fatal("a cross-site post changed the lead")
			}
			if p := s.get(sales, "/console/leads"); p.StatusCode != 200 {
				t.Fatal("a cross-site sign-out ended the session")
			}
		})

		t.Run("anonymize is for admins, after a confirmation", func(t *testing.T) {
			bob := s.seed(person("Bob", "Erasable", "bob@example.org", "Erase Org"))
			if p := s.get(sales, "/console/leads/"+bob); strings.Contains(p.Body, "/anonymize") {
				t.Fatal("sales sees the anonymize link")
			}
			if p := s.get(sales, "/console/leads/"+bob+"/anonymize"); p.StatusCode != http.StatusForbidden {
				t.Fatalf("sales GET: %d", p.StatusCode)
			}
			if p := s.do(sales, http.MethodPost, "/console/leads/"+bob+"/anonymize", url.Values{"csrf": {csrf}}); p.StatusCode != http.StatusForbidden {
				t.Fatalf("sales POST: %d", p.StatusCode)
			}
			admin := s.signIn(s.Admin)
			confirm := s.get(admin, "/console/leads/"+bob+"/anonymize")
			if confirm.StatusCode != 200 || !strings.Contains(confirm.Body, tx(lang, "anon.undo")) {
				t.Fatalf("confirmation: %d", confirm.StatusCode)
			}
			if l, _ := s.Store.GetLead(t.Context(), bob); l.AnonymizedAt != nil {
				t.Fatal("the confirmation page anonymized already")
			}
			p := s.do(admin, http.MethodPost, "/console/leads/"+bob+"/anonymize", url.Values{"csrf": {regexpFind(confirm.Body, `name="csrf" value="([^"]+)"`)}})
			if p.StatusCode != http.StatusSeeOther {
				t.Fatalf("anonymize: %d", p.StatusCode)
			}
			l, _ := s.Store.GetLead(t.Context(), bob)
			if l.AnonymizedAt == nil || l.FirstName != "[erased]" {
				t.Fatalf("lead %+v", l)
			}
			page := s.get(admin, p.Header.Get("Location"))
			if strings.Contains(page.Body, "bob@example.org") || len(statusButtons(page.Body)) != 0 || strings.Contains(page.Body, `name="text"`) {
				t.Fatal("an anonymized lead still shows data or offers changes")
			}
		})

		t.Run("statistics", func(t *testing.T) {
			in := person("Camp", "Aign", "campaign@example.org", "Campaign Org")
			in.UTMCampaign = `autumn "launch" & R&D`
			s.seed(in)
			p := s.get(sales, "/console/stats")
			if p.StatusCode != 200 || !strings.Contains(p.Body, `<svg class="funnel"`) || !strings.Contains(p.Body, "autumn &#34;launch&#34; &amp; R&amp;D") {
				t.Fatalf("stats: %d", p.StatusCode)
			}
			if p := s.get(sales, "/console/stats?created_from=yesterday"); p.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("bad range: %d", p.StatusCode)
			}
		})

		t.Run("sign out revokes the session", func(t *testing.T) {
			c := s.signIn(s.Sales)
			u, _ := url.Parse(s.URL + "/console/")
			stolen := c.Jar.Cookies(u)[0].Value
			p := s.do(c, http.MethodPost, "/console/sign-out", url.Values{"csrf": {s.csrf(c)}})
			if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/console/sign-in?signed_out=1" {
				t.Fatalf("%d %s", p.StatusCode, p.Header.Get("Location"))
			}
			// the old cookie value, replayed, is dead: it was revoked, not just forgotten
			replay := s.client()
			replay.Jar.SetCookies(u, []*http.Cookie{{Name: "leads_console", Value: stolen, Path: "/console"}})
			if p := s.get(replay, "/console/leads"); p.StatusCode != http.StatusSeeOther {
				t.Fatalf("revoked session still works: %d", p.StatusCode)
			}
		})

		t.Run("revoking the token ends its sessions", func(t *testing.T) {
			if err := s.Store.RevokeToken(t.Context(), "sally-sales"); err != nil {
				t.Fatal(err)
			}
			if p := s.get(sales, "/console/leads"); p.StatusCode != http.StatusSeeOther {
				t.Fatalf("session of a revoked token: %d", p.StatusCode)
			}
		})
	}
}

func TestSessionCookieSecureOverTLS(t *testing.T) {
	s := newSite(t, storetest.SQLiteURL(t), siteOpts{tls: true})
	c := s.client()
	c.Transport = &http.Transport{TLSClientConfig: insecureTLS()}
	p := s.do(c, http.MethodPost, "/console/sign-in", url.Values{"token": {s.Admin}})
	if p.StatusCode != http.StatusSeeOther || len(p.Cookies()) != 1 || !p.Cookies()[0].Secure {
		t.Fatalf("%d %v", p.StatusCode, p.Cookies())
	}
}

// statusButtons lists the values of the status buttons of a lead page, in page order.
func statusButtons(body string) []string {
	var out []string
	for _, m := range regexpAll(body, `<button type="submit" name="status" value="([a-z_]+)"`) {
		out = append(out, m)
	}
	return out
}
