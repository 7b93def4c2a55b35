package httpapi_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/calendar"
	"github.com/norsedigital/leads/internal/httpapi"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

func withDemos(d *httpapi.Deps) {
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		panic(err)
	}
	r := &store.DemoRules{Calendar: calendar.New(oslo), Hours: calendar.Hours{Start: 9 * time.Hour, End: 15 * time.Hour}, Length: 30 * time.Minute}
	d.Demos = r
	d.Intake.Demos = r
}

// qualified creates a lead in status qualified through the API.
func (h *harness) qualified(email string) lead.Lead {
	h.t.Helper()
	body := staffLeadBody(email)
	body["status"] = "qualified"
	resp, data := h.do("POST", "/api/v1/leads", h.Sales, body)
	if resp.StatusCode != http.StatusCreated {
		h.t.Fatalf("%d %s", resp.StatusCode, data)
	}
	return decode[lead.Lead](h.t, data)
}

func TestDemoAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e, withDemos)
		ctx := t.Context()
		resp, data := h.do("GET", "/api/v1/demo-slots", "", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, data)
		}
		slots := decode[struct{ Slots []time.Time }](t, data).Slots
		if len(slots) != 120 || !slots[0].After(h.Clock.Now()) {
			t.Fatalf("%d slots from %v", len(slots), slots)
		}
		host, err := h.Store.CreateMember(ctx, lead.MemberInput{Name: ptrS("Ada Vert"), Email: ptrS("ada@norse.example"), Role: ptrS("sales")})
		if err != nil {
			t.Fatal(err)
		}

		t.Run("preferred times on a booking", func(t *testing.T) {
			b := validBooking("prefers@example.org")
			b["preferred_times"] = []string{slots[3].Format(time.RFC3339), slots[0].In(time.FixedZone("x", 3600)).Format(time.RFC3339)}
			resp, data := h.do("POST", "/api/v1/bookings", "", b)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("%d %s", resp.StatusCode, data)
			}
			var leadID string
			if err := h.Store.DB().QueryRow(`SELECT lead_id FROM bookings WHERE id = $1`, decode[struct {
				BookingID string `json:"booking_id"`
			}](t, data).BookingID).Scan(&leadID); err != nil {
				t.Fatal(err)
			}
			_, data = h.do("GET", "/api/v1/leads/"+leadID+"/bookings", h.Sales, nil)
			items := decode[struct{ Items []lead.BookingRecord }](t, data).Items
			if len(items) != 1 || len(items[0].PreferredTimes) != 2 || !items[0].PreferredTimes[0].Equal(slots[0]) || !items[0].PreferredTimes[1].Equal(slots[3]) {
				t.Fatalf("booking %+v", items)
			}
			for name, times := range map[string]any{
				"off the grid": []string{slots[0].Add(time.Minute).Format(time.RFC3339)},
				"four":         []string{slots[0].Format(time.RFC3339), slots[1].Format(time.RFC3339), slots[2].Format(time.RFC3339), slots[3].Format(time.RFC3339)},
				"not a time":   []string{"tomorrow"},
				"past":         []string{h.Clock.Now().Add(-time.Hour).Truncate(time.Hour).Format(time.RFC3339)},
			} {
				b := validBooking("refused@example.org")
				b["preferred_times"] = times
				resp, data := h.do("POST", "/api/v1/bookings", "", b)
				p := mustProblem(t, resp, data, http.StatusUnprocessableEntity)
				if !hasIssue(p.Errors, "preferred_times", lead.RulePreferredTimeNotOffered) {
					t.Fatalf("%s: %+v", name, p.Errors)
				}
			}
			b = validBooking("refused@example.org")
			b["preferred_times"] = "soon"
			resp, data = h.do("POST", "/api/v1/bookings", "", b)
			mustProblem(t, resp, data, http.StatusBadRequest)
			if n := count(t, h.Store, `SELECT COUNT(*) FROM leads WHERE email_normalized = 'refused@example.org'`); n != 0 {
				t.Fatalf("a refused booking stored %d leads", n)
			}
		})

		l := h.qualified("demo@example.org")
		other := h.qualified("other@example.org")
		at := slots[2].Format(time.RFC3339)
		t.Run("refusals", func(t *testing.T) {
			// a lead nobody owns (lead_owner_assignment gave it to the one sales member)
			if resp, data := h.do("PATCH", "/api/v1/leads/"+l.ID, h.Sales, map[string]any{"owner_id": nil}); resp.StatusCode != http.StatusOK {
				t.Fatalf("clear the owner: %d %s", resp.StatusCode, data)
			}
			resp, data := h.do("PUT", "/api/v1/leads/"+l.ID+"/demo", h.Sales, map[string]any{"starts_at": at})
			p := mustProblem(t, resp, data, http.StatusUnprocessableEntity)
			if !hasIssue(p.Errors, "host_id", lead.RuleDemoHost) {
				t.Fatalf("a service token without host: %+v", p)
			}
			for _, when := range []string{h.Clock.Now().Add(-time.Hour).Format(time.RFC3339), slots[0].Add(-time.Hour).Format(time.RFC3339), "soon"} {
				resp, data := h.do("PUT", "/api/v1/leads/"+l.ID+"/demo", h.Sales, map[string]any{"starts_at": when, "host_id": host.ID})
				p := mustProblem(t, resp, data, http.StatusUnprocessableEntity)
				if !hasIssue(p.Errors, "starts_at", lead.RuleDemoTimeNotAvailable) {
					t.Fatalf("%s: %+v", when, p)
				}
			}
			fresh := decode[lead.Lead](t, mustDo(t, h, "POST", "/api/v1/leads", staffLeadBody("fresh@example.org")))
			resp, data = h.do("PUT", "/api/v1/leads/"+fresh.ID+"/demo", h.Sales, map[string]any{"starts_at": at, "host_id": host.ID})
			p = mustProblem(t, resp, data, http.StatusUnprocessableEntity)
			if !hasIssue(p.Errors, "status", lead.RuleStatusTransition) {
				t.Fatalf("a new lead: %+v", p)
			}
			resp, data = h.do("PUT", "/api/v1/leads/"+l.ID+"/demo", h.Sales, map[string]any{"starts_at": at, "host_id": host.ID, "room": "A"})
			mustProblem(t, resp, data, http.StatusUnprocessableEntity)
			resp, data = h.do("POST", "/api/v1/leads/"+l.ID+"/demo/outcome", h.Sales, map[string]any{"outcome": "completed"})
			mustProblem(t, resp, data, http.StatusNotFound)
		})

		resp, data = h.do("PUT", "/api/v1/leads/"+l.ID+"/demo", h.Sales, map[string]any{"starts_at": at, "host_id": host.ID})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, data)
		}
		d := decode[struct{ Demo lead.Demo }](t, data).Demo
		if d.HostID != host.ID || d.LeadID != l.ID || !d.StartsAt.Equal(slots[2]) || d.Sequence != 0 || d.Status != lead.DemoScheduled {
			t.Fatalf("demo %+v", d)
		}
		resp, data = h.do("GET", "/api/v1/leads/"+l.ID, h.Sales, nil)
		got := decode[struct {
			Status lead.Status
			Demo   *lead.Demo
		}](t, data)
		if got.Status != lead.StatusDemoScheduled || got.Demo == nil || got.Demo.ID != d.ID {
			t.Fatalf("lead %s", data)
		}
		if got := decode[map[string]any](t, mustDo(t, h, "GET", "/api/v1/leads/"+other.ID, nil)); got["demo"] != nil {
			t.Fatalf("a lead without demo: %v", got["demo"])
		}
		// the host is busy then: another lead's demo overlapping it is 409
		resp, data = h.do("PUT", "/api/v1/leads/"+other.ID+"/demo", h.Sales, map[string]any{"starts_at": slots[2].Add(10 * time.Minute).Format(time.RFC3339), "host_id": host.ID})
		if p := mustProblem(t, resp, data, http.StatusConflict); p.Rule != lead.RuleDemoSlotTaken {
			t.Fatalf("overlap %+v", p)
		}
		// the outcome waits for the end
		resp, data = h.do("POST", "/api/v1/leads/"+l.ID+"/demo/outcome", h.Sales, map[string]any{"outcome": "completed"})
		if p := mustProblem(t, resp, data, http.StatusConflict); p.Rule != lead.RuleDemoNotEnded {
			t.Fatalf("outcome before the end %+v", p)
		}
		// reschedule, then cancel the other way round
		resp, data = h.do("PUT", "/api/v1/leads/"+l.ID+"/demo", h.Sales, map[string]any{"starts_at": slots[5].Format(time.RFC3339), "host_id": host.ID})
		if moved := decode[struct{ Demo lead.Demo }](t, data).Demo; resp.StatusCode != 200 || moved.ID != d.ID || moved.Sequence != 1 {
			t.Fatalf("moved %d %s", resp.StatusCode, data)
		}
		resp, data = h.do("PUT", "/api/v1/leads/"+other.ID+"/demo", h.Sales, map[string]any{"starts_at": at, "host_id": host.ID})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("the freed slot: %d %s", resp.StatusCode, data)
		}
		resp, data = h.do("DELETE", "/api/v1/leads/"+other.ID+"/demo", h.Sales, nil)
		if c := decode[struct{ Demo lead.Demo }](t, data).Demo; resp.StatusCode != 200 || c.Status != lead.DemoCancelled || c.Sequence != 1 {
			t.Fatalf("cancel %d %s", resp.StatusCode, data)
		}
		h.Clock.Advance(slots[5].Add(31 * time.Minute).Sub(h.Clock.Now()))
		resp, data = h.do("POST", "/api/v1/leads/"+l.ID+"/demo/outcome", h.Sales, map[string]any{"outcome": "later"})
		mustProblem(t, resp, data, http.StatusUnprocessableEntity)
		resp, data = h.do("POST", "/api/v1/leads/"+l.ID+"/demo/outcome", h.Sales, map[string]any{"outcome": "no_show"})
		if resp.StatusCode != http.StatusOK || decode[struct{ Demo lead.Demo }](t, data).Demo.Status != lead.DemoNoShow {
			t.Fatalf("no-show %d %s", resp.StatusCode, data)
		}
		stats := decode[store.PipelineStats](t, mustDo(t, h, "GET", "/api/v1/stats/pipeline", nil))
		if len(stats.DemoNoShows) != 1 || stats.DemoNoShows[0].NoShows != 1 || stats.DemoNoShows[0].OwnerID != nil {
			t.Fatalf("no-shows %+v", stats.DemoNoShows)
		}
	})
}

// TestDemoAPIOneHostOneTime: simultaneous PUTs for one host and time give one 200, the rest 409.
func TestDemoAPIOneHostOneTime(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e, withDemos)
		host, err := h.Store.CreateMember(t.Context(), lead.MemberInput{Name: ptrS("Ada Vert"), Email: ptrS("ada@norse.example"), Role: ptrS("sales")})
		if err != nil {
			t.Fatal(err)
		}
		slots := decode[struct{ Slots []time.Time }](t, mustDo(t, h, "GET", "/api/v1/demo-slots", nil)).Slots
		const n = 6
		var ids []string
		for i := range n {
			ids = append(ids, h.qualified("race"+string(rune('a'+i))+"@example.org").ID)
		}
		codes := make([]int, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, id := range ids {
			wg.Go(func() {
				<-start
				resp, _ := h.do("PUT", "/api/v1/leads/"+id+"/demo", h.Sales, map[string]any{"starts_at": slots[0].Format(time.RFC3339), "host_id": host.ID})
				codes[i] = resp.StatusCode
			})
		}
		close(start)
		wg.Wait()
		ok, taken := 0, 0
		for _, c := range codes {
			switch c {
			case http.StatusOK:
				ok++
			case http.StatusConflict:
				taken++
			}
		}
		if ok != 1 || taken != n-1 {
			t.Fatalf("codes %v: want one 200 and %d 409", codes, n-1)
		}
	})
}

func ptrS(s string) *string { return &s }

// mustDo sends a staff (sales) request that must succeed and returns its body.
func mustDo(t *testing.T, h *harness, method, path string, body any) []byte {
	t.Helper()
	resp, data := h.do(method, path, h.Sales, body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	return data
}

func count(t *testing.T, s *store.Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}
