package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/intake"
	"github.com/norsedigital/leads/internal/lead"
)

// handleCreateBooking is POST /api/v1/bookings: the public demo booking, JSON or form.
func (s *server) handleCreateBooking(w http.ResponseWriter, r *http.Request) {
	in, honeypot, altcha, bodyHash, lang, ok := s.decodeBooking(w, r)
	if !ok {
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 255 {
		s.badRequest(w, r, http.StatusBadRequest, "malformed-request", "Malformed request", "Idempotency-Key is longer than 255 characters")
		return
	}
	res, err := s.Intake.Book(r.Context(), in, intake.Meta{
		IP: s.ClientIP.Of(r), UserAgent: lead.Clip(r.UserAgent(), 500), IdempotencyKey: key, BodyHash: bodyHash, Honeypot: honeypot,
		Language: string(lang), Altcha: altcha,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, res)
}

// decodeBooking reads at most maxBody bytes of JSON or form data; it answers 400, 403,
// 413, 415 or 422 (invalid UTF-8 in JSON) itself and reports false when the request could
// not be read. It also returns the body's canonical hash, for the Idempotency-Key, and the
// booking's language (intake.BookingLanguage).
func (s *server) decodeBooking(w http.ResponseWriter, r *http.Request) (lead.BookingInput, string, string, string, i18n.Lang, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && mt != "application/x-www-form-urlencoded") {
		s.badRequest(w, r, http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
			"send application/json or application/x-www-form-urlencoded")
		return lead.BookingInput{}, "", "", "", "", false
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return lead.BookingInput{}, "", "", "", "", false
	}
	if mt == "application/json" {
		in, hp, altcha, err := intake.DecodeJSONSpam(body)
		if lead.ErrorCode(err) == lead.CodeInvalid {
			s.writeError(w, r, err)
			return in, "", "", "", "", false
		}
		if err != nil {
			s.badRequest(w, r, http.StatusBadRequest, "malformed-request", "Malformed request", err.Error())
			return in, "", "", "", "", false
		}
		lang, err := intake.JSONLanguage(body, r.Header.Get("Accept-Language"))
		if lead.ErrorCode(err) == lead.CodeInvalid {
			s.writeError(w, r, err)
			return in, "", "", "", "", false
		}
		if err != nil {
			s.badRequest(w, r, http.StatusBadRequest, "malformed-request", "Malformed request", err.Error())
			return in, "", "", "", "", false
		}
		return in, hp, altcha, bodyHash(r, func() string { return intake.JSONHash(body) }), lang, true
	}
	// A form post is what a page on another site can send without a CORS preflight: its
	// visitors would become bookings with their IP as the consent record. Browsers mark
	// such a post (Sec-Fetch-Site: cross-site, or a foreign Origin); servers send neither.
	if err := s.crossSite.Check(r); err != nil {
		s.badRequest(w, r, http.StatusForbidden, "cross-site", "Cross-site request refused",
			"a form-encoded booking from another website's page is refused; post from this site, or send JSON")
		return lead.BookingInput{}, "", "", "", "", false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.badRequest(w, r, http.StatusBadRequest, "malformed-request", "Malformed request", "the form body is not valid URL encoding")
		return lead.BookingInput{}, "", "", "", "", false
	}
	in, hp := intake.DecodeForm(form)
	_, present := form[intake.LanguageField]
	lang, err := intake.FormLanguage(form.Get(intake.LanguageField), present, r.Header.Get("Accept-Language"))
	if err != nil {
		s.writeError(w, r, err)
		return in, "", "", "", "", false
	}
	return in, hp, form.Get(intake.AltchaField), bodyHash(r, func() string { return intake.FormHash(form) }), lang, true
}

// bodyHash is the canonical body hash an Idempotency-Key is stored with; without a key
// nothing needs it and it is not computed.
func bodyHash(r *http.Request, hash func() string) string {
	if r.Header.Get("Idempotency-Key") == "" {
		return ""
	}
	return hash()
}

// readBody reads the whole body up to maxBody; 413 beyond.
func (s *server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		s.badRequest(w, r, http.StatusRequestEntityTooLarge, "too-large", "Request body too large", "the body must be at most 64 KiB")
		return nil, false
	case err != nil:
		s.badRequest(w, r, http.StatusBadRequest, "malformed-request", "Malformed request", "the body could not be read")
		return nil, false
	}
	return body, true
}
