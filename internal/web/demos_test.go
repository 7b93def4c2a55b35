package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
)

// The console's demo forms refuse what the store refuses, on the lead page or the demos to
// close, with the rule's words in the page's language (nb by default) and nothing changed.
func TestConsoleDemoRefusals(t *testing.T) {
	d := newDemoSite(t)
	a := d.seed(person("Anne", "First", "anne@example.org", "First Mentors"))
	b := d.seed(person("Bjørn", "Second", "bjorn@example.org", "Second Mentors"))
	d.qualify(t, a)
	d.qualify(t, b)
	slots, err := d.Store.OfferedSlots(t.Context(), *d.demos)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Store.ScheduleDemo(t.Context(), a, store.DemoSchedule{StartsAt: slots[0], HostID: d.host.ID}, *d.demos, lead.Actor{Name: "t"}); err != nil {
		t.Fatal(err)
	}
	c := d.signIn(d.Sales)
	csrf := d.csrf(c)
	at := slots[0].Format(time.RFC3339)

	// the host is busy: 409 on the lead page, b keeps its status
	p := d.do(c, http.MethodPost, "/console/leads/"+b+"/demo", url.Values{"csrf": {csrf}, "starts_at": {at}, "host_id": {d.host.ID}})
	if p.StatusCode != http.StatusConflict || !strings.Contains(p.Body, tx(i18n.NB, "rule.demo_slot_taken")) {
		t.Fatalf("busy host: %d\n%s", p.StatusCode, p.Body)
	}
	if l, _ := d.Store.GetLead(t.Context(), b); l.Status != lead.StatusQualified {
		t.Fatalf("status %s after a refusal", l.Status)
	}
	// a time that is not a time
	p = d.do(c, http.MethodPost, "/console/leads/"+b+"/demo", url.Values{"csrf": {csrf}, "starts_at": {"soon"}, "host_id": {d.host.ID}})
	if p.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(p.Body, tx(i18n.NB, "rule.demo_time_not_available")) {
		t.Fatalf("bad time: %d", p.StatusCode)
	}
	// nothing to cancel on b
	if p = d.do(c, http.MethodPost, "/console/leads/"+b+"/demo/cancel", url.Values{"csrf": {csrf}}); p.StatusCode != http.StatusConflict {
		t.Fatalf("cancel without demo: %d", p.StatusCode)
	}
	// a's demo has not ended
	p = d.do(c, http.MethodPost, "/console/leads/"+a+"/demo/outcome", url.Values{"csrf": {csrf}, "outcome": {"completed"}})
	if p.StatusCode != http.StatusConflict || !strings.Contains(p.Body, tx(i18n.NB, "rule.demo_not_ended")) {
		t.Fatalf("outcome before the end: %d", p.StatusCode)
	}
	// without the CSRF token nothing happens
	if p = d.do(c, http.MethodPost, "/console/leads/"+a+"/demo/cancel", url.Values{}); p.StatusCode != http.StatusForbidden {
		t.Fatalf("cancel without csrf: %d", p.StatusCode)
	}
	if cur, _ := d.Store.LeadDemo(t.Context(), a); cur == nil {
		t.Fatal("the demo was cancelled without a CSRF token")
	}
	// and with it, it is cancelled
	if p = d.do(c, http.MethodPost, "/console/leads/"+a+"/demo/cancel", url.Values{"csrf": {csrf}}); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", p.StatusCode)
	}
	if cur, _ := d.Store.LeadDemo(t.Context(), a); cur != nil {
		t.Fatal("still scheduled")
	}
}
