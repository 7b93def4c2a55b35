package httpapi

import (
	"encoding/json"
	"errors"
	"github.com/norsedigital/leads/internal/i18n"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/norsedigital/leads/internal/lead"
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type           string       `json:"type"`
	Title          string       `json:"title"`
	Status         int          `json:"status"`
	Detail         string       `json:"detail,omitempty"`
	Rule           string       `json:"rule,omitempty"`
	Errors         []lead.Issue `json:"errors,omitempty"`
	Warnings       []lead.Issue `json:"warnings,omitempty"`
	ExistingLeadID string       `json:"existing_lead_id,omitempty"`
	// Allowed is *[]: a refused move out of disqualified lists no statuses as [], not absent.
	Allowed   *[]lead.Status `json:"allowed,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
}

const problemBase = "https://leads.invalid/problems/"

// codeStatus is the one mapping from domain error codes to HTTP.
var codeStatus = map[lead.Code]struct {
	status int
	slug   string
	title  string
}{
	lead.CodeInvalid:      {http.StatusUnprocessableEntity, "validation", "Validation failed"},
	lead.CodeNotFound:     {http.StatusNotFound, "not-found", "Not found"},
	lead.CodeConflict:     {http.StatusConflict, "conflict", "Conflict"},
	lead.CodeRateLimited:  {http.StatusTooManyRequests, "rate-limited", "Too many bookings"},
	lead.CodePrecondition: {http.StatusPreconditionFailed, "precondition-failed", "Precondition failed"},
	lead.CodeUnauthorized: {http.StatusUnauthorized, "unauthorized", "Unauthorized"},
	lead.CodeForbidden:    {http.StatusForbidden, "forbidden", "Forbidden"},
	lead.CodeUnavailable:  {http.StatusServiceUnavailable, "unavailable", "Service unavailable"},
	lead.CodeNotAllowed:   {http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed"},
}

// ProblemFor turns any error into the problem to send. Errors that are not domain errors
// are internal: their text is never shown.
func ProblemFor(err error) (Problem, bool) {
	var de *lead.Error
	if !errors.As(err, &de) {
		return Problem{Type: problemBase + "internal", Title: "Internal error", Status: http.StatusInternalServerError,
			Detail: "an internal error occurred; it has been logged"}, false
	}
	m, ok := codeStatus[de.Code]
	if !ok {
		m = codeStatus[lead.CodeInvalid]
	}
	p := Problem{Type: problemBase + m.slug, Title: m.title, Status: m.status, Detail: de.Message, Rule: de.Rule,
		ExistingLeadID: de.ExistingLeadID}
	if de.Allowed != nil {
		p.Allowed = &de.Allowed
	}
	if de.Code == lead.CodeInvalid {
		p.Errors, p.Warnings = de.Issues, de.Warnings
		if p.Errors == nil {
			p.Errors = []lead.Issue{}
		}
		if p.Warnings == nil {
			p.Warnings = []lead.Issue{}
		}
	}
	return p, true
}

// writeError answers err as a problem; internal errors are logged with the request id only.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	p, known := ProblemFor(err)
	p.RequestID = requestID(r)
	// rule and field never change; the message follows Accept-Language (default en)
	if l := i18n.APILang(r); s.cat != nil && l != i18n.EN {
		p.Errors, p.Warnings = s.cat.Issues(l, p.Errors), s.cat.Issues(l, p.Warnings)
	}
	if !known {
		s.Logger.LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("request_id", p.RequestID), slog.String("route", r.Pattern), slog.String("error", err.Error()))
	}
	var de *lead.Error
	if errors.As(err, &de) && de.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(de.RetryAfter.Seconds())))
	}
	writeProblem(w, p)
}

// badRequest answers a request the server could not read (400, 413, 415, 405).
func (s *server) badRequest(w http.ResponseWriter, r *http.Request, status int, slug, title, detail string) {
	writeProblem(w, Problem{Type: problemBase + slug, Title: title, Status: status, Detail: detail, RequestID: requestID(r)})
}

func writeProblem(w http.ResponseWriter, p Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s *server) handleAPINotFound(w http.ResponseWriter, r *http.Request) {
	s.badRequest(w, r, http.StatusNotFound, "not-found", "Not found", "no such route")
}
