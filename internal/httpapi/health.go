package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/norsedigital/leads/internal/lead"
)

func (s *server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.Version})
}

// handleReadyz is green when the database answers and is fully migrated.
func (s *server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Store.Ready(ctx); err != nil {
		s.writeError(w, r, &lead.Error{Code: lead.CodeUnavailable, Message: "the database is not reachable or not migrated"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
