package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
)

// Demo scheduling (SPEC §13): the offered slots, a lead's demo, and its outcome.

// handleDemoSlots is GET /api/v1/demo-slots (public): the demo starts offered now.
func (s *server) handleDemoSlots(w http.ResponseWriter, r *http.Request) {
	slots := []time.Time{}
	if s.Demos != nil {
		var err error
		if slots, err = s.Store.OfferedSlots(r.Context(), *s.Demos); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	w.Header().Set("Cache-Control", "no-cache") // they change with every demo scheduled
	writeJSON(w, http.StatusOK, map[string]any{"slots": slots})
}

// handleScheduleDemo is PUT /api/v1/leads/{id}/demo: {"starts_at", "host_id"} schedules the
// lead's demo, or moves the one it has.
func (s *server) handleScheduleDemo(w http.ResponseWriter, r *http.Request) {
	raw, ok := s.readLeadObject(w, r, []string{"application/json"}, map[string]bool{"starts_at": true, "host_id": true}, nil)
	if !ok {
		return
	}
	var startsAt, hostID string
	for name, dst := range map[string]*string{"starts_at": &startsAt, "host_id": &hostID} {
		if v, ok := raw[name]; ok && string(v) != "null" && json.Unmarshal(v, dst) != nil {
			s.badRequest(w, r, http.StatusBadRequest, "malformed-request", "Malformed request", "field "+name+" must be a string")
			return
		}
	}
	if startsAt == "" {
		s.writeError(w, r, lead.Invalid(lead.Result{Errors: []lead.Issue{{Field: "starts_at", Rule: lead.RuleRequiredFields,
			Message: "starts_at is required."}}}))
		return
	}
	at, err := time.Parse(time.RFC3339, startsAt)
	if err != nil {
		s.writeError(w, r, lead.Invalid(lead.Result{Errors: []lead.Issue{{Field: "starts_at", Rule: lead.RuleDemoTimeNotAvailable,
			Message: "starts_at must be an RFC 3339 time."}}}))
		return
	}
	if s.Demos == nil {
		s.writeError(w, r, lead.Invalid(lead.Result{Errors: []lead.Issue{{Field: "starts_at", Rule: lead.RuleDemoTimeNotAvailable,
			Message: "Demo scheduling is not configured."}}}))
		return
	}
	d, err := s.Store.ScheduleDemo(r.Context(), r.PathValue("id"), storeDemoSchedule(at, hostID), *s.Demos, actor(r).Actor())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeDemo(w, d)
}

// handleCancelDemo is DELETE /api/v1/leads/{id}/demo: the scheduled demo is cancelled; the
// lead's status stays.
func (s *server) handleCancelDemo(w http.ResponseWriter, r *http.Request) {
	d, err := s.Store.CancelDemo(r.Context(), r.PathValue("id"), actor(r).Actor())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeDemo(w, d)
}

// handleDemoOutcome is POST /api/v1/leads/{id}/demo/outcome: {"outcome": "completed" |
// "no_show"}, once the demo has ended.
func (s *server) handleDemoOutcome(w http.ResponseWriter, r *http.Request) {
	raw, ok := s.readLeadObject(w, r, []string{"application/json"}, map[string]bool{"outcome": true}, nil)
	if !ok {
		return
	}
	var outcome string
	if v, ok := raw["outcome"]; ok && string(v) != "null" && json.Unmarshal(v, &outcome) != nil {
		s.badRequest(w, r, http.StatusBadRequest, "malformed-request", "Malformed request", "field outcome must be a string")
		return
	}
	d, err := s.Store.RecordDemoOutcome(r.Context(), r.PathValue("id"), outcome, actor(r).Actor())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeDemo(w, d)
}

func writeDemo(w http.ResponseWriter, d lead.Demo) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"demo": d})
}

// leadWithDemo is a lead as GET /api/v1/leads/{id} answers it: with its scheduled demo, or
// null. (The lists leave it out: one more lookup per row for a field the list does not show.)
type leadWithDemo struct {
	lead.Lead
	Demo *lead.Demo `json:"demo"`
}

func storeDemoSchedule(at time.Time, hostID string) store.DemoSchedule {
	return store.DemoSchedule{StartsAt: at, HostID: hostID}
}
