package jobs

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/mail"
	"github.com/norsedigital/leads/internal/store"
)

// signInLinkLate is how old a sign-in link request may be when its email goes out: a
// person waits minutes for it, not hours; a later one would be a live link nobody expects.
const signInLinkLate = time.Hour

// SignInLinkComposer writes the sign-in link email (store.EmailSignInLink): it mints the
// link's token now, at send time, so that no secret waited in the queue, and puts it in
// <publicURL>/console/sign-in/link?token=…. A member deactivated meanwhile gets none.
func SignInLinkComposer(st *store.Store, publicURL string, now func() time.Time) Composer {
	cat := i18n.MustNewCatalog()
	if now == nil {
		now = time.Now
	}
	return func(ctx context.Context, j store.EmailJob, lang i18n.Lang) (mail.Message, error) {
		if now().Sub(j.CreatedAt) > signInLinkLate {
			return mail.Message{}, ErrSkipEmail
		}
		raw, err := st.CreateSignInLink(ctx, j.StaffID)
		if errors.Is(err, lead.ErrNotFound) {
			return mail.Message{}, ErrSkipEmail
		}
		if err != nil {
			return mail.Message{}, err
		}
		link := publicURL + "/console/sign-in/link?" + url.Values{"token": {raw}, "lang": {string(lang)}}.Encode()
		return mail.RenderSignInLink(cat, lang, mail.SignInLink{To: j.To, Name: j.FirstName, URL: link,
			Minutes: int(store.SignInLinkTTL / time.Minute)})
	}
}
