package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/norsedigital/leads/internal/lead"
)

// handleAnonymize is POST /api/v1/leads/{id}/anonymize (admin): erasure by anonymization.
// Repeating it answers the same anonymized lead and changes nothing.
func (s *server) handleAnonymize(w http.ResponseWriter, r *http.Request) {
	l, err := s.Store.AnonymizeLead(r.Context(), r.PathValue("id"), actor(r).Actor())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeLead(w, http.StatusOK, l)
}

// handleErasureRequest is POST /api/v1/erasure-requests (admin) with {"email": "…"}: erases
// the live lead with that address, if any. The answer says how many were anonymized (0 or
// 1); it is 200 either way, as the request has been fulfilled.
func (s *server) handleErasureRequest(w http.ResponseWriter, r *http.Request) {
	raw, ok := s.readLeadObject(w, r, []string{"application/json"}, map[string]bool{"email": true}, nil)
	if !ok {
		return
	}
	var email string
	if v, present := raw["email"]; present && string(v) != "null" {
		if json.Unmarshal(v, &email) != nil {
			s.writeError(w, r, lead.Invalid(lead.Result{Errors: []lead.Issue{{Field: "email", Rule: lead.RuleEmailFormat,
				Message: "Email must be a string."}}}))
			return
		}
	}
	n, err := s.Store.AnonymizeByEmail(r.Context(), email, actor(r).Actor())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// held submissions (SPEC §15) are personal data that is not a lead yet: they are deleted
	held, err := s.Store.DeleteHeldByEmail(r.Context(), email)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]int{"anonymized": n, "held_deleted": held})
}

// handleExport is GET /api/v1/leads/{id}/export (admin): everything stored about a lead as
// one JSON document, for the person's right of access and portability. The export itself
// is recorded in the lead's audit trail.
func (s *server) handleExport(w http.ResponseWriter, r *http.Request) {
	x, err := s.Store.ExportLead(r.Context(), r.PathValue("id"), actor(r).Actor())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="lead-`+x.Lead.ID+`.json"`)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, x)
}
