package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/norsedigital/leads/internal/intake"
	"github.com/norsedigital/leads/internal/lead"
)

// Rules of the staff lead API for fields a request may not send at all.
const (
	ruleReadOnlyField = "read_only_field"
	ruleUnknownField  = "unknown_field"
)

// leadKeys are the keys of a lead a create (lead.WriteCreate) or a patch (lead.WritePatch)
// may send, and those it may not: the fields of the table it may not write, which are
// refused as read-only (422) rather than unknown.
func leadKeys(a lead.Access) (known map[string]bool, readOnly []string) {
	known = map[string]bool{}
	for _, f := range lead.Fields() {
		if f.Writable(a) {
			known[f.Name] = true
		} else {
			readOnly = append(readOnly, f.Name)
		}
	}
	return known, readOnly
}

// handleCreateLead is POST /api/v1/leads: a lead entered by staff. No email is sent.
func (s *server) handleCreateLead(w http.ResponseWriter, r *http.Request) {
	known, readOnly := leadKeys(lead.WriteCreate)
	raw, ok := s.readLeadObject(w, r, []string{"application/json"}, known, readOnly)
	if !ok {
		return
	}
	in, ok := s.decodeLeadInput(w, r, raw)
	if !ok {
		return
	}
	l, res := lead.ValidateCreate(in, s.Now())
	if !res.OK() {
		s.writeError(w, r, lead.Invalid(res))
		return
	}
	created, err := s.Store.CreateLead(r.Context(), l, actor(r).Actor())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/leads/"+created.ID)
	writeLead(w, http.StatusCreated, created)
}

// handleGetLead is GET /api/v1/leads/{id}.
func (s *server) handleGetLead(w http.ResponseWriter, r *http.Request) {
	l, err := s.Store.GetLead(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := s.Store.LeadDemo(r.Context(), l.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", LeadETag(l))
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, leadWithDemo{Lead: l, Demo: d})
}

// handlePatchLead is PATCH /api/v1/leads/{id}: a JSON merge patch (RFC 7396) of contact
// fields and status, under If-Match.
func (s *server) handlePatchLead(w http.ResponseWriter, r *http.Request) {
	known, readOnly := leadKeys(lead.WritePatch)
	raw, ok := s.readLeadObject(w, r, []string{"application/merge-patch+json", "application/json"}, known, readOnly)
	if !ok {
		return
	}
	in, ok := s.decodeLeadInput(w, r, raw)
	if !ok {
		return
	}
	l, err := s.Store.PatchLead(r.Context(), r.PathValue("id"), in, IfMatch(parseIfMatch(r.Header)), actor(r).Actor())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeLead(w, http.StatusOK, l)
}

// handleAddNote is POST /api/v1/leads/{id}/notes: {"text": "…"} appended as a stamped line.
func (s *server) handleAddNote(w http.ResponseWriter, r *http.Request) {
	raw, ok := s.readLeadObject(w, r, []string{"application/json"}, map[string]bool{"text": true}, nil)
	if !ok {
		return
	}
	var text string
	if v, ok := raw["text"]; ok && string(v) != "null" {
		if json.Unmarshal(v, &text) != nil {
			s.badRequest(w, r, http.StatusBadRequest, "malformed-request", "Malformed request", "field text must be a string")
			return
		}
	}
	l, err := s.Store.AppendNote(r.Context(), r.PathValue("id"), text, actor(r).Actor())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeLead(w, http.StatusCreated, l)
}

// handleLeadEvents is GET /api/v1/leads/{id}/events: the audit trail, oldest first.
func (s *server) handleLeadEvents(w http.ResponseWriter, r *http.Request) {
	events, err := s.Store.ListEvents(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store") // the trail names people and what they said
	writeJSON(w, http.StatusOK, map[string]any{"items": events})
}

// handleLeadBookings is GET /api/v1/leads/{id}/bookings: the lead's bookings, newest first.
func (s *server) handleLeadBookings(w http.ResponseWriter, r *http.Request) {
	bookings, err := s.Store.ListBookings(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store") // bookings are personal data
	writeJSON(w, http.StatusOK, map[string]any{"items": bookings})
}

// handleDeleteLead is DELETE /api/v1/leads/{id}: always refused (lead_soft_delete_only).
func (s *server) handleDeleteLead(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "GET, PATCH")
	s.writeError(w, r, &lead.Error{Code: lead.CodeNotAllowed, Rule: lead.RuleSoftDeleteOnly,
		Message: "leads are never deleted: set status disqualified or lost with PATCH, or request erasure (anonymization)"})
}

// writeLead answers with a lead and its ETag. Leads are personal data: no cache keeps them.
func writeLead(w http.ResponseWriter, status int, l lead.Lead) {
	w.Header().Set("ETag", LeadETag(l))
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, l)
}

// readLeadObject checks the media type (415), reads the body (413) as one JSON object
// (400), and refuses read-only keys and keys the route does not know (422, every key at
// once).
func (s *server) readLeadObject(w http.ResponseWriter, r *http.Request, types []string, known map[string]bool, readOnly []string) (map[string]json.RawMessage, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !slices.Contains(types, mt) {
		s.badRequest(w, r, http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
			"send "+strings.Join(types, " or "))
		return nil, false
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return nil, false
	}
	// one object, valid UTF-8, no member named twice, before anything decodes it
	if err := intake.CheckJSON(body); err != nil {
		if lead.ErrorCode(err) == lead.CodeInvalid {
			s.writeError(w, r, err)
		} else {
			s.badRequest(w, r, http.StatusBadRequest, "malformed-request", "Malformed request", strings.TrimPrefix(err.Error(), intake.ErrMalformed.Error()+": "))
		}
		return nil, false
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if dec.Decode(&raw) != nil || raw == nil {
		s.badRequest(w, r, http.StatusBadRequest, "malformed-request", "Malformed request", "the body is not a JSON object")
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		s.badRequest(w, r, http.StatusBadRequest, "malformed-request", "Malformed request", "unexpected data after the JSON object")
		return nil, false
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var issues []lead.Issue
	for _, k := range keys {
		switch {
		case slices.Contains(readOnly, k):
			msg := k + " is read-only."
			if k == "notes" {
				msg = "notes is read-only: add a note with POST /api/v1/leads/{id}/notes."
			}
			issues = append(issues, lead.Issue{Field: k, Rule: ruleReadOnlyField, Message: msg})
		case !known[k]:
			issues = append(issues, lead.Issue{Field: k, Rule: ruleUnknownField, Message: "This field is unknown."})
		}
	}
	if len(issues) > 0 {
		s.writeError(w, r, lead.Invalid(lead.Result{Errors: issues}))
		return nil, false
	}
	return raw, true
}

// decodeLeadInput turns the checked keys into an Input; a value of the wrong type is 400
// naming the field (never the value). null is kept as null: in a merge patch it clears.
func (s *server) decodeLeadInput(w http.ResponseWriter, r *http.Request, raw map[string]json.RawMessage) (lead.Input, bool) {
	var in lead.Input
	malformed := func(msg string) (lead.Input, bool) {
		s.badRequest(w, r, http.StatusBadRequest, "malformed-request", "Malformed request", msg)
		return in, false
	}
	fields := lead.Fields()
	for i := range fields {
		f := &fields[i]
		v, ok := raw[f.Name]
		if !ok {
			continue
		}
		opt, bl, tm := f.Input(&in), f.InputBool(&in), f.InputTime(&in)
		switch {
		case opt != nil:
			if string(v) == "null" {
				*opt = lead.Null()
				continue
			}
			var str string
			if json.Unmarshal(v, &str) != nil {
				return malformed("field " + f.Name + " must be a string or null")
			}
			*opt = lead.Val(str)
		case bl != nil && string(v) != "null":
			var b bool
			if json.Unmarshal(v, &b) != nil {
				return malformed("field " + f.Name + " must be a boolean")
			}
			*bl = &b
		case tm != nil && string(v) != "null":
			var str string
			t, err := time.Time{}, json.Unmarshal(v, &str)
			if err == nil {
				t, err = time.Parse(time.RFC3339Nano, str)
			}
			if err != nil {
				return malformed("field " + f.Name + " must be an RFC 3339 timestamp")
			}
			*tm = &t
		}
	}
	return in, true
}

// parseIfMatch returns the entity tags of If-Match: nil without the header or for "*" (any
// existing lead matches), otherwise the listed tags, compared strongly, so a weak tag
// never matches. A header listing nothing usable gives an empty list that nothing matches.
func parseIfMatch(h http.Header) []string {
	values := h.Values("If-Match")
	if len(values) == 0 {
		return nil
	}
	tags := []string{}
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			switch t = strings.TrimSpace(t); t {
			case "":
			case "*":
				return nil
			default:
				tags = append(tags, t)
			}
		}
	}
	return tags
}
