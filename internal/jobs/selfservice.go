package jobs

import (
	"context"
	"strings"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/mail"
	"github.com/norsedigital/leads/internal/store"
)

// PersonalLinks writes the links to the prospect's own page (SPEC §14) that every email to
// a lead carries: a fresh one per email, minted by the claim that hands the email to the
// worker (store.EmailJob.PersonalLink), so the queue never holds the secret (only its hash
// is stored).
type PersonalLinks struct {
	PublicURL string // --public-url, without a trailing slash
}

// SelfServiceURL is the page of a raw personal link under publicURL.
func SelfServiceURL(publicURL, raw string) string {
	return strings.TrimRight(publicURL, "/") + "/my/" + raw
}

// URL is the address of the personal link minted for j; "" when j goes to a member.
func (p PersonalLinks) URL(j store.EmailJob) string {
	if j.PersonalLink == "" {
		return ""
	}
	return SelfServiceURL(p.PublicURL, j.PersonalLink)
}

// Composer writes the personal_link email (the answer to POST /my) with a fresh link.
func (p PersonalLinks) Composer(r *mail.PersonalLinkRenderer, privacyURL string) Composer {
	return func(_ context.Context, j store.EmailJob, lang i18n.Lang) (mail.Message, error) {
		link := p.URL(j)
		if link == "" {
			return mail.Message{}, ErrSkipEmail // not for a lead: nothing to link to
		}
		return r.Render(lang, mail.PersonalLink{To: j.To, FirstName: j.FirstName, URL: link, PrivacyURL: privacyURL})
	}
}
