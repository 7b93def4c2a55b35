// Package intake is the public demo booking use case, shared by the JSON API and the HTML
// form: validate, drop honeypot submissions, and hand the booking to the store, whose one
// transaction enforces rate limit, dedup and the email job, and render the answer from
// the store's result. Control walks one way: httpapi/web → intake → store → back.
package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/lead/disposable"
	"github.com/norsedigital/leads/internal/spam"
	"github.com/norsedigital/leads/internal/store"
)

// Service books demos. The zero value is not usable: fill Store, RateLimit and
// ConsentVersion.
type Service struct {
	Store          *store.Store
	RateLimit      RateLimit
	ConsentVersion string
	// Now is the service's clock (when a full address frees again); time.Now when nil.
	// Give it the store's: the store stamps the bookings the limit counts.
	Now func() time.Time
	// NewID names the booking a honeypot submission is answered with, as the store names
	// its bookings; a UUIDv7 when nil.
	NewID func() string
	// Demos, when set, are the demo settings the prospect's preferred times are checked
	// against (offered slots, SPEC §13); without it a booking naming any is refused.
	Demos *store.DemoRules
	// Observe, when set, is told the outcome of every booking attempt (for metrics):
	// "accepted", "deduplicated", "rate_limited", "honeypot", "replayed" or "refused:<rule>";
	// and for the spam defence (spam.go) "held", "blocked", "released" or "discarded".
	Observe func(outcome string)
	// SpamPolicy is --spam-policy (SPEC §15); the zero value is spam.PolicyHold, as in
	// production: a harness that is not about spam says spam.PolicyOff.
	SpamPolicy spam.Policy
	// PowMaxNumber is --pow-maxnumber, the largest secret number of a challenge
	// (spam.DefaultMaxNumber when 0).
	PowMaxNumber int64
	// MinFormAge is the least time between serving the booking form and its post
	// (spam.MinFormAge when 0); tests of the browser shorten it.
	MinFormAge time.Duration
	// Logger says that a booking was held or blocked, and why (never who).
	Logger *slog.Logger

	keyMu   sync.Mutex
	spamKey []byte // from the database, once

	// fullUntil remembers, per client IP, when the database said its next slot frees, so
	// that a flood from one address is answered 429 without a transaction (and without
	// queueing on that IP's lock, where it would slow everyone). It only ever refuses, and
	// no booking of the window can leave it before that time, so the limit stays exact.
	fullUntil  sync.Map // ip → time.Time
	remembered atomic.Int64
	// heldFullUntil is the same for the held submissions' own limit (HoldBooking): a bot
	// that floods without solving the challenge is refused here, not in the database.
	heldFullUntil sync.Map // ip → time.Time
}

// Meta is what the edge knows about the submission besides its fields.
type Meta struct {
	IP             string
	UserAgent      string
	IdempotencyKey string
	// BodyHash identifies the request body canonically (see JSONHash, FormHash), so that an
	// IdempotencyKey sent again with another body is refused, not replayed.
	BodyHash string
	// Honeypot is the hidden "website" field: people leave it empty, bots fill it.
	Honeypot string
	// Language is the prospect's language (SPEC §12), "nb" or "en"; "" counts as nb. A
	// JSON booking's comes from BookingLanguage, a form booking's from the page. The
	// booking stores it, and so does its lead (store.BookingParams.Language).
	Language string
	// Altcha is the proof-of-work solution sent with the booking (the altcha form field or
	// JSON member): base64 of the ALTCHA payload JSON; "" when there was none.
	Altcha string
	// Form is set for the HTML booking form (POST /), whose FormStamp (the signed time it
	// was served) must also be at least MinFormAge old.
	Form      bool
	FormStamp string
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
	b, res := validate(in)
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
	// a repeated Idempotency-Key must still replay its first answer, so it goes to the store
	rateKey := store.RateKey(m.IP) // what the limit counts: an IPv6 client by its /64
	if err := s.knownFull(&s.fullUntil, rateKey, m); err != nil {
		return Response{}, err
	}
	if m.Honeypot != "" {
		// the same answer a person gets, and nothing stored
		s.observe("honeypot")
		return Response{BookingID: s.newID(), Status: "received", Warnings: warnings}, nil
	}
	if len(b.PreferredTimes) > 0 {
		// only bookings that name preferred times pay for reading the offered slots
		var err error = lead.Invalid(lead.Result{Errors: []lead.Issue{{Field: lead.FieldPreferredTimes, Rule: lead.RulePreferredTimeNotOffered,
			Message: "Each preferred time must be one of the offered demo slots (GET /api/v1/demo-slots)."}}})
		if s.Demos != nil {
			err = s.Store.CheckPreferredTimes(ctx, *s.Demos, b.PreferredTimes)
		}
		if err != nil {
			s.observe("refused:" + lead.RulePreferredTimeNotOffered)
			return Response{}, err
		}
	}
	p := store.BookingParams{
		Booking: b, IP: m.IP, UserAgent: m.UserAgent, ConsentVersion: s.ConsentVersion,
		IdempotencyKey: m.IdempotencyKey, BodyHash: m.BodyHash, RateLimit: s.RateLimit.Count, RateWindow: s.RateLimit.Window,
		Warnings: warnings, Language: m.Language,
	}
	// the spam check first: it needs no database, and a flood of unsolved bookings from an
	// address whose held submissions are at their limit then costs no query at all
	reason, err := s.spamCheck(ctx, m, &p)
	if err != nil {
		return Response{}, err
	}
	if reason != "" {
		if err := s.knownFull(&s.heldFullUntil, rateKey, m); err != nil {
			return Response{}, err
		}
	}
	if blocked, err := s.blocked(ctx, b, m); err != nil || blocked {
		if err != nil {
			return Response{}, err
		}
		return Response{BookingID: s.newID(), Status: "received", Warnings: warnings}, nil
	}
	if reason != "" {
		return s.failSpam(ctx, p, m, reason)
	}
	out, err := s.Store.Book(ctx, p)
	switch {
	case store.IsChallengeUsed(err):
		return s.failSpam(ctx, p, m, spam.ReasonReplayed)
	case lead.ErrorCode(err) == lead.CodeRateLimited:
		s.observe("rate_limited")
		var de *lead.Error
		if errors.As(err, &de) && de.RetryAfter > 0 {
			s.remember(&s.fullUntil, rateKey, s.now().Add(de.RetryAfter))
		}
		return Response{}, err
	case lead.ErrorCode(err) == lead.CodeInvalid:
		s.observe("refused:" + lead.RuleIdempotencyReused)
		return Response{}, err
	case err != nil:
		return Response{}, err
	case out.Replayed:
		s.observe("replayed")
	case out.NewLead:
		s.observe("accepted")
	default:
		s.observe("deduplicated")
	}
	// new or replayed, the answer is rendered here, once, from what the store kept
	if out.Warnings == nil {
		out.Warnings = []lead.Issue{}
	}
	return Response{BookingID: out.BookingID, Status: "received", Warnings: out.Warnings}, nil
}

// validate is the public booking's validation: the lead's rules, and no throwaway-mail
// domain (SPEC §15). Staff create and import do not refuse those domains: a salesperson
// who types one in has talked to the person.
func validate(in lead.BookingInput) (lead.Booking, lead.Result) {
	b, res := lead.ValidateBooking(in)
	for _, e := range res.Errors {
		if e.Field == emailField {
			return b, res // the address is wrong already; one refusal is enough
		}
	}
	if disposable.Email(b.EmailNormalized) {
		res.Errors = append(res.Errors, lead.Issue{Field: emailField, Rule: lead.RuleEmailDomainNotAccepted,
			Message: "Addresses at throwaway-mail domains are not accepted; use an address you read.", Severity: lead.SeverityError})
	}
	return b, res
}

// emailField is the name validation reports the address's issues on.
const emailField = "email"

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) newID() string {
	if s.NewID != nil {
		return s.NewID()
	}
	return uuid.Must(uuid.NewV7()).String()
}

func (s *Service) rateLimited(wait time.Duration) error {
	secs := int(math.Ceil(wait.Seconds()))
	return &lead.Error{Code: lead.CodeRateLimited, Rule: lead.RuleRateLimit, RetryAfter: time.Duration(secs) * time.Second,
		Message: fmt.Sprintf("at most %d bookings per %s from one address; try again in %d seconds",
			s.RateLimit.Count, s.RateLimit.Window, secs)}
}

// remember notes that ip is full until t, sweeping expired entries now and then so that
// the map stays as small as the set of currently flooding addresses.
func (s *Service) remember(full *sync.Map, ip string, t time.Time) {
	full.Store(ip, t)
	if s.remembered.Add(1)%1024 == 0 {
		now := s.now()
		full.Range(func(k, v any) bool {
			if !v.(time.Time).After(now) {
				full.Delete(k)
			}
			return true
		})
	}
}

// knownFull refuses, without asking the database, a booking whose rate key full said is
// at its limit until later. A repeated Idempotency-Key goes on: it must replay its answer.
func (s *Service) knownFull(full *sync.Map, rateKey string, m Meta) error {
	until, ok := full.Load(rateKey)
	if !ok || m.IdempotencyKey != "" {
		return nil
	}
	if wait := until.(time.Time).Sub(s.now()); wait > 0 {
		s.observe("rate_limited")
		return s.rateLimited(wait)
	}
	full.Delete(rateKey)
	return nil
}

func (s *Service) observe(outcome string) {
	if s.Observe != nil {
		s.Observe(outcome)
	}
}
