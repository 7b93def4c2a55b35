package web

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
)

type signInData struct {
	chrome
	Error     string
	SignedOut bool
	// the sign-in link form: what was typed and what is wrong with it
	Email, EmailError string
	// SSO is the name on the single sign-on button; "" when it is not set up
	SSO string
}

// ConsoleHome is GET /console: when signed in, My leads for a member and the lead list for
// a service token; else the sign-in page.
func (p *Pages) ConsoleHome(w http.ResponseWriter, r *http.Request) {
	if sess, err := p.session(r); err == nil {
		http.Redirect(w, r, landing(sess.Session), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/console/sign-in", http.StatusSeeOther)
}

// SignInForm is GET /console/sign-in.
func (p *Pages) SignInForm(w http.ResponseWriter, r *http.Request) {
	if _, err := p.session(r); err == nil {
		http.Redirect(w, r, "/console/leads", http.StatusSeeOther)
		return
	}
	p.render(w, r, http.StatusOK, "console_signin", signInData{chrome: p.base(r, p.tr(r).T("signin.title")),
		SignedOut: r.URL.Query().Get("signed_out") == "1", SSO: p.ssoLabel(r)})
}

// SignIn is POST /console/sign-in: a staff API token opens a session. The cookie carries
// a fresh random session id, never the token.
func (p *Pages) SignIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		p.formError(w, r, err)
		return
	}
	tok, err := p.cfg.Store.Authenticate(r.Context(), strings.TrimSpace(r.PostForm.Get("token")))
	if err != nil {
		if lead.ErrorCode(err) != lead.CodeUnauthorized {
			p.internalError(w, r, err)
			return
		}
		tr := p.tr(r)
		p.render(w, r, http.StatusUnauthorized, "console_signin", signInData{chrome: p.base(r, tr.T("error.prefix", tr.T("signin.title"))),
			Error: tr.T("signin.invalid"), SSO: p.ssoLabel(r)})
		return
	}
	if !p.openSession(w, r, tok) {
		return
	}
	http.Redirect(w, r, landing(store.Session{Token: tok}), http.StatusSeeOther)
}

// openSession starts a console session acting as tok and sets its cookie; it reports
// false after answering with an error page.
func (p *Pages) openSession(w http.ResponseWriter, r *http.Request, tok store.Token) bool {
	if old, err := r.Cookie(cookieName); err == nil {
		// signing in again (perhaps as someone else) ends the session the browser had
		if err := p.cfg.Store.RevokeSession(r.Context(), old.Value); err != nil {
			p.internalError(w, r, err)
			return false
		}
	}
	raw, sess, err := p.cfg.Store.CreateSession(r.Context(), tok, p.cfg.SessionTTL)
	if err != nil {
		p.internalError(w, r, err)
		return false
	}
	p.setCookie(w, r, raw, sess)
	return true
}

// memberToken is what a session opened by email link or single sign-on acts as: the member.
func memberToken(m lead.Member) store.Token {
	return store.Token{Name: m.Name, Role: m.Role, StaffID: m.ID}
}

// openMemberSession opens a session as m; the console then speaks m's language unless the
// browser has chosen one (SPEC §12: the member's language by default). It returns r in the
// language the next page is in, or false after answering with an error page.
func (p *Pages) openMemberSession(w http.ResponseWriter, r *http.Request, m lead.Member) (*http.Request, bool) {
	if !p.openSession(w, r, memberToken(m)) {
		return r, false
	}
	if _, err := r.Cookie(i18n.CookieName); err != nil {
		if l, ok := i18n.Parse(m.Language); ok {
			http.SetCookie(w, &http.Cookie{Name: i18n.CookieName, Value: string(l), Path: "/", MaxAge: 365 * 24 * 3600,
				HttpOnly: true, Secure: p.cfg.SecureCookies || r.TLS != nil, SameSite: http.SameSiteLaxMode})
			r = r.WithContext(context.WithValue(r.Context(), langKey{}, l))
		}
	}
	return r, true
}

// RequestLink is POST /console/sign-in/email: a sign-in link to the address if it belongs
// to an active member (at most store.SignInLinksPerHour an hour). The answer is the same
// page whoever the address belongs to, so that it tells no one who works here.
func (p *Pages) RequestLink(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		p.formError(w, r, err)
		return
	}
	tr := p.tr(r)
	email := strings.TrimSpace(r.PostForm.Get("email"))
	if !lead.ValidEmail(email) {
		p.render(w, r, http.StatusUnprocessableEntity, "console_signin", signInData{chrome: p.base(r, tr.T("error.prefix", tr.T("signin.title"))),
			Email: email, EmailError: tr.T("signin.email_invalid"), SSO: p.ssoLabel(r)})
		return
	}
	outcome, err := p.cfg.Store.RequestSignInLink(r.Context(), email)
	if err != nil {
		p.internalError(w, r, err)
		return
	}
	// the outcome only, never the address
	p.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "sign-in link requested", slog.String("outcome", string(outcome)),
		slog.String("request_id", w.Header().Get("X-Request-Id")))
	p.render(w, r, http.StatusOK, "console_signin_sent", signInData{chrome: p.base(r, tr.T("signin.sent_title"))})
}

type linkData struct {
	chrome
	Token string // "" when the link cannot be used
}

// LinkPage is GET /console/sign-in/link?token=…: a page with a button that signs in.
// Looking does not spend the link: mail scanners fetch every link in a message.
func (p *Pages) LinkPage(w http.ResponseWriter, r *http.Request) {
	tr := p.tr(r)
	raw := r.URL.Query().Get("token")
	atSignIn(r)
	if err := p.cfg.Store.CheckSignInLink(r.Context(), raw); err != nil {
		if lead.ErrorCode(err) != lead.CodeUnauthorized {
			p.internalError(w, r, err)
			return
		}
		p.render(w, r, http.StatusGone, "console_signin_link", linkData{chrome: p.base(r, tr.T("signin.link_bad_title"))})
		return
	}
	p.render(w, r, http.StatusOK, "console_signin_link", linkData{chrome: p.base(r, tr.T("signin.title")), Token: raw})
}

// atSignIn points the language switch of r's page at the sign-in page: the URL r came
// with carries a secret (a link's token, an authorization code) that the page must not
// repeat, and that would not work twice anyway.
func atSignIn(r *http.Request) {
	u := *r.URL
	u.Path, u.RawQuery = "/console/sign-in", ""
	r.URL = &u
}

// UseLink is POST /console/sign-in/link: spends the link (once, atomically) and opens a
// session as its member.
func (p *Pages) UseLink(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		p.formError(w, r, err)
		return
	}
	atSignIn(r)
	m, err := p.cfg.Store.UseSignInLink(r.Context(), r.PostForm.Get("token"))
	if err != nil {
		if lead.ErrorCode(err) != lead.CodeUnauthorized {
			p.internalError(w, r, err)
			return
		}
		p.render(w, r, http.StatusGone, "console_signin_link", linkData{chrome: p.base(r, p.tr(r).T("signin.link_bad_title"))})
		return
	}
	if _, ok := p.openMemberSession(w, r, m); !ok {
		return
	}
	http.Redirect(w, r, "/console", http.StatusSeeOther)
}

// SignOut is POST /console/sign-out: the session is revoked in the database, not only
// forgotten by the browser.
func (p *Pages) SignOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil {
		if err := p.cfg.Store.RevokeSession(r.Context(), c.Value); err != nil {
			p.internalError(w, r, err)
			return
		}
	}
	p.clearCookie(w, r)
	http.Redirect(w, r, "/console/sign-in?signed_out=1", http.StatusSeeOther)
}
