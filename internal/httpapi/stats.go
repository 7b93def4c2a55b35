package httpapi

import (
	"net/http"
)

// handlePipelineStats is GET /api/v1/stats/pipeline: counts by status and source,
// bookings per utm_campaign and stage-to-stage conversion (store.Stats defines them) of the
// leads, and bookings, created between created_from and created_to (both optional, both
// inclusive, RFC 3339 or YYYY-MM-DD).
func (s *server) handlePipelineStats(w http.ResponseWriter, r *http.Request) {
	v, ok := s.queryValues(w, r)
	if !ok {
		return
	}
	f, err := parseDateRange(v)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	st, err := s.Store.Stats(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, st)
}
