package httpapi

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"time"

	"github.com/norsedigital/leads/internal/lead"
)

// The sales team (SPEC §11): GET/POST /api/v1/staff, PATCH /api/v1/staff/{id}, GET /api/v1/me.

// memberJSON is a member as the API shows it: exactly these fields.
type memberJSON struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Email     string     `json:"email"`
	Role      lead.Role  `json:"role"`
	Language  string     `json:"language"`
	Weight    int        `json:"weight"`
	Active    bool       `json:"active"`
	AwayUntil *time.Time `json:"away_until"`
}

func toMemberJSON(m lead.Member) memberJSON {
	var away *time.Time
	if m.AwayUntil != nil {
		a := m.AwayUntil.UTC()
		away = &a
	}
	return memberJSON{ID: m.ID, Name: m.Name, Email: m.Email, Role: m.Role, Language: m.Language, Weight: m.Weight,
		Active: m.Active, AwayUntil: away}
}

// decodeMember reads a member body: create takes name, email, role, and optionally
// language, weight, active, away_until; a patch takes the same less email. Wrong JSON types
// are 400 naming the field; a null where a value is needed, and values the rules refuse,
// are 422 all at once (lead.ValidateMember).
func (s *server) decodeMember(w http.ResponseWriter, r *http.Request, create bool) (lead.MemberInput, bool) {
	known := map[string]bool{"name": true, "role": true, "language": true, "weight": true, "active": true, "away_until": true}
	readOnly := []string{"id", "created_at", "updated_at"}
	types := []string{"application/json"}
	if create {
		known["email"] = true
	} else {
		readOnly = append(readOnly, "email")
		types = append(types, "application/merge-patch+json")
	}
	raw, ok := s.readLeadObject(w, r, types, known, readOnly)
	if !ok {
		return lead.MemberInput{}, false
	}
	var in lead.MemberInput
	var issues []lead.Issue
	malformed := func(msg string) (lead.MemberInput, bool) {
		s.badRequest(w, r, http.StatusBadRequest, "malformed-request", "Malformed request", msg)
		return lead.MemberInput{}, false
	}
	for _, f := range []struct {
		name string
		dst  **string
	}{{"name", &in.Name}, {"email", &in.Email}, {"role", &in.Role}, {"language", &in.Language}} {
		v, ok := raw[f.name]
		if !ok {
			continue
		}
		if string(v) == "null" {
			issues = append(issues, lead.Issue{Field: f.name, Rule: lead.RuleRequiredFields, Message: f.name + " cannot be null."})
			continue
		}
		var str string
		if json.Unmarshal(v, &str) != nil {
			return malformed("field " + f.name + " must be a string")
		}
		*f.dst = &str
	}
	if v, ok := raw["weight"]; ok {
		var n float64
		switch {
		case string(v) == "null":
			issues = append(issues, lead.Issue{Field: "weight", Rule: lead.RuleStaffWeight, Message: "weight must be a whole number from 1 to 10."})
		case json.Unmarshal(v, &n) != nil:
			return malformed("field weight must be a number")
		case n != math.Trunc(n) || n < lead.MinWeight || n > lead.MaxWeight:
			issues = append(issues, lead.Issue{Field: "weight", Rule: lead.RuleStaffWeight, Message: "weight must be a whole number from 1 to 10."})
		default:
			wt := int(n)
			in.Weight = &wt
		}
	}
	if v, ok := raw["active"]; ok {
		var b bool
		if string(v) == "null" {
			issues = append(issues, lead.Issue{Field: "active", Rule: lead.RuleRequiredFields, Message: "active must be true or false."})
		} else if json.Unmarshal(v, &b) != nil {
			return malformed("field active must be a boolean")
		} else {
			in.Active = &b
		}
	}
	if v, ok := raw["away_until"]; ok {
		if string(v) == "null" {
			in.ClearAway = true
		} else {
			var str string
			t, err := time.Time{}, json.Unmarshal(v, &str)
			if err == nil {
				t, err = time.Parse(time.RFC3339Nano, str)
			}
			if err != nil {
				return malformed("field away_until must be an RFC 3339 timestamp or null")
			}
			t = t.UTC()
			in.AwayUntil = &t
		}
	}
	// the domain's rules, and the type refusals above, in one answer
	if err := lead.ValidateMember(in, create); err != nil {
		var le *lead.Error
		if errors.As(err, &le) {
			issues = append(issues, le.Issues...)
		}
	}
	if len(issues) > 0 {
		s.writeError(w, r, lead.Invalid(lead.Result{Errors: issues}))
		return lead.MemberInput{}, false
	}
	return in, true
}

// handleListStaff is GET /api/v1/staff (sales): every member, active ones first.
func (s *server) handleListStaff(w http.ResponseWriter, r *http.Request) {
	members, err := s.Store.ListMembers(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items := make([]memberJSON, 0, len(members))
	for _, m := range members {
		items = append(items, toMemberJSON(m))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// handleCreateStaff is POST /api/v1/staff (admin): 201 with the member, 409 on a taken email.
func (s *server) handleCreateStaff(w http.ResponseWriter, r *http.Request) {
	in, ok := s.decodeMember(w, r, true)
	if !ok {
		return
	}
	m, err := s.Store.CreateMember(r.Context(), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/staff/"+m.ID)
	writeJSON(w, http.StatusCreated, toMemberJSON(m))
}

// handlePatchStaff is PATCH /api/v1/staff/{id} (admin): a JSON merge patch of name, role,
// language, weight, active and away_until (null clears it).
func (s *server) handlePatchStaff(w http.ResponseWriter, r *http.Request) {
	in, ok := s.decodeMember(w, r, false)
	if !ok {
		return
	}
	m, err := s.Store.UpdateMember(r.Context(), r.PathValue("id"), in, actor(r).Actor())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toMemberJSON(m))
}

// handleMe is GET /api/v1/me: the member behind the token, or for a service token its name
// and role with a null id.
func (s *server) handleMe(w http.ResponseWriter, r *http.Request) {
	tok := actor(r)
	if tok.StaffID == "" {
		writeJSON(w, http.StatusOK, map[string]any{"id": nil, "name": tok.Name, "role": tok.Role})
		return
	}
	m, err := s.Store.GetMember(r.Context(), tok.StaffID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toMemberJSON(m))
}
