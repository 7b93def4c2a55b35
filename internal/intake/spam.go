package intake

import (
	"context"
	"errors"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/spam"
	"github.com/norsedigital/leads/internal/store"
)

// The spam defence of the public booking (SPEC §15), after validation and before
// store.Book: the blocklist drops a booking (201, nothing stored but a hit count); the
// proof of work and the form's time stamp hold it for review, or refuse it, by SpamPolicy.

// key is the HMAC key in the database, read once.
func (s *Service) key(ctx context.Context) ([]byte, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if s.spamKey == nil {
		k, err := s.Store.SpamKey(ctx)
		if err != nil {
			return nil, err
		}
		s.spamKey = k
	}
	return s.spamKey, nil
}

func (s *Service) policy() spam.Policy {
	if s.SpamPolicy == "" {
		return spam.PolicyHold
	}
	return s.SpamPolicy
}

// Challenge is a fresh proof-of-work challenge (GET /api/v1/challenge).
func (s *Service) Challenge(ctx context.Context) (spam.Challenge, error) {
	k, err := s.key(ctx)
	if err != nil {
		return spam.Challenge{}, err
	}
	n := s.PowMaxNumber
	if n <= 0 {
		n = spam.DefaultMaxNumber
	}
	return spam.NewChallenge(k, n, s.now()), nil
}

// FormStamp is the signed time stamp the booking form carries from now.
func (s *Service) FormStamp(ctx context.Context) (string, error) {
	k, err := s.key(ctx)
	if err != nil {
		return "", err
	}
	return spam.Stamp(k, s.now()), nil
}

// blocked reports whether a blocklist entry covers the booking; it counts the hit.
func (s *Service) blocked(ctx context.Context, b lead.Booking, m Meta) (bool, error) {
	entries, err := s.Store.BlockCandidates(ctx, b.EmailNormalized)
	if err != nil || len(entries) == 0 {
		return false, err
	}
	for _, e := range entries {
		if spam.Matches(e.Kind, e.Value, b.EmailNormalized, m.IP) {
			if err := s.Store.CountBlockHit(ctx, e.ID); err != nil {
				return false, err
			}
			s.observe("blocked")
			s.log("booking blocked", "blocklist_id", e.ID, "kind", e.Kind)
			return true, nil
		}
	}
	return false, nil
}

// spamCheck verifies the proof of work (and the form's age) by the policy; it returns the
// reason of a failure, or sets p.Challenge for the store to mark used.
func (s *Service) spamCheck(ctx context.Context, m Meta, p *store.BookingParams) (string, error) {
	if s.policy() == spam.PolicyOff {
		return "", nil
	}
	k, err := s.key(ctx)
	if err != nil {
		return "", err
	}
	now := s.now()
	v, reason := spam.Verify(k, m.Altcha, now)
	if reason == "" && m.Form {
		minAge := s.MinFormAge
		if minAge <= 0 {
			minAge = spam.MinFormAge
		}
		reason = spam.CheckStamp(k, m.FormStamp, now, minAge)
	}
	if reason != "" {
		return reason, nil
	}
	p.Challenge, p.ChallengeExpires = v.Challenge, v.Expires
	return "", nil
}

// failSpam holds or refuses a booking that failed the spam check.
func (s *Service) failSpam(ctx context.Context, p store.BookingParams, m Meta, reason string) (Response, error) {
	if s.policy() == spam.PolicyRefuse {
		s.observe("refused:" + lead.RuleSpamCheckFailed)
		s.log("booking refused by the spam check", "reason", reason)
		return Response{}, &lead.Error{Code: lead.CodeInvalid, Rule: lead.RuleSpamCheckFailed,
			Message: "the booking failed the spam check: solve a fresh proof-of-work challenge (GET /api/v1/challenge) and send it as altcha"}
	}
	id, err := s.Store.HoldBooking(ctx, store.HeldParams{Booking: p.Booking, IP: m.IP, UserAgent: m.UserAgent,
		ConsentVersion: s.ConsentVersion, Language: m.Language, Reason: reason, IdempotencyKey: m.IdempotencyKey,
		RateLimit: s.RateLimit.Count, RateWindow: s.RateLimit.Window})
	if lead.ErrorCode(err) == lead.CodeRateLimited {
		s.observe("rate_limited")
		var de *lead.Error
		if errors.As(err, &de) && de.RetryAfter > 0 {
			s.remember(&s.heldFullUntil, store.RateKey(m.IP), s.now().Add(de.RetryAfter))
		}
		return Response{}, err
	}
	if err != nil {
		return Response{}, err
	}
	s.observe("held")
	s.log("booking held for review", "held_id", id, "reason", reason)
	w := p.Warnings
	if w == nil {
		w = []lead.Issue{}
	}
	// the answer a person gets: a bot learns nothing from it
	return Response{BookingID: id, Status: "received", Warnings: w}, nil
}

// Release books a held submission as if it arrived now: validation (again, the rules may
// have changed), dedup, the confirmation email and webhooks, but not the rate limit, and
// not the spam check. The held row is deleted in the booking's transaction.
func (s *Service) Release(ctx context.Context, id string) (Response, error) {
	h, err := s.Store.HeldBooking(ctx, id)
	if err != nil {
		return Response{}, err
	}
	b, res := validate(h.Booking.Input())
	if !res.OK() {
		return Response{}, lead.Invalid(res)
	}
	warnings := res.Warnings
	if warnings == nil {
		warnings = []lead.Issue{}
	}
	out, err := s.Store.Book(ctx, store.BookingParams{Booking: b, IP: h.IP, UserAgent: h.UserAgent,
		ConsentVersion: h.ConsentVersion, Warnings: warnings, Language: h.Language, ReleaseHeldID: h.ID})
	if err != nil {
		return Response{}, err
	}
	s.observe("released")
	if out.NewLead {
		s.observe("accepted")
	} else {
		s.observe("deduplicated")
	}
	return Response{BookingID: out.BookingID, Status: "received", Warnings: warnings}, nil
}

// Discard deletes a held submission.
func (s *Service) Discard(ctx context.Context, id string) error {
	if err := s.Store.DiscardHeldBooking(ctx, id); err != nil {
		return err
	}
	s.observe("discarded")
	return nil
}

func (s *Service) log(msg string, args ...any) {
	if s.Logger != nil {
		s.Logger.Info(msg, args...)
	}
}
