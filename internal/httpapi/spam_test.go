package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/norsedigital/leads/internal/httpapi"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/metrics"
	"github.com/norsedigital/leads/internal/spam"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// spamHarness is the API with the spam check on (policy), a small maxnumber, and metrics.
func spamHarness(t *testing.T, e storetest.Engine, policy spam.Policy) (*harness, *metrics.Metrics) {
	var m *metrics.Metrics
	h := newHarness(t, e, func(d *httpapi.Deps) {
		m = metrics.New(d.Store, metrics.Options{})
		d.Metrics = m
		d.Intake.SpamPolicy, d.Intake.PowMaxNumber, d.Intake.Observe = policy, 500, m.ObserveBooking
	})
	return h, m
}

// solve fetches a challenge from the server and solves it like the browser's worker.
func (h *harness) solve(t *testing.T) string {
	t.Helper()
	resp, data := h.do("GET", "/api/v1/challenge", "", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("challenge: %d %s", resp.StatusCode, data)
	}
	c := decode[spam.Challenge](t, data)
	if c.Algorithm != "SHA-256" || c.MaxNumber != 500 || !strings.Contains(c.Salt, "?expires=") || len(c.Signature) != 64 {
		t.Fatalf("challenge %+v", c)
	}
	p, ok := spam.Solve(c)
	if !ok {
		t.Fatalf("unsolvable challenge %+v", c)
	}
	return p.Encode()
}

func spamCount(t *testing.T, h *harness, q string, args ...any) int {
	t.Helper()
	var n int
	if err := h.Store.DB().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestSpamHold(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h, m := spamHarness(t, e, spam.PolicyHold)
		book := func(email, altcha, ip string) string {
			t.Helper()
			b := validBooking(email)
			if altcha != "" {
				b["altcha"] = altcha
			}
			resp, data := h.do("POST", "/api/v1/bookings", "", b, "X-Forwarded-For", ip)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("booking %s: %d %s", email, resp.StatusCode, data)
			}
			return decode[struct {
				BookingID string `json:"booking_id"`
			}](t, data).BookingID
		}
		leads := func() int { return spamCount(t, h, `SELECT COUNT(*) FROM leads`) }

		t.Run("a solved challenge books", func(t *testing.T) {
			book("solved@example.org", h.solve(t), "192.0.2.1")
			if leads() != 1 || spamCount(t, h, `SELECT COUNT(*) FROM held_bookings`) != 0 {
				t.Fatal("not booked")
			}
		})
		t.Run("no solution: the usual 201, held, no lead, no email", func(t *testing.T) {
			id := book("nojs@example.org", "", "192.0.2.2")
			if leads() != 1 || spamCount(t, h, `SELECT COUNT(*) FROM email_jobs`) != 1 {
				t.Fatal("the held booking made a lead or an email")
			}
			if spamCount(t, h, `SELECT COUNT(*) FROM held_bookings WHERE id = $1 AND reason = 'pow_missing'`, id) != 1 {
				t.Fatal("not held with its reason")
			}
		})
		t.Run("a form-encoded booking is checked too", func(t *testing.T) {
			f := url.Values{"first_name": {"Form"}, "last_name": {"Post"}, "email": {"form@example.org"},
				"organization_name": {"Org"}, "consent_given": {"on"}}
			resp, data := h.do("POST", "/api/v1/bookings", "", f.Encode(), "Content-Type", "application/x-www-form-urlencoded")
			if resp.StatusCode != 201 || spamCount(t, h, `SELECT COUNT(*) FROM held_bookings WHERE email_normalized = 'form@example.org'`) != 1 {
				t.Fatalf("form booking: %d %s, not held", resp.StatusCode, data)
			}
			f.Set("altcha", h.solve(t))
			f.Set("email", "form2@example.org")
			resp, _ = h.do("POST", "/api/v1/bookings", "", f.Encode(), "Content-Type", "application/x-www-form-urlencoded")
			if resp.StatusCode != 201 || spamCount(t, h, `SELECT COUNT(*) FROM leads WHERE email_normalized = 'form2@example.org'`) != 1 {
				t.Fatal("solved form booking not booked")
			}
		})
		t.Run("a replayed solution is held", func(t *testing.T) {
			sol := h.solve(t)
			book("first@example.org", sol, "192.0.2.3")
			id := book("replay@example.org", sol, "192.0.2.4")
			if spamCount(t, h, `SELECT COUNT(*) FROM held_bookings WHERE id = $1 AND reason = 'pow_replayed'`, id) != 1 {
				t.Fatal("replay not held")
			}
			if spamCount(t, h, `SELECT COUNT(*) FROM leads WHERE email_normalized = 'replay@example.org'`) != 0 {
				t.Fatal("replay booked")
			}
		})
		t.Run("a forged solution is held", func(t *testing.T) {
			forged, _ := spam.Solve(spam.NewChallenge([]byte("not the service's key"), 100, h.Clock.Now()))
			id := book("forged@example.org", forged.Encode(), "192.0.2.5")
			if spamCount(t, h, `SELECT COUNT(*) FROM held_bookings WHERE id = $1 AND reason = 'pow_bad_signature'`, id) != 1 {
				t.Fatal("forgery not held")
			}
		})

		var held []struct {
			ID        string `json:"id"`
			Email     string `json:"email"`
			Reason    string `json:"reason"`
			FirstName string `json:"first_name"`
			IPAddress string `json:"ip_address"`
		}
		t.Run("sales list the held bookings", func(t *testing.T) {
			resp, data := h.do("GET", "/api/v1/held-bookings", h.Sales, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, data)
			}
			held = decode[struct {
				Items []struct {
					ID        string `json:"id"`
					Email     string `json:"email"`
					Reason    string `json:"reason"`
					FirstName string `json:"first_name"`
					IPAddress string `json:"ip_address"`
				} `json:"items"`
			}](t, data).Items
			if len(held) != 4 || held[0].Email != "forged@example.org" || held[0].IPAddress != "192.0.2.5" || held[0].FirstName != "Ada" {
				t.Fatalf("held %+v", held)
			}
			if resp, _ := h.do("GET", "/api/v1/held-bookings", "", nil); resp.StatusCode != 401 {
				t.Fatalf("anonymous: %d", resp.StatusCode)
			}
		})
		t.Run("release books it as if it arrived now", func(t *testing.T) {
			id := held[0].ID
			resp, data := h.do("POST", "/api/v1/held-bookings/"+id+"/release", h.Sales, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("release: %d %s", resp.StatusCode, data)
			}
			bid := decode[struct {
				BookingID string `json:"booking_id"`
			}](t, data).BookingID
			if spamCount(t, h, `SELECT COUNT(*) FROM bookings b JOIN leads l ON l.id = b.lead_id WHERE b.id = $1 AND l.email_normalized = 'forged@example.org' AND b.ip_address = '192.0.2.5'`, bid) != 1 {
				t.Fatal("the released booking is not the held one's")
			}
			if spamCount(t, h, `SELECT COUNT(*) FROM email_jobs WHERE booking_id = $1`, bid) != 1 {
				t.Fatal("no confirmation queued")
			}
			resp, data = h.do("POST", "/api/v1/held-bookings/"+id+"/release", h.Sales, nil)
			mustProblem(t, resp, data, 404)
		})
		t.Run("discard deletes it", func(t *testing.T) {
			id := held[1].ID
			if resp, data := h.do("POST", "/api/v1/held-bookings/"+id+"/discard", h.Sales, nil); resp.StatusCode != 204 {
				t.Fatalf("discard: %d %s", resp.StatusCode, data)
			}
			resp, data := h.do("POST", "/api/v1/held-bookings/"+id+"/discard", h.Sales, nil)
			mustProblem(t, resp, data, 404)
		})
		t.Run("erasure by email deletes held bookings", func(t *testing.T) {
			resp, data := h.do("POST", "/api/v1/erasure-requests", h.Admin, map[string]string{"email": "nojs@example.org"})
			if resp.StatusCode != 200 || strings.TrimSpace(string(data)) != `{"anonymized":0,"held_deleted":1}` {
				t.Fatalf("erasure: %d %s", resp.StatusCode, data)
			}
		})
		t.Run("counted", func(t *testing.T) {
			// held: nojs, form, replay, forged, and none more
			for ev, want := range map[string]float64{"held": 4, "released": 1, "discarded": 1, "blocked": 0} {
				if got := metricSpam(t, m, ev); got != want {
					t.Errorf("leads_spam_total{event=%q} = %v, want %v", ev, got, want)
				}
			}
		})
	})
}

func TestSpamRefuse(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h, _ := spamHarness(t, e, spam.PolicyRefuse)
		resp, data := h.do("POST", "/api/v1/bookings", "", validBooking("bot@example.org"))
		p := mustProblem(t, resp, data, 422)
		if p.Rule != lead.RuleSpamCheckFailed {
			t.Fatalf("problem %+v", p)
		}
		if spamCount(t, h, `SELECT COUNT(*) FROM held_bookings`)+spamCount(t, h, `SELECT COUNT(*) FROM leads`) != 0 {
			t.Fatal("something was stored")
		}
		b := validBooking("person@example.org")
		b["altcha"] = h.solve(t)
		if resp, data := h.do("POST", "/api/v1/bookings", "", b); resp.StatusCode != 201 {
			t.Fatalf("solved: %d %s", resp.StatusCode, data)
		}
	})
}

func TestBlocklistAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h, m := spamHarness(t, e, spam.PolicyOff)
		add := func(kind, value string) (*http.Response, []byte) {
			return h.do("POST", "/api/v1/blocklist", h.Admin, map[string]string{"kind": kind, "value": value})
		}
		if resp, _ := h.do("POST", "/api/v1/blocklist", h.Sales, map[string]string{"kind": "ip", "value": "192.0.2.1"}); resp.StatusCode != 403 {
			t.Fatalf("sales: %d", resp.StatusCode)
		}
		resp, data := add("ip", "203.0.113.77/24")
		if resp.StatusCode != 201 {
			t.Fatalf("add ip: %d %s", resp.StatusCode, data)
		}
		entry := decode[struct {
			ID    string `json:"id"`
			Value string `json:"value"`
		}](t, data)
		if entry.Value != "203.0.113.0/24" {
			t.Fatalf("value %q, want the masked prefix", entry.Value)
		}
		if resp, _ := add("domain", "@Spam.Example"); resp.StatusCode != 201 {
			t.Fatalf("add domain: %d", resp.StatusCode)
		}
		if resp, _ := add("email", "Blocked@Example.org"); resp.StatusCode != 201 {
			t.Fatalf("add email: %d", resp.StatusCode)
		}
		resp, data = add("email", "blocked@example.org")
		mustProblem(t, resp, data, 409)
		resp, data = add("phone", "123")
		if p := mustProblem(t, resp, data, 422); !hasIssue(p.Errors, "kind", "blocklist_kind_validation") {
			t.Fatalf("bad kind: %+v", p)
		}
		resp, data = add("ip", "not-an-ip")
		if p := mustProblem(t, resp, data, 422); !hasIssue(p.Errors, "value", "blocklist_value_validation") {
			t.Fatalf("bad ip: %+v", p)
		}

		for _, c := range []struct{ email, ip string }{
			{"someone@example.org", "203.0.113.9"}, // the network
			{"x@mail.spam.example", "192.0.2.1"},   // a subdomain of the domain
			{"BLOCKED@example.org", "192.0.2.2"},   // the address
		} {
			resp, data := h.do("POST", "/api/v1/bookings", "", validBooking(c.email), "X-Forwarded-For", c.ip)
			if resp.StatusCode != 201 || !strings.Contains(string(data), `"booking_id"`) {
				t.Fatalf("blocked booking %s: %d %s; want the usual 201", c.email, resp.StatusCode, data)
			}
		}
		if n := spamCount(t, h, `SELECT COUNT(*) FROM leads`) + spamCount(t, h, `SELECT COUNT(*) FROM held_bookings`); n != 0 {
			t.Fatalf("a blocked booking stored %d rows", n)
		}
		if resp, _ := h.do("POST", "/api/v1/bookings", "", validBooking("fine@example.org"), "X-Forwarded-For", "192.0.2.3"); resp.StatusCode != 201 ||
			spamCount(t, h, `SELECT COUNT(*) FROM leads`) != 1 {
			t.Fatal("an unblocked booking was not booked")
		}
		resp, data = h.do("GET", "/api/v1/blocklist", h.Admin, nil)
		list := decode[struct {
			Items []struct {
				ID   string `json:"id"`
				Hits int    `json:"hits"`
			} `json:"items"`
		}](t, data).Items
		if resp.StatusCode != 200 || len(list) != 3 || list[0].Hits != 1 || list[1].Hits != 1 || list[2].Hits != 1 {
			t.Fatalf("list: %d %s", resp.StatusCode, data)
		}
		if got := metricSpam(t, m, "blocked"); got != 3 {
			t.Fatalf("blocked counter %v", got)
		}
		if resp, _ := h.do("DELETE", "/api/v1/blocklist/"+entry.ID, h.Admin, nil); resp.StatusCode != 204 {
			t.Fatalf("delete: %d", resp.StatusCode)
		}
		resp, data = h.do("DELETE", "/api/v1/blocklist/"+entry.ID, h.Admin, nil)
		mustProblem(t, resp, data, 404)
	})
}

func TestDisposableAddresses(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h, _ := spamHarness(t, e, spam.PolicyOff)
		resp, data := h.do("POST", "/api/v1/bookings", "", validBooking("kari@mailinator.com"))
		if p := mustProblem(t, resp, data, 422); !hasIssue(p.Errors, "email", lead.RuleEmailDomainNotAccepted) {
			t.Fatalf("problem %+v", p)
		}
		f := url.Values{"first_name": {"Kari"}, "last_name": {"N"}, "email": {"kari@mailinator.com"}, "organization_name": {"Org"}, "consent_given": {"on"}}
		resp, data = h.do("POST", "/api/v1/bookings", "", f.Encode(), "Content-Type", "application/x-www-form-urlencoded")
		if p := mustProblem(t, resp, data, 422); !hasIssue(p.Errors, "email", lead.RuleEmailDomainNotAccepted) {
			t.Fatalf("form problem %+v", p)
		}
		for i, d := range []string{"gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com", "proton.me"} {
			b := validBooking("kari@" + d)
			if resp, data := h.do("POST", "/api/v1/bookings", "", b, "X-Forwarded-For", "192.0.2."+string(rune('1'+i))); resp.StatusCode != 201 {
				t.Fatalf("free mail %s: %d %s", d, resp.StatusCode, data)
			}
		}
		// staff who type such an address in have spoken to the person: accepted
		l := validBooking("met-at-fair@mailinator.com")
		l["source"], l["consent_timestamp"] = "event", "2026-01-01T10:00:00Z"
		if resp, data := h.do("POST", "/api/v1/leads", h.Sales, l); resp.StatusCode != 201 {
			t.Fatalf("staff create: %d %s", resp.StatusCode, data)
		}
	})
}

// metricSpam reads leads_spam_total{event} from the server's registry.
func metricSpam(t *testing.T, m *metrics.Metrics, event string) float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "leads_spam_total" {
			continue
		}
		for _, c := range f.GetMetric() {
			for _, l := range c.GetLabel() {
				if l.GetName() == "event" && l.GetValue() == event {
					return c.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no leads_spam_total{event=%q}", event)
	return 0
}
