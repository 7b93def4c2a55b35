package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

func TestPipelineStatsAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)

		// two demo bookings (new leads, campaign "spring" and none), then staff walk one lead
		// through the real PATCH route: new → contacted → qualified → lost
		for i, campaign := range []string{"spring", ""} {
			b := validBooking(fmt.Sprintf("stats%d@example.org", i))
			if campaign != "" {
				b["utm_campaign"] = campaign
			}
			resp, data := h.do("POST", "/api/v1/bookings", "", b, "X-Forwarded-For", "192.0.2.50")
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("booking: %d %s", resp.StatusCode, data)
			}
		}
		resp, data := h.do("GET", "/api/v1/leads?q=stats0%40", h.Sales, nil)
		list := decode[listBody](t, data)
		if resp.StatusCode != 200 || len(list.Items) != 1 {
			t.Fatalf("%d %s", resp.StatusCode, data)
		}
		id := list.Items[0].ID
		for _, st := range []lead.Status{lead.StatusContacted, lead.StatusQualified, lead.StatusLost} {
			resp, data := h.do("PATCH", "/api/v1/leads/"+id, h.Sales, map[string]any{"status": st},
				"Content-Type", "application/merge-patch+json")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("patch to %s: %d %s", st, resp.StatusCode, data)
			}
		}
		// an old lead outside the range below
		insertListLead(t, h.Store, listSeed{first: "Old", last: "Timer", email: "old@example.org", org: "Old Org",
			status: lead.StatusWon, source: lead.SourcePartner, created: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})

		today := h.Clock.Now().UTC().Format(time.DateOnly)
		resp, data = h.do("GET", "/api/v1/stats/pipeline?created_from="+today+"&created_to="+today, h.Sales, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%d %s", resp.StatusCode, data)
		}
		st := decode[store.PipelineStats](t, data)
		if st.Total != 2 || len(st.ByStatus) != 10 || len(st.BySource) != 10 || st.ByStatus[lead.StatusLost] != 1 ||
			st.ByStatus[lead.StatusNew] != 1 || st.ByStatus[lead.StatusWon] != 0 || st.BySource[lead.SourceDemoBooking] != 2 ||
			st.BySource[lead.SourcePartner] != 0 {
			t.Errorf("counts %s", data)
		}
		// the lost lead had reached qualified, per its status_changed events
		if st.Reached[lead.StatusNew] != 2 || st.Reached[lead.StatusContacted] != 1 || st.Reached[lead.StatusQualified] != 1 ||
			st.Reached[lead.StatusDemoScheduled] != 0 {
			t.Errorf("reached %v", st.Reached)
		}
		if c := st.Conversion[0]; c.From != lead.StatusNew || c.To != lead.StatusContacted || c.Rate == nil || *c.Rate != 0.5 {
			t.Errorf("new→contacted %+v", c)
		}
		if c := st.Conversion[2]; c.Rate == nil || *c.Rate != 0 {
			t.Errorf("qualified→demo_scheduled %+v", c)
		}
		if c := st.Conversion[3]; c.Rate != nil {
			t.Errorf("demo_scheduled→demo_completed with nobody at demo_scheduled: %+v", c)
		}
		raw := decode[map[string]any](t, data)
		camp, _ := raw["bookings_by_campaign"].([]any)
		if fmt.Sprint(camp) != "[map[bookings:1 utm_campaign:spring] map[bookings:1 utm_campaign:<nil>]]" {
			t.Errorf("bookings_by_campaign %v", camp)
		}

		resp, data = h.do("GET", "/api/v1/stats/pipeline", h.Sales, nil)
		if st := decode[store.PipelineStats](t, data); resp.StatusCode != 200 || st.Total != 3 || st.BySource[lead.SourcePartner] != 1 {
			t.Errorf("all time: %s", data)
		}
		for _, q := range []string{"created_from=soon", "created_to=2026-02-30", "created_from=2026-02-02&created_to=2026-02-01"} {
			resp, data := h.do("GET", "/api/v1/stats/pipeline?"+q, h.Sales, nil)
			mustProblem(t, resp, data, http.StatusUnprocessableEntity)
		}
	})
}
