package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// The console's owner forms over plain HTTP, on both engines: a member lands on My leads,
// takes a lead (CSRF required), assigns it to a colleague, and a stale form naming a
// member who left is refused with the rule's message and changes nothing.
func TestConsoleOwners(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		s := newSite(t, e.URL(t), siteOpts{})
		id := s.seed(person("Ada", "Lovelace", "ada@example.org", "Analytical Mentors")) // no team yet: no owner
		me, token := s.salesMember("Mia", "mia@norse.example")
		ola, _ := s.salesMember("Ola", "ola@norse.example")
		owner := func() string {
			l, err := s.Store.GetLead(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if l.OwnerID == nil {
				return ""
			}
			return *l.OwnerID
		}
		c := s.client()
		p := s.do(c, http.MethodPost, "/console/sign-in", url.Values{"token": {token}})
		if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/console/leads?owner_id=me" {
			t.Fatalf("a member's sign-in lands on %d %q, want My leads", p.StatusCode, p.Header.Get("Location"))
		}
		if p := s.get(c, "/console"); p.Header.Get("Location") != "/console/leads?owner_id=me" {
			t.Fatalf("/console sends a member to %q", p.Header.Get("Location"))
		}
		if p := s.get(c, "/console/leads?owner_id=me"); p.StatusCode != 200 || !strings.Contains(p.Body, "My leads") && !strings.Contains(p.Body, "Mine leads") {
			t.Fatalf("My leads: %d", p.StatusCode)
		}
		csrf := regexpFind(s.get(c, "/console/leads/"+id).Body, `name="csrf" value="([^"]+)"`)
		path := "/console/leads/" + id + "/owner"
		if p := s.do(c, http.MethodPost, path, url.Values{"owner_id": {"me"}}); p.StatusCode != http.StatusForbidden || owner() != "" {
			t.Fatalf("without CSRF: %d, owner %q", p.StatusCode, owner())
		}
		if p := s.do(c, http.MethodPost, path, url.Values{"owner_id": {"me"}, "csrf": {csrf}}); p.StatusCode != http.StatusSeeOther || owner() != me {
			t.Fatalf("take it: %d, owner %q", p.StatusCode, owner())
		}
		if p := s.do(c, http.MethodPost, path, url.Values{"owner_id": {ola}, "csrf": {csrf}}); p.StatusCode != http.StatusSeeOther || owner() != ola {
			t.Fatalf("assign to: %d, owner %q", p.StatusCode, owner())
		}
		if _, err := s.Store.UpdateMember(t.Context(), ola, lead.MemberInput{Active: new(false)}, lead.Actor{Name: "admin"}); err != nil {
			t.Fatal(err)
		}
		before := owner() // the lead went on from ola by the rule
		p = s.do(c, http.MethodPost, path, url.Values{"owner_id": {ola}, "csrf": {csrf}})
		if p.StatusCode != http.StatusUnprocessableEntity || owner() != before || before == ola {
			t.Fatalf("a member who left: %d, owner %q (before %q)", p.StatusCode, owner(), before)
		}
		if !strings.Contains(p.Body, "aktivt medlem") {
			t.Fatalf("the refusal does not say why:\n%s", p.Body)
		}
		// the history names the owners and why they got the lead
		history := regexpFind(s.get(c, "/console/leads/"+id).Body, `(?s)<ol class="history" id="history">(.*?)</ol>`)
		for _, want := range []string{"Eier: Mia (valgt av en person)", "Eier: Ola (valgt av en person)", "(forrige eier sluttet)"} {
			if !strings.Contains(history, want) {
				t.Errorf("history lacks %q:\n%s", want, history)
			}
		}
		// the list's owner filter and column
		list := s.get(c, "/console/leads?owner_id=none")
		if list.StatusCode != 200 || strings.Contains(list.Body, "/console/leads/"+id+`"`) {
			t.Fatalf("unassigned filter shows an owned lead: %d", list.StatusCode)
		}
		if list := s.get(c, "/console/leads?owner_id=bogus"); list.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("a bad owner filter: %d", list.StatusCode)
		}
	})
}
