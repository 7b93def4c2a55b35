package httpapi

import (
	"net/http"
	"net/url"

	"github.com/norsedigital/leads/internal/lead"
)

// leadList is the body of GET /api/v1/leads.
type leadList struct {
	Items      []lead.Lead `json:"items"`
	NextCursor *string     `json:"next_cursor"`
}

// handleListLeads is GET /api/v1/leads: filters, search, newest first, keyset pages
// (query.Params documents the parameters).
func (s *server) handleListLeads(w http.ResponseWriter, r *http.Request) {
	v, ok := s.queryValues(w, r)
	if !ok {
		return
	}
	q, err := parseListQuery(v)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.Store.ListLeads(r.Context(), q.Filter, q.Limit, q.After)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body := leadList{Items: page.Items}
	if page.Next != nil {
		c := page.Next.String()
		body.NextCursor = &c
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, body)
}

// queryValues parses the query string strictly: a malformed one is 400, where
// r.URL.Query() would silently drop the bad pair and answer a different question.
func (s *server) queryValues(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		s.badRequest(w, r, http.StatusBadRequest, "malformed-request", "Malformed request", "the query string is not valid URL encoding")
		return nil, false
	}
	return v, true
}
