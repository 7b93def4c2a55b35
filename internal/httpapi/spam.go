package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/spam"
	"github.com/norsedigital/leads/internal/store"
)

// The spam defence's routes (SPEC §15): the public proof-of-work challenge, the held
// submissions (sales) and the blocklist (admin).

// Rules of a refused blocklist entry.
const (
	ruleBlockKind  = "blocklist_kind_validation"
	ruleBlockValue = "blocklist_value_validation"
)

// handleChallenge is GET /api/v1/challenge: a fresh ALTCHA challenge, never cached.
func (s *server) handleChallenge(w http.ResponseWriter, r *http.Request) {
	c, err := s.Intake.Challenge(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, c)
}

// heldJSON is a held submission in the API: the booking's public fields by their names
// (the struct tags), and why and when it was held.
type heldJSON struct {
	ID               string    `json:"id"`
	Reason           string    `json:"reason"`
	CreatedAt        time.Time `json:"created_at"`
	FirstName        string    `json:"first_name"`
	LastName         string    `json:"last_name"`
	Email            string    `json:"email"`
	Phone            *string   `json:"phone"`
	OrganizationName string    `json:"organization_name"`
	OrganizationType *string   `json:"organization_type"`
	OrganizationSize *string   `json:"organization_size"`
	RoleTitle        *string   `json:"role_title"`
	Message          *string   `json:"message"`
	UTMSource        *string   `json:"utm_source"`
	UTMMedium        *string   `json:"utm_medium"`
	UTMCampaign      *string   `json:"utm_campaign"`
	Language         string    `json:"language"`
	IPAddress        *string   `json:"ip_address"`
	UserAgent        *string   `json:"user_agent"`
	ConsentVersion   string    `json:"consent_version"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toHeldJSON(h store.HeldBooking) heldJSON {
	b := h.Booking
	return heldJSON{ID: h.ID, Reason: h.Reason, CreatedAt: h.CreatedAt.UTC(), FirstName: b.FirstName, LastName: b.LastName,
		Email: b.Email, Phone: optional(b.Phone), OrganizationName: b.OrganizationName, OrganizationType: optional(b.OrganizationType),
		OrganizationSize: optional(b.OrganizationSize), RoleTitle: optional(b.RoleTitle), Message: optional(b.Message),
		UTMSource: optional(b.UTMSource), UTMMedium: optional(b.UTMMedium), UTMCampaign: optional(b.UTMCampaign),
		Language: h.Language, IPAddress: optional(h.IP), UserAgent: optional(h.UserAgent), ConsentVersion: h.ConsentVersion}
}

// MaxHeldListed is how many held submissions GET /api/v1/held-bookings lists (newest).
const MaxHeldListed = 200

// handleListHeld is GET /api/v1/held-bookings (sales): the newest held submissions.
func (s *server) handleListHeld(w http.ResponseWriter, r *http.Request) {
	list, err := s.Store.HeldBookings(r.Context(), MaxHeldListed)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items := make([]heldJSON, len(list))
	for i, h := range list {
		items[i] = toHeldJSON(h)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// handleReleaseHeld is POST /api/v1/held-bookings/{id}/release (sales): booked as if it
// arrived now; 200 with the booking's id.
func (s *server) handleReleaseHeld(w http.ResponseWriter, r *http.Request) {
	res, err := s.Intake.Release(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// handleDiscardHeld is POST /api/v1/held-bookings/{id}/discard (sales): deleted for good.
func (s *server) handleDiscardHeld(w http.ResponseWriter, r *http.Request) {
	if err := s.Intake.Discard(r.Context(), r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleAddBlock is POST /api/v1/blocklist (admin) with {"kind": "email"|"domain"|"ip",
// "value": "…"}: 201 with the entry; the same entry twice is 409.
func (s *server) handleAddBlock(w http.ResponseWriter, r *http.Request) {
	raw, ok := s.readLeadObject(w, r, []string{"application/json"}, map[string]bool{"kind": true, "value": true},
		[]string{"id", "hits", "last_hit_at", "created_at"})
	if !ok {
		return
	}
	var kind, value string
	for name, dst := range map[string]*string{"kind": &kind, "value": &value} {
		if v, ok := raw[name]; ok && string(v) != "null" && json.Unmarshal(v, dst) != nil {
			s.badRequest(w, r, http.StatusBadRequest, "malformed-request", "Malformed request", "field "+name+" must be a string")
			return
		}
	}
	var issues []lead.Issue
	switch kind {
	case spam.BlockEmail, spam.BlockDomain, spam.BlockIP:
		norm, err := spam.NormalizeBlock(kind, value)
		if err != nil {
			issues = append(issues, lead.Issue{Field: "value", Rule: ruleBlockValue, Message: "The value cannot be used: " + err.Error() + "."})
		}
		value = norm
	default:
		issues = append(issues, lead.Issue{Field: "kind", Rule: ruleBlockKind, Message: "Kind must be email, domain or ip."})
	}
	if len(issues) > 0 {
		s.writeError(w, r, lead.Invalid(lead.Result{Errors: issues}))
		return
	}
	e, err := s.Store.AddBlock(r.Context(), kind, value)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, e)
}

// handleListBlocks is GET /api/v1/blocklist (admin).
func (s *server) handleListBlocks(w http.ResponseWriter, r *http.Request) {
	list, err := s.Store.Blocklist(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

// handleDeleteBlock is DELETE /api/v1/blocklist/{id} (admin).
func (s *server) handleDeleteBlock(w http.ResponseWriter, r *http.Request) {
	if err := s.Store.DeleteBlock(r.Context(), r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
