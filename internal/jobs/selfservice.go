package jobs

import (
	"context"
	"errors"
	"strings"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/mail"
	"github.com/norsedigital/leads/internal/store"
)

// PersonalLinks mints the links to the prospect's own page (SPEC §14) that every email to
// a lead carries: a fresh one per email, at the moment it is written, so the queue never
// holds the secret (only its hash is stored).
type PersonalLinks struct {
	Store     *store.Store
	PublicURL string // --public-url, without a trailing slash
}

// SelfServiceURL is the page of a raw personal link under publicURL.
func SelfServiceURL(publicURL, raw string) string {
	return strings.TrimRight(publicURL, "/") + "/my/" + raw
}

// URL mints a fresh personal link for the lead and returns its address. An erased or
// unknown lead is lead.ErrNotFound: a composer should then skip its email (ErrSkipEmail).
func (p PersonalLinks) URL(ctx context.Context, leadID string) (string, error) {
	raw, err := p.Store.NewPersonalLink(ctx, leadID)
	if err != nil {
		return "", err
	}
	return SelfServiceURL(p.PublicURL, raw), nil
}

// Composer writes the personal_link email (the answer to POST /my) with a fresh link.
func (p PersonalLinks) Composer(r *mail.PersonalLinkRenderer, privacyURL string) Composer {
	return func(ctx context.Context, j store.EmailJob, lang i18n.Lang) (mail.Message, error) {
		link, err := p.URL(ctx, j.LeadID)
		if errors.Is(err, lead.ErrNotFound) {
			return mail.Message{}, ErrSkipEmail
		}
		if err != nil {
			return mail.Message{}, err
		}
		return r.Render(lang, mail.PersonalLink{To: j.To, FirstName: j.FirstName, URL: link, PrivacyURL: privacyURL})
	}
}
