// Package intake is the public demo booking use case, shared by the JSON API and the HTML
// form: validate, drop honeypot submissions, and hand the booking to the store, whose one
// transaction enforces rate limit, dedup and the email job.
package intake

import (
	"context"
	"encoding/json"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
)

// Service books demos. The zero value is not usable: fill every field.
type Service struct {
	Store          *store.Store
	RateLimit      RateLimit
	ConsentVersion string
	// Observe, when set, is told the outcome of every booking attempt (for metrics):
	// "accepted", "deduplicated", "rate_limited", "honeypot", "replayed" or "refused:<rule>".
	Observe func(outcome string)
}

// Meta is what the edge knows about the submission besides its fields.
type Meta struct {
	IP             string
	UserAgent      string
	IdempotencyKey string
	// Honeypot is the hidden "website" field: people leave it empty, bots fill it.
	Honeypot string
}

// Response is the 201 body: the same shape for new and known emails, so that the endpoint
// cannot tell anyone who is already a lead.
type Response struct {
	BookingID string       `json:"booking_id"`
	Status    string       `json:"status"`
	Warnings  []lead.Issue `json:"warnings"`
}

// Book validates and stores one booking. Validation failures come back as a *lead.Error
// with every field's issue; a full IP as CodeRateLimited.
func (s *Service) Book(ctx context.Context, in lead.BookingInput, m Meta) (Response, error) {
	b, res := lead.ValidateBooking(in)
	warnings := res.Warnings
	if warnings == nil {
		warnings = []lead.Issue{}
	}
	if !res.OK() {
		for _, e := range res.Errors {
			s.observe("refused:" + e.Rule)
		}
		return Response{}, lead.Invalid(res)
	}
	if m.Honeypot != "" {
		// the same answer a person gets, and nothing stored
		s.observe("honeypot")
		return Response{BookingID: store.NewID(), Status: "received", Warnings: warnings}, nil
	}
	out, err := s.Store.Book(ctx, store.BookingParams{
		Booking: b, IP: m.IP, UserAgent: m.UserAgent, ConsentVersion: s.ConsentVersion,
		IdempotencyKey: m.IdempotencyKey, RateLimit: s.RateLimit.Count, RateWindow: s.RateLimit.Window,
		Response: func(id string) ([]byte, error) {
			return json.Marshal(Response{BookingID: id, Status: "received", Warnings: warnings})
		},
	})
	switch {
	case lead.ErrorCode(err) == lead.CodeRateLimited:
		s.observe("rate_limited")
		return Response{}, err
	case err != nil:
		return Response{}, err
	case out.Replayed:
		s.observe("replayed")
		var r Response
		if err := json.Unmarshal(out.Response, &r); err != nil {
			return Response{}, err
		}
		return r, nil
	case out.NewLead:
		s.observe("accepted")
	default:
		s.observe("deduplicated")
	}
	return Response{BookingID: out.BookingID, Status: "received", Warnings: warnings}, nil
}

func (s *Service) observe(outcome string) {
	if s.Observe != nil {
		s.Observe(outcome)
	}
}
